//! CRM writes reach the webhook sender: creation, propertyChange, deletion, merge.

use std::time::Duration;

use axum::body::Bytes;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::crm_support::*;

/// A receiver on 127.0.0.1:0 that forwards every event it gets.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let tx = tx.clone();
            async move {
                let events: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
                for e in events {
                    let _ = tx.send(e);
                }
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, rx)
}

#[tokio::test]
async fn crm_writes_are_sent_as_webhook_events() {
    let c = crm().await;
    let (url, mut rx) = receiver().await;
    let (status, apps) = c.sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    let app_id = apps[0]["app_id"].as_i64().unwrap();
    let key = apps[0]["developer_api_key"].as_str().unwrap().to_owned();
    let hook = |method: Method, path: String, body: Value| {
        c.sim
            .http
            .request(method, c.sim.url(&path))
            .query(&[("hapikey", key.as_str())])
            .json(&body)
            .send()
    };
    let r = hook(
        Method::PUT,
        format!("/webhooks/v3/{app_id}/settings"),
        json!({"targetUrl": url, "throttling": {"maxConcurrentRequests": 5}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for sub in [
        json!({"eventType": "contact.creation", "active": true}),
        json!({"eventType": "contact.propertyChange", "propertyName": "firstname", "active": true}),
        json!({"eventType": "contact.deletion", "active": true}),
        json!({"eventType": "contact.merge", "active": true}),
    ] {
        let r = hook(
            Method::POST,
            format!("/webhooks/v3/{app_id}/subscriptions"),
            sub,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }

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
