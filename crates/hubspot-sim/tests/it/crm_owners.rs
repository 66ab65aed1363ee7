//! CRM owners: list (email filter, paging, archived), get by id or user id, scopes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

fn emails(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_get_filter_and_page_owners() {
    let c = crm_with(ACME_INC, &["crm.objects.owners.read"]).await;
    for path in ["/crm/v3/owners", "/crm/v3/owners/", "/crm/owners/2026-03"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path} {}", r.body);
        assert_eq!(r.headers["x-hubspot-ratelimit-max"], "110");
        let list = emails(&r.body);
        assert_eq!(list.len(), 4, "{}", r.body);
        assert_eq!(list[0], "owner@acme.example");
        assert!(r.body.get("paging").is_none());
    }
    let r = c.get("/crm/v3/owners").await;
    let me = &r.body["results"][0];
    assert_eq!(me["userId"], 4021);
    assert_eq!(me["userIdIncludingInactive"], 4021);
    assert_eq!(me["type"], "PERSON");
    assert_eq!(me["archived"], false);
    assert!(is_iso(&me["createdAt"]) && is_iso(&me["updatedAt"]));
    assert_eq!(me["teams"][0]["primary"], true);
    let id = me["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok());

    // Email filter (case-insensitive).
    let r = c.get("/crm/v3/owners?email=Owner%40ACME.example").await;
    assert_eq!(emails(&r.body), ["owner@acme.example"]);
    let r = c.get("/crm/v3/owners?email=nobody%40acme.example").await;
    assert_eq!(r.body["results"], json!([]));

    // Paging.
    let r = c.get("/crm/v3/owners?limit=3").await;
    assert_eq!(emails(&r.body).len(), 3);
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let r2 = c
        .get(&format!("/crm/v3/owners?limit=3&after={after}"))
        .await;
    assert_eq!(emails(&r2.body), ["jo.baker@acme.example"]);
    assert!(r2.body.get("paging").is_none());
    let r = c.get("/crm/v3/owners?limit=0").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.get("/crm/v3/owners?after=xyz").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Archived owners are listed only with archived=true.
    let r = c.get("/crm/v3/owners?archived=true").await;
    assert_eq!(emails(&r.body), ["pat.former@acme.example"]);
    assert_eq!(r.body["results"][0]["userId"], Value::Null);

    // Get by id and by user id.
    let r = c.get(&format!("/crm/v3/owners/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["email"], "owner@acme.example");
    let r = c.get("/crm/owners/2026-03/4021?idProperty=userId").await;
    assert_eq!(r.body["id"], id.as_str());
    let r = c.get("/crm/v3/owners/4021").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c.get("/crm/v3/owners/4021?idProperty=email").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Other portals have their own owner ids, the same people.
    let other = sim_token(&c.sim, ACME_STARTER, &["crm.objects.owners.read"]).await;
    let r = c.get_as(&other, "/crm/v3/owners").await;
    assert_eq!(emails(&r.body)[0], "owner@acme.example");
    assert_ne!(r.body["results"][0]["id"], id.as_str());
}

#[tokio::test]
async fn owner_scopes() {
    let c = crm_with(ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get("/crm/v3/owners").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.owners.read"])
    );
    assert_eq!(
        r.body["errors"][0]["context"]["requiredScopes"],
        json!(["automation", "contacts"])
    );
    for scope in ["automation", "contacts"] {
        let t = sim_token(&c.sim, ACME_INC, &[scope]).await;
        let r = c.get_as(&t, "/crm/v3/owners/").await;
        assert_eq!(r.status, StatusCode::OK, "{scope} {}", r.body);
    }
    let r = c.get_as("nope", "/crm/v3/owners").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
}

/// `hubspot_owner_id` takes the portal's active owners only.
#[tokio::test]
async fn records_take_owner_ids_of_the_portal() {
    let c = crm_with(
        ACME_INC,
        &["crm.objects.owners.read", "crm.objects.contacts.write"],
    )
    .await;
    let r = c.get("/crm/v3/owners").await;
    let owner = r.body["results"][1]["id"].as_str().unwrap().to_owned();
    let r = c.get("/crm/v3/owners?archived=true").await;
    let archived = r.body["results"][0]["id"].as_str().unwrap().to_owned();
    let id = c
        .create(
            "contacts",
            json!({"email": "o@example.com", "hubspot_owner_id": owner}),
        )
        .await;
    assert!(!id.is_empty());
    for bad in [archived.as_str(), "12345"] {
        let r = c
            .try_create(
                "contacts",
                json!({"email": "p@example.com", "hubspot_owner_id": bad}),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(r.body["errors"][0]["code"], "INVALID_OPTION");
    }
}
