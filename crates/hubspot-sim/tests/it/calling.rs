//! Call dispositions: HubSpot's default set.

use reqwest::StatusCode;
use serde_json::json;

use crate::crm_support::*;
use crate::support::*;

#[tokio::test]
async fn dispositions_are_hubspots_defaults() {
    let c = crm_with(ACME_INC, &["crm.objects.contacts.read"]).await;
    let r = c.get("/calling/v1/dispositions").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers.contains_key("x-hubspot-ratelimit-remaining"));
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert!(
        list.contains(&json!({"id": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "label": "Connected"}))
    );
    assert!(
        list.contains(&json!({"id": "73a0d17f-1163-4015-bdd5-ec830791da20", "label": "No answer"}))
    );
    let labels: Vec<&str> = list.iter().map(|d| d["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "Busy",
            "Connected",
            "Left live message",
            "Left voicemail",
            "No answer",
            "Wrong number"
        ]
    );

    let legacy = sim_token(&c.sim, ACME_INC, &["contacts"]).await;
    assert_eq!(
        c.get_as(&legacy, "/calling/v1/dispositions").await.status,
        StatusCode::OK
    );
    let other = sim_token(&c.sim, ACME_INC, &["forms"]).await;
    let r = c.get_as(&other, "/calling/v1/dispositions").await;
    assert_error(&r, StatusCode::FORBIDDEN, "MISSING_SCOPES");
    let r = c.get_as("nope", "/calling/v1/dispositions").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION");
}
