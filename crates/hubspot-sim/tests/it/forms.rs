//! Marketing forms, the secure submission endpoint and the submissions listing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

const SCOPES: &[&str] = &["forms", "crm.objects.contacts.read"];

fn form_body(name: &str) -> Value {
    json!({
        "name": name,
        "formType": "hubspot",
        "fieldGroups": [{
            "groupType": "default_group",
            "richTextType": "text",
            "fields": [
                {"objectTypeId": "0-1", "name": "email", "label": "Email", "required": true, "hidden": false, "fieldType": "email"},
                {"objectTypeId": "0-1", "name": "firstname", "label": "First name", "required": false, "hidden": false, "fieldType": "single_line_text"},
            ],
        }],
    })
}

async fn create_form(c: &Crm, name: &str) -> Value {
    let r = c.post("/marketing/v3/forms", form_body(name)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

#[tokio::test]
async fn forms_crud() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let f = create_form(&c, "Newsletter").await;
    let id = f["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID");
    assert_eq!(f["formType"], "hubspot");
    assert_eq!(f["archived"], false);
    assert!(is_iso(&f["createdAt"]));
    assert_eq!(f["configuration"]["postSubmitAction"]["type"], "thank_you");
    assert_eq!(f["legalConsentOptions"]["type"], "none");
    assert_eq!(f["fieldGroups"][0]["fields"][0]["name"], "email");

    let r = c.post("/marketing/v3/forms", form_body("Newsletter")).await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let mut bad = form_body("Bad");
    bad["fieldGroups"][0]["fields"][0]["name"] = json!("no_such_property");
    let r = c.post("/marketing/v3/forms", bad).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/marketing/v3/forms",
            json!({"name": "X", "formType": "hubspot"}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    for i in 0..2 {
        create_form(&c, &format!("Other {i}")).await;
    }
    let r = c.get("/marketing/v3/forms?limit=2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["results"][0]["id"], id.as_str());
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .get(&format!("/marketing/v3/forms/?limit=2&after={after}"))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    assert!(r.body.get("paging").is_none());

    let path = format!("/marketing/v3/forms/{id}");
    let r = c
        .patch(
            &path,
            json!({"name": "Weekly newsletter", "configuration": {"postSubmitAction": {"type": "redirect_url", "value": "https://acme.example/thanks"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Weekly newsletter");
    assert_eq!(r.body["configuration"]["language"], "en", "merged");
    assert_eq!(
        r.body["configuration"]["postSubmitAction"]["type"],
        "redirect_url"
    );
    let r = c
        .call(Method::PUT, &path, Some(form_body("Replaced")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Replaced");
    assert_eq!(
        r.body["configuration"]["postSubmitAction"]["type"],
        "thank_you"
    );

    let r = c.delete(&path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get(&path).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c.get(&format!("{path}?archived=true")).await;
    assert_eq!(r.body["archived"], true);
    assert!(is_iso(&r.body["archivedAt"]));
    let r = c.get("/marketing/v3/forms?archived=true").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    let r = c.delete(&path).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn secure_submission_creates_then_updates_the_contact() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let f = create_form(&c, "Signup").await;
    let id = f["id"].as_str().unwrap();
    let submit = format!("/submissions/v3/integration/secure/submit/{ACME_INC}/{id}");

    let r = c
        .post(
            &submit,
            json!({
                "fields": [
                    {"objectTypeId": "0-1", "name": "email", "value": "Form@Example.com"},
                    {"objectTypeId": "0-1", "name": "firstname", "value": "Fay"},
                ],
                "submittedAt": "1767225600000",
                "context": {"pageUri": "https://acme.example/signup", "pageName": "Signup"},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"inlineMessage": "Thanks for submitting the form."})
    );

    let contact = c
        .get("/crm/v3/objects/contacts/form@example.com?idProperty=email")
        .await;
    assert_eq!(contact.status, StatusCode::OK, "{}", contact.body);
    assert_eq!(contact.body["properties"]["firstname"], "Fay");
    let contact_id = contact.body["id"].as_str().unwrap().to_owned();

    // A second submission with the same email updates the same contact.
    c.patch(
        &format!("/marketing/v3/forms/{id}"),
        json!({"configuration": {"postSubmitAction": {"type": "redirect_url", "value": "https://acme.example/thanks"}}}),
    )
    .await;
    let r = c
        .post(
            &submit,
            json!({"fields": [
                {"objectTypeId": "0-1", "name": "email", "value": "form@example.com"},
                {"objectTypeId": "0-1", "name": "firstname", "value": "Faye"},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"redirectUri": "https://acme.example/thanks"})
    );
    let contact = c
        .get("/crm/v3/objects/contacts/form@example.com?idProperty=email")
        .await;
    assert_eq!(contact.body["id"], contact_id.as_str());
    assert_eq!(contact.body["properties"]["firstname"], "Faye");
    assert_eq!(c.sim.server.sim.crm_count(ACME_INC, "contacts").unwrap(), 1);

    // The listing: newest first, paged.
    let listing = format!("/form-integrations/v1/submissions/forms/{id}");
    let r = c.get(&listing).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["submittedAt"], 1_767_225_600_000_i64);
    assert_eq!(results[1]["pageUrl"], "https://acme.example/signup");
    assert_eq!(
        results[0]["values"][1],
        json!({"name": "firstname", "value": "Faye", "objectTypeId": "0-1"})
    );
    let r = c.get(&format!("{listing}?limit=1")).await;
    assert_eq!(r.body["results"][0]["values"][1]["value"], "Faye");
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c.get(&format!("{listing}?limit=1&after={after}")).await;
    assert_eq!(r.body["results"][0]["values"][1]["value"], "Fay");
    assert!(r.body.get("paging").is_none());
    let r = c.get("/form-integrations/v1/submissions/forms/nope").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn submission_errors() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let f = create_form(&c, "Signup").await;
    let id = f["id"].as_str().unwrap();
    let submit = format!("/submissions/v3/integration/secure/submit/{ACME_INC}/{id}");

    let r = c
        .post(
            &submit,
            json!({"fields": [{"objectTypeId": "0-1", "name": "firstname", "value": "X"}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["errors"][0]["errorType"], "REQUIRED_FIELD");
    let r = c
        .post(
            &submit,
            json!({"fields": [
                {"objectTypeId": "0-1", "name": "email", "value": "not-an-email"},
                {"objectTypeId": "0-1", "name": "jobtitle", "value": "CEO"},
            ]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let types: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["FIELD_NOT_IN_FORM_DEFINITION", "INVALID_EMAIL"]);
    // skipValidation lets fields outside the definition through (still CRM-validated).
    let r = c
        .post(
            &submit,
            json!({"skipValidation": true, "fields": [
                {"objectTypeId": "0-1", "name": "email", "value": "ceo@example.com"},
                {"objectTypeId": "0-1", "name": "jobtitle", "value": "CEO"},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(c.sim.server.sim.crm_count(ACME_INC, "contacts").unwrap(), 1);

    let r = c
        .post(
            &format!("/submissions/v3/integration/secure/submit/{ACME_INC}/00000000-0000-4000-8000-000000000000"),
            json!({"fields": []}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c
        .post(
            &format!("/submissions/v3/integration/secure/submit/{ACME_STARTER}/{id}"),
            json!({"fields": []}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
    let r = c.post(&submit, json!({"nofields": true})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn forms_need_the_forms_scope() {
    let c = crm_with(ACME_INC, &["crm.objects.contacts.write"]).await;
    for (method, path) in [
        (Method::GET, "/marketing/v3/forms".to_owned()),
        (
            Method::POST,
            format!("/submissions/v3/integration/secure/submit/{ACME_INC}/x"),
        ),
        (
            Method::GET,
            "/form-integrations/v1/submissions/forms/x".to_owned(),
        ),
    ] {
        let r = c.call(method, &path, Some(json!({"fields": []}))).await;
        assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
        assert_eq!(
            r.body["errors"][0]["context"]["requiredScopes"],
            json!(["forms"]),
            "{path}"
        );
    }
    let r = c.get_as("nope", "/marketing/v3/forms").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
}

/// Submissions create and update contacts through the CRM store: the same webhook
/// events as API writes.
#[tokio::test]
async fn submissions_emit_contact_webhooks() {
    let c = crm_with(ACME_INC, SCOPES).await;
    let (_, mut rx) = subscribe_webhooks(&c, &[
        json!({"eventType": "contact.creation", "active": true}),
        json!({"eventType": "contact.propertyChange", "propertyName": "firstname", "active": true}),
    ]).await;

    let f = create_form(&c, "Hooks").await;
    let submit = format!(
        "/submissions/v3/integration/secure/submit/{ACME_INC}/{}",
        f["id"].as_str().unwrap()
    );
    for name in ["Hal", "Hale"] {
        let r = c
            .post(
                &submit,
                json!({"fields": [
                    {"objectTypeId": "0-1", "name": "email", "value": "hook@example.com"},
                    {"objectTypeId": "0-1", "name": "firstname", "value": name},
                ]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("webhook events in time")
            .unwrap();
        seen.push(format!(
            "{} {}",
            e["subscriptionType"].as_str().unwrap(),
            e["propertyValue"].as_str().unwrap_or("-")
        ));
    }
    for e in [
        "contact.creation -",
        "contact.propertyChange Hal",
        "contact.propertyChange Hale",
    ] {
        assert!(seen.iter().any(|s| s == e), "{e} not in {seen:?}");
    }
}
