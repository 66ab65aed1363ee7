//! Pipelines of deals and tickets: defaults, CRUD, stages, and how they drive the
//! validation of deal and ticket stages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::*;

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn default_pipelines_of_deals_and_tickets() {
    let c = crm().await;
    for path in [
        "/crm/v3/pipelines/deals",
        "/crm/v3/pipelines/0-3",
        "/crm/pipelines/2026-03/deals",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path} {}", r.body);
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        let p = &results[0];
        assert_eq!(p["id"], "default");
        assert_eq!(p["label"], "Sales Pipeline");
        assert_eq!(p["createdAt"], "1970-01-01T00:00:00.000Z");
        assert_eq!(p["archived"], false);
        assert_eq!(
            ids(&p["stages"]),
            [
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost"
            ]
        );
        assert_eq!(p["stages"][0]["label"], "Appointment Scheduled");
        assert_eq!(p["stages"][0]["metadata"]["probability"], "0.2");
        assert_eq!(p["stages"][5]["metadata"]["probability"], "1.0");
        assert_eq!(p["stages"][5]["metadata"]["isClosed"], "true");
    }
    let r = c.get("/crm/v3/pipelines/tickets/0").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["label"], "Support Pipeline");
    assert_eq!(ids(&r.body["stages"]), ["1", "2", "3", "4"]);
    assert_eq!(r.body["stages"][0]["metadata"]["ticketState"], "OPEN");
    assert_eq!(r.body["stages"][3]["metadata"]["ticketState"], "CLOSED");
    let r = c.get("/crm/v3/pipelines/tickets/0/stages/4").await;
    assert_eq!(r.body["label"], "Closed");

    let r = c.get("/crm/v3/pipelines/contacts").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.get("/crm/v3/pipelines/widgets").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c.get("/crm/v3/pipelines/deals/nope").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c.get("/crm/v3/pipelines/deals/default/stages/nope").await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
}

async fn create_deal_pipeline(c: &Crm, label: &str) -> Value {
    let r = c
        .post(
            "/crm/v3/pipelines/deals",
            json!({"label": label, "displayOrder": 1, "stages": [
                {"label": "Lead", "displayOrder": 0, "metadata": {"probability": "0.1"}},
                {"label": "Won", "displayOrder": 1, "metadata": {"probability": 1.0}},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

#[tokio::test]
async fn pipeline_crud() {
    let c = crm().await;
    let p = create_deal_pipeline(&c, "Partners").await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok(), "{id}");
    assert_eq!(p["label"], "Partners");
    assert!(is_iso(&p["createdAt"]));
    assert_ne!(p["createdAt"], "1970-01-01T00:00:00.000Z");
    assert_eq!(p["stages"][1]["metadata"]["probability"], "1.0");
    assert_eq!(p["stages"][1]["metadata"]["isClosed"], "true");

    let list = c.get("/crm/v3/pipelines/deals").await;
    assert_eq!(ids(&list.body["results"]), ["default", id.as_str()]);

    // Duplicate label → 409; missing stages → 400; bad probability → 400.
    let r = c
        .post(
            "/crm/v3/pipelines/deals",
            json!({"label": "partners", "displayOrder": 2, "stages": [
                {"label": "A", "displayOrder": 0, "metadata": {"probability": "0.5"}}]}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let r = c
        .post(
            "/crm/v3/pipelines/deals",
            json!({"label": "X", "displayOrder": 2}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/crm/v3/pipelines/deals",
            json!({"label": "X", "displayOrder": 2, "stages": [
                {"label": "A", "displayOrder": 0, "metadata": {"probability": "2"}}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .post(
            "/crm/v3/pipelines/tickets",
            json!({"label": "X", "displayOrder": 2, "stages": [
                {"label": "A", "displayOrder": 0, "metadata": {"ticketState": "MAYBE"}}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // PATCH label; PUT keeps the ids of stages with the same label.
    let r = c
        .patch(
            &format!("/crm/v3/pipelines/deals/{id}"),
            json!({"label": "Partner deals"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["label"], "Partner deals");
    let lead = p["stages"][0]["id"].as_str().unwrap().to_owned();
    let r = c
        .call(
            Method::PUT,
            &format!("/crm/v3/pipelines/deals/{id}"),
            Some(
                json!({"label": "Partner deals", "displayOrder": 3, "stages": [
                    {"label": "Lead", "displayOrder": 0, "metadata": {"probability": "0.2"}},
                    {"label": "Lost", "displayOrder": 1, "metadata": {"probability": "0"}},
                ]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayOrder"], 3);
    assert_eq!(r.body["stages"][0]["id"], lead.as_str());
    assert_eq!(r.body["stages"][0]["metadata"]["probability"], "0.2");
    assert_eq!(r.body["stages"][1]["label"], "Lost");

    // The properties API shows the pipelines as options.
    let r = c.get("/crm/v3/properties/deals/pipeline").await;
    let options: Vec<&str> = r.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["default", id.as_str()]);
    let r = c.get("/crm/v3/properties/deals/dealstage").await;
    assert!(
        r.body["options"].as_array().unwrap().len() == 9,
        "{}",
        r.body
    );

    let r = c.delete(&format!("/crm/v3/pipelines/deals/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get(&format!("/crm/v3/pipelines/deals/{id}")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c.delete("/crm/v3/pipelines/deals/default").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn stage_crud() {
    let c = crm().await;
    let base = "/crm/v3/pipelines/tickets/0/stages";
    let r = c
        .post(
            base,
            json!({"label": "Escalated", "displayOrder": 2, "metadata": {"ticketState": "open"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["metadata"]["ticketState"], "OPEN");
    let r = c
        .post(
            base,
            json!({"label": "escalated", "displayOrder": 4, "metadata": {"ticketState": "OPEN"}}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let r = c
        .post(base, json!({"label": "No meta", "displayOrder": 4}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let r = c.get(base).await;
    assert_eq!(ids(&r.body["results"]), ["1", "2", "3", sid.as_str(), "4"]);

    let r = c
        .patch(&format!("{base}/{sid}"), json!({"label": "Escalated!"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["label"], "Escalated!");
    assert_eq!(r.body["metadata"]["ticketState"], "OPEN");
    let r = c
        .call(
            Method::PUT,
            &format!("{base}/{sid}"),
            Some(json!({"label": "Escalated", "displayOrder": 9, "metadata": {"ticketState": "CLOSED"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["metadata"]["ticketState"], "CLOSED");
    let r = c
        .call(
            Method::PUT,
            &format!("{base}/{sid}"),
            Some(json!({"label": "Escalated"})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // A ticket in the stage blocks its deletion (409); afterwards it can go.
    let t = c
        .create(
            "tickets",
            json!({"subject": "Help", "hs_pipeline_stage": sid}),
        )
        .await;
    let r = c.delete(&format!("{base}/{sid}")).await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let r = c.delete(&format!("/crm/v3/objects/tickets/{t}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.delete(&format!("{base}/{sid}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get(&format!("{base}/{sid}")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND");
    let r = c
        .try_create(
            "tickets",
            json!({"subject": "Again", "hs_pipeline_stage": sid}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn deal_stages_are_checked_against_their_pipeline() {
    let c = crm().await;
    let p = create_deal_pipeline(&c, "Partners").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let lead = p["stages"][0]["id"].as_str().unwrap().to_owned();
    let won = p["stages"][1]["id"].as_str().unwrap().to_owned();

    // A custom stage in its pipeline: fine.
    let deal = c
        .create(
            "deals",
            json!({"dealname": "P1", "pipeline": pid, "dealstage": lead}),
        )
        .await;
    // A custom stage in the default pipeline (the default when none is given): 400.
    let r = c
        .try_create("deals", json!({"dealname": "P2", "dealstage": lead}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["errors"][0]["code"], "INVALID_OPTION");
    assert_eq!(
        r.body["errors"][0]["context"]["propertyName"],
        json!(["dealstage"])
    );
    // A default stage in the custom pipeline: 400.
    let r = c
        .try_create(
            "deals",
            json!({"dealname": "P3", "pipeline": pid, "dealstage": "closedwon"}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Unknown pipeline or stage: 400 INVALID_OPTION.
    let r = c
        .try_create(
            "deals",
            json!({"dealname": "P4", "pipeline": "nope", "dealstage": lead}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(r.body["errors"][0]["code"], "INVALID_OPTION");

    // Updates: stage alone is checked against the record's pipeline.
    let path = format!("/crm/v3/objects/deals/{deal}");
    let r = c
        .patch(&path, json!({"properties": {"dealstage": won}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .patch(&path, json!({"properties": {"dealstage": "closedwon"}}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // Moving pipeline without a matching stage fails; with one it works.
    let r = c
        .patch(&path, json!({"properties": {"pipeline": "default"}}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let r = c
        .patch(
            &path,
            json!({"properties": {"pipeline": "default", "dealstage": "closedwon"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Batch create runs the same check.
    let r = c
        .post(
            "/crm/v3/objects/deals/batch/create",
            json!({"inputs": [{"properties": {"dealname": "B", "pipeline": pid, "dealstage": "qualifiedtobuy"}}]}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // A pipeline with deals cannot be deleted (409) until they leave.
    let other = c
        .create(
            "deals",
            json!({"dealname": "P5", "pipeline": pid, "dealstage": won}),
        )
        .await;
    let r = c.delete(&format!("/crm/v3/pipelines/deals/{pid}")).await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    let r = c
        .delete(&format!("/crm/v3/pipelines/deals/{pid}/stages/{won}"))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "CONFLICT");
    c.delete(&format!("/crm/v3/objects/deals/{other}")).await;
    let r = c.delete(&format!("/crm/v3/pipelines/deals/{pid}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}

#[tokio::test]
async fn pipeline_scopes_and_errors() {
    let c = crm_with(ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get("/crm/v3/pipelines/deals").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    assert_eq!(
        r.body["errors"][0]["context"]["requiredGranularScopes"],
        json!(["crm.objects.deals.read"])
    );
    let r = c.get("/crm/v3/pipelines/tickets").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");

    // Legacy `contacts` reads and writes deal pipelines; read-only scopes cannot write.
    let legacy = sim_token(&c.sim, ACME_INC, &["contacts"]).await;
    let r = c.get_as(&legacy, "/crm/v3/pipelines/deals").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let read_only = sim_token(&c.sim, ACME_INC, &["crm.objects.deals.read"]).await;
    let r = c
        .call_as(
            &read_only,
            Method::PATCH,
            "/crm/v3/pipelines/deals/default",
            Some(json!({"label": "X"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");

    let r = c
        .sim
        .http
        .get(c.sim.url("/crm/v3/pipelines/deals"))
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");

    let full = crm().await;
    let r = full
        .sim
        .http
        .post(full.sim.url("/crm/v3/pipelines/deals"))
        .bearer_auth(&full.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "VALIDATION_ERROR");
}
