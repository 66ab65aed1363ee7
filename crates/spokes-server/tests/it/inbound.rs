//! HubSpot's webhooks into Spokes: the app's Target URL, the signature check, and the inbox
//! that queues each event once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::{Clock, Job, JobState};

use crate::TestEnv;

const EVENT_JOB: &str = "hubspot.webhook_event";

impl TestEnv {
    fn webhook_url(&self) -> String {
        format!("{}/api/partnerwebhook/hubspot", self.base)
    }

    /// Every webhook event job, in any state (the server's worker may have run them).
    async fn event_jobs(&self) -> Vec<Job> {
        self.store.list_jobs(EVENT_JOB, 1000).await.expect("jobs")
    }

    /// Sets the sandbox app's Target URL to Spokes (as the partner does in HubSpot's app
    /// settings) and subscribes it to `event_type`.
    pub async fn subscribe_app_webhooks(&self, event_type: &str) {
        let app = &self.sim.sandbox_app;
        let hapikey = self
            .sim
            .sim
            .developer_api_key(app.app_id)
            .expect("developer key");
        let settings = format!("/webhooks/v3/{}/settings?hapikey={hapikey}", app.app_id);
        self.sim_json(
            Method::PUT,
            &settings,
            Some(json!({"targetUrl": self.webhook_url(), "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"}})),
        )
        .await;
        let subscriptions = format!(
            "/webhooks/v3/{}/subscriptions?hapikey={hapikey}",
            app.app_id
        );
        self.sim_json(
            Method::POST,
            &subscriptions,
            Some(json!({"eventType": event_type, "active": true})),
        )
        .await;
    }

    /// POSTs `body` to the Target URL with a v3 signature made at `signed_at` with `secret`.
    async fn deliver(&self, body: &str, secret: &str, signed_at: i64) -> (StatusCode, Value) {
        let url = self.webhook_url();
        let signature =
            hubspot_sim::webhooks::signature::v3(secret, "POST", &url, body.as_bytes(), signed_at);
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", signature)
            .header("X-HubSpot-Request-Timestamp", signed_at.to_string())
            .body(body.to_string())
            .send()
            .await
            .expect("deliver");
        crate::read(response).await
    }
}

#[tokio::test]
async fn the_simulators_deliveries_are_queued_once_each() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let (status, connector) = env.get_json("/v1/connectors/hubspot").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(connector["webhook_url"], env.webhook_url().as_str());

    // The partner pastes the Target URL into the app and subscribes to contact creations.
    env.subscribe_app_webhooks("contact.creation").await;

    let ada = env.contact(&id, json!({"email": "ada@example.com"})).await;
    let idle = env
        .sim_json(
            Method::POST,
            "/_sim/webhooks/wait",
            Some(json!({"timeout_ms": 10_000})),
        )
        .await;
    assert_eq!(idle["idle"], true, "{idle}");
    let deliveries = env
        .sim_json(Method::GET, "/_sim/webhooks/deliveries", None)
        .await;
    let statuses: Vec<&Value> = deliveries["results"]
        .as_array()
        .or(deliveries.as_array())
        .expect("deliveries")
        .iter()
        .map(|d| &d["status"])
        .collect();
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| **s == 200),
        "{deliveries}"
    );

    let jobs = env.event_jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let event: Value = serde_json::from_str(&jobs[0].payload).expect("payload");
    // The server's worker routes it (to no cycle yet) and the job is done.
    let job_id = jobs[0].id.clone();
    crate::hardening::eventually("the event's job to be done", || async {
        let job = env
            .store
            .get_job(&job_id)
            .await
            .expect("job")
            .expect("kept");
        job.state == JobState::Done
    })
    .await;
    assert_eq!(event["subscriptionType"], "contact.creation", "{event}");
    assert_eq!(event["objectId"].to_string(), ada, "{event}");
    assert_eq!(event["portalId"], env.portal_id("Acme Inc").await);
}

#[tokio::test]
async fn only_signed_fresh_untampered_requests_are_accepted_and_each_event_once() {
    let env = TestEnv::start().await;
    env.connected().await;
    let secret = env.sim.sandbox_app.client_secret.clone();
    let now = env.clock.now_ms();
    let body = json!([
        {"eventId": 101, "portalId": 24682001, "subscriptionType": "contact.creation", "objectId": 1, "occurredAt": now},
        {"eventId": 102, "portalId": 24682001, "subscriptionType": "contact.deletion", "objectId": 2, "occurredAt": now},
    ])
    .to_string();

    let (status, answer) = env.deliver(&body, &secret, now).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"received": 2, "new": 2}));
    // HubSpot redelivers (or someone replays within the window): acknowledged, not queued again.
    let (status, answer) = env.deliver(&body, &secret, now + 1_000).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["new"], 0, "{answer}");
    assert_eq!(env.event_jobs().await.len(), 2);

    // Refused, and nothing queued: another secret, a stale or future timestamp, a changed body,
    // no signature at all.
    let fresh = json!([{"eventId": 103, "portalId": 24682001, "subscriptionType": "contact.creation", "objectId": 3}]).to_string();
    for (what, (status, answer)) in [
        (
            "another secret",
            env.deliver(&fresh, "not-the-secret", now).await,
        ),
        (
            "six minutes old",
            env.deliver(&fresh, &secret, now - 6 * 60_000).await,
        ),
        (
            "six minutes ahead",
            env.deliver(&fresh, &secret, now + 6 * 60_000).await,
        ),
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
        assert_eq!(
            answer["error"]["code"], "invalid_signature",
            "{what}: {answer}"
        );
        assert!(
            !answer.to_string().contains(&secret),
            "{what}: the secret leaked"
        );
    }
    let url = env.webhook_url();
    let signed = hubspot_sim::webhooks::signature::v3(&secret, "POST", &url, fresh.as_bytes(), now);
    let tampered = fresh.replace("\"objectId\":3", "\"objectId\":4");
    let response = env
        .http
        .post(&url)
        .header("X-HubSpot-Signature-v3", signed)
        .header("X-HubSpot-Request-Timestamp", now.to_string())
        .body(tampered)
        .send()
        .await
        .expect("tampered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = env
        .http
        .post(&url)
        .body(fresh.clone())
        .send()
        .await
        .expect("unsigned");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        env.event_jobs().await.len(),
        2,
        "nothing refused was queued"
    );

    // Signed but not HubSpot's shape: a clear 400, nothing queued.
    let (status, answer) = env.deliver(r#"[{"portalId": 1}]"#, &secret, now).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(env.event_jobs().await.len(), 2);
}
