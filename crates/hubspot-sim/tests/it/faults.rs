//! Fault injection: `/_sim/faults` with statuses, latency, 429 bursts, connection
//! resets and slow bodies; counts, seeded probabilities, and `/_sim` never faulted.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const DETAILS: &str = "/account-info/v3/details";

async fn token(sim: &TestSim) -> String {
    let (status, t) = sim
        .sim_post(
            "/_sim/tokens",
            json!({"portal_id": ACME_INC, "scopes": ["oauth"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

async fn add_fault(sim: &TestSim, body: Value) -> Value {
    let (status, f) = sim.sim_post("/_sim/faults", body).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    f
}

async fn delete(sim: &TestSim, path: &str) -> StatusCode {
    sim.http
        .delete(sim.url(path))
        .send()
        .await
        .unwrap()
        .status()
}

async fn status_of(sim: &TestSim, t: &str) -> StatusCode {
    sim.get(DETAILS, Some(t)).await.status()
}

#[tokio::test]
async fn status_faults_for_a_count_with_hubspot_bodies() {
    let sim = start().await;
    let t = token(&sim).await;
    let f = add_fault(
        &sim,
        json!({"path": "/account-info/*", "method": "get", "fault": {"status": 503}, "count": 2}),
    )
    .await;
    assert_eq!(f["id"], 1);
    assert_eq!(f["method"], "GET");
    assert_eq!(f["remaining"], 2);
    assert_eq!(f["active"], true);
    for _ in 0..2 {
        let resp = sim.get(DETAILS, Some(&t)).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let cid = resp.headers()["x-hubspot-correlation-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "error", "{body}");
        assert_eq!(body["category"], "SERVICE_UNAVAILABLE", "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["correlationId"], cid.as_str());
    }
    assert_eq!(status_of(&sim, &t).await, StatusCode::OK);

    let (status, list) = sim.get_json("/_sim/faults", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["injected"], 2, "{list}");
    assert_eq!(list["faults"][0]["injected"], 2, "{list}");
    assert_eq!(list["faults"][0]["remaining"], 0, "{list}");
    assert_eq!(list["faults"][0]["active"], false, "{list}");

    // Each 5xx, once each; the method filter leaves other methods alone.
    for code in [500u16, 502, 504] {
        add_fault(
            &sim,
            json!({"path": DETAILS, "fault": {"status": code}, "count": 1}),
        )
        .await;
        let resp = sim.get(DETAILS, Some(&t)).await;
        assert_eq!(resp.status().as_u16(), code);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "error");
        assert_uuid(&body["correlationId"]);
    }
    add_fault(
        &sim,
        json!({"path": "*", "method": "POST", "fault": {"status": 500}}),
    )
    .await;
    assert_eq!(status_of(&sim, &t).await, StatusCode::OK);
    let (_, log) = sim.get_json("/_sim/requests", None).await;
    let statuses: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [503, 503, 200, 500, 502, 504, 200]);
}

#[tokio::test]
async fn rate_limit_bursts_and_latency() {
    let sim = start().await;
    let t = token(&sim).await;
    add_fault(
        &sim,
        json!({"path": DETAILS, "fault": {"rate_limit": "TEN_SECONDLY_ROLLING"}, "count": 3}),
    )
    .await;
    for _ in 0..3 {
        let resp = sim.get(DETAILS, Some(&t)).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
        assert_eq!(body["errorType"], "RATE_LIMIT");
        assert_eq!(
            body["message"],
            "You have reached your ten_secondly_rolling limit."
        );
    }
    let resp = sim.get(DETAILS, Some(&t)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Injected 429s did not count against the real window.
    assert_eq!(resp.headers()["x-hubspot-ratelimit-remaining"], "109");

    add_fault(
        &sim,
        json!({"path": DETAILS, "fault": {"rate_limit": "SECONDLY"}, "count": 1}),
    )
    .await;
    let body: Value = sim.get(DETAILS, Some(&t)).await.json().await.unwrap();
    assert_eq!(body["message"], "You have reached your secondly limit.");
    // The search limit's 429 as recorded from HubSpot: no policy name.
    assert_eq!(body["category"], "RATE_LIMITS", "{body}");
    assert!(body.get("policyName").is_none(), "{body}");
    assert!(body.get("errorType").is_none(), "{body}");

    add_fault(
        &sim,
        json!({"path": DETAILS, "fault": {"latency_ms": 300}, "count": 1}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(status_of(&sim, &t).await, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn connection_reset_fails_the_request_without_a_status() {
    let sim = start().await;
    let t = token(&sim).await;
    add_fault(
        &sim,
        json!({"path": DETAILS, "fault": {"reset": true}, "count": 1}),
    )
    .await;
    let err = sim
        .http
        .get(sim.url(DETAILS))
        .bearer_auth(&t)
        .send()
        .await
        .expect_err("a reset connection gives no response");
    assert!(err.status().is_none(), "{err:?}");
    // The next request (on a new connection) is served.
    assert_eq!(status_of(&sim, &t).await, StatusCode::OK);
    let (_, log) = sim.get_json("/_sim/requests", None).await;
    assert_eq!(log[0]["status"], 0, "{log}");
    assert_eq!(log[1]["status"], 200, "{log}");

    // OAuth endpoints can be faulted too (e.g. a token refresh that fails).
    add_fault(
        &sim,
        json!({"path": "/oauth/v1/token", "fault": {"reset": true}, "count": 1}),
    )
    .await;
    let failed = sim
        .http
        .post(sim.url("/oauth/v1/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await;
    assert!(failed.is_err());
}

#[tokio::test]
async fn slow_body_sends_headers_then_trickles() {
    let sim = start().await;
    let t = token(&sim).await;
    add_fault(
        &sim,
        json!({"path": DETAILS, "fault": {"slow_body_ms": 400}, "count": 1}),
    )
    .await;
    let started = Instant::now();
    let resp = sim.get(DETAILS, Some(&t)).await;
    let head_at = started.elapsed();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.content_length().is_some_and(|n| n > 0));
    let body: Value = resp.json().await.unwrap();
    let body_at = started.elapsed();
    assert_eq!(body["portalId"], ACME_INC, "{body}");
    assert!(
        body_at - head_at >= Duration::from_millis(300),
        "head after {head_at:?}, body after {body_at:?}"
    );
}

/// Statuses of `n` calls with a seeded 50% fault on the details path.
async fn seeded_run(sim: &TestSim, t: &str, seed: u64, count: Option<u64>) -> Vec<u16> {
    assert_eq!(delete(sim, "/_sim/faults").await, StatusCode::NO_CONTENT);
    let mut body = json!({"path": "/account-info/*", "fault": {"status": 502},
        "probability": 0.5, "seed": seed});
    if let Some(c) = count {
        body["count"] = json!(c);
    }
    let f = add_fault(sim, body).await;
    assert_eq!(f["seed"], seed);
    let mut out = Vec::new();
    for _ in 0..24 {
        out.push(status_of(sim, t).await.as_u16());
    }
    out
}

#[tokio::test]
async fn seeded_probability_gives_the_same_sequence_twice() {
    let sim = start().await;
    let t = token(&sim).await;
    let first = seeded_run(&sim, &t, 7, None).await;
    let second = seeded_run(&sim, &t, 7, None).await;
    assert_eq!(first, second);
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
    let other_seed = seeded_run(&sim, &t, 8, None).await;
    assert_ne!(first, other_seed);

    // With a count as well: at most that many injections, same sequence each time.
    let capped = seeded_run(&sim, &t, 7, Some(3)).await;
    assert_eq!(capped, seeded_run(&sim, &t, 7, Some(3)).await);
    assert_eq!(capped.iter().filter(|s| **s == 502).count(), 3);
    // The first three injections happen where the uncapped run had them.
    let uncapped_502s: Vec<usize> = first
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == 502)
        .map(|(i, _)| i)
        .take(3)
        .collect();
    let capped_502s: Vec<usize> = capped
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == 502)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(uncapped_502s, capped_502s);
}

#[tokio::test]
async fn sim_controls_are_never_faulted_and_faults_can_be_removed() {
    let sim = start().await;
    let f = add_fault(&sim, json!({"path": "*", "fault": {"status": 500}})).await;
    let (status, _) = sim.get_json("/_sim/config", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = sim.get_json("/_sim/faults", None).await;
    assert_eq!(status, StatusCode::OK);
    let t = token(&sim).await; // POST /_sim/tokens works
    assert_eq!(status_of(&sim, &t).await, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = sim
        .post_form("/oauth/v1/token", &[("grant_type", "refresh_token")])
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    let path = format!("/_sim/faults/{}", f["id"]);
    assert_eq!(delete(&sim, &path).await, StatusCode::NO_CONTENT);
    assert_eq!(delete(&sim, &path).await, StatusCode::NOT_FOUND);
    assert_eq!(
        delete(&sim, "/_sim/faults/nope").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(status_of(&sim, &t).await, StatusCode::OK);
    let (_, list) = sim.get_json("/_sim/faults", None).await;
    assert_eq!(list["faults"], json!([]));
    assert_eq!(list["injected"], 2);

    // Bad definitions are refused with HubSpot's validation body.
    for bad in [
        json!({"path": "/x", "fault": {}}),
        json!({"path": "/x", "fault": {"status": 503, "latency_ms": 1}}),
        json!({"path": "/x", "fault": {"status": 200}}),
        json!({"path": "/x", "fault": {"reset": true}, "probability": 1.5}),
        json!({"path": "/x", "fault": {"rate_limit": "HOURLY"}}),
        json!({"path": "/x", "fault": {"reset": true}, "colour": "red"}),
    ] {
        let (status, body) = sim.sim_post("/_sim/faults", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert_eq!(body["category"], "VALIDATION_ERROR");
    }
}
