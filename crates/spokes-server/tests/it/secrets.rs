//! Tokens and secrets never appear in plaintext: not in the database file, not in the logs,
//! not in any API response.

use reqwest::{Method, StatusCode};
use serde_json::json;
use spokes_core::ExposeSecret;

use crate::{TestEnv, logged_text};

#[tokio::test]
async fn no_token_or_secret_in_plaintext_anywhere() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.clock.advance_secs(31 * 60);
    let (status, _) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK);
    let tokens = env.tokens(&id).await;
    let secrets = [
        tokens.access_token.expose_secret().to_string(),
        tokens.refresh_token.expose_secret().to_string(),
        env.sim.sandbox_app.client_secret.clone(),
        env.key.clone(),
    ];
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {}", secret.len());
    }

    let mut responses = String::new();
    for path in [
        "/v1/accounts".to_string(),
        "/v1/accounts/acme".to_string(),
        "/v1/accounts/acme/connectors".to_string(),
        format!("/v1/accounts/acme/connectors/{id}"),
        "/v1/connectors".to_string(),
        "/v1/connectors/hubspot".to_string(),
    ] {
        let (status, body) = env.get_json(&path).await;
        assert_eq!(status, StatusCode::OK);
        responses.push_str(&body.to_string());
    }
    let (_, called) = env.call(&env.base, &id, "account.get").await;
    responses.push_str(&called.to_string());
    let (_, setup) = env
        .send_json(Method::PUT, "/v1/connectors/hubspot/setup", json!({"client_id": env.sim.sandbox_app.client_id, "client_secret": env.sim.sandbox_app.client_secret}))
        .await;
    responses.push_str(&setup.to_string());

    let logs = logged_text();
    assert!(
        logs.contains("refreshed the HubSpot access token"),
        "logs were captured"
    );
    for (n, secret) in secrets.iter().enumerate() {
        assert!(
            !responses.contains(secret.as_str()),
            "secret #{n} in an API response"
        );
        assert!(!logs.contains(secret.as_str()), "secret #{n} in the logs");
    }

    if let Some(path) = env
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| env.database_url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        let mut bytes = std::fs::read(path).expect("database file");
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        assert!(bytes.len() > 4096);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(&id), "the scan reads real rows");
        for (n, secret) in secrets.iter().enumerate() {
            assert!(
                !text.contains(secret.as_str()),
                "secret #{n} in the database file"
            );
        }
    }
}
