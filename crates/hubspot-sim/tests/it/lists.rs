//! Lists v3: create (MANUAL, SNAPSHOT, DYNAMIC), read, search with offset paging,
//! memberships, dynamic filters evaluated at read time, delete and restore, scopes, and
//! Contact Lists v1 (404 but for the three legacy contact reads).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

const SCOPES: &[&str] = &[
    "crm.lists.read",
    "crm.lists.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
];

async fn lists() -> Crm {
    crm_with(ACME_INC, SCOPES).await
}

fn email_contains(text: &str) -> Value {
    json!({"filterBranchType": "OR", "filterBranches": [{
        "filterBranchType": "AND",
        "filters": [{"filterType": "PROPERTY", "property": "email",
                     "operation": {"operationType": "STRING", "operator": "CONTAINS", "value": text}}]
    }]})
}

async fn create_list(c: &Crm, body: Value) -> Value {
    let r = c.post("/crm/v3/lists", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["list"].clone()
}

async fn put(c: &Crm, path: &str, body: Value) -> Reply {
    c.call(Method::PUT, path, Some(body)).await
}

fn ids(results: &Value) -> Vec<String> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["recordId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn manual_lists_take_memberships_in_id_and_join_order() {
    let c = lists().await;
    let a = c.create("contacts", json!({"email": "a@acme.io"})).await;
    let b = c.create("contacts", json!({"email": "b@acme.io"})).await;
    let list = create_list(
        &c,
        json!({"name": "Hand picked", "objectTypeId": "0-1", "processingType": "MANUAL"}),
    )
    .await;
    assert_eq!(list["processingType"], "MANUAL");
    assert_eq!(list["objectTypeId"], "0-1");
    assert_eq!(list["processingStatus"], "COMPLETE");
    assert_eq!(list["listVersion"], 1);
    assert_eq!(list["size"], 0);
    assert!(is_iso(&list["createdAt"]), "{list}");
    let id = list["listId"].as_str().unwrap().to_owned();

    // b joins first, then a; an unknown id is missing, a member already in is ignored.
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/memberships/add"),
        json!([b]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["recordsIdsAdded"], json!([b]));
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/memberships/add"),
        json!([a, b, "999999"]),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"recordsIdsAdded": [a], "recordIdsRemoved": [], "recordIdsMissing": ["999999"]})
    );

    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body["results"]), [a.as_str(), b.as_str()]);
    assert!(is_iso(&r.body["results"][0]["membershipTimestamp"]));
    assert!(r.body.get("paging").is_none());
    let r = c
        .get(&format!("/crm/v3/lists/{id}/memberships/join-order"))
        .await;
    assert_eq!(ids(&r.body["results"]), [b.as_str(), a.as_str()]);

    // Paging with `after`.
    let r = c
        .get(&format!("/crm/v3/lists/{id}/memberships?limit=1"))
        .await;
    assert_eq!(ids(&r.body["results"]), [a.as_str()]);
    let after = r.body["paging"]["next"]["after"].as_str().unwrap();
    let r = c
        .get(&format!(
            "/crm/v3/lists/{id}/memberships?limit=1&after={after}"
        ))
        .await;
    assert_eq!(ids(&r.body["results"]), [b.as_str()]);
    assert!(r.body.get("paging").is_none());

    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/memberships/remove"),
        json!([a, "424242"]),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"recordsIdsAdded": [], "recordIdsRemoved": [a], "recordIdsMissing": ["424242"]})
    );
    let r = c.get(&format!("/crm/v3/lists/{id}")).await;
    assert_eq!(r.body["list"]["size"], 1);

    // An archived contact leaves the list.
    assert_eq!(
        c.delete(&format!("/crm/v3/objects/contacts/{b}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(r.body["results"], json!([]));
}

#[tokio::test]
async fn dynamic_lists_evaluate_their_filters_at_read_time() {
    let c = lists().await;
    let a = c
        .create(
            "contacts",
            json!({"email": "ann@acme.io", "firstname": "Ann"}),
        )
        .await;
    c.create("contacts", json!({"email": "bo@other.io"})).await;
    let list = create_list(
        &c,
        json!({"name": "Acme people", "objectTypeId": "0-1", "processingType": "DYNAMIC",
               "filterBranch": email_contains("@acme.")}),
    )
    .await;
    let id = list["listId"].as_str().unwrap().to_owned();
    assert_eq!(list["filterBranch"]["filterBranchType"], "OR");
    assert_eq!(list["filterBranch"]["filterBranchOperator"], "OR");
    assert_eq!(
        list["filterBranch"]["filterBranches"][0]["filters"][0]["operation"]["includeObjectsWithNoValueSet"],
        false
    );
    assert_eq!(list["size"], 1);

    // A new matching contact is a member at the next read; a change can end membership.
    let c2 = c.create("contacts", json!({"email": "cy@ACME.io"})).await;
    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(ids(&r.body["results"]), [a.as_str(), c2.as_str()]);
    let r = c
        .try_update("contacts", &a, json!({"email": "ann@elsewhere.io"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(ids(&r.body["results"]), [c2.as_str()]);

    // Memberships of a dynamic list cannot be changed by hand.
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/memberships/add"),
        json!([a]),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // New filters: IS_KNOWN on firstname.
    let known = json!({"filterBranchType": "OR", "filterBranches": [{
        "filterBranchType": "AND",
        "filters": [{"filterType": "PROPERTY", "property": "firstname",
                     "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]});
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/update-list-filters"),
        json!({"filterBranch": known}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["updatedList"]["listVersion"], 2);
    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(ids(&r.body["results"]), [a.as_str()]);

    // GET shows the filters only with includeFilters=true.
    let r = c.get(&format!("/crm/v3/lists/{id}")).await;
    assert!(r.body["list"].get("filterBranch").is_none(), "{}", r.body);
    let r = c
        .get(&format!("/crm/v3/lists/{id}?includeFilters=true"))
        .await;
    assert_eq!(
        r.body["list"]["filterBranch"]["filterBranches"][0]["filters"][0]["property"],
        "firstname"
    );

    // Unknown properties and unsupported filters are 400.
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/update-list-filters"),
        json!({"filterBranch": {"filterBranchType": "OR", "filterBranches": [{"filterBranchType": "AND",
            "filters": [{"filterType": "PROPERTY", "property": "no_such_prop",
                         "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}}),
    )
    .await;
    assert_error_mentions(
        &r,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "no_such_prop",
    );
    let r = c
        .post(
            "/crm/v3/lists",
            json!({"name": "No filters", "objectTypeId": "0-1", "processingType": "DYNAMIC"}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn snapshot_lists_are_evaluated_once_and_filters_only_change_on_dynamic_lists() {
    let c = lists().await;
    let a = c.create("contacts", json!({"email": "a@acme.io"})).await;
    let list = create_list(
        &c,
        json!({"name": "Snap", "objectTypeId": "0-1", "processingType": "SNAPSHOT",
               "filterBranch": email_contains("acme")}),
    )
    .await;
    let id = list["listId"].as_str().unwrap().to_owned();
    assert_eq!(list["size"], 1);
    let b = c.create("contacts", json!({"email": "b@acme.io"})).await;
    let r = c.get(&format!("/crm/v3/lists/{id}/memberships")).await;
    assert_eq!(ids(&r.body["results"]), [a.as_str()]);
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/memberships/add"),
        json!([b]),
    )
    .await;
    assert_eq!(r.body["recordsIdsAdded"], json!([b]));
    let r = put(
        &c,
        &format!("/crm/v3/lists/{id}/update-list-filters"),
        json!({"filterBranch": email_contains("x")}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let manual = create_list(
        &c,
        json!({"name": "Plain", "objectTypeId": "0-1", "processingType": "MANUAL"}),
    )
    .await;
    let r = put(
        &c,
        &format!(
            "/crm/v3/lists/{}/update-list-filters",
            manual["listId"].as_str().unwrap()
        ),
        json!({"filterBranch": email_contains("x")}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn search_pages_by_offset_and_get_needs_list_ids() {
    let c = lists().await;
    let mut made = Vec::new();
    for n in ["Alpha", "Beta", "Alpine", "Gamma"] {
        let l = create_list(
            &c,
            json!({"name": n, "objectTypeId": "0-1", "processingType": "MANUAL"}),
        )
        .await;
        made.push(l["listId"].as_str().unwrap().to_owned());
    }
    // Names are unique.
    let r = c
        .post(
            "/crm/v3/lists",
            json!({"name": "alpha", "objectTypeId": "0-1", "processingType": "MANUAL"}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");

    let r = c.post("/crm/v3/lists/search", json!({"count": 3})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 4);
    assert_eq!(r.body["offset"], 3);
    assert_eq!(r.body["hasMore"], true);
    assert_eq!(r.body["lists"].as_array().unwrap().len(), 3);
    assert_eq!(
        r.body["lists"][0]["additionalProperties"]["hs_list_size"],
        "0"
    );
    // No rate-limit exemption games: the lists search is not a CRM search.
    assert!(r.headers.contains_key("x-hubspot-ratelimit-max"));
    let r = c
        .post("/crm/v3/lists/search", json!({"count": 3, "offset": 3}))
        .await;
    assert_eq!(r.body["hasMore"], false);
    assert_eq!(r.body["offset"], 4);
    assert_eq!(r.body["lists"][0]["name"], "Gamma");
    let r = c
        .post("/crm/v3/lists/search", json!({"query": "alp"}))
        .await;
    let names: Vec<&str> = r.body["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha", "Alpine"]);

    let r = c.get("/crm/v3/lists").await;
    assert_error_mentions(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "listIds");
    let r = c
        .get(&format!(
            "/crm/v3/lists?listIds={}&listIds={}&listIds=9999",
            made[0], made[3]
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["lists"].as_array().unwrap().len(), 2);

    // Delete → 204 and 404 afterwards; restore brings it back.
    let r = c.delete(&format!("/crm/v3/lists/{}", made[1])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get(&format!("/crm/v3/lists/{}", made[1])).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c.post("/crm/v3/lists/search", json!({})).await;
    assert_eq!(r.body["total"], 3);
    let r = put(&c, &format!("/crm/v3/lists/{}/restore", made[1]), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        c.get(&format!("/crm/v3/lists/{}", made[1])).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn list_ids_differ_from_legacy_ids() {
    let c = lists().await;
    let list = create_list(
        &c,
        json!({"name": "Mapped", "objectTypeId": "0-1", "processingType": "MANUAL"}),
    )
    .await;
    let id = list["listId"].as_str().unwrap();
    let r = c
        .post("/crm/v3/lists/idmapping", json!(["1001", "77"]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mapped = &r.body["legacyListIdsToIdsMapping"][0];
    assert_eq!(mapped["legacyListId"], "1001");
    assert_eq!(mapped["listId"], id);
    assert_ne!(mapped["legacyListId"], mapped["listId"]);
    assert_eq!(r.body["missingLegacyListIds"], json!(["77"]));
    let r = c.get("/crm/v3/lists/idmapping?legacyListId=1001").await;
    assert_eq!(r.body["listId"], id);
}

#[tokio::test]
async fn lists_need_their_scopes() {
    let c = lists().await;
    let read_only = sim_token(&c.sim, ACME_INC, &["crm.lists.read"]).await;
    let none = sim_token(&c.sim, ACME_INC, &["crm.objects.contacts.read"]).await;
    let legacy = sim_token(&c.sim, ACME_INC, &["contacts"]).await;
    let body = json!({"name": "Scoped", "objectTypeId": "0-1", "processingType": "MANUAL"});
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            "/crm/v3/lists",
            Some(body.clone()),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["message"],
        "All of the following scopes are required."
    );
    assert_eq!(
        r.body["errors"][0]["context"]["requiredScopes"],
        json!(["crm.lists.read", "crm.lists.write"])
    );
    let r = c
        .call_as(&none, Method::POST, "/crm/v3/lists/search", Some(json!({})))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c
        .call_as(
            &read_only,
            Method::POST,
            "/crm/v3/lists/search",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .call_as(&legacy, Method::POST, "/crm/v3/lists", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get_as(&none, "/crm/v3/lists/1").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}

#[tokio::test]
async fn contact_lists_v1_is_gone_but_the_contact_feeds() {
    let c = lists().await;
    let first = c
        .create(
            "contacts",
            json!({"email": "a@acme.io", "firstname": "Ann"}),
        )
        .await;
    let second = c
        .create("contacts", json!({"email": "b@acme.io", "lastname": "Bo"}))
        .await;
    for path in [
        "/contacts/v1/lists",
        "/contacts/v1/lists/1",
        "/contacts/v1/lists/1/contacts/all",
        "/contacts/v1/lists/static",
    ] {
        let r = c.get(path).await;
        assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    }

    let r = c.get("/contacts/v1/lists/all/contacts/all?count=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let contact = &r.body["contacts"][0];
    assert_eq!(contact["vid"].to_string(), first);
    assert_eq!(contact["canonical-vid"].to_string(), first);
    assert_eq!(contact["portal-id"], ACME_INC);
    assert_eq!(contact["is-contact"], true);
    assert_eq!(contact["properties"]["firstname"]["value"], "Ann");
    // Dates in the legacy shape are epoch milliseconds.
    let modified = contact["properties"]["lastmodifieddate"]["value"]
        .as_str()
        .unwrap();
    assert!(modified.parse::<i64>().is_ok(), "{modified}");
    assert_eq!(
        contact["identity-profiles"][0]["identities"][0],
        json!({"type": "EMAIL", "value": "a@acme.io", "timestamp": contact["addedAt"], "is-primary": true})
    );
    assert_eq!(r.body["has-more"], true);
    let offset = r.body["vid-offset"].as_u64().unwrap();
    assert_eq!(offset.to_string(), first);
    let r = c
        .get(&format!(
            "/contacts/v1/lists/all/contacts/all?count=1&vidOffset={offset}&property=email"
        ))
        .await;
    assert_eq!(r.body["contacts"][0]["vid"].to_string(), second);
    assert_eq!(
        r.body["contacts"][0]["properties"],
        json!({"email": {"value": "b@acme.io"}})
    );
    assert_eq!(r.body["has-more"], false);

    // Recently updated: newest change first, with time-offset paging.
    let r = c
        .try_update("contacts", &first, json!({"firstname": "Anna"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .get("/contacts/v1/lists/recently_updated/contacts/recent?count=1")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["has-more"], true);
    let page1 = r.body["contacts"][0]["vid"].to_string();
    let (t, v) = (&r.body["time-offset"], &r.body["vid-offset"]);
    assert_eq!(v.to_string(), page1);
    let r = c
        .get(&format!(
            "/contacts/v1/lists/recently_updated/contacts/recent?count=1&timeOffset={t}&vidOffset={v}"
        ))
        .await;
    let page2 = r.body["contacts"][0]["vid"].to_string();
    assert_eq!(r.body["has-more"], false);
    // Newest change first (ties in vid order, newest vid first).
    let mut both = [page1, page2];
    assert!(r.body["time-offset"].as_i64() <= t.as_i64());
    both.sort();
    assert_eq!(both, [first.clone(), second.clone()]);
    // Recently created: newest first.
    let r = c.get("/contacts/v1/lists/all/contacts/recent").await;
    let vids: Vec<String> = r.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["vid"].to_string())
        .collect();
    assert!(vids.contains(&first) && vids.contains(&second), "{vids:?}");
    assert!(r.body["time-offset"].is_i64());

    let lists_only = sim_token(&c.sim, ACME_INC, &["crm.lists.read"]).await;
    let r = c
        .get_as(&lists_only, "/contacts/v1/lists/all/contacts/all")
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}
