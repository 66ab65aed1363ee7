//! CRM writes reach the webhook sender: creation, propertyChange, deletion, merge, restore
//! (through `/_sim`) and GDPR deletion (`contact.privacyDeletion`).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::crm_support::*;
use crate::support::ACME_INC;

#[tokio::test]
async fn crm_writes_are_sent_as_webhook_events() {
    let c = crm().await;
    let (app_id, mut rx) = subscribe_webhooks(&c, &[
        json!({"eventType": "contact.creation", "active": true}),
        json!({"eventType": "contact.propertyChange", "propertyName": "firstname", "active": true}),
        json!({"eventType": "contact.deletion", "active": true}),
        json!({"eventType": "contact.merge", "active": true}),
    ]).await;

    let a = c
        .create("contacts", json!({"email": "w@x.io", "firstname": "Wes"}))
        .await;
    c.try_update(
        "contacts",
        &a,
        json!({"firstname": "Wesley", "lastname": "Unsubscribed"}),
    )
    .await;
    let b = c.create("contacts", json!({"email": "v@x.io"})).await;
    c.post(
        "/crm/v3/objects/contacts/merge",
        json!({"primaryObjectId": a, "objectIdToMerge": b}),
    )
    .await;
    c.delete(&format!("/crm/v3/objects/contacts/{a}")).await;

    let mut seen = Vec::new();
    while seen.len() < 6 {
        let e = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("webhook events in time")
            .unwrap();
        seen.push(e);
    }
    let summary: Vec<String> = seen
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["subscriptionType"].as_str().unwrap(),
                e["objectId"],
                e["propertyValue"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
    let expected = [
        format!("contact.creation {a} -"),
        format!("contact.propertyChange {a} Wes"),
        format!("contact.propertyChange {a} Wesley"),
        format!("contact.creation {b} -"),
        format!("contact.merge {a} -"),
        format!("contact.deletion {a} -"),
    ];
    for e in &expected {
        assert!(summary.contains(e), "{e} not in {summary:?}");
    }
    let merge = seen
        .iter()
        .find(|e| e["subscriptionType"] == "contact.merge")
        .unwrap();
    assert_eq!(merge["mergedObjectIds"], json!([b]));
    assert_eq!(merge["sourceId"], app_id.to_string());
}

/// The next event the receiver gets.
async fn next_event(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("webhook event in time")
        .unwrap()
}

#[tokio::test]
async fn a_sim_restore_sends_contact_restore() {
    let c = crm().await;
    let (_, mut rx) = subscribe_webhooks(
        &c,
        &[
            json!({"eventType": "contact.deletion", "active": true}),
            json!({"eventType": "contact.restore", "active": true}),
        ],
    )
    .await;
    let id = c.create("contacts", json!({"email": "back@x.io"})).await;
    let r = c.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let deletion = next_event(&mut rx).await;
    assert_eq!(deletion["subscriptionType"], "contact.deletion");
    assert_eq!(deletion["objectId"].to_string(), id);

    let r = c
        .sim
        .http
        .post(
            c.sim
                .url(&format!("/_sim/crm/{ACME_INC}/contacts/{id}/restore")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let restored: Value = r.json().await.unwrap();
    assert_eq!(restored["id"], id.as_str());

    let e = next_event(&mut rx).await;
    assert_eq!(e["subscriptionType"], "contact.restore", "{e}");
    assert_eq!(e["objectId"].to_string(), id);
    assert_eq!(e["portalId"], ACME_INC);
    assert_eq!(e["changeFlag"], "RESTORED");
    assert_eq!(e["attemptNumber"], 0);
    // A `/_sim` restore is made by no app.
    assert!(e.get("sourceId").is_none(), "{e}");

    // Restoring a live record is a 404 and sends nothing more.
    let r = c
        .sim
        .http
        .post(
            c.sim
                .url(&format!("/_sim/crm/{ACME_INC}/contacts/{id}/restore")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, idle) = c
        .sim
        .sim_post("/_sim/webhooks/wait", json!({"timeout_ms": 10_000}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(idle["idle"], true);
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn gdpr_delete_sends_contact_privacy_deletion() {
    let c = crm().await;
    let (app_id, mut rx) = subscribe_webhooks(
        &c,
        &[json!({"eventType": "contact.privacyDeletion", "active": true})],
    )
    .await;
    let a = c.create("contacts", json!({"email": "forget@x.io"})).await;
    let b = c.create("contacts", json!({"email": "gone@x.io"})).await;

    // By id.
    let r = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": a}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let e = next_event(&mut rx).await;
    assert_eq!(e["subscriptionType"], "contact.privacyDeletion", "{e}");
    assert_eq!(e["objectId"].to_string(), a);
    assert_eq!(e["portalId"], ACME_INC);
    assert_eq!(e["changeFlag"], "DELETED");
    assert_eq!(e["sourceId"], app_id.to_string());

    // By email, of an archived contact.
    let r = c.delete(&format!("/crm/v3/objects/contacts/{b}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": "gone@x.io", "idProperty": "email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let e = next_event(&mut rx).await;
    assert_eq!(e["subscriptionType"], "contact.privacyDeletion", "{e}");
    assert_eq!(e["objectId"].to_string(), b);

    // An unknown contact is a 404 and sends nothing.
    let r = c
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": a}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let (_, idle) = c
        .sim
        .sim_post("/_sim/webhooks/wait", json!({"timeout_ms": 10_000}))
        .await;
    assert_eq!(idle["idle"], true);
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn batch_writes_of_other_objects_send_their_events() {
    let c = crm().await;
    let (_, mut rx) = subscribe_webhooks(
        &c,
        &[
            json!({"eventType": "company.creation", "active": true}),
            json!({"eventType": "deal.propertyChange", "propertyName": "amount", "active": true}),
            json!({"eventType": "ticket.deletion", "active": true}),
        ],
    )
    .await;
    let created = c
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [{"properties": {"name": "One"}}, {"properties": {"name": "Two"}}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let deal = c
        .create(
            "deals",
            json!({"dealname": "Big", "dealstage": "appointmentscheduled", "amount": "10"}),
        )
        .await;
    let updated = c
        .post(
            "/crm/v3/objects/deals/batch/update",
            json!({"inputs": [{"id": deal, "properties": {"amount": "250"}}]}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let ticket = c
        .create(
            "tickets",
            json!({"subject": "Broken", "hs_pipeline": "0", "hs_pipeline_stage": "1"}),
        )
        .await;
    let archived = c
        .post(
            "/crm/v3/objects/tickets/batch/archive",
            json!({"inputs": [{"id": ticket}]}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);

    // Values set at creation are reported as property changes too, as HubSpot does.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let e = next_event(&mut rx).await;
        seen.push(format!(
            "{} {}",
            e["subscriptionType"].as_str().unwrap(),
            e["propertyValue"].as_str().unwrap_or("-")
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "company.creation -",
            "company.creation -",
            "deal.propertyChange 10",
            "deal.propertyChange 250",
            "ticket.deletion -",
        ]
    );
}
