//! Every standard object type HubSpot documents: property definitions (v3, 2026-03,
//! v2), records, scopes, the read-only feedback submissions, the activatable types,
//! deal split and form property definitions, deal splits.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::{ACME_INC, ACME_STARTER};

/// `(plural, type id, read scopes)`, restated from HubSpot's object table and the
/// reference (§10.1) rather than taken from the simulator.
const TYPES: &[(&str, &str, &[&str])] = &[
    (
        "contacts",
        "0-1",
        &["crm.objects.contacts.read", "contacts"],
    ),
    (
        "companies",
        "0-2",
        &["crm.objects.companies.read", "contacts"],
    ),
    ("deals", "0-3", &["crm.objects.deals.read", "contacts"]),
    ("tickets", "0-5", &["tickets"]),
    (
        "products",
        "0-7",
        &["crm.objects.products.read", "e-commerce"],
    ),
    (
        "line_items",
        "0-8",
        &["crm.objects.line_items.read", "e-commerce"],
    ),
    ("calls", "0-48", CONTACTS),
    (
        "emails",
        "0-49",
        &["crm.objects.contacts.read", "contacts", "sales-email-read"],
    ),
    ("meetings", "0-47", CONTACTS),
    ("notes", "0-46", CONTACTS),
    ("tasks", "0-27", CONTACTS),
    ("communications", "0-18", CONTACTS),
    ("postal_mail", "0-116", CONTACTS),
    ("quotes", "0-14", &["crm.objects.quotes.read", "e-commerce"]),
    ("invoices", "0-53", &["crm.objects.invoices.read"]),
    ("orders", "0-123", &["crm.objects.orders.read"]),
    ("carts", "0-142", &["crm.objects.carts.read"]),
    (
        "discounts",
        "0-84",
        &["crm.objects.line_items.read", "e-commerce"],
    ),
    (
        "fees",
        "0-85",
        &["crm.objects.line_items.read", "e-commerce"],
    ),
    ("taxes", "0-86", &["crm.objects.line_items.read"]),
    (
        "commerce_payments",
        "0-101",
        &["crm.objects.commercepayments.read"],
    ),
    ("subscriptions", "0-69", &["crm.objects.subscriptions.read"]),
    ("leads", "0-136", &["crm.objects.leads.read"]),
    ("goal_targets", "0-74", &["crm.objects.goals.read"]),
    (
        "feedback_submissions",
        "0-19",
        &[
            "crm.objects.feedback_submissions.read",
            "crm.objects.contacts.read",
        ],
    ),
    ("users", "0-115", &["crm.objects.users.read"]),
    (
        "marketing_events",
        "0-54",
        &["crm.objects.marketing_events.read"],
    ),
    ("campaigns", "0-35", &["marketing.campaigns.read"]),
    ("projects", "0-970", &["crm.objects.projects.read"]),
    ("appointments", "0-421", &["crm.objects.appointments.read"]),
    ("courses", "0-410", &["crm.objects.courses.read"]),
    ("listings", "0-420", &["crm.objects.listings.read"]),
    ("services", "0-162", &["crm.objects.services.read"]),
];

const CONTACTS: &[&str] = &["crm.objects.contacts.read", "contacts"];

/// The types a portal must activate first.
const ACTIVATABLE: &[&str] = &["appointments", "courses", "listings", "services"];

/// Every scope of the catalogue (the sandbox app has them all).
async fn catalogue(c: &Crm) -> Vec<String> {
    let (status, apps) = c.sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    apps[0]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// A simulator with a token holding every scope; the activatable types are activated
/// in Acme Inc when `activate`.
async fn everything(activate: bool) -> Crm {
    let mut c = crm_with(ACME_INC, &["oauth"]).await;
    // These tests make hundreds of calls: no rate limits.
    unthrottle(&c).await;
    let all = catalogue(&c).await;
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    c.token = sim_token(&c.sim, ACME_INC, &all).await;
    if activate {
        for t in ACTIVATABLE {
            let (status, body) = c
                .sim
                .sim_post(
                    &format!("/_sim/crm/{ACME_INC}/object-library/{t}"),
                    json!({"activated": true}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["activated"], true);
        }
    }
    c
}

fn assert_property_list(r: &Reply, path: &str) {
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{path}");
    for p in results {
        for field in ["name", "label", "type", "fieldType", "groupName"] {
            assert!(p[field].as_str().is_some(), "{path}: {p}");
        }
    }
}

#[tokio::test]
async fn every_standard_type_serves_properties_and_records() {
    let c = everything(true).await;
    for (name, id, _) in TYPES {
        for path in [
            format!("/crm/v3/properties/{name}"),
            format!("/crm/v3/properties/{id}"),
            format!("/crm/properties/2026-03/{name}"),
        ] {
            let r = c.get(&path).await;
            assert_property_list(&r, &path);
            assert!(
                !named(&r.body["results"], "hs_object_id").is_null(),
                "{path}"
            );
        }
        let groups = c.get(&format!("/crm/v3/properties/{name}/groups")).await;
        assert_eq!(groups.status, StatusCode::OK, "{name}: {}", groups.body);
        assert!(!groups.body["results"].as_array().unwrap().is_empty());
        let v2 = c.get(&format!("/properties/v2/{name}/properties")).await;
        assert_eq!(v2.status, StatusCode::OK, "{name}: {}", v2.body);
        assert!(!v2.body.as_array().unwrap().is_empty(), "{name}");
        for path in [
            format!("/crm/v3/objects/{name}"),
            format!("/crm/v3/objects/{id}"),
            format!("/crm/objects/2026-03/{name}?limit=5"),
        ] {
            let r = c.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert!(r.body["results"].is_array(), "{path}");
        }
    }
    // Deal splits: property definitions on v3 and v2, records only through their own
    // API; form submissions: v2 only.
    for path in [
        "/crm/v3/properties/deal_split",
        "/crm/properties/2026-03/deal_split",
    ] {
        let r = c.get(path).await;
        assert_property_list(&r, path);
        assert!(!named(&r.body["results"], "hs_deal_split_percentage").is_null());
        assert!(!named(&r.body["results"], "hubspot_owner_id").is_null());
    }
    for name in ["deal_split", "form"] {
        let r = c.get(&format!("/properties/v2/{name}/properties")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(!r.body.as_array().unwrap().is_empty(), "{name}");
        let r = c.get(&format!("/crm/v3/objects/{name}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let r = c.get("/crm/v3/properties/form").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.get("/crm/v3/objects/widgets").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

/// The scopes a MISSING_SCOPES body names.
fn named_scopes(body: &Value) -> Vec<String> {
    let ctx = &body["errors"][0]["context"];
    ["requiredScopes", "requiredGranularScopes"]
        .iter()
        .flat_map(|k| ctx[k].as_array().cloned().unwrap_or_default())
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_missing_scope_is_403_missing_scopes_never_400() {
    let c = everything(true).await;
    let all = catalogue(&c).await;
    let oauth_only = sim_token(&c.sim, ACME_INC, &["oauth"]).await;
    for (name, _, read) in TYPES {
        // Every scope but the type's read alternatives: the records are refused.
        let others: Vec<&str> = all
            .iter()
            .map(String::as_str)
            .filter(|s| !read.contains(s))
            .collect();
        let token = sim_token(&c.sim, ACME_INC, &others).await;
        let r = c.get_as(&token, &format!("/crm/v3/objects/{name}")).await;
        assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
        let scopes = named_scopes(&r.body);
        for s in *read {
            assert!(
                scopes.iter().any(|x| x == s),
                "{name}: {s} not in {scopes:?}"
            );
        }
        // One of the type's read scopes alone is enough.
        let own = sim_token(&c.sim, ACME_INC, &[read[0]]).await;
        let r = c.get_as(&own, &format!("/crm/v3/objects/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let r = c.get_as(&own, &format!("/crm/v3/properties/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        // Property definitions need some object read scope.
        for path in [
            format!("/crm/v3/properties/{name}"),
            format!("/properties/v2/{name}/properties"),
        ] {
            let r = c.get_as(&oauth_only, &path).await;
            assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
        }
    }
    for path in [
        "/crm/v3/properties/deal_split",
        "/properties/v2/deal_split/properties",
        "/properties/v2/form/properties",
    ] {
        let r = c.get_as(&oauth_only, path).await;
        assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    }
    // A type's own scope is enough for its property definitions.
    let forms = sim_token(&c.sim, ACME_INC, &["forms"]).await;
    let r = c.get_as(&forms, "/properties/v2/form/properties").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let splits = sim_token(&c.sim, ACME_INC, &["crm.dealsplits.read_write"]).await;
    let r = c.get_as(&splits, "/crm/v3/properties/deal_split").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Writes take the write scopes.
    let read_only = sim_token(&c.sim, ACME_INC, &["crm.objects.leads.read"]).await;
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            "/crm/v3/objects/leads",
            Some(json!({"properties": {"hs_lead_name": "x"}})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(named_scopes(&r.body), ["crm.objects.leads.write"]);
}

#[tokio::test]
async fn feedback_submissions_are_read_only() {
    let c = everything(false).await;
    let ids = c
        .sim
        .server
        .sim
        .crm_seed(
            ACME_INC,
            "feedback_submissions",
            [json!({"hs_survey_name": "NPS Q3", "hs_value": "9"})
                .as_object()
                .unwrap()
                .clone()],
        )
        .unwrap();
    let id = ids[0];
    let base = "/crm/v3/objects/feedback_submissions";
    let refused = [
        (
            Method::POST,
            base.to_owned(),
            Some(json!({"properties": {"hs_value": "1"}})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/0-19".to_owned(),
            Some(json!({"properties": {}})),
        ),
        (
            Method::PATCH,
            format!("{base}/{id}"),
            Some(json!({"properties": {"hs_value": "1"}})),
        ),
        (Method::DELETE, format!("{base}/{id}"), None),
        (
            Method::POST,
            format!("{base}/batch/create"),
            Some(json!({"inputs": [{"properties": {}}]})),
        ),
        (
            Method::POST,
            format!("{base}/batch/update"),
            Some(json!({"inputs": [{"id": id.to_string(), "properties": {}}]})),
        ),
        (
            Method::POST,
            format!("{base}/batch/upsert"),
            Some(json!({"inputs": [{"id": id.to_string(), "properties": {}}]})),
        ),
        (
            Method::POST,
            format!("{base}/batch/archive"),
            Some(json!({"inputs": [{"id": id.to_string()}]})),
        ),
    ];
    for (method, path, body) in refused {
        let r = c.call(method.clone(), &path, body).await;
        assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "VALIDATION_ERROR");
        assert!(
            r.body["message"].as_str().unwrap().contains("read-only"),
            "{method} {path}: {}",
            r.body
        );
    }
    // Reads work, and the record is unchanged.
    let r = c
        .get(&format!("{base}/{id}?properties=hs_survey_name,hs_value"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["hs_value"], "9");
    assert_eq!(r.body["properties"]["hs_survey_name"], "NPS Q3");
    let r = c.get(base).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    let r = c
        .post(
            &format!("{base}/batch/read"),
            json!({"inputs": [{"id": id.to_string()}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .post(
            &format!("{base}/search"),
            json!({"filterGroups": [{"filters": [
                {"propertyName": "hs_survey_name", "operator": "EQ", "value": "NPS Q3"}
            ]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    // The legacy contacts read scope is one of its read scopes.
    let contacts = sim_token(&c.sim, ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get_as(&contacts, base).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn activatable_types_answer_not_activated_until_activated() {
    let c = everything(false).await;
    let (status, map) = c
        .sim
        .get_json(&format!("/_sim/crm/{ACME_INC}/object-library"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({"0-421": false, "0-410": false, "0-420": false, "0-162": false});
    assert_eq!(map["enablementByObjectTypeId"], expected);
    let r = c.get("/crm/v3/object-library/enablement").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["enablementByObjectTypeId"], expected);
    for (name, id, _) in TYPES.iter().filter(|t| ACTIVATABLE.contains(&t.0)) {
        let paths = [
            format!("/crm/v3/objects/{name}"),
            format!("/crm/objects/2026-03/{id}"),
            format!("/crm/v3/properties/{name}"),
            format!("/properties/v2/{name}/properties"),
        ];
        for path in &paths {
            let r = c.get(path).await;
            assert_error_mentions(&r, StatusCode::FORBIDDEN, "FORBIDDEN", "not activated");
            assert_eq!(r.body["subCategory"], "OBJECT_TYPE_NOT_ACTIVATED", "{path}");
        }
        let r = c.try_create(name, json!({})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
        let r = c
            .get(&format!("/crm/object-library/2026-03/enablement/{id}"))
            .await;
        assert_eq!(r.body, json!({"enablement": false}));

        let (status, body) = c
            .sim
            .sim_post(
                &format!("/_sim/crm/{ACME_INC}/object-library/{id}"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = c
            .sim
            .sim_post(
                &format!("/_sim/crm/{ACME_INC}/object-library/{id}"),
                json!({"activated": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["objectType"], *name);
        for path in &paths {
            let r = c.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        }
        let created = c.try_create(name, json!({})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let r = c
            .get(&format!("/crm/object-library/2026-03/enablement/{id}"))
            .await;
        assert_eq!(r.body, json!({"enablement": true}));
    }
    let r = c.get("/crm/v3/object-library/enablement").await;
    assert_eq!(
        r.body["enablementByObjectTypeId"],
        json!({"0-421": true, "0-410": true, "0-420": true, "0-162": true})
    );
    // Per portal: Acme Starter has activated nothing.
    let starter = sim_token(&c.sim, ACME_STARTER, &["crm.objects.listings.read"]).await;
    let r = c.get_as(&starter, "/crm/v3/objects/listings").await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    // Deactivating refuses them again; non-activatable types cannot be toggled.
    assert!(
        c.sim
            .server
            .sim
            .crm_set_activated(ACME_INC, "listings", false)
            .is_ok()
    );
    let r = c.get("/crm/v3/objects/listings").await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(
        c.sim
            .server
            .sim
            .crm_set_activated(ACME_INC, "contacts", true)
            .is_err()
    );
    let r = c.get("/crm/v3/object-library/enablement/0-1").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn records_of_new_types_are_created_read_and_searched() {
    let c = everything(false).await;
    // Calls (classic engagement) and communications (newer activity): hs_timestamp is
    // required.
    let r = c
        .try_create(
            "communications",
            json!({"hs_communication_channel_type": "SMS"}),
        )
        .await;
    assert_error_mentions(
        &r,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "REQUIRED_PROPERTY",
    );
    let r = c
        .try_create(
            "communications",
            json!({
                "hs_communication_channel_type": "WHATS_APP",
                "hs_communication_body": "Texted the buyer",
                "hs_timestamp": "2026-05-01T10:00:00Z"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["hs_communication_logged_from"], "CRM");
    assert!(is_iso(&r.body["properties"]["hs_createdate"]));

    let call = c
        .create(
            "calls",
            json!({"hs_timestamp": "2026-05-01T10:00:00Z", "hs_call_title": "Kickoff call"}),
        )
        .await;
    let r = c.get(&format!("/crm/v3/objects/0-48/{call}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["hs_call_title"], "Kickoff call");
    let r = c
        .post(
            "/crm/v3/objects/calls/search",
            json!({"query": "kickoff", "properties": ["hs_call_title"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["results"][0]["id"], call);

    // Quotes: title and expiration date are required; status defaults to draft.
    let r = c
        .try_create("quotes", json!({"hs_title": "Annual plan"}))
        .await;
    assert_error_mentions(
        &r,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "hs_expiration_date",
    );
    let quote = c
        .create(
            "quotes",
            json!({"hs_title": "Annual plan", "hs_expiration_date": "2026-09-30", "hs_currency": "EUR"}),
        )
        .await;
    let r = c.get(&format!("/crm/objects/2026-03/quote/{quote}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let props = &r.body["properties"];
    assert_eq!(props["hs_title"], "Annual plan");
    assert_eq!(props["hs_status"], "DRAFT");
    assert_eq!(props["hs_expiration_date"], "2026-09-30");
    assert_eq!(props["hs_object_id"], quote);
    for name in ["hs_createdate", "hs_lastmodifieddate"] {
        assert!(is_iso(&props[name]), "{name}: {props}");
    }
    let r = c
        .try_update(
            "quotes",
            &quote,
            json!({"hs_status": "APPROVAL_NOT_NEEDED"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .post(
            "/crm/v3/objects/0-14/search",
            json!({"filterGroups": [{"filters": [
                {"propertyName": "hs_status", "operator": "EQ", "value": "APPROVAL_NOT_NEEDED"}
            ]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["results"][0]["id"], quote);
    let r = c
        .try_update("quotes", &quote, json!({"hs_status": "SENT_BY_PIGEON"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Batches and archive on a commerce type.
    let r = c
        .post(
            "/crm/v3/objects/invoices/batch/create",
            json!({"inputs": [{"properties": {"hs_currency": "USD"}}, {"properties": {"hs_currency": "GBP"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ids: Vec<String> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        r.body["results"][0]["properties"]["hs_invoice_status"],
        "draft"
    );
    let r = c
        .post(
            "/crm/v3/objects/invoices/batch/archive",
            json!({"inputs": [{"id": ids[0]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get("/crm/v3/objects/invoices").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["results"][0]["id"], ids[1]);
    // Leads need a name; a custom lead property can be defined and written.
    let r = c.try_create("leads", json!({})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/crm/v3/properties/leads",
            json!({"name": "lead_source_detail", "label": "Source detail", "type": "string",
                   "fieldType": "text", "groupName": "leadinformation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let lead = c
        .create(
            "leads",
            json!({"hs_lead_name": "Acme expansion", "lead_source_detail": "webinar"}),
        )
        .await;
    let r = c
        .get(&format!(
            "/crm/v3/objects/leads/{lead}?properties=lead_source_detail"
        ))
        .await;
    assert_eq!(r.body["properties"]["lead_source_detail"], "webinar");
}

#[tokio::test]
async fn deal_splits_are_read_and_upserted() {
    let c = everything(false).await;
    let (alex, sam) = ("1700001", "1700002");
    let deal = c
        .create(
            "deals",
            json!({"dealname": "Split me", "dealstage": "appointmentscheduled", "hubspot_owner_id": alex}),
        )
        .await;
    for base in [
        "/crm/v3/objects/deals/splits/batch",
        "/deal-splits/2026-03/batch",
    ] {
        let r = c
            .post(
                &format!("{base}/read"),
                json!({"inputs": [{"id": deal}, {"id": "999999"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
        assert_eq!(r.body["results"][0]["id"], deal);
        assert_eq!(r.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
        assert_eq!(r.body["errors"][0]["context"]["ids"], json!(["999999"]));
    }
    let upsert =
        |splits: Value| json!({"inputs": [{"id": deal.parse::<u64>().unwrap(), "splits": splits}]});
    let bad = [
        json!([{"ownerId": alex, "percentage": 0.5}, {"ownerId": sam, "percentage": 0.4}]),
        json!([{"ownerId": sam, "percentage": 1.0}]),
        json!([{"ownerId": alex, "percentage": 0.5}, {"ownerId": "1700005", "percentage": 0.5}]),
        json!([{"ownerId": alex, "percentage": 0.5}, {"ownerId": alex, "percentage": 0.5}]),
        json!([{"ownerId": alex, "percentage": "0.123456789"}, {"ownerId": sam, "percentage": "0.876543211"}]),
        json!([]),
    ];
    for splits in bad {
        let r = c
            .post(
                "/crm/v3/objects/deals/splits/batch/upsert",
                upsert(splits.clone()),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let r = c
        .post(
            "/crm/v3/objects/deals/splits/batch/upsert",
            upsert(json!([{"ownerId": 1_700_001, "percentage": 0.6}, {"ownerId": sam, "percentage": "0.4"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETE");
    let splits = r.body["results"][0]["splits"].as_array().unwrap().clone();
    assert_eq!(splits.len(), 2);
    assert_eq!(splits[0]["properties"]["hubspot_owner_id"], alex);
    assert_eq!(splits[0]["properties"]["hs_deal_split_percentage"], "0.6");
    assert_eq!(splits[1]["properties"]["hs_deal_split_percentage"], "0.4");
    assert!(is_iso(&splits[0]["createdAt"]));
    let r = c
        .post(
            "/deal-splits/2026-03/batch/read",
            json!({"inputs": [{"id": deal}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"][0]["splits"], json!(splits));
    // Replacing keeps the id of a split whose owner stays.
    let r = c
        .post(
            "/deal-splits/2026-03/batch/upsert",
            upsert(json!([{"ownerId": alex, "percentage": 1}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let now = r.body["results"][0]["splits"].as_array().unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["id"], splits[0]["id"]);
    // Scope: crm.dealsplits.read_write.
    let deals_only = sim_token(
        &c.sim,
        ACME_INC,
        &["crm.objects.deals.read", "crm.objects.deals.write"],
    )
    .await;
    let r = c
        .call_as(
            &deals_only,
            Method::POST,
            "/crm/v3/objects/deals/splits/batch/read",
            Some(json!({"inputs": [{"id": deal}]})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(named_scopes(&r.body), ["crm.dealsplits.read_write"]);
}
