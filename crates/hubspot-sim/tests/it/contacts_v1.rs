//! Contact by user token: `GET /contacts/v1/contact/utk/{utk}/profile`, the tokens of
//! seeded contacts and of contacts created by form submissions, HubSpot's 404.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

const SCOPES: &[&str] = &[
    "forms",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
];

async fn utk_of(c: &Crm, id: &str) -> (StatusCode, Value) {
    c.sim
        .get_json(&format!("/_sim/contacts/{ACME_INC}/{id}/utk"), None)
        .await
}

fn profile(utk: &str) -> String {
    format!("/contacts/v1/contact/utk/{utk}/profile")
}

#[tokio::test]
async fn seeded_contacts_have_a_user_token() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let (status, seeded) = c
        .sim
        .sim_post("/_sim/seed", json!({"companies": 2, "contacts": 3}))
        .await;
    assert_eq!(status, StatusCode::OK, "{seeded}");
    let first = seeded["first_ids"]["contacts"]
        .as_u64()
        .unwrap()
        .to_string();
    let (status, t) = utk_of(&c, &first).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let utk = t["utk"].as_str().unwrap().to_owned();
    assert_eq!(utk.len(), 32);
    assert!(utk.chars().all(|ch| ch.is_ascii_hexdigit()), "{utk}");

    let r = c.get(&profile(&utk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["vid"].to_string(), first);
    assert_eq!(r.body["canonical-vid"].to_string(), first);
    assert_eq!(r.body["portal-id"], ACME_INC);
    assert_eq!(r.body["is-contact"], true);
    assert_eq!(r.body["list-memberships"], json!([]));
    let email = r.body["properties"]["email"]["value"].as_str().unwrap();
    assert!(email.contains('@'), "{}", r.body);
    assert!(r.body["properties"]["firstname"]["value"].is_string());
    let identities = r.body["identity-profiles"][0]["identities"]
        .as_array()
        .unwrap();
    assert!(
        identities
            .iter()
            .any(|i| i["type"] == "LEAD_GUID" && i["value"] == utk.as_str()),
        "{identities:?}"
    );
    // Upper case works too; `property` narrows (lastmodifieddate always comes back).
    let r = c
        .get(&format!("{}?property=email", profile(&utk.to_uppercase())))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut names: Vec<&String> = r.body["properties"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["email", "lastmodifieddate"]);

    // Another portal's token finds nothing.
    let other = sim_token(&c.sim, 24_682_003, SCOPES).await;
    let r = c.get_as(&other, &profile(&utk)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Archived contacts are not found by token.
    assert_eq!(
        c.delete(&format!("/crm/v3/objects/contacts/{first}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(c.get(&profile(&utk)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn form_submissions_attach_their_hutk() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let form = c
        .post(
            "/marketing/v3/forms",
            json!({"name": "Signup", "formType": "hubspot", "fieldGroups": [{
                "groupType": "default_group", "richTextType": "text",
                "fields": [{"objectTypeId": "0-1", "name": "email", "label": "Email",
                            "required": true, "hidden": false, "fieldType": "email"}]}]}),
        )
        .await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);
    let submit = format!(
        "/submissions/v3/integration/secure/submit/{ACME_INC}/{}",
        form.body["id"].as_str().unwrap()
    );
    let hutk = "0123456789abcdef0123456789abcdef";
    let r = c
        .post(
            &submit,
            json!({"fields": [{"objectTypeId": "0-1", "name": "email", "value": "visitor@acme.io"}],
                   "context": {"hutk": hutk, "pageUri": "https://acme.example/signup"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get(&profile(hutk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["email"]["value"], "visitor@acme.io");
    let vid = r.body["vid"].to_string();
    assert_eq!(utk_of(&c, &vid).await.1["utk"], hutk);

    // Without a hutk a new contact still gets a token.
    let r = c
        .post(
            &submit,
            json!({"fields": [{"objectTypeId": "0-1", "name": "email", "value": "other@acme.io"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .get("/crm/v3/objects/contacts/other@acme.io?idProperty=email")
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let (status, t) = utk_of(&c, &id).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let r = c.get(&profile(t["utk"].as_str().unwrap())).await;
    assert_eq!(r.body["vid"].to_string(), id);

    // Contacts created through the objects API have none.
    let api = c.create("contacts", json!({"email": "api@acme.io"})).await;
    assert_eq!(utk_of(&c, &api).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_tokens_get_the_legacy_404() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let r = c.get(&profile("ffffffffffffffffffffffffffffffff")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["status"], "error");
    assert_eq!(r.body["message"], "contact does not exist");
    assert_uuid(&r.body["correlationId"]);
    assert_uuid(&r.body["requestId"]);
    assert_eq!(
        r.headers["x-hubspot-correlation-id"].to_str().unwrap(),
        r.body["correlationId"].as_str().unwrap()
    );
    let no_scope = sim_token(&c.sim, ACME_INC, &["forms"]).await;
    let r = c.get_as(&no_scope, &profile("abc")).await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
}
