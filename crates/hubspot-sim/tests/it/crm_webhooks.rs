//! CRM writes reach the webhook sender: creation, propertyChange, deletion, merge.

use std::time::Duration;

use serde_json::json;

use crate::crm_support::*;

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
    c.patch(
        &format!("/crm/v3/objects/contacts/{a}"),
        json!({"properties": {"firstname": "Wesley", "lastname": "Unsubscribed"}}),
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
