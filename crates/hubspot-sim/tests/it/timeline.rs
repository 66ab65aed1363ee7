//! Timeline events v3: event templates with the developer API key, events with the
//! `timeline` scope, immutable events and re-sent ids refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

const TEMPLATES: &str = "/integrators/timeline/v3";
const EVENTS: &str = "/integrators/timeline/v3/events";

/// The sandbox app's id and developer API key.
async fn developer_key(sim: &TestSim) -> (i64, String) {
    let (status, apps) = sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    (
        apps[0]["app_id"].as_i64().unwrap(),
        apps[0]["developer_api_key"].as_str().unwrap().to_owned(),
    )
}

/// A template call with `?hapikey=key`.
async fn with_key(
    sim: &TestSim,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = sim.http.request(method, sim.url(path));
    if let Some(key) = key {
        req = req.query(&[("hapikey", key)]);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.unwrap()).await
}

fn pet_template(object_type: &str) -> Value {
    json!({
        "name": "PetSpot Registration",
        "objectType": object_type,
        "headerTemplate": "Registered for [{{petName}}](https://my.petspot.com/pets/{{petName}})",
        "detailTemplate": "Registration occurred at {{#formatDate timestamp}}{{/formatDate}}",
        "tokens": [
            {"name": "petName", "label": "Pet Name", "type": "string"},
            {"name": "petAge", "label": "Pet Age", "type": "number"},
            {"name": "petColor", "label": "Pet Color", "type": "enumeration",
             "options": [{"value": "white", "label": "White"}, {"value": "black", "label": "Black"}]}
        ]
    })
}

/// A simulator, a token with `timeline` and CRM scopes, and a contacts template's id.
async fn timeline() -> (Crm, String) {
    let mut scopes = ALL_CRM_SCOPES.to_vec();
    scopes.push("timeline");
    let c = crm_with(ACME_INC, &scopes).await;
    let id = new_template(&c.sim, "contacts").await;
    (c, id)
}

/// Creates a [`pet_template`] for `object_type` with the app's developer key; its id.
async fn new_template(sim: &TestSim, object_type: &str) -> String {
    let (app, key) = developer_key(sim).await;
    let r = with_key(
        sim,
        Method::POST,
        &format!("{TEMPLATES}/{app}/event-templates"),
        Some(&key),
        Some(pet_template(object_type)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn templates_are_managed_with_the_developer_key() {
    let sim = start().await;
    let (app, key) = developer_key(&sim).await;
    let base = format!("{TEMPLATES}/{app}/event-templates");
    let r = with_key(&sim, Method::GET, &base, Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"results": []}));

    let r = with_key(
        &sim,
        Method::POST,
        &base,
        Some(&key),
        Some(pet_template("contacts")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = r.body.clone();
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["name"], "PetSpot Registration");
    assert_eq!(t["objectType"], "contacts");
    assert_eq!(t["tokens"].as_array().unwrap().len(), 3);
    assert_eq!(t["tokens"][2]["type"], "enumeration");
    assert_eq!(t["tokens"][2]["options"][1]["value"], "black");
    assert!(is_iso(&t["createdAt"]) && is_iso(&t["tokens"][0]["createdAt"]));

    let one = format!("{base}/{id}");
    let r = with_key(&sim, Method::GET, &one, Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, t);
    let r = with_key(&sim, Method::GET, &base, Some(&key), None).await;
    assert_eq!(r.body["results"], json!([t]));
    // The older /crm/v3/timeline paths serve the same templates.
    let r = with_key(
        &sim,
        Method::GET,
        &format!("/crm/v3/timeline/{app}/event-templates/{id}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(r.body, t);

    // PUT replaces name, templates and tokens; a token keeps its creation time and type.
    let mut update = pet_template("contacts");
    update["name"] = json!("PetSpot Sign-up");
    update["tokens"] = json!([{"name": "petName", "label": "Name of the pet", "type": "string"}]);
    let r = with_key(&sim, Method::PUT, &one, Some(&key), Some(update.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "PetSpot Sign-up");
    assert_eq!(r.body["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["tokens"][0]["label"], "Name of the pet");
    assert_eq!(
        r.body["tokens"][0]["createdAt"],
        t["tokens"][0]["createdAt"]
    );
    assert_eq!(r.body["createdAt"], t["createdAt"]);
    let mut retyped = update.clone();
    retyped["tokens"][0]["type"] = json!("number");
    let r = with_key(&sim, Method::PUT, &one, Some(&key), Some(retyped)).await;
    assert_error_mentions(
        &r,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "cannot be changed",
    );
    let mut moved = update.clone();
    moved["objectType"] = json!("deals");
    let r = with_key(&sim, Method::PUT, &one, Some(&key), Some(moved)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Bad templates.
    for (bad, needle) in [
        (json!({"objectType": "contacts", "tokens": []}), "name"),
        (json!({"name": "x", "tokens": []}), "objectType"),
        (
            json!({"name": "x", "objectType": "products", "tokens": []}),
            "products",
        ),
        (json!({"name": "x", "objectType": "contacts"}), "tokens"),
        (
            json!({"name": "x", "objectType": "contacts", "tokens": [{"name": "a", "label": "A", "type": "enumeration"}]}),
            "options",
        ),
    ] {
        let r = with_key(&sim, Method::POST, &base, Some(&key), Some(bad)).await;
        assert_error_mentions(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", needle);
    }

    // The developer key: missing, wrong, or another app's.
    let r = with_key(&sim, Method::GET, &base, None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
    let r = with_key(&sim, Method::GET, &base, Some("nope"), None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
    let r = with_key(
        &sim,
        Method::GET,
        &format!("{TEMPLATES}/{}/event-templates", app + 1),
        Some(&key),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = with_key(&sim, Method::GET, &format!("{base}/999"), Some(&key), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    let r = with_key(&sim, Method::DELETE, &one, Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = with_key(&sim, Method::GET, &one, Some(&key), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn events_are_created_once_and_never_change() {
    let (c, template) = timeline().await;
    let contact = c
        .create("contacts", json!({"email": "ada@example.com"}))
        .await;
    let input = json!({
        "eventTemplateId": template,
        "objectId": contact,
        "id": "petspot-ada-1",
        "timestamp": "2026-11-02T10:00:00Z",
        "tokens": {"petName": "Art3mis", "petAge": 3, "petColor": "black"},
        "extraData": {"questions": [{"question": "Good girl?", "answer": "Bark!"}]}
    });
    let r = c.post(EVENTS, input.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.headers.contains_key("x-hubspot-ratelimit-remaining"));
    let event = r.body.clone();
    assert_eq!(event["id"], "petspot-ada-1");
    assert_eq!(event["eventTemplateId"], json!(template));
    assert_eq!(event["objectType"], "contacts");
    assert_eq!(event["objectId"], json!(contact));
    assert_eq!(event["timestamp"], "2026-11-02T10:00:00.000Z");
    assert_eq!(
        event["tokens"],
        json!({"petName": "Art3mis", "petAge": "3", "petColor": "black"})
    );
    assert_eq!(event["extraData"]["questions"][0]["answer"], "Bark!");

    let path = format!("{EVENTS}/{template}/petspot-ada-1");
    let r = c.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, event);

    // The same id again: refused, nothing changes.
    let mut again = input.clone();
    again["tokens"]["petName"] = json!("Pocket");
    let r = c.post(EVENTS, again).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        r.body["message"],
        "Event ID already in use, please choose a new unique ID"
    );
    assert_eq!(c.get(&path).await.body, event);
    // Events have no update or delete.
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let r = c.call(method, &path, Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    }
    assert_eq!(c.sim.server.sim.timeline_event_count(ACME_INC), 1);

    // Without an id the simulator makes one; `{{uuid}}` in an id is filled in.
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": template, "objectId": contact, "tokens": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_uuid(&r.body["id"]);
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": template, "objectId": contact, "id": "ada-{{uuid}}", "tokens": {}}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap();
    assert!(id.starts_with("ada-") && id.len() == 40, "{id}");

    // An email finds its contact, or creates one; a user token finds its contact.
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": template, "email": "ADA@example.com", "tokens": {}}),
        )
        .await;
    assert_eq!(r.body["objectId"], json!(contact), "{}", r.body);
    let before = c.sim.server.sim.crm_count(ACME_INC, "contacts").unwrap();
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": template, "email": "new@example.com", "tokens": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        c.sim.server.sim.crm_count(ACME_INC, "contacts").unwrap(),
        before + 1
    );
    let created = r.body["objectId"].as_str().unwrap();
    let r = c.get(&format!("/crm/v3/objects/contacts/{created}")).await;
    assert_eq!(r.body["properties"]["email"], "new@example.com");
    let seeded = c
        .sim
        .server
        .sim
        .crm_seed(
            ACME_INC,
            "contacts",
            [json!({"email": "seeded@example.com"})
                .as_object()
                .unwrap()
                .clone()],
        )
        .unwrap()[0];
    let utk = c.sim.server.sim.contact_utk(ACME_INC, seeded).unwrap();
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": template, "utk": utk, "tokens": {}}),
        )
        .await;
    assert_eq!(r.body["objectId"], json!(seeded.to_string()), "{}", r.body);
}

#[tokio::test]
async fn bad_events_are_refused() {
    let (c, template) = timeline().await;
    let contact = c
        .create("contacts", json!({"email": "b@example.com"}))
        .await;
    let base = json!({"eventTemplateId": template, "objectId": contact, "tokens": {}});
    let with = |name: &str, value: Value| {
        let mut v = base.clone();
        v[name] = value;
        v
    };
    for (input, status, category, needle) in [
        (
            json!({"objectId": contact, "tokens": {}}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "eventTemplateId",
        ),
        (
            with("eventTemplateId", json!("999")),
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "999",
        ),
        (
            json!({"eventTemplateId": template, "objectId": contact}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "tokens",
        ),
        (
            with("tokens", json!({"petWeight": "3"})),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "petWeight",
        ),
        (
            with("tokens", json!({"petAge": "old"})),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "petAge",
        ),
        (
            with("tokens", json!({"petColor": "green"})),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "petColor",
        ),
        (
            with("objectId", json!("123456789")),
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "123456789",
        ),
        (
            json!({"eventTemplateId": template, "tokens": {}}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "objectId, email or utk",
        ),
        (
            json!({"eventTemplateId": template, "utk": "0123456789abcdef0123456789abcdef", "tokens": {}}),
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "user token",
        ),
        (
            with("timestamp", json!("yesterday")),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "timestamp",
        ),
        (
            with("extraData", json!([1])),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "extraData",
        ),
    ] {
        let r = c.post(EVENTS, input.clone()).await;
        assert_error_mentions(&r, status, category, needle);
    }
    assert_eq!(c.sim.server.sim.timeline_event_count(ACME_INC), 0);

    // Scope, token and template owner.
    let no_scope = sim_token(&c.sim, ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c
        .call_as(&no_scope, Method::POST, EVENTS, Some(base.clone()))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c
        .call_as("nope", Method::POST, EVENTS, Some(base.clone()))
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
    let (status, other) = c
        .sim
        .sim_post(
            "/_sim/apps",
            json!({"name": "Other", "redirect_urls": [REDIRECT]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let (status, t) = c
        .sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": ACME_INC, "scopes": ["timeline"], "client_id": other["client_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let other_token = t["access_token"].as_str().unwrap();
    let r = c
        .call_as(other_token, Method::POST, EVENTS, Some(base.clone()))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // A deals template needs an objectId of a deal.
    let deals = new_template(&c.sim, "deals").await;
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": deals, "email": "b@example.com", "tokens": {}}),
        )
        .await;
    assert_error_mentions(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "objectId");
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": deals, "objectId": contact, "tokens": {}}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let deal = c
        .create(
            "deals",
            json!({"dealname": "Pet food", "dealstage": "qualifiedtobuy"}),
        )
        .await;
    let r = c
        .post(
            EVENTS,
            json!({"eventTemplateId": deals, "objectId": deal, "tokens": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["objectType"], "deals");

    // Unknown events.
    let r = c.get(&format!("{EVENTS}/{template}/nope")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn batches_create_each_event_on_its_own() {
    let (c, template) = timeline().await;
    let contact = c
        .create("contacts", json!({"email": "c@example.com"}))
        .await;
    let event = |id: &str| json!({"eventTemplateId": template, "objectId": contact, "id": id, "tokens": {"petName": id}});
    let batch = format!("{EVENTS}/batch/create");
    let r = c
        .post(&batch, json!({"inputs": [event("e1"), event("e2")]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETE");
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert!(is_iso(&r.body["startedAt"]) && is_iso(&r.body["completedAt"]));
    assert!(r.body.get("numErrors").is_none());

    // e2 again, e3 twice: 207, e3 created once.
    let r = c
        .post(
            &batch,
            json!({"inputs": [event("e2"), event("e3"), event("e3")]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
    assert_eq!(r.body["numErrors"], 2);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["results"][0]["id"], "e3");
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(
        errors[0]["message"],
        "Event ID already in use, please choose a new unique ID"
    );
    assert_eq!(errors[0]["context"]["index"], json!(["0"]));
    assert_eq!(errors[1]["context"]["index"], json!(["2"]));
    assert_eq!(errors[1]["context"]["id"], json!(["e3"]));
    assert_eq!(c.sim.server.sim.timeline_event_count(ACME_INC), 3);

    for bad in [
        json!({}),
        json!({"inputs": []}),
        json!({"inputs": (0..101).map(|i| event(&format!("x{i}"))).collect::<Vec<_>>()}),
    ] {
        let r = c.post(&batch, bad).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}
