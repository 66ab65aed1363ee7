//! The token lifecycle: refresh on expiry, single-flight across calls and processes,
//! `needs_reauth`, and revocation on disconnect.

use reqwest::{Method, StatusCode};
use serde_json::json;
use spokes_core::ExposeSecret;

use std::sync::atomic::Ordering;

use crate::{Options, TestEnv};

#[tokio::test]
async fn refreshes_when_the_token_nears_expiry() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let before = env.installation("acme", &id).await["hubspot"]["token_expires_at"].clone();

    let (status, _) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        env.token_requests("refresh_token").await,
        0,
        "a fresh token is not refreshed"
    );

    // 26 minutes later the 30-minute token is inside the 5-minute margin.
    env.clock.advance_secs(26 * 60);
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(env.token_requests("refresh_token").await, 1);
    let after = env.installation("acme", &id).await["hubspot"]["token_expires_at"].clone();
    assert_ne!(before, after);
}

#[tokio::test]
async fn fifty_concurrent_calls_on_an_expired_token_cause_one_refresh() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.clock.advance_secs(31 * 60);
    let results = env
        .call_concurrently(std::slice::from_ref(&env.base), &id, 50)
        .await;
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    assert_eq!(env.token_requests("refresh_token").await, 1);
}

#[tokio::test]
async fn two_server_instances_on_one_database_refresh_once() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let other = env.second_instance().await;
    env.clock.advance_secs(31 * 60);
    let results = env
        .call_concurrently(&[env.base.clone(), other], &id, 50)
        .await;
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    assert_eq!(env.token_requests("refresh_token").await, 1);
}

#[tokio::test]
async fn a_rejected_refresh_token_needs_reauth_without_a_retry_storm() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.revoke_at_hubspot(&id).await;
    env.clock.advance_secs(31 * 60);
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "needs_reauth");

    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "needs_reauth");
    assert_eq!(installation["last_error"]["code"], "refresh_rejected");
    assert!(
        installation["last_error"]["message"]
            .as_str()
            .expect("message")
            .contains("BAD_REFRESH_TOKEN")
    );

    for _ in 0..5 {
        let (status, _) = env.call(&env.base, &id, "account.get").await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
    assert_eq!(
        env.token_requests("refresh_token").await,
        1,
        "no retries after a final refusal"
    );

    // Reconnecting repairs it.
    env.connect("acme", &id, "Acme Inc", "allow").await;
    assert_eq!(
        env.installation("acme", &id).await["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn deauthenticate_revokes_at_hubspot_and_forgets_the_tokens() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let tokens = env.tokens(&id).await;
    let (status, body) = env
        .send_json(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/deauthenticate"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "unauthenticated");
    assert!(env.store.get_tokens(&id).await.expect("read").is_none());
    let response = env
        .http
        .get(format!(
            "{}/oauth/v1/refresh-tokens/{}",
            env.sim.base_url,
            tokens.refresh_token.expose_secret()
        ))
        .send()
        .await
        .expect("info");
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "the refresh token is revoked at HubSpot"
    );
    let (status, _) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_an_installation_revokes_it_too() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let response = env
        .request(
            Method::DELETE,
            &format!("/v1/accounts/acme/connectors/{id}"),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let counters = env.sim_json(Method::GET, "/_sim/counters", None).await;
    assert_eq!(counters["revocations"], 1);
    let (status, _) = env
        .get_json(&format!("/v1/accounts/acme/connectors/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hubspot_down_during_refresh_is_retried_then_reported_without_losing_the_connection() {
    let env = TestEnv::with(Options {
        outage_switch: true,
        ..Options::default()
    })
    .await;
    let id = env.connected().await;
    env.clock.advance_secs(31 * 60);
    let outage = env.outage.as_ref().expect("switch");
    outage.down.store(true, Ordering::SeqCst);
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "hubspot_unavailable");
    let installation = env.installation("acme", &id).await;
    assert_eq!(
        installation["status"], "authenticated",
        "a transient failure is not a lost connection"
    );
    assert_eq!(installation["last_error"]["code"], "refresh_failed");
    assert!(
        env.store.get_tokens(&id).await.expect("read").is_some(),
        "the tokens are kept for the next try"
    );
    assert_eq!(
        outage.refused.load(Ordering::SeqCst),
        3,
        "three attempts, with backoff between them"
    );

    outage.down.store(false, Ordering::SeqCst);
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        env.installation("acme", &id).await["last_error"],
        serde_json::Value::Null
    );
}
