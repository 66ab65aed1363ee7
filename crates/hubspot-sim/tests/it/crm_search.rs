//! CRM search: filters and every operator, filter groups, sorts, query, properties,
//! paging and the 10,000-result cap, request limits, archived records, scopes and the
//! indexing delay.

use std::time::Instant;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;

/// A simulator with every CRM scope and the rate limiters off (these tests search
/// far more often than HubSpot's per-second search limit allows).
async fn search_crm() -> Crm {
    let c = crm().await;
    unthrottle(&c).await;
    c
}

async fn search(c: &Crm, object: &str, body: Value) -> Reply {
    c.post(&format!("/crm/v3/objects/{object}/search"), body)
        .await
}

/// The ids of a successful search.
async fn found(c: &Crm, object: &str, body: Value) -> Vec<String> {
    let r = search(c, object, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{body} → {}", r.body);
    ids(&r)
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

fn owned<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    ids.into_iter().cloned().collect()
}

fn one(property: &str, operator: &str, value: Value) -> Value {
    let mut f = json!({"propertyName": property, "operator": operator});
    match value {
        Value::Null => {}
        Value::Array(values) => f["values"] = Value::Array(values),
        v => f["value"] = v,
    }
    json!({"filterGroups": [{"filters": [f]}]})
}

async fn batch_create(c: &Crm, object: &str, inputs: Vec<Value>) -> Vec<String> {
    let r = c
        .post(
            &format!("/crm/v3/objects/{object}/batch/create"),
            json!({ "inputs": inputs }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut ids: Vec<String> = ids(&r);
    ids.sort_by_key(|id| id.parse::<u64>().unwrap());
    ids
}

/// Companies A, B, C.
async fn companies(c: &Crm) -> [String; 3] {
    let a = c
        .create(
            "companies",
            json!({"name": "Acme Corp", "domain": "acme.com", "numberofemployees": 10,
                   "industry": "ACCOUNTING", "is_public": "true",
                   "description": "Big red dog food"}),
        )
        .await;
    let b = c
        .create(
            "companies",
            json!({"name": "Beta LLC", "domain": "beta.io", "numberofemployees": "250",
                   "industry": "BANKING", "is_public": "false"}),
        )
        .await;
    let g = c
        .create(
            "companies",
            json!({"name": "gamma", "numberofemployees": 3}),
        )
        .await;
    [a, b, g]
}

#[tokio::test]
async fn every_operator() {
    let c = search_crm().await;
    let [a, b, g] = companies(&c).await;
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (one("name", "EQ", json!("ACME CORP")), vec![&a]),
        (one("numberofemployees", "EQ", json!(10)), vec![&a]),
        (one("numberofemployees", "NEQ", json!("10")), vec![&b, &g]),
        (one("domain", "NEQ", json!("acme.com")), vec![&b, &g]),
        (one("numberofemployees", "LT", json!("10")), vec![&g]),
        (one("numberofemployees", "LTE", json!("10")), vec![&a, &g]),
        (one("numberofemployees", "GT", json!("10")), vec![&b]),
        (one("numberofemployees", "GTE", json!("10")), vec![&a, &b]),
        (
            json!({"filterGroups": [{"filters": [{"propertyName": "numberofemployees",
                "operator": "BETWEEN", "value": "5", "highValue": "250"}]}]}),
            vec![&a, &b],
        ),
        (
            one("industry", "IN", json!(["accounting", "BANKING"])),
            vec![&a, &b],
        ),
        (one("industry", "NOT_IN", json!(["BANKING"])), vec![&a, &g]),
        (one("domain", "HAS_PROPERTY", Value::Null), vec![&a, &b]),
        (one("domain", "NOT_HAS_PROPERTY", Value::Null), vec![&g]),
        (
            one("description", "CONTAINS_TOKEN", json!("red dog")),
            vec![&a],
        ),
        (
            one("description", "CONTAINS_TOKEN", json!("dog red")),
            vec![],
        ),
        (one("domain", "CONTAINS_TOKEN", json!("*.io")), vec![&b]),
        (one("name", "CONTAINS_TOKEN", json!("acm*")), vec![&a]),
        (one("name", "CONTAINS_TOKEN", json!("*mm*")), vec![&g]),
        (
            one("name", "NOT_CONTAINS_TOKEN", json!("llc")),
            vec![&a, &g],
        ),
        (one("is_public", "EQ", json!(true)), vec![&a]),
        (one("name", "GT", json!("b")), vec![&b, &g]),
        (one("hs_object_id", "EQ", json!(b)), vec![&b]),
        (one("hs_object_id", "IN", json!([a, g])), vec![&a, &g]),
        (one("hs_object_id", "NOT_IN", json!([a, g])), vec![&b]),
        (one("hs_object_id", "GT", json!(a)), vec![&b, &g]),
        (one("hs_object_id", "GTE", json!(b)), vec![&b, &g]),
        (one("hs_object_id", "LT", json!(b)), vec![&a]),
        (one("hs_object_id", "LTE", json!(b)), vec![&a, &b]),
        (
            json!({"filterGroups": [{"filters": [{"propertyName": "hs_object_id",
                "operator": "BETWEEN", "value": b, "highValue": g}]}]}),
            vec![&b, &g],
        ),
        (
            one("hs_lastmodifieddate", "GTE", json!("0")),
            vec![&a, &b, &g],
        ),
        (
            one("hs_lastmodifieddate", "GT", json!("2100-01-01T00:00:00Z")),
            vec![],
        ),
        (one("createdate", "LT", json!("2000-01-01")), vec![]),
    ];
    for (body, expected) in cases {
        assert_eq!(
            found(&c, "companies", body.clone()).await,
            owned(expected),
            "{body}"
        );
    }

    // Dates and datetimes compare as instants; filter values may be ISO or ms.
    let d1 = c
        .create(
            "deals",
            json!({"dealname": "One", "dealstage": "closedwon", "amount": "9.5",
                   "closedate": "2024-01-15T10:00:00Z"}),
        )
        .await;
    let d2 = c
        .create(
            "deals",
            json!({"dealname": "Two", "dealstage": "closedlost", "amount": "100",
                   "closedate": "2024-03-01T00:00:00.000Z"}),
        )
        .await;
    for (body, expected) in [
        (one("closedate", "GTE", json!("2024-02-01")), vec![&d2]),
        (one("closedate", "LT", json!("1706745600000")), vec![&d1]),
        (
            one("closedate", "EQ", json!(1_709_251_200_000_i64)),
            vec![&d2],
        ),
        (
            json!({"filterGroups": [{"filters": [{"propertyName": "closedate",
                "operator": "BETWEEN", "value": "2024-01-15T09:00:00+00:00",
                "highValue": "2024-01-15T11:00:00Z"}]}]}),
            vec![&d1],
        ),
        (one("amount", "LT", json!(10)), vec![&d1]),
        (one("dealstage", "EQ", json!("ClosedWon")), vec![&d1]),
    ] {
        assert_eq!(
            found(&c, "deals", body.clone()).await,
            owned(expected),
            "{body}"
        );
    }

    // Multi-checkbox values match when one of their options does.
    let t = c
        .create(
            "tickets",
            json!({"subject": "Broken", "hs_pipeline_stage": "1",
                   "hs_ticket_category": "PRODUCT_ISSUE;BILLING_ISSUE"}),
        )
        .await;
    assert_eq!(
        found(
            &c,
            "tickets",
            one("hs_ticket_category", "EQ", json!("BILLING_ISSUE"))
        )
        .await,
        owned([&t])
    );
    assert_eq!(
        found(
            &c,
            "tickets",
            one("hs_ticket_category", "NOT_IN", json!(["PRODUCT_ISSUE"]))
        )
        .await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn groups_are_ored_and_filters_anded() {
    let c = search_crm().await;
    let [a, b, g] = companies(&c).await;
    let f = |p: &str, op: &str, v: Value| json!({"propertyName": p, "operator": op, "value": v});
    // (employees > 5 AND domain has "acme") OR name = gamma
    let body = json!({"filterGroups": [
        {"filters": [f("numberofemployees", "GT", json!(5)), f("domain", "CONTAINS_TOKEN", json!("acme"))]},
        {"filters": [f("name", "EQ", json!("gamma"))]},
    ]});
    assert_eq!(found(&c, "companies", body).await, [a.clone(), g.clone()]);
    // AND inside one group.
    let body = json!({"filterGroups": [
        {"filters": [f("numberofemployees", "GT", json!(5)), f("name", "EQ", json!("gamma"))]},
    ]});
    assert_eq!(found(&c, "companies", body).await, Vec::<String>::new());
    // Top-level filters alone form one group ...
    let body = json!({"filters": [f("numberofemployees", "GT", json!(5))]});
    assert_eq!(found(&c, "companies", body).await, [a.clone(), b.clone()]);
    // ... and with groups they must hold too.
    let body = json!({
        "filters": [f("numberofemployees", "GT", json!(5))],
        "filterGroups": [
            {"filters": [f("name", "EQ", json!("gamma"))]},
            {"filters": [f("name", "EQ", json!("beta llc"))]},
        ],
    });
    assert_eq!(found(&c, "companies", body).await, owned([&b]));
    // Id filters narrow the scan; alternatives still count.
    let body = json!({"filterGroups": [
        {"filters": [f("hs_object_id", "EQ", json!(a))]},
        {"filters": [f("name", "EQ", json!("gamma"))]},
    ]});
    assert_eq!(found(&c, "companies", body).await, [a.clone(), g.clone()]);
    let body = json!({"filterGroups": [
        {"filters": [f("hs_object_id", "EQ", json!(a))]},
        {"filters": [f("hs_object_id", "EQ", json!(g))]},
    ]});
    assert_eq!(found(&c, "companies", body).await, [a.clone(), g.clone()]);
    let body =
        json!({"filters": [f("hs_object_id", "GT", json!(g)), f("hs_object_id", "LT", json!(a))]});
    assert_eq!(found(&c, "companies", body).await, Vec::<String>::new());
    let body = json!({"filters": [f("hs_object_id", "LT", json!(-5))]});
    assert_eq!(found(&c, "companies", body).await, Vec::<String>::new());
    // No filters at all: everything.
    assert_eq!(found(&c, "companies", json!({})).await, [a, b, g]);
}

#[tokio::test]
async fn sorts_as_objects_and_strings() {
    let c = search_crm().await;
    let [a, b, g] = companies(&c).await;
    let sorted = |sorts: Value| json!({ "sorts": sorts });
    let cases = [
        (
            json!([{"propertyName": "numberofemployees", "direction": "DESCENDING"}]),
            [&b, &a, &g],
        ),
        (json!(["-numberofemployees"]), [&b, &a, &g]),
        (json!(["numberofemployees"]), [&g, &a, &b]),
        (
            json!([{"propertyName": "name", "direction": "ASCENDING"}]),
            [&a, &b, &g],
        ),
        (json!(["-name"]), [&g, &b, &a]),
        // Records without a value come last in both directions.
        (json!(["domain"]), [&a, &b, &g]),
        (json!(["-domain"]), [&b, &a, &g]),
        (json!(["-hs_object_id"]), [&g, &b, &a]),
        (
            json!([{"propertyName": "hs_object_id", "direction": "ASCENDING"}]),
            [&a, &b, &g],
        ),
        // Ties keep id order; a second sort breaks them.
        (json!(["createdate"]), [&a, &b, &g]),
        (json!(["is_public", "-numberofemployees"]), [&b, &a, &g]),
    ];
    for (sorts, expected) in cases {
        let got = found(&c, "companies", sorted(sorts.clone())).await;
        assert_eq!(got, owned(expected), "{sorts}");
    }
    let r = search(
        &c,
        "companies",
        json!({"sorts": [{"propertyName": "name", "direction": "UP"}]}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = search(&c, "companies", json!({"sorts": ["nosuchprop"]})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn query_and_properties() {
    let c = search_crm().await;
    let ann = c
        .create(
            "contacts",
            json!({"email": "annie@example.com", "firstname": "Annie", "lastname": "Smith",
                   "jobtitle": "Engineer", "city": "Berlin"}),
        )
        .await;
    let bob = c
        .create(
            "contacts",
            json!({"email": "bob@other.org", "firstname": "Bob", "lastname": "Annan",
                   "city": "Annaberg"}),
        )
        .await;
    for (query, expected) in [
        ("ann", vec![&ann, &bob]),
        ("ANNIE", vec![&ann]),
        ("annie smith", vec![&ann]),
        ("example.com", vec![&ann]),
        ("bob@other.org", vec![&bob]),
        ("*nan", vec![&bob]),
        // Not a searchable property of contacts.
        ("berlin", vec![]),
        ("", vec![&ann, &bob]),
    ] {
        assert_eq!(
            found(&c, "contacts", json!({ "query": query })).await,
            owned(expected),
            "{query}"
        );
    }
    // Query and filters together.
    let mut body = one("lastname", "EQ", json!("smith"));
    body["query"] = json!("ann");
    assert_eq!(found(&c, "contacts", body).await, owned([&ann]));

    // Default properties, and a chosen set (unknown names ignored). Search results
    // always carry hs_object_id, createdate and the last-modified date.
    let r = search(&c, "contacts", one("hs_object_id", "EQ", json!(ann))).await;
    assert_eq!(r.body["total"], 1);
    let result = &r.body["results"][0];
    let mut keys: Vec<&String> = result["properties"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname"
        ]
    );
    for k in ["createdAt", "updatedAt"] {
        assert!(is_iso(&result[k]), "{k}");
    }
    assert_eq!(result["archived"], false);
    assert!(result.get("associations").is_none());
    let mut body = one("hs_object_id", "EQ", json!(ann));
    body["properties"] = json!(["jobtitle", "city", "nosuchprop"]);
    let r = search(&c, "contacts", body).await;
    let props = &r.body["results"][0]["properties"];
    assert_eq!(props["jobtitle"], "Engineer");
    assert_eq!(props["city"], "Berlin");
    assert_eq!(props["hs_object_id"], ann.as_str());
    assert!(props.get("firstname").is_none() && props.get("nosuchprop").is_none());

    let long = "x".repeat(3001);
    let r = search(&c, "contacts", json!({ "query": long })).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let ok = "x".repeat(3000);
    assert_eq!(
        search(&c, "contacts", json!({ "query": ok })).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn paging_with_after_until_the_end() {
    let c = search_crm().await;
    let inputs: Vec<Value> = (0..23)
        .map(|i| json!({"properties": {"email": format!("p{i:02}@x.io"), "firstname": format!("n{i:02}")}}))
        .collect();
    let created = batch_create(&c, "contacts", inputs).await;

    for (sorts, expected) in [
        (json!([]), created.clone()),
        (
            json!(["-firstname"]),
            created.iter().rev().cloned().collect::<Vec<_>>(),
        ),
    ] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut body = json!({"limit": 10, "sorts": sorts, "properties": ["email"]});
            if let Some(a) = &after {
                body["after"] = json!(a);
            }
            let r = search(&c, "contacts", body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["total"], 23);
            seen.extend(ids(&r));
            pages += 1;
            match r.body["paging"]["next"]["after"].as_str() {
                Some(a) => after = Some(a.to_owned()),
                None => {
                    assert!(r.body.get("paging").is_none());
                    break;
                }
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, expected, "{sorts}");
    }
    // Default limit 10, limit up to 200, offsets past the end are empty.
    let r = search(&c, "contacts", json!({})).await;
    assert_eq!(ids(&r).len(), 10);
    assert_eq!(r.body["paging"]["next"]["after"], "10");
    let r = search(&c, "contacts", json!({"limit": 200})).await;
    assert_eq!(ids(&r).len(), 23);
    let r = search(&c, "contacts", json!({"after": "50"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total"], 23);
    assert!(ids(&r).is_empty());
    for body in [
        json!({"limit": 201}),
        json!({"after": "x"}),
        json!({"limit": -1}),
    ] {
        let r = search(&c, "contacts", body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn ten_thousand_results_cap() {
    let c = search_crm().await;
    let started = Instant::now();
    for batch in 0..101 {
        let inputs: Vec<Value> = (0..100)
            .map(|i| json!({"properties": {"firstname": format!("c{batch}-{i}")}}))
            .collect();
        batch_create(&c, "contacts", inputs).await;
    }
    let seeded = started.elapsed();
    // The sync tools' query: modified since x, in id order.
    let sync = |after: &str, limit: usize| {
        json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
            "operator": "GTE", "value": "0"}]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "limit": limit, "after": after})
    };
    let started = Instant::now();
    let r = search(&c, "contacts", sync("9800", 200)).await;
    let searched = started.elapsed();
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 10_100);
    assert_eq!(ids(&r).len(), 200);
    assert_eq!(r.body["paging"]["next"]["after"], "10000");
    // Paging past 10,000 results is a 400, whatever the total.
    for (after, limit) in [("10000", 200), ("10000", 1), ("9950", 100), ("9801", 200)] {
        let r = search(&c, "contacts", sync(after, limit)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let r = search(&c, "contacts", sync("9999", 1)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r).len(), 1);
    eprintln!("seeded 10100 contacts in {seeded:?}; one search took {searched:?}");
}

#[tokio::test]
async fn limits_on_groups_and_filters() {
    let c = search_crm().await;
    let f = json!({"propertyName": "firstname", "operator": "HAS_PROPERTY"});
    let groups = |n: usize, per: usize| json!({"filterGroups": (0..n).map(|_| json!({"filters": vec![f.clone(); per]})).collect::<Vec<_>>()});
    assert_eq!(
        search(&c, "contacts", groups(5, 5)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        search(&c, "contacts", groups(1, 10)).await.status,
        StatusCode::OK
    );
    for body in [
        groups(6, 1),
        groups(1, 11),
        groups(5, 6),
        json!({"filters": vec![f.clone(); 11]}),
    ] {
        let r = search(&c, "contacts", body).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    configure(
        &c,
        json!({"search_max_filters_per_group": 6, "search_max_filters_total": 18}),
    )
    .await;
    let r = search(&c, "contacts", groups(1, 7)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = search(&c, "contacts", groups(4, 5)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        search(&c, "contacts", groups(3, 6)).await.status,
        StatusCode::OK
    );

    // Malformed filters.
    for body in [
        one("firstname", "LIKE", json!("a")),
        one("nosuchprop", "EQ", json!("a")),
        one("firstname", "EQ", Value::Null),
        json!({"filterGroups": [{"filters": [{"propertyName": "createdate",
            "operator": "BETWEEN", "value": "0"}]}]}),
        one("firstname", "IN", Value::Null),
        one("hs_object_id", "EQ", json!("abc")),
        one("createdate", "GT", json!("yesterday")),
        json!({"filterGroups": "all"}),
        json!({"query": 5}),
        json!([]),
    ] {
        let r = search(&c, "contacts", body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert!(!r.body.to_string().is_empty(), "{body}");
    }
    let r = c
        .sim
        .http
        .post(c.sim.url("/crm/v3/objects/contacts/search"))
        .bearer_auth(&c.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn archived_records_are_never_returned() {
    let c = search_crm().await;
    let [a, b, g] = companies(&c).await;
    let del = c.delete(&format!("/crm/v3/objects/companies/{b}")).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let r = search(&c, "companies", json!({})).await;
    assert_eq!(r.body["total"], 2);
    assert_eq!(ids(&r), [a, g]);
    assert_eq!(
        found(&c, "companies", one("hs_object_id", "EQ", json!(b))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&c, "companies", json!({"archived": true}))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn every_path_form_and_scopes() {
    let c = crm_with(
        crate::support::ACME_INC,
        &["crm.objects.contacts.read", "crm.objects.contacts.write"],
    )
    .await;
    unthrottle(&c).await;
    let id = c.create("contacts", json!({"email": "s@x.io"})).await;
    for path in [
        "/crm/v3/objects/contacts/search",
        "/crm/v3/objects/contact/search",
        "/crm/v3/objects/0-1/search",
        "/crm/objects/2026-03/contacts/search",
        "/crm/objects/2026-03/0-1/search",
    ] {
        let r = c.post(path, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{path} {}", r.body);
        assert_eq!(ids(&r), owned([&id]), "{path}");
    }
    let r = search(&c, "companies", json!({})).await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = search(&c, "widgets", json!({})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .call_as(
            "nope",
            Method::POST,
            "/crm/v3/objects/contacts/search",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn indexing_delay_hides_fresh_records() {
    let c = search_crm().await;
    configure(&c, json!({"search_indexing_delay_ms": 3_600_000})).await;
    let id = c.create("contacts", json!({"email": "fresh@x.io"})).await;
    let r = search(&c, "contacts", json!({})).await;
    assert_eq!(r.body["total"], 0, "{}", r.body);
    assert_eq!(
        c.get(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        StatusCode::OK,
        "reads see the record at once"
    );
    configure(&c, json!({"search_indexing_delay_ms": 0})).await;
    assert_eq!(found(&c, "contacts", json!({})).await, [id]);
}

/// The property names of a search result, sorted.
fn result_keys(r: &Reply) -> Vec<String> {
    let mut keys: Vec<String> = r.body["results"][0]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn default_properties_of_every_object_type() {
    let c = search_crm().await;
    let product = c
        .create(
            "products",
            json!({"name": "Widget", "description": "A widget", "price": "20",
                   "hs_sku": "W-1"}),
        )
        .await;
    // Every default property holds a value (properties without one are left out) and one
    // non-default property is set as well, which must not come back. The README (and the
    // reference, §4 search) lists the defaults.
    let cases = [
        (
            "companies",
            json!({"name": "Acme", "domain": "acme.example", "city": "Berlin"}),
            vec![
                "createdate",
                "domain",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
            ],
        ),
        (
            "deals",
            json!({"dealname": "Big", "amount": "1500", "closedate": "2026-12-01T10:00:00Z",
                   "pipeline": "default", "dealstage": "qualifiedtobuy",
                   "description": "not a default"}),
            vec![
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
        ),
        (
            "tickets",
            json!({"subject": "Broken", "content": "It broke", "hs_pipeline": "0",
                   "hs_pipeline_stage": "1", "hs_ticket_category": "PRODUCT_ISSUE",
                   "hs_ticket_priority": "HIGH", "source_type": "EMAIL"}),
            vec![
                "content",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_category",
                "hs_ticket_priority",
                "subject",
            ],
        ),
        (
            "products",
            json!({"name": "Gadget", "description": "A gadget", "price": "5",
                   "hs_sku": "G-1"}),
            vec![
                "createdate",
                "description",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
                "price",
            ],
        ),
        (
            "line_items",
            json!({"hs_product_id": product, "quantity": "3"}),
            vec![
                "amount",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "price",
                "quantity",
            ],
        ),
    ];
    for (object, properties, expected) in cases {
        let id = c.create(object, properties).await;
        let r = search(&c, object, one("hs_object_id", "EQ", json!(id))).await;
        assert_eq!(r.status, StatusCode::OK, "{object} {}", r.body);
        assert_eq!(r.body["total"], 1, "{object}");
        assert_eq!(result_keys(&r), expected, "default properties of {object}");
        // The same defaults through the date-versioned path.
        let r = c
            .post(
                &format!("/crm/objects/2026-03/{object}/search"),
                one("hs_object_id", "EQ", json!(id)),
            )
            .await;
        assert_eq!(result_keys(&r), expected, "{object} (2026-03)");
        // Asking only for hs_object_id still brings the three that always come.
        let mut body = one("hs_object_id", "EQ", json!(id));
        body["properties"] = json!(["hs_object_id"]);
        let r = search(&c, object, body).await;
        assert_eq!(
            result_keys(&r),
            ["createdate", "hs_lastmodifieddate", "hs_object_id"],
            "{object} with properties"
        );
    }
    // Line items copy name and price from their product; only the defaults come back.
    let r = search(&c, "line_items", json!({})).await;
    let props = &r.body["results"][0]["properties"];
    assert_eq!(props["price"], "20");
    assert_eq!(props["amount"], "60");
    assert!(props.get("name").is_none(), "{props}");
}
