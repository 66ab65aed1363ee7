//! Installation events POSTed to the partner's `events_url`, signed and retried.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use spokes_engine::EventsConfig;
use tokio::sync::{Mutex, mpsc};

use crate::{Options, TestEnv, bind};

pub const SECRET: &str = "partner-events-secret-0123";

/// A partner endpoint (`events_url`) that fails the first `failures` deliveries, then accepts.
pub async fn receiver(
    failures: usize,
) -> (String, mpsc::UnboundedReceiver<(HeaderMap, String, u16)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let remaining = Arc::new(Mutex::new(failures));
    let app = Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let remaining = remaining.clone();
            async move {
                let mut remaining = remaining.lock().await;
                let status = if *remaining > 0 {
                    *remaining -= 1;
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                };
                let _ = tx.send((headers, body, status.as_u16()));
                status
            }
        }),
    );
    let (listener, url) = bind().await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{url}/events"), rx)
}

pub fn verify(headers: &HeaderMap, body: &str) {
    let header = headers
        .get("spokes-signature")
        .and_then(|v| v.to_str().ok())
        .expect("signature header");
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .expect("t=…,v1=…");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected);
}

async fn next(
    rx: &mut mpsc::UnboundedReceiver<(HeaderMap, String, u16)>,
) -> (HeaderMap, Value, u16) {
    let (headers, body, status) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no event arrived; logs:\n{}", crate::logged_text()))
        .expect("channel open");
    verify(&headers, &body);
    (headers, serde_json::from_str(&body).expect("json"), status)
}

#[tokio::test]
async fn authenticated_and_needs_reauth_events_are_signed_and_delivered() {
    let (url, mut rx) = receiver(0).await;
    let env = TestEnv::with(Options {
        events: Some(EventsConfig {
            url,
            secret: spokes_core::Secret::from(SECRET),
        }),
        ..Options::default()
    })
    .await;
    let id = env.connected().await;
    let (_, event, _) = next(&mut rx).await;
    assert_eq!(event["type"], "installation.authenticated");
    assert_eq!(event["data"]["installation_id"], id);
    assert_eq!(event["data"]["account_id"], "acme");

    env.revoke_at_hubspot(&id).await;
    env.clock.advance_secs(31 * 60);
    env.call(&env.base, &id, "account.get").await;
    let (_, event, _) = next(&mut rx).await;
    assert_eq!(event["type"], "installation.needs_reauth");
    assert_eq!(event["data"]["error"]["code"], "refresh_rejected");
}

#[tokio::test]
async fn failed_consent_event_is_retried_until_delivered() {
    let (url, mut rx) = receiver(1).await;
    let env = TestEnv::with(Options {
        events: Some(EventsConfig {
            url,
            secret: spokes_core::Secret::from(SECRET),
        }),
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    env.connect("acme", &id, "Acme Inc", "deny").await;
    let (_, first, status) = next(&mut rx).await;
    assert_eq!(status, 503);
    assert_eq!(first["type"], "installation.failed");
    // The retry is scheduled with backoff on the injected clock. The receiver reports the
    // first attempt before Spokes has recorded its failure, so move time on until the retry comes.
    let mut retry = None;
    for _ in 0..10 {
        env.clock.advance_secs(10 * 60);
        if let Ok(Some((headers, body, status))) =
            tokio::time::timeout(Duration::from_secs(3), rx.recv()).await
        {
            verify(&headers, &body);
            retry = Some((serde_json::from_str::<Value>(&body).expect("json"), status));
            break;
        }
    }
    let (second, status) = retry.expect("the event is delivered again");
    assert_eq!(status, 200);
    assert_eq!(second["id"], first["id"], "the same event, redelivered");
}
