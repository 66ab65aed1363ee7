//! Webhooks for apps: the management API (hapikey auth, settings, subscriptions) and the
//! sender (batches, signatures, retries), with a local receiver on 127.0.0.1:0.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// One request the receiver got.
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn events(&self) -> Vec<Value> {
        serde_json::from_slice::<Value>(&self.body)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Scripted answers: status and an optional `Retry-After`.
type Script = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

/// A local HTTP server recording every POST to `/hook` and answering with the next
/// scripted status (200 when the script is empty).
struct Receiver {
    url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    script: Script,
}

impl Receiver {
    async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let script: Script = Arc::default();
        let answers = script.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                let answers = answers.clone();
                async move {
                    let _ = tx.send(Received { headers, body });
                    let (status, retry_after) =
                        answers.lock().unwrap().pop_front().unwrap_or((200, None));
                    let mut response_headers = HeaderMap::new();
                    if let Some(secs) = retry_after {
                        response_headers.insert("retry-after", secs.parse().unwrap());
                    }
                    (AxumStatus::from_u16(status).unwrap(), response_headers, "")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, rx, script }
    }

    fn answer(&self, answers: &[(u16, Option<&'static str>)]) {
        self.script.lock().unwrap().extend(answers.iter().copied());
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("no webhook request arrived in time")
            .unwrap()
    }
}

/// The sandbox app's id and developer API key (read from `/_sim/apps`).
async fn developer_key(sim: &TestSim) -> (i64, String) {
    let (status, apps) = sim.get_json("/_sim/apps", None).await;
    assert_eq!(status, StatusCode::OK);
    let app = &apps[0];
    (
        app["app_id"].as_i64().unwrap(),
        app["developer_api_key"].as_str().unwrap().to_owned(),
    )
}

impl TestSim {
    async fn hook_call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(key) = key {
            req = req.query(&[("hapikey", key)]);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, body)
    }
}

/// A simulator with the sandbox app installed in Acme Inc, settings pointing at a
/// receiver, `contact.creation` and `contact.propertyChange(email)` subscribed (active)
/// and a 10 ms backoff.
struct Setup {
    sim: TestSim,
    receiver: Receiver,
    app_id: i64,
    key: String,
}

async fn setup() -> Setup {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let (app_id, key) = developer_key(&sim).await;
    let (status, _) = sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": ACME_INC, "scopes": ["oauth"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, body) = sim
        .hook_call(
            reqwest::Method::PUT,
            &format!("/webhooks/v3/{app_id}/settings"),
            Some(&key),
            Some(json!({"targetUrl": receiver.url, "throttling": {"maxConcurrentRequests": 10}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for sub in [
        json!({"eventType": "contact.creation", "active": true}),
        json!({"eventType": "contact.propertyChange", "propertyName": "email", "active": true}),
    ] {
        let (status, _, body) = sim
            .hook_call(
                reqwest::Method::POST,
                &format!("/webhooks/v3/{app_id}/subscriptions"),
                Some(&key),
                Some(sub),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let resp = sim
        .http
        .patch(sim.url("/_sim/webhooks/config"))
        .json(&json!({"backoff_ms": 10, "backoff_max_ms": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    Setup {
        sim,
        receiver,
        app_id,
        key,
    }
}

fn creation(object_id: i64) -> Value {
    json!({"portal_id": ACME_INC, "object_type": "contact", "object_id": object_id, "kind": "creation"})
}

async fn emit(sim: &TestSim, body: Value) -> u64 {
    let (status, answer) = sim.sim_post("/_sim/webhooks/emit", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["queued"].as_u64().unwrap()
}

async fn wait_idle(sim: &TestSim) {
    let (status, answer) = sim
        .sim_post("/_sim/webhooks/wait", json!({"timeout_ms": 10_000}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["idle"], true);
}

async fn deliveries(sim: &TestSim) -> Vec<Value> {
    let (status, log) = sim.get_json("/_sim/webhooks/deliveries", None).await;
    assert_eq!(status, StatusCode::OK);
    log.as_array().unwrap().clone()
}

fn v1(secret: &str, body: &[u8]) -> String {
    Sha256::new()
        .chain_update(secret.as_bytes())
        .chain_update(body)
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn v3(secret: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"POST");
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn deliveries_are_signed_v1_and_v3() {
    let mut s = setup().await;
    assert_eq!(emit(&s.sim, creation(501)).await, 1);
    let got = s.receiver.next().await;
    let secret = s.sim.client_secret().to_owned();

    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-hubspot-signature-version"), "v1");
    assert_eq!(got.header("x-hubspot-signature"), v1(&secret, &got.body));
    assert_ne!(got.header("x-hubspot-signature"), v1("wrong", &got.body));
    let timestamp = got.header("x-hubspot-request-timestamp").to_owned();
    let sent_at: i64 = timestamp.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now - sent_at).abs() < 300_000,
        "timestamp {sent_at} vs {now}"
    );
    assert_eq!(
        got.header("x-hubspot-signature-v3"),
        v3(&secret, &s.receiver.url, &got.body, &timestamp)
    );
    assert_ne!(
        got.header("x-hubspot-signature-v3"),
        v3(
            &secret,
            "http://elsewhere.example/hook",
            &got.body,
            &timestamp
        )
    );
    assert_eq!(got.header("x-hubspot-timeout-millis"), "10000");

    let events = got.events();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["portalId"], ACME_INC);
    assert_eq!(e["appId"], s.app_id);
    assert_eq!(e["objectId"], 501);
    assert_eq!(e["subscriptionType"], "contact.creation");
    assert_eq!(e["attemptNumber"], 0);
    assert_eq!(e["changeSource"], "CRM");
    assert_eq!(e["changeFlag"], "NEW");
    assert!(e["eventId"].is_i64());
    assert!(e["occurredAt"].as_i64().unwrap() > 1_600_000_000_000);
    // subscriptionId is the id of the contact.creation subscription.
    let (_, _, subs) = s
        .sim
        .hook_call(
            reqwest::Method::GET,
            &format!("/webhooks/v3/{}/subscriptions", s.app_id),
            Some(&s.key),
            None,
        )
        .await;
    let creation_sub = subs["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["eventType"] == "contact.creation")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(e["subscriptionId"].to_string(), creation_sub);

    // A property change carries the property; another property is not subscribed.
    let queued = emit(
        &s.sim,
        json!([
            {"portal_id": ACME_INC, "object_type": "contacts", "object_id": 501,
             "kind": "propertyChange", "property_name": "firstname", "property_value": "Ann"},
            {"portal_id": ACME_INC, "object_type": "0-1", "object_id": 501,
             "kind": "propertyChange", "property_name": "email", "property_value": "ann@x.example",
             "change_source": "API"},
        ]),
    )
    .await;
    assert_eq!(queued, 1);
    let got = s.receiver.next().await;
    assert_eq!(got.header("x-hubspot-signature"), v1(&secret, &got.body));
    let e = &got.events()[0];
    assert_eq!(e["subscriptionType"], "contact.propertyChange");
    assert_eq!(e["propertyName"], "email");
    assert_eq!(e["propertyValue"], "ann@x.example");
    assert_eq!(e["changeSource"], "API");
    assert!(e.get("changeFlag").is_none());
}

/// v2 as the reference (§5.6) defines it, computed here without the crate's code:
/// `hex(sha256(client_secret + METHOD + URI + body))`.
fn v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut input = Vec::new();
    input.extend_from_slice(secret.as_bytes());
    input.extend_from_slice(method.as_bytes());
    input.extend_from_slice(uri.as_bytes());
    input.extend_from_slice(body);
    Sha256::digest(&input)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn signature_version_v2_is_configurable() {
    let mut s = setup().await;
    // v1 is the default and shows in the config.
    let (status, config) = s.sim.get_json("/_sim/webhooks/config", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["signature_version"], "v1");

    // Unknown versions are refused and change nothing.
    for bad in [json!("v3"), json!("V2"), json!(2)] {
        let resp = s
            .sim
            .http
            .patch(s.sim.url("/_sim/webhooks/config"))
            .json(&json!({"signature_version": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let (_, config) = s.sim.get_json("/_sim/webhooks/config", None).await;
    assert_eq!(config["signature_version"], "v1");

    let resp = s
        .sim
        .http
        .patch(s.sim.url("/_sim/webhooks/config"))
        .json(&json!({"signature_version": "v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let config: Value = resp.json().await.unwrap();
    assert_eq!(config["signature_version"], "v2");
    // Other settings are kept.
    assert_eq!(config["backoff_ms"], 10);

    assert_eq!(emit(&s.sim, creation(601)).await, 1);
    let got = s.receiver.next().await;
    let secret = s.sim.client_secret().to_owned();
    assert_eq!(got.header("x-hubspot-signature-version"), "v2");
    let expected = v2(&secret, "POST", &s.receiver.url, &got.body);
    assert_eq!(got.header("x-hubspot-signature"), expected);
    assert_ne!(got.header("x-hubspot-signature"), v1(&secret, &got.body));
    assert_ne!(
        got.header("x-hubspot-signature"),
        v2(&secret, "GET", &s.receiver.url, &got.body)
    );
    assert_ne!(
        got.header("x-hubspot-signature"),
        v2("wrong", "POST", &s.receiver.url, &got.body)
    );
    // v3 still travels alongside.
    let timestamp = got.header("x-hubspot-request-timestamp").to_owned();
    assert_eq!(
        got.header("x-hubspot-signature-v3"),
        v3(&secret, &s.receiver.url, &got.body, &timestamp)
    );
    assert_eq!(got.events()[0]["objectId"], 601);

    // Back to v1.
    patch_config(&s, json!({"signature_version": "v1"})).await;
    emit(&s.sim, creation(602)).await;
    let got = s.receiver.next().await;
    assert_eq!(got.header("x-hubspot-signature-version"), "v1");
    assert_eq!(got.header("x-hubspot-signature"), v1(&secret, &got.body));
}

#[tokio::test]
async fn more_than_a_batch_is_split_into_arrays() {
    let mut s = setup().await;
    let events: Vec<Value> = (1..=250).map(creation).collect();
    assert_eq!(emit(&s.sim, Value::Array(events)).await, 250);
    let mut sizes = Vec::new();
    let mut objects = Vec::new();
    for _ in 0..3 {
        let got = s.receiver.next().await;
        let events = got.events();
        sizes.push(events.len());
        objects.extend(events.iter().map(|e| e["objectId"].as_i64().unwrap()));
    }
    sizes.sort_unstable();
    assert_eq!(sizes, vec![50, 100, 100]);
    objects.sort_unstable();
    assert_eq!(objects, (1..=250).collect::<Vec<i64>>());
    wait_idle(&s.sim).await;
    assert!(s.receiver.rx.try_recv().is_err());

    // The batch size is a setting.
    let resp = s
        .sim
        .http
        .patch(s.sim.url("/_sim/webhooks/config"))
        .json(&json!({"batch_size": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["batch_size"], 7);
    let events: Vec<Value> = (1..=10).map(creation).collect();
    emit(&s.sim, Value::Array(events)).await;
    let mut sizes = vec![
        s.receiver.next().await.events().len(),
        s.receiver.next().await.events().len(),
    ];
    sizes.sort_unstable();
    assert_eq!(sizes, vec![3, 7]);
}

#[tokio::test]
async fn server_errors_are_retried_with_the_attempt_number() {
    let mut s = setup().await;
    s.receiver.answer(&[(503, None)]);
    emit(&s.sim, creation(9)).await;
    let first = s.receiver.next().await;
    let second = s.receiver.next().await;
    let (a, b) = (&first.events()[0], &second.events()[0]);
    assert_eq!(a["attemptNumber"], 0);
    assert_eq!(b["attemptNumber"], 1);
    assert_eq!(a["eventId"], b["eventId"]);
    let secret = s.sim.client_secret().to_owned();
    assert_eq!(
        second.header("x-hubspot-signature"),
        v1(&secret, &second.body)
    );
    wait_idle(&s.sim).await;
    assert!(s.receiver.rx.try_recv().is_err());

    let log = deliveries(&s.sim).await;
    let summary: Vec<Value> = log
        .iter()
        .map(|d| json!([d["attempt"], d["status"], d["outcome"], d["event_count"]]))
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([0, 503, "retrying", 1]),
            json!([1, 200, "delivered", 1])
        ]
    );
    assert_eq!(log[0]["retry_in_ms"], 10);
    assert_eq!(log[0]["url"], s.receiver.url);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&secret));
}

#[tokio::test]
async fn rate_limits_respect_retry_after_and_attempts_run_out() {
    let mut s = setup().await;
    s.receiver
        .answer(&[(429, Some("0")), (500, None), (500, None)]);
    let resp = s
        .sim
        .http
        .patch(s.sim.url("/_sim/webhooks/config"))
        .json(&json!({"max_attempts": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    emit(&s.sim, creation(10)).await;
    for attempt in 0..3 {
        assert_eq!(
            s.receiver.next().await.events()[0]["attemptNumber"],
            attempt
        );
    }
    wait_idle(&s.sim).await;
    assert!(s.receiver.rx.try_recv().is_err());
    let log = deliveries(&s.sim).await;
    let summary: Vec<Value> = log
        .iter()
        .map(|d| json!([d["status"], d["outcome"], d["retry_in_ms"]]))
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([429, "retrying", 0]),
            json!([500, "retrying", 20]),
            json!([500, "exhausted", null]),
        ]
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let mut s = setup().await;
    s.receiver.answer(&[(400, None)]);
    emit(&s.sim, creation(11)).await;
    assert_eq!(s.receiver.next().await.events()[0]["attemptNumber"], 0);
    wait_idle(&s.sim).await;
    assert!(s.receiver.rx.try_recv().is_err());
    let log = deliveries(&s.sim).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], 400);
    assert_eq!(log[0]["outcome"], "rejected");

    // The next event goes out normally.
    emit(&s.sim, creation(12)).await;
    assert_eq!(s.receiver.next().await.events()[0]["objectId"], 12);
}

/// Points the app's settings at `url`.
async fn retarget(s: &Setup, url: &str) {
    let (status, _, body) = s
        .sim
        .hook_call(
            reqwest::Method::PUT,
            &format!("/webhooks/v3/{}/settings", s.app_id),
            Some(&s.key),
            Some(json!({"targetUrl": url, "throttling": {"maxConcurrentRequests": 5}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn patch_config(s: &Setup, patch: Value) {
    let resp = s
        .sim
        .http
        .patch(s.sim.url("/_sim/webhooks/config"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

fn attempts_summary(log: &[Value]) -> Vec<Value> {
    log.iter()
        .map(|d| json!([d["attempt"], d["error"], d["outcome"]]))
        .collect()
}

#[tokio::test]
async fn connection_errors_are_retried() {
    let s = setup().await;
    // Nothing listens on port 1 (binding it needs privileges no test has).
    retarget(&s, "http://127.0.0.1:1/hook").await;
    patch_config(&s, json!({"max_attempts": 2})).await;
    emit(&s.sim, creation(13)).await;
    wait_idle(&s.sim).await;
    assert_eq!(
        attempts_summary(&deliveries(&s.sim).await),
        vec![
            json!([0, "connection", "retrying"]),
            json!([1, "connection", "exhausted"])
        ]
    );
}

#[tokio::test]
async fn timeouts_are_retried() {
    let s = setup().await;
    // A listener that never accepts: the connection opens, no answer ever comes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    retarget(&s, &format!("http://{}/hook", silent.local_addr().unwrap())).await;
    patch_config(&s, json!({"max_attempts": 2, "timeout_ms": 100})).await;
    emit(&s.sim, creation(14)).await;
    wait_idle(&s.sim).await;
    assert_eq!(
        attempts_summary(&deliveries(&s.sim).await),
        vec![
            json!([0, "timeout", "retrying"]),
            json!([1, "timeout", "exhausted"])
        ]
    );
    drop(silent);
}

#[tokio::test]
async fn nothing_is_sent_without_install_settings_or_active_subscription() {
    let s = setup().await;
    // Acme Starter: the app holds no token there.
    let other_portal = json!({"portal_id": ACME_STARTER, "object_type": "contact", "object_id": 1, "kind": "creation"});
    assert_eq!(emit(&s.sim, other_portal).await, 0);
    // No subscription for deals.
    let deal =
        json!({"portal_id": ACME_INC, "object_type": "deal", "object_id": 1, "kind": "creation"});
    assert_eq!(emit(&s.sim, deal).await, 0);
    // Settings deleted: subscriptions are paused.
    let (status, _, _) = s
        .sim
        .hook_call(
            reqwest::Method::DELETE,
            &format!("/webhooks/v3/{}/settings", s.app_id),
            Some(&s.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(emit(&s.sim, creation(1)).await, 0);

    // Bad emit bodies.
    for bad in [
        json!({"portal_id": 1, "object_type": "contact", "object_id": 1, "kind": "creation"}),
        json!({"portal_id": ACME_INC, "object_type": "widget", "object_id": 1, "kind": "creation"}),
        json!({"portal_id": ACME_INC, "object_type": "product", "object_id": 1, "kind": "associationChange",
               "association": {"association_type": "PRODUCT_TO_DEAL", "from_object_id": 1, "to_object_id": 2}}),
        json!({"portal_id": ACME_INC, "object_type": "contact", "object_id": 1, "kind": "propertyChange"}),
        json!({"portal_id": ACME_INC, "object_type": "contact", "object_id": 1, "kind": "creation", "extra": 1}),
    ] {
        let (status, body) = s.sim.sim_post("/_sim/webhooks/emit", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["category"], "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn hapikey_is_required() {
    let sim = start().await;
    let (app_id, key) = developer_key(&sim).await;
    assert_eq!(key.len(), 36);
    let path = format!("/webhooks/v3/{app_id}/subscriptions");

    let (status, headers, body) = sim.hook_call(reqwest::Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    assert_eq!(headers["x-hubspot-auth-failure"], "401 Unauthorized");
    assert_uuid(&body["correlationId"]);

    let (status, _, body) = sim
        .hook_call(reqwest::Method::GET, &path, Some("not-a-key"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("The API key provided is invalid.")
    );

    // Another developer account's key does not reach this app.
    let (status, other) = sim
        .sim_post(
            "/_sim/apps",
            json!({"name": "Other", "redirect_urls": ["https://x.example/cb"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other_key = other["developer_api_key"].as_str().unwrap();
    assert_ne!(other_key, key);
    let (status, _, body) = sim
        .hook_call(reqwest::Method::GET, &path, Some(other_key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["category"], "OBJECT_NOT_FOUND");
    let other_path = format!("/webhooks/v3/{}/subscriptions", other["app_id"]);
    let (status, _, body) = sim
        .hook_call(reqwest::Method::GET, &other_path, Some(other_key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"results": []}));

    let (status, _, body) = sim
        .hook_call(reqwest::Method::GET, &path, Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"results": []}));

    // The key never reaches the request log.
    let (_, log) = sim.get_json("/_sim/requests", None).await;
    assert!(!log.to_string().contains(&key));
}

#[tokio::test]
async fn settings_crud_and_validation() {
    let sim = start().await;
    let (app_id, key) = developer_key(&sim).await;
    let path = format!("/webhooks/v3/{app_id}/settings");
    let call = |method, body| sim.hook_call(method, &path, Some(&key), body);

    let (status, _, body) = call(reqwest::Method::GET, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["category"], "OBJECT_NOT_FOUND");

    for bad in [
        json!({"throttling": {"maxConcurrentRequests": 10}}),
        json!({"targetUrl": "not a url", "throttling": {"maxConcurrentRequests": 10}}),
        json!({"targetUrl": "ftp://x.example/hook", "throttling": {"maxConcurrentRequests": 10}}),
        json!({"targetUrl": "https://x.example/hook"}),
        json!({"targetUrl": "https://x.example/hook", "throttling": {}}),
        json!({"targetUrl": "https://x.example/hook", "throttling": {"maxConcurrentRequests": 0}}),
        json!({"targetUrl": "https://x.example/hook", "throttling": {"maxConcurrentRequests": 10, "period": "HOURLY"}}),
        json!([]),
    ] {
        let (status, _, body) = call(reqwest::Method::PUT, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["status"], "error");
        assert_eq!(body["category"], "VALIDATION_ERROR");
        assert_uuid(&body["correlationId"]);
    }

    let (status, _, created) = call(
        reqwest::Method::PUT,
        Some(json!({"targetUrl": "https://x.example/hook", "throttling": {"maxConcurrentRequests": 10}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["targetUrl"], "https://x.example/hook");
    assert_eq!(
        created["throttling"],
        json!({"maxConcurrentRequests": 10, "period": "SECONDLY"})
    );
    let created_at = created["createdAt"].as_str().unwrap().to_owned();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 20,
        "{created_at}"
    );

    let (status, _, read) = call(reqwest::Method::GET, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    let (status, _, updated) = call(
        reqwest::Method::PUT,
        Some(json!({"targetUrl": "https://y.example/hook", "throttling": {"maxConcurrentRequests": 3, "period": "ROLLING_MINUTE"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["targetUrl"], "https://y.example/hook");
    assert_eq!(updated["throttling"]["period"], "ROLLING_MINUTE");
    assert_eq!(updated["createdAt"], created_at.as_str());

    let (status, _, body) = call(reqwest::Method::DELETE, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, _, _) = call(reqwest::Method::GET, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(reqwest::Method::DELETE, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn subscriptions_crud_and_validation() {
    let sim = start().await;
    let (app_id, key) = developer_key(&sim).await;
    let base = format!("/webhooks/v3/{app_id}/subscriptions");
    let call = |method, path: String, body| {
        let sim = &sim;
        let key = key.clone();
        async move { sim.hook_call(method, &path, Some(&key), body).await }
    };

    for bad in [
        json!({}),
        json!({"eventType": "contact.create"}),
        json!({"eventType": "widget.creation"}),
        json!({"eventType": "product.associationChange"}),
        json!({"eventType": "conversation.creation"}),
        json!({"eventType": "contact.propertyChange"}),
        json!({"eventType": "contact.creation", "propertyName": "email"}),
        json!({"eventType": "contact.creation", "active": "yes"}),
    ] {
        let (status, _, body) = call(reqwest::Method::POST, base.clone(), Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["category"], "VALIDATION_ERROR", "{body}");
    }

    let (status, _, created) = call(
        reqwest::Method::POST,
        base.clone(),
        Some(json!({"eventType": "deal.creation"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["eventType"], "deal.creation");
    assert_eq!(created["active"], false);
    assert!(created.get("propertyName").is_none());
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<i64>().is_ok());
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, _, prop) = call(
        reqwest::Method::POST,
        base.clone(),
        Some(
            json!({"eventType": "company.propertyChange", "propertyName": "name", "active": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(prop["propertyName"], "name");
    assert_eq!(prop["active"], true);
    let prop_id = prop["id"].as_str().unwrap().to_owned();

    // Same event type twice: conflict.
    let (status, _, body) = call(
        reqwest::Method::POST,
        base.clone(),
        Some(json!({"eventType": "deal.creation", "active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, _, list) = call(reqwest::Method::GET, base.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["results"], json!([created, prop]));

    let (status, _, one) = call(reqwest::Method::GET, format!("{base}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, created);

    let (status, _, patched) = call(
        reqwest::Method::PATCH,
        format!("{base}/{id}"),
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["active"], true);

    // Batch update: all known → 200; an unknown id → 207 with errors.
    let (status, _, batch) = call(
        reqwest::Method::POST,
        format!("{base}/batch/update"),
        Some(json!({"inputs": [{"id": id.parse::<i64>().unwrap(), "active": false}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(batch["status"], "COMPLETE");
    assert_eq!(batch["results"][0]["active"], false);
    assert!(batch["startedAt"].is_string() && batch["completedAt"].is_string());
    assert!(batch.get("errors").is_none());

    let (status, _, batch) = call(
        reqwest::Method::POST,
        format!("{base}/batch/update"),
        Some(json!({"inputs": [
            {"id": prop_id.parse::<i64>().unwrap(), "active": false},
            {"id": 4567, "active": true},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{batch}");
    assert_eq!(batch["numErrors"], 1);
    assert_eq!(batch["results"].as_array().unwrap().len(), 1);
    assert_eq!(batch["errors"][0]["category"], "SUBSCRIPTION_ID_NOT_FOUND");
    assert_eq!(
        batch["errors"][0]["context"]["subscriptionIds"],
        json!(["4567"])
    );

    let (status, _, body) = call(
        reqwest::Method::POST,
        format!("{base}/batch/update"),
        Some(json!({"inputs": [{"id": 1}]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, _, _) = call(reqwest::Method::DELETE, format!("{base}/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, _, body) = call(method, format!("{base}/{id}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["category"], "OBJECT_NOT_FOUND");
    }
    let (status, _, body) = call(reqwest::Method::GET, format!("{base}/abc"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn an_app_has_at_most_1000_subscriptions() {
    let sim = start().await;
    let (app_id, key) = developer_key(&sim).await;
    let path = format!("/webhooks/v3/{app_id}/subscriptions");
    let create = |name: String| {
        sim.hook_call(
            reqwest::Method::POST,
            &path,
            Some(&key),
            Some(json!({"eventType": "contact.propertyChange", "propertyName": name})),
        )
    };
    for i in 0..1000 {
        let (status, _, body) = create(format!("p{i}")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, _, body) = create("one_more".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["category"], "VALIDATION_ERROR");
    assert!(body["message"].as_str().unwrap().contains("1000"));
}

#[tokio::test]
async fn the_rust_api_emits_merge_and_association_events() {
    use hubspot_sim::webhooks::{AssociationChange, ChangeEvent, ChangeKind};

    let mut s = setup().await;
    for event_type in ["contact.merge", "deal.associationChange", "ticket.restore"] {
        let (status, _, body) = s
            .sim
            .hook_call(
                reqwest::Method::POST,
                &format!("/webhooks/v3/{}/subscriptions", s.app_id),
                Some(&s.key),
                Some(json!({"eventType": event_type, "active": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let sim = &s.sim.server.sim;
    let queued = sim.emit_webhooks(
        ACME_INC,
        [
            ChangeEvent::merge("contacts", 100, vec![101, 102]),
            ChangeEvent::association_change(
                "0-3",
                AssociationChange {
                    association_type: "DEAL_TO_CONTACT".into(),
                    from_object_id: 7,
                    to_object_id: 100,
                    association_removed: true,
                    is_primary_association: false,
                },
            ),
            ChangeEvent::new("tickets", 5, ChangeKind::Restore).with_change_source("API"),
            // Not subscribed (product) and invalid (product associations) are ignored.
            ChangeEvent::new("product", 1, ChangeKind::Creation),
            ChangeEvent::new("product", 1, ChangeKind::AssociationChange),
        ],
    );
    assert_eq!(queued, 3);
    let got = s.receiver.next().await;
    let events = got.events();
    assert_eq!(events.len(), 3);
    let merge = &events[0];
    assert_eq!(merge["subscriptionType"], "contact.merge");
    assert_eq!(merge["objectId"], 100);
    assert_eq!(merge["primaryObjectId"], 100);
    assert_eq!(merge["mergedObjectIds"], json!([101, 102]));
    assert_eq!(merge["changeFlag"], "MERGED");
    let assoc = &events[1];
    assert_eq!(assoc["subscriptionType"], "deal.associationChange");
    assert_eq!(assoc["objectId"], 7);
    assert_eq!(assoc["associationType"], "DEAL_TO_CONTACT");
    assert_eq!(assoc["fromObjectId"], 7);
    assert_eq!(assoc["toObjectId"], 100);
    assert_eq!(assoc["associationRemoved"], true);
    assert_eq!(assoc["isPrimaryAssociation"], false);
    assert!(assoc.get("changeFlag").is_none());
    let restore = &events[2];
    assert_eq!(restore["subscriptionType"], "ticket.restore");
    assert_eq!(restore["changeFlag"], "RESTORED");
    assert_eq!(restore["changeSource"], "API");
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(sim.webhook_deliveries().len(), 1);
}
