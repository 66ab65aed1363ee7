//! The CRM objects API: records, paging, validation, batches, merge, GDPR delete.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;

#[tokio::test]
async fn create_and_get_a_contact_by_every_path_form() {
    let c = crm().await;
    let r = c
        .try_create(
            "contacts",
            json!({"email": "Ann@Example.com", "firstname": "Ann", "lifecyclestage": "lead"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers["x-hubspot-ratelimit-max"], "110");
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok());
    let p = &r.body["properties"];
    assert_eq!(p["email"], "ann@example.com");
    assert_eq!(p["firstname"], "Ann");
    assert_eq!(p["lifecyclestage"], "lead");
    assert_eq!(p["hs_object_id"], id.as_str());
    assert!(is_iso(&p["createdate"]) && is_iso(&p["lastmodifieddate"]));
    assert!(p.get("lastname").is_none(), "empty properties are left out");
    assert!(is_iso(&r.body["createdAt"]) && is_iso(&r.body["updatedAt"]));
    assert_eq!(r.body["archived"], false);

    for path in [
        format!("/crm/v3/objects/contacts/{id}"),
        format!("/crm/v3/objects/0-1/{id}"),
        format!("/crm/v3/objects/contact/{id}"),
        format!("/crm/objects/2026-03/contacts/{id}"),
        "/crm/v3/objects/contacts/ANN@example.com?idProperty=email".to_owned(),
    ] {
        let g = c.get(&path).await;
        assert_eq!(g.status, StatusCode::OK, "{path} {}", g.body);
        assert_eq!(g.body["id"], id.as_str());
        let mut keys: Vec<&String> = g.body["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate"
            ],
            "default properties of contacts"
        );
    }
    let g = c
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?properties=lifecyclestage,nosuchprop"
        ))
        .await;
    assert_eq!(g.body["properties"], json!({"lifecyclestage": "lead"}));

    let missing = c.get("/crm/v3/objects/contacts/999999").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    assert_eq!(missing.body["message"], "resource not found");
    assert_eq!(
        missing.body["context"],
        json!({"objectType": ["contacts"], "id": ["999999"]})
    );
    let bad_id_prop = c
        .get("/crm/v3/objects/contacts/x?idProperty=firstname")
        .await;
    assert_error(&bad_id_prop, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn duplicate_email_is_a_conflict() {
    let c = crm().await;
    let id = c
        .create("contacts", json!({"email": "bob@example.com"}))
        .await;
    let r = c
        .try_create("contacts", json!({"email": "BOB@example.com"}))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(
        r.body["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    let other = c
        .create("contacts", json!({"email": "carl@example.com"}))
        .await;
    let r = c
        .try_update("contacts", &other, json!({"email": "bob@example.com"}))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
}

#[tokio::test]
async fn property_values_are_validated() {
    let c = crm().await;
    let cases = [
        ("contacts", json!({"color": "red"}), "PROPERTY_DOESNT_EXIST"),
        ("contacts", json!({"hs_object_id": "5"}), "READ_ONLY_VALUE"),
        (
            "contacts",
            json!({"lifecyclestage": "boss"}),
            "INVALID_OPTION",
        ),
        (
            "contacts",
            json!({"email": "not-an-email"}),
            "INVALID_EMAIL",
        ),
        (
            "contacts",
            json!({"date_of_birth": "31/12/1990"}),
            "INVALID_DATE",
        ),
        (
            "companies",
            json!({"numberofemployees": "many"}),
            "INVALID_NUMBER",
        ),
        ("companies", json!({"is_public": "yes"}), "INVALID_BOOLEAN"),
        (
            "deals",
            json!({"dealstage": "closedwon", "closedate": "soon"}),
            "INVALID_DATETIME",
        ),
        (
            "deals",
            json!({"dealname": "No stage"}),
            "REQUIRED_PROPERTY",
        ),
        ("tickets", json!({"subject": "Help"}), "REQUIRED_PROPERTY"),
        ("notes", json!({"hs_note_body": "hi"}), "REQUIRED_PROPERTY"),
    ];
    for (object, props, code) in cases {
        let r = c
            .post(
                &format!("/crm/v3/objects/{object}"),
                json!({ "properties": props }),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.starts_with("Property values were not valid: [{"),
            "{message}"
        );
        assert!(message.contains(code), "{object} {props}: {message}");
        assert_eq!(r.body["errors"][0]["code"], code);
    }
    let r = c.try_create("contacts", json!({"color": "red"})).await;
    let listed: Value = serde_json::from_str(
        r.body["message"]
            .as_str()
            .unwrap()
            .trim_start_matches("Property values were not valid: "),
    )
    .unwrap();
    assert_eq!(
        listed,
        json!([{"isValid": false, "message": "Property \"color\" does not exist", "error": "PROPERTY_DOESNT_EXIST", "name": "color"}])
    );
}

#[tokio::test]
async fn values_are_normalized_and_defaults_applied() {
    let c = crm().await;
    let deal = c
        .try_create("deals", json!({"dealname": "Big", "dealstage": "qualifiedtobuy", "amount": 1500, "closedate": "2026-12-01T10:00:00+01:00"}))
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let p = &deal.body["properties"];
    assert_eq!(p["amount"], "1500");
    assert_eq!(p["pipeline"], "default");
    assert_eq!(p["closedate"], "2026-12-01T09:00:00.000Z");
    assert!(is_iso(&p["hs_lastmodifieddate"]));
    assert!(p.get("lastmodifieddate").is_none());

    let note = c
        .try_create(
            "notes",
            json!({"hs_timestamp": "1700000000000", "hs_note_body": "Called"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert_eq!(
        note.body["properties"]["hs_timestamp"],
        "2023-11-14T22:13:20.000Z"
    );
    for (object, props) in [
        (
            "calls",
            json!({"hs_timestamp": "2026-01-01T00:00:00Z", "hs_call_title": "Intro"}),
        ),
        (
            "emails",
            json!({"hs_timestamp": "2026-01-01T00:00:00Z", "hs_email_subject": "Hi"}),
        ),
        (
            "meetings",
            json!({"hs_timestamp": "2026-01-01T00:00:00Z", "hs_meeting_title": "Demo"}),
        ),
        (
            "tasks",
            json!({"hs_timestamp": "2026-01-01T00:00:00Z", "hs_task_subject": "Follow up"}),
        ),
        ("0-46", json!({"hs_timestamp": "2026-01-01T00:00:00Z"})),
        (
            "tickets",
            json!({"subject": "Broken", "hs_pipeline_stage": "1", "hs_ticket_priority": "HIGH"}),
        ),
    ] {
        c.create(object, props).await;
    }
    let t = c.get("/crm/v3/objects/tickets?limit=1").await;
    assert_eq!(t.body["results"][0]["properties"]["hs_pipeline"], "0");
}

#[tokio::test]
async fn update_clears_values_and_keeps_history() {
    let c = crm().await;
    let id = c
        .create(
            "contacts",
            json!({"email": "dan@example.com", "firstname": "Dan", "phone": "123"}),
        )
        .await;
    let before = c.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    let r = c
        .try_update("contacts", &id, json!({"firstname": "Daniel", "phone": ""}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["properties"]["firstname"], "Daniel");
    assert!(r.body["properties"].get("phone").is_none());
    assert!(
        r.body["properties"]["lastmodifieddate"].as_str()
            >= before.body["properties"]["lastmodifieddate"].as_str()
    );
    let r = c
        .patch(
            "/crm/v3/objects/contacts/dan@example.com?idProperty=email",
            json!({"properties": {"firstname": "Dani"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let h = c
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?propertiesWithHistory=firstname,phone,email"
        ))
        .await;
    let hist = &h.body["propertiesWithHistory"];
    let values: Vec<&str> = hist["firstname"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["Dani", "Daniel", "Dan"], "newest first");
    assert_eq!(hist["firstname"][0]["sourceType"], "INTEGRATION");
    assert_eq!(hist["firstname"][0]["sourceId"], "1000001");
    assert!(is_iso(&hist["firstname"][0]["timestamp"]));
    assert_eq!(hist["phone"][0]["value"], "");
    assert_eq!(hist["phone"][1]["value"], "123");
    assert_eq!(hist["email"].as_array().unwrap().len(), 1);

    let r = c
        .patch(
            "/crm/v3/objects/contacts/424242",
            json!({"properties": {"firstname": "X"}}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c
        .try_update("contacts", &id, json!({"createdate": "2020-01-01"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn list_pages_in_id_order_until_paging_is_absent() {
    let c = crm().await;
    let inputs: Vec<Value> = (0..25)
        .map(|i| json!({"properties": {"name": format!("Co {i:02}"), "domain": format!("co{i}.example")}}))
        .collect();
    let r = c
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({ "inputs": inputs }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let mut names = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/crm/v3/objects/companies?limit=10&properties=name&after={a}"),
            None => "/crm/v3/objects/companies?limit=10&properties=name".to_owned(),
        };
        let page = c.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        pages += 1;
        for rec in page.body["results"].as_array().unwrap() {
            assert_eq!(rec["properties"].as_object().unwrap().len(), 1);
            names.push(rec["properties"]["name"].as_str().unwrap().to_owned());
        }
        match page.body.get("paging") {
            Some(p) => {
                let a = p["next"]["after"].as_str().unwrap().to_owned();
                assert_eq!(p["next"]["link"], format!("?after={a}"));
                after = Some(a);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("Co {i:02}")).collect();
    assert_eq!(names, expected);

    let default = c.get("/crm/v3/objects/companies").await;
    assert_eq!(default.body["results"].as_array().unwrap().len(), 10);
    let all = c.get("/crm/v3/objects/companies?limit=100").await;
    assert_eq!(all.body["results"].as_array().unwrap().len(), 25);
    assert!(all.body.get("paging").is_none());
    let exact = c.get("/crm/v3/objects/companies?limit=25").await;
    assert!(exact.body.get("paging").is_none());
    for bad in [
        "/crm/v3/objects/companies?limit=101",
        "/crm/v3/objects/companies?limit=0",
        "/crm/v3/objects/companies?limit=ten",
        "/crm/v3/objects/companies?limit=51&propertiesWithHistory=name",
        "/crm/v3/objects/companies?after=abc",
        "/crm/v3/objects/companies?archived=maybe",
    ] {
        assert_error(
            &c.get(bad).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        );
    }
    let h = c
        .get("/crm/v3/objects/companies?limit=50&propertiesWithHistory=name&associations=contacts")
        .await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body["results"][0]["propertiesWithHistory"]["name"].is_array());
    assert!(h.body["results"][0].get("associations").is_none());
}

#[tokio::test]
async fn archive_and_restore() {
    let c = crm().await;
    let id = c
        .create("contacts", json!({"email": "eve@example.com"}))
        .await;
    let r = c.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.headers.contains_key("x-hubspot-ratelimit-remaining"));
    assert_eq!(
        c.delete(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &c.get(&format!("/crm/v3/objects/contacts/{id}")).await,
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
    );
    let a = c
        .get(&format!("/crm/v3/objects/contacts/{id}?archived=true"))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["archived"], true);
    assert!(is_iso(&a.body["archivedAt"]));
    let live = c.get("/crm/v3/objects/contacts").await;
    assert_eq!(live.body["results"], json!([]));
    let archived = c.get("/crm/v3/objects/contacts?archived=true").await;
    assert_eq!(archived.body["results"][0]["id"], id.as_str());

    // Restore through the /_sim control.
    let (status, restored) = c
        .sim
        .sim_post(
            &format!(
                "/_sim/crm/{}/contacts/{id}/restore",
                crate::support::ACME_INC
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["archived"], false);
    assert_eq!(
        c.get(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        StatusCode::OK
    );

    // Once archived, the email is free again; restoring the old record then conflicts.
    c.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    let again = c
        .create("contacts", json!({"email": "eve@example.com"}))
        .await;
    assert_ne!(again, id);
    let (status, body) = c
        .sim
        .sim_post(
            &format!(
                "/_sim/crm/{}/contacts/{id}/restore",
                crate::support::ACME_INC
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn batch_read_create_update_archive() {
    let c = crm().await;
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"properties": {"email": "a@b.io", "firstname": "A"}},
                {"properties": {"email": "b@b.io", "firstname": "B"}},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETE");
    for k in ["requestedAt", "startedAt", "completedAt"] {
        assert!(is_iso(&r.body[k]), "{k}");
    }
    let ids: Vec<String> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);

    let read = c
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"properties": ["firstname"], "inputs": [{"id": ids[0]}, {"id": "777777"}]}),
        )
        .await;
    assert_eq!(read.status, StatusCode::MULTI_STATUS, "{}", read.body);
    assert_eq!(read.body["numErrors"], 1);
    assert_eq!(read.body["errors"][0]["status"], "error");
    assert_eq!(read.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(read.body["errors"][0]["context"]["ids"], json!(["777777"]));
    assert_eq!(read.body["results"][0]["properties"]["firstname"], "A");
    let by_email = c
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"idProperty": "email", "inputs": [{"id": "b@b.io"}]}),
        )
        .await;
    assert_eq!(by_email.status, StatusCode::OK);
    assert_eq!(by_email.body["results"][0]["id"], ids[1].as_str());

    // One bad input fails the whole batch.
    let dup = c
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"properties": {"email": "c@b.io"}},
                {"properties": {"email": "a@b.io"}},
            ]}),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "CONFLICT");
    let none = c
        .get("/crm/v3/objects/contacts/c@b.io?idProperty=email")
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // With objectWriteTraceId on every input, errors are per input (207).
    let multi = c
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [
                {"objectWriteTraceId": "t1", "properties": {"email": "c@b.io"}},
                {"objectWriteTraceId": "t2", "properties": {"email": "a@b.io"}},
                {"objectWriteTraceId": "t3", "properties": {"shoe": "42"}},
            ]}),
        )
        .await;
    assert_eq!(multi.status, StatusCode::MULTI_STATUS, "{}", multi.body);
    assert_eq!(multi.body["numErrors"], 2);
    assert_eq!(multi.body["results"][0]["objectWriteTraceId"], "t1");
    assert_eq!(multi.body["errors"][0]["category"], "CONFLICT");
    assert_eq!(
        multi.body["errors"][0]["context"]["objectWriteTraceId"],
        json!(["t2"])
    );
    assert_eq!(multi.body["errors"][1]["category"], "VALIDATION_ERROR");

    let upd = c
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [
                {"id": ids[0], "properties": {"lastname": "Smith"}},
                {"id": "b@b.io", "idProperty": "email", "properties": {"lastname": "Jones"}},
            ]}),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["results"][0]["properties"]["lastname"], "Smith");
    assert_eq!(upd.body["results"][1]["properties"]["lastname"], "Jones");
    let upd_missing = c
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": "999999", "properties": {"lastname": "X"}}]}),
        )
        .await;
    assert_eq!(upd_missing.status, StatusCode::MULTI_STATUS);
    let upd_invalid = c
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": ids[0], "properties": {"nope": "X"}}]}),
        )
        .await;
    assert_error(&upd_invalid, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let arch = c
        .post(
            "/crm/v3/objects/contacts/batch/archive",
            json!({"inputs": [{"id": ids[0]}, {"id": "31337"}]}),
        )
        .await;
    assert_eq!(arch.status, StatusCode::NO_CONTENT);
    assert_eq!(arch.body, Value::Null);
    assert_eq!(
        c.get(&format!("/crm/v3/objects/contacts/{}", ids[0]))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn batch_upsert_by_email_reports_new() {
    let c = crm().await;
    let existing = c
        .create("contacts", json!({"email": "old@x.io", "firstname": "Old"}))
        .await;
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/upsert",
            json!({"inputs": [
                {"id": "old@x.io", "idProperty": "email", "properties": {"firstname": "Updated"}},
                {"id": "new@x.io", "idProperty": "email", "properties": {"firstname": "New"}},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0]["id"], existing.as_str());
    assert_eq!(results[0]["new"], false);
    assert_eq!(results[0]["properties"]["firstname"], "Updated");
    assert_eq!(results[1]["new"], true);
    assert_eq!(results[1]["properties"]["email"], "new@x.io");
    let again = c
        .get("/crm/v3/objects/contacts/new@x.io?idProperty=email")
        .await;
    assert_eq!(again.body["id"], results[1]["id"]);
}

#[tokio::test]
async fn batch_limits() {
    let c = crm().await;
    let inputs: Vec<Value> = (0..101).map(|i| json!({"id": i.to_string()})).collect();
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({ "inputs": inputs }),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let inputs: Vec<Value> = (0..51).map(|i| json!({"id": i.to_string()})).collect();
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": inputs, "propertiesWithHistory": ["email"]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let inputs: Vec<Value> = (0..100)
        .map(|i| json!({"properties": {"email": format!("u{i}@x.io")}}))
        .collect();
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({ "inputs": inputs }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 100);
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/explode",
            json!({"inputs": []}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");

    // The limits are simulator settings.
    let r = c
        .call(
            Method::PATCH,
            "/_sim/config",
            Some(json!({"batch_max_inputs": 2, "association_batch_max_inputs": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let three: Vec<Value> = (0..3).map(|i| json!({"id": i.to_string()})).collect();
    let r = c
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": three}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({"inputs": [{"id": "1"}, {"id": "2"}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn merge_and_gdpr_delete() {
    let c = crm().await;
    let a = c
        .create("contacts", json!({"email": "p@x.io", "firstname": "P"}))
        .await;
    let b = c
        .create(
            "contacts",
            json!({"email": "s@x.io", "lastname": "Second", "phone": "555"}),
        )
        .await;
    let r = c
        .post(
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": a, "objectIdToMerge": b}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], a.as_str());
    assert_eq!(r.body["properties"]["lastname"], "Second");
    assert_eq!(r.body["properties"]["email"], "p@x.io");
    assert_eq!(
        c.get(&format!("/crm/v3/objects/contacts/{b}")).await.status,
        StatusCode::NOT_FOUND
    );
    let own = c
        .post(
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": a, "objectIdToMerge": a}),
        )
        .await;
    assert_error(&own, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let products = c
        .post(
            "/crm/v3/objects/products/merge",
            json!({"primaryObjectId": "1", "objectIdToMerge": "2"}),
        )
        .await;
    assert_eq!(products.status, StatusCode::NOT_FOUND);

    let g = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": "p@x.io", "idProperty": "email"}),
        )
        .await;
    assert_eq!(g.status, StatusCode::NO_CONTENT, "{}", g.body);
    let gone = c
        .get(&format!("/crm/v3/objects/contacts/{a}?archived=true"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": a}),
        )
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

#[tokio::test]
async fn line_items_copy_their_product() {
    let c = crm().await;
    let product = c
        .create(
            "products",
            json!({"name": "Widget", "price": "20", "hs_sku": "W-1", "hs_recurring_billing_period": "P12M"}),
        )
        .await;
    let li = c
        .try_create(
            "line_items",
            json!({"hs_product_id": product, "quantity": "3"}),
        )
        .await;
    assert_eq!(li.status, StatusCode::CREATED, "{}", li.body);
    let p = &li.body["properties"];
    assert_eq!(p["name"], "Widget");
    assert_eq!(p["price"], "20");
    assert_eq!(p["amount"], "60");
    let bad = c
        .try_create("0-8", json!({"name": "X", "price": "-1"}))
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let no_product = c
        .try_create("line_items", json!({"hs_product_id": "123456789"}))
        .await;
    assert_error(&no_product, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let unnamed = c.try_create("products", json!({"price": "1"})).await;
    assert_error(&unnamed, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn scopes_are_enforced_with_hubspots_body() {
    let c = crm_with(crate::support::ACME_INC, &["crm.objects.contacts.read"]).await;
    assert_eq!(
        c.get("/crm/v3/objects/contacts").await.status,
        StatusCode::OK
    );
    let r = c.try_create("contacts", json!({})).await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["message"],
        "One or more of the following scopes are required."
    );
    assert_eq!(
        r.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.contacts.write"])
    );
    assert_eq!(
        r.body["errors"][0]["context"]["requiredScopes"],
        json!(["contacts"])
    );
    assert_eq!(
        r.body["links"]["scopes"],
        "https://developers.hubspot.com/scopes"
    );
    for path in [
        "/crm/v3/objects/companies",
        "/crm/v3/objects/tickets",
        "/crm/v3/objects/products",
    ] {
        assert_error(&c.get(path).await, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    }
    // Engagements take the contacts scopes.
    assert_eq!(c.get("/crm/v3/objects/notes").await.status, StatusCode::OK);

    // Legacy scopes.
    let legacy = sim_token(&c.sim, crate::support::ACME_INC, &["contacts"]).await;
    for path in [
        "/crm/v3/objects/contacts",
        "/crm/v3/objects/companies",
        "/crm/v3/objects/deals",
    ] {
        let r = c.get_as(&legacy, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    let r = c.get_as(&legacy, "/crm/v3/objects/tickets").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["context"]["requiredScopes"],
        json!(["tickets"])
    );
    let ecom = sim_token(&c.sim, crate::support::ACME_INC, &["e-commerce"]).await;
    for path in ["/crm/v3/objects/products", "/crm/v3/objects/line_items"] {
        let r = c.get_as(&ecom, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }

    let none = c
        .sim
        .http
        .get(c.sim.url("/crm/v3/objects/contacts"))
        .send()
        .await
        .unwrap();
    let none = reply(none).await;
    assert_error(&none, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
}

#[tokio::test]
async fn products_need_a_paid_sales_hub_seat_unless_switched_off() {
    let c = crm_with(
        crate::support::ACME_STARTER,
        &["e-commerce", "crm.objects.contacts.read"],
    )
    .await;
    for path in ["/crm/v3/objects/products", "/crm/v3/objects/0-8"] {
        let r = c.get(path).await;
        assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("paid Sales Hub seat")
        );
    }
    assert_eq!(
        c.get("/crm/v3/objects/contacts").await.status,
        StatusCode::OK
    );
    let resp = c
        .sim
        .http
        .patch(c.sim.url("/_sim/config"))
        .json(&json!({"require_sales_hub_seat": false}))
        .send()
        .await
        .unwrap();
    let cfg = reply(resp).await;
    assert_eq!(cfg.status, StatusCode::OK, "{}", cfg.body);
    assert_eq!(cfg.body["require_sales_hub_seat"], false);
    assert_eq!(
        c.get("/crm/v3/objects/products").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn request_errors() {
    let c = crm().await;
    let r = c.get("/crm/v3/objects/widgets").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        r.body["message"],
        "Unable to infer object type from: widgets"
    );

    let resp = c
        .sim
        .http
        .post(c.sim.url("/crm/v3/objects/contacts"))
        .bearer_auth(&c.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(
        &reply(resp).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "VALIDATION_ERROR",
    );

    let resp = c
        .sim
        .http
        .post(c.sim.url("/crm/v3/objects/contacts"))
        .bearer_auth(&c.token)
        .header("content-type", "application/json")
        .body("{\"properties\": {")
        .send()
        .await
        .unwrap();
    let r = reply(resp).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid input JSON on line 1, column"),
        "{}",
        r.body
    );

    let long = format!(
        "/crm/v3/objects/contacts?properties={}",
        "a".repeat(17 * 1024)
    );
    assert_error(
        &c.get(&long).await,
        StatusCode::URI_TOO_LONG,
        "VALIDATION_ERROR",
    );
    let ok_long = format!(
        "/crm/v3/objects/contacts?properties={}",
        "a".repeat(8 * 1024)
    );
    assert_eq!(c.get(&ok_long).await.status, StatusCode::OK);

    assert_error(
        &c.get("/crm/v3/objectz/contacts").await,
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
    );
    let put = c
        .call(Method::PUT, "/crm/v3/objects/contacts", Some(json!({})))
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.body["status"], "error");
}

#[tokio::test]
async fn seeding_from_rust() {
    let c = crm().await;
    let sim = &c.sim.server.sim;
    let records = (0..300).map(|i| {
        json!({"email": format!("seed{i}@x.io"), "firstname": "Seed"})
            .as_object()
            .cloned()
            .unwrap()
    });
    let ids = sim
        .crm_seed(crate::support::ACME_INC, "contacts", records)
        .unwrap();
    assert_eq!(ids.len(), 300);
    assert_eq!(sim.crm_count(crate::support::ACME_INC, "0-1").unwrap(), 300);
    let dup = json!({"email": "seed1@x.io"}).as_object().cloned().unwrap();
    let err = sim
        .crm_seed(crate::support::ACME_INC, "contact", [dup])
        .unwrap_err();
    assert_eq!(err.http_status, StatusCode::CONFLICT);
    let page = c.get("/crm/v3/objects/contacts?limit=100&after=1").await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 100);
    let hist = c
        .get(&format!(
            "/crm/v3/objects/contacts/{}?propertiesWithHistory=firstname",
            ids[0]
        ))
        .await;
    assert_eq!(
        hist.body["propertiesWithHistory"]["firstname"][0]["sourceType"],
        "CRM_UI"
    );
}

/// Paging throughput over HTTP (run in release): `cargo test --release -p hubspot-sim
/// --test it crm_paging_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow in debug builds; run in release to check the scale targets"]
async fn crm_paging_throughput() {
    const N: usize = 200_000;
    let c = crm().await;
    let sim = &c.sim.server.sim;
    // The burst limit (110 per 10 s) would stop the loop: lift it.
    let resp = c
        .sim
        .http
        .patch(c.sim.url("/_sim/config"))
        .json(&json!({"rate_limit_per_10s": 100_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let start = std::time::Instant::now();
    let records = (0..N).map(|i| {
        json!({"email": format!("p{i}@x.io"), "firstname": format!("F{i}"), "lastname": "L", "company": "Acme"})
            .as_object()
            .cloned()
            .unwrap()
    });
    sim.crm_seed(crate::support::ACME_INC, "contacts", records)
        .unwrap();
    let seeded = start.elapsed();
    let start = std::time::Instant::now();
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/crm/v3/objects/contacts?limit=100&after={a}"),
            None => "/crm/v3/objects/contacts?limit=100".to_owned(),
        };
        let page = c.get(&path).await;
        count += page.body["results"].as_array().unwrap().len();
        match page.body["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_owned()),
            None => break,
        }
    }
    let paged = start.elapsed();
    assert_eq!(count, N);
    println!(
        "seeded {N} in {seeded:?} ({:.0}/s); paged {count} over HTTP in {paged:?} ({:.0}/s)",
        N as f64 / seeded.as_secs_f64(),
        count as f64 / paged.as_secs_f64()
    );
}

#[tokio::test]
async fn date_versioned_batches_archived_reads_and_upsert_by_id() {
    let c = crm().await;
    let r = c
        .post(
            "/crm/objects/2026-03/0-3/batch/create",
            json!({"inputs": [
                {"properties": {"dealname": "One", "dealstage": "closedwon"}},
                {"properties": {"dealname": "Two", "dealstage": "closedlost"}},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let one = r.body["results"][0]["id"].as_str().unwrap().to_owned();
    let two = r.body["results"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.delete(&format!("/crm/objects/2026-03/deals/{two}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let archived = c
        .post(
            "/crm/v3/objects/deals/batch/read?archived=true",
            json!({"inputs": [{"id": two}, {"id": one}], "properties": ["dealname"]}),
        )
        .await;
    assert_eq!(
        archived.status,
        StatusCode::MULTI_STATUS,
        "{}",
        archived.body
    );
    assert_eq!(archived.body["results"][0]["id"], two.as_str());
    assert_eq!(archived.body["results"][0]["archived"], true);
    assert_eq!(archived.body["errors"][0]["context"]["ids"], json!([one]));

    // Upsert without idProperty: ids are record ids; unknown ones are errors.
    let up = c
        .post(
            "/crm/v3/objects/deals/batch/upsert",
            json!({"inputs": [
                {"id": one, "properties": {"amount": "10"}},
                {"id": "987654", "properties": {"amount": "20"}},
            ]}),
        )
        .await;
    assert_eq!(up.status, StatusCode::MULTI_STATUS, "{}", up.body);
    assert_eq!(up.body["results"][0]["new"], false);
    assert_eq!(up.body["results"][0]["properties"]["amount"], "10");
    assert_eq!(up.body["errors"][0]["context"]["ids"], json!(["987654"]));

    // A non-unique idProperty is refused.
    let bad = c
        .post(
            "/crm/v3/objects/deals/batch/upsert",
            json!({"inputs": [{"id": "x", "idProperty": "dealname", "properties": {}}]}),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // History in a list: every requested property, newest first.
    let list = c
        .get("/crm/objects/2026-03/deals?propertiesWithHistory=amount,dealstage&properties=amount")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let rec = &list.body["results"][0];
    assert_eq!(rec["properties"], json!({"amount": "10"}));
    assert_eq!(
        rec["propertiesWithHistory"]["dealstage"][0]["value"],
        "closedwon"
    );
    assert_eq!(rec["propertiesWithHistory"]["amount"][0]["value"], "10");
    let body_missing = c
        .post(
            "/crm/v3/objects/deals/batch/read",
            json!({"properties": []}),
        )
        .await;
    assert_error(&body_missing, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn every_object_type_id_works_in_paths() {
    let c = crm().await;
    let ts = "2026-01-31T10:00:00.000Z";
    // (type id, plural name, properties, a property to read back)
    let cases = [
        ("0-1", "contacts", json!({"email": "ids@x.io"}), "email"),
        ("0-2", "companies", json!({"name": "Ids Inc"}), "name"),
        (
            "0-3",
            "deals",
            json!({"dealname": "Ids deal", "dealstage": "qualifiedtobuy"}),
            "dealname",
        ),
        (
            "0-5",
            "tickets",
            json!({"subject": "Ids ticket", "hs_pipeline_stage": "1"}),
            "subject",
        ),
        ("0-7", "products", json!({"name": "Ids product"}), "name"),
        (
            "0-8",
            "line_items",
            json!({"name": "Ids line", "price": "2", "quantity": "3"}),
            "name",
        ),
        (
            "0-27",
            "tasks",
            json!({"hs_task_subject": "Ids task", "hs_timestamp": ts}),
            "hs_task_subject",
        ),
        (
            "0-46",
            "notes",
            json!({"hs_note_body": "Ids note", "hs_timestamp": ts}),
            "hs_note_body",
        ),
        (
            "0-47",
            "meetings",
            json!({"hs_meeting_title": "Ids meeting", "hs_timestamp": ts}),
            "hs_meeting_title",
        ),
        (
            "0-48",
            "calls",
            json!({"hs_call_title": "Ids call", "hs_timestamp": ts}),
            "hs_call_title",
        ),
        (
            "0-49",
            "emails",
            json!({"hs_email_subject": "Ids email", "hs_timestamp": ts}),
            "hs_email_subject",
        ),
    ];
    let mut created: Vec<(&str, String)> = Vec::new();
    for (type_id, plural, properties, field) in &cases {
        let r = c
            .post(
                &format!("/crm/v3/objects/{type_id}"),
                json!({ "properties": properties }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{type_id} {}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["properties"][field], properties[field], "{type_id}");
        for path in [
            format!("/crm/v3/objects/{type_id}/{id}"),
            format!("/crm/objects/2026-03/{type_id}/{id}"),
            format!("/crm/v3/objects/{plural}/{id}?properties={field}"),
        ] {
            let path = if path.contains('?') {
                path
            } else {
                format!("{path}?properties={field}")
            };
            let g = c.get(&path).await;
            assert_eq!(g.status, StatusCode::OK, "{path} {}", g.body);
            assert_eq!(g.body["id"], id.as_str(), "{path}");
            assert_eq!(g.body["properties"][field], properties[field], "{path}");
        }
        // Listed under the type id too.
        let list = c.get(&format!("/crm/v3/objects/{type_id}?limit=100")).await;
        assert_eq!(list.status, StatusCode::OK, "{type_id} {}", list.body);
        assert!(
            list.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id.as_str()),
            "{type_id} list"
        );
        created.push((type_id, id));
    }
    // Ids share one sequence: a record is not found under another type id.
    for (i, (_, id)) in created.iter().enumerate() {
        let (other, _) = created[(i + 1) % created.len()];
        let g = c.get(&format!("/crm/v3/objects/{other}/{id}")).await;
        assert_error(&g, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    }
    // Unknown type ids are refused.
    for bad in ["0-4", "0-9", "0-999"] {
        let r = c.get(&format!("/crm/v3/objects/{bad}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}

/// Asserts the paid-Sales-Hub-seat 403.
fn assert_seat_refusal(r: &Reply, what: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.body);
    assert_error(r, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(
        r.body["subCategory"], "PAID_SALES_HUB_SEAT_REQUIRED",
        "{what}: {}",
        r.body
    );
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("paid Sales Hub seat"),
        "{what}: {}",
        r.body
    );
}

#[tokio::test]
async fn the_seat_check_covers_properties_search_batches_and_associations() {
    let c = crm_with(
        crate::support::ACME_STARTER,
        &[
            "e-commerce",
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "crm.objects.deals.read",
            "crm.objects.deals.write",
        ],
    )
    .await;
    let deal = c
        .create(
            "deals",
            json!({"dealname": "Seatless", "dealstage": "qualifiedtobuy"}),
        )
        .await;
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/crm/v3/properties/products".into(), None),
        (Method::GET, "/crm/v3/properties/line_items".into(), None),
        (Method::GET, "/crm/v3/properties/0-7/name".into(), None),
        (Method::GET, "/crm/properties/2026-03/0-8".into(), None),
        (
            Method::POST,
            "/crm/v3/objects/products/search".into(),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/line_items/search".into(),
            Some(json!({"query": "x"})),
        ),
        (
            Method::POST,
            "/crm/objects/2026-03/0-7/search".into(),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/products/batch/read".into(),
            Some(json!({"inputs": [{"id": "1"}]})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/line_items/batch/read".into(),
            Some(json!({"inputs": [{"id": "1"}]})),
        ),
        (
            Method::GET,
            format!("/crm/v4/objects/deals/{deal}/associations/line_items"),
            None,
        ),
        (
            Method::GET,
            "/crm/v4/objects/line_items/1/associations/deals".into(),
            None,
        ),
        (
            Method::PUT,
            format!("/crm/v4/objects/deals/{deal}/associations/default/line_items/1"),
            None,
        ),
        (
            Method::POST,
            "/crm/v4/associations/deals/line_items/batch/read".into(),
            Some(json!({"inputs": [{"id": deal}]})),
        ),
        (
            Method::GET,
            "/crm/v4/associations/deals/line_items/labels".into(),
            None,
        ),
    ];
    for (method, path, body) in &calls {
        let r = c.call(method.clone(), path, body.clone()).await;
        assert_seat_refusal(&r, &format!("{method} {path}"));
    }
    // The same token reaches contacts and deals.
    assert_eq!(
        c.get("/crm/v3/properties/contacts").await.status,
        StatusCode::OK
    );
    assert_eq!(
        c.post("/crm/v3/objects/deals/search", json!({}))
            .await
            .status,
        StatusCode::OK
    );

    // Switched off, the same calls pass the seat check.
    let resp = c
        .sim
        .http
        .patch(c.sim.url("/_sim/config"))
        .json(&json!({"require_sales_hub_seat": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for (method, path, body) in &calls[..2] {
        let r = c.call(method.clone(), path, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{method} {path}: {}", r.body);
    }
    let r = c.post("/crm/v3/objects/products/search", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 0);
}

#[tokio::test]
async fn sim_reset_clears_the_crm() {
    let c = crm().await;
    c.create("contacts", json!({"email": "gone@x.io"})).await;
    let pipelines_before = c.get("/crm/v3/pipelines/deals").await;
    let (status, _) = c.sim.sim_post("/_sim/reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fresh = Crm {
        token: sim_token(&c.sim, crate::support::ACME_INC, ALL_CRM_SCOPES).await,
        sim: c.sim,
    };
    let list = fresh.get("/crm/v3/objects/contacts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["results"], json!([]), "records are gone");
    let again = fresh
        .create("contacts", json!({"email": "gone@x.io"}))
        .await;
    assert!(!again.is_empty(), "the unique email is free again");
    let pipelines_after = fresh.get("/crm/v3/pipelines/deals").await;
    assert_eq!(
        pipelines_after.body, pipelines_before.body,
        "back to the default pipelines"
    );
}
