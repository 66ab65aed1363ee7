//! Tokens and secrets never appear in plaintext: not in the database (the SQLite file and its
//! WAL, or every PostgreSQL table of the test's schema), not in the logs, not in any API
//! response.

use reqwest::{Method, StatusCode};
use serde_json::json;
use spokes_core::ExposeSecret;
use spokes_engine::EventsConfig;

use crate::{Options, TestEnv, logged_text, query_of};

const EVENTS_SECRET: &str = "whsec-events-secret-for-the-scan";

impl TestEnv {
    /// Everything the database holds, as text: the SQLite file and its WAL byte for byte, or
    /// each PostgreSQL table of this test's schema row by row (`bytea` shows as hex there).
    async fn database_dump(&self) -> String {
        use sqlx::{Connection as _, Row as _};
        if let Some(path) = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            let mut bytes = std::fs::read(path).expect("database file");
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            assert!(bytes.len() > 4096);
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let mut conn = sqlx::PgConnection::connect(&self.database_url)
            .await
            .expect("postgres");
        let tables: Vec<String> = sqlx::query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .expect("tables")
        .iter()
        .map(|row| row.get("tablename"))
        .collect();
        assert!(tables.iter().any(|t| t == "installations"), "{tables:?}");
        let mut dump = String::new();
        for table in tables {
            // Table names come from the catalogue, not from input.
            let rows: String = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COALESCE(string_agg(t::text, E'\\n'), '') AS dump FROM \"{table}\" t"
            )))
            .fetch_one(&mut conn)
            .await
            .expect("dump")
            .get("dump");
            dump.push_str(&rows);
            dump.push('\n');
        }
        dump
    }
}

#[tokio::test]
async fn no_token_or_secret_in_plaintext_anywhere() {
    let env = TestEnv::with(Options {
        outage_switch: true,
        events: Some(EventsConfig {
            url: "http://127.0.0.1:9/events".into(),
            secret: spokes_core::Secret::from(EVENTS_SECRET),
        }),
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;

    // The consent step by step, keeping the one-time values it uses.
    let link = env.auth_link("acme", &id, json!({})).await;
    let link_token = link.rsplit('/').next().expect("token").to_string();
    let authorize = env.open_link(&link).await;
    let state = query_of(&authorize)["state"].clone();
    let portal = env.portal_id("Acme Inc").await;
    let callback = env.consent(&authorize, portal, "allow").await;
    let page = env.http.get(&callback).send().await.expect("callback");
    assert_eq!(page.status(), StatusCode::OK);

    // The PKCE verifier, as Spokes sent it to HubSpot's token endpoint.
    let forms = env
        .outage
        .as_ref()
        .expect("switch")
        .token_forms
        .lock()
        .expect("forms")
        .clone();
    let verifier = forms
        .iter()
        .flat_map(|form| url::form_urlencoded::parse(form.as_bytes()).into_owned())
        .find(|(name, _)| name == "code_verifier")
        .map(|(_, value)| value)
        .expect("the code exchange sent a verifier");

    env.clock.advance_secs(31 * 60);
    let (status, _) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK);
    let tokens = env.tokens(&id).await;
    let secrets = [
        (
            "access token",
            tokens.access_token.expose_secret().to_string(),
        ),
        (
            "refresh token",
            tokens.refresh_token.expose_secret().to_string(),
        ),
        ("client secret", env.sim.sandbox_app.client_secret.clone()),
        ("API key", env.key.clone()),
        ("auth-link token", link_token),
        ("OAuth state", state),
        ("PKCE verifier", verifier),
        ("events secret", EVENTS_SECRET.to_string()),
    ];
    for (name, secret) in &secrets {
        assert!(
            secret.len() >= 16,
            "{name} is a real secret: {}",
            secret.len()
        );
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
    let database = env.database_dump().await;
    assert!(database.contains(&id), "the scan reads real rows");
    for (name, secret) in &secrets {
        assert!(
            !responses.contains(secret.as_str()),
            "the {name} in an API response"
        );
        assert!(!logs.contains(secret.as_str()), "the {name} in the logs");
        assert!(
            !database.contains(secret.as_str()),
            "the {name} in the database"
        );
        assert!(
            !database.contains(&hex::encode(secret.as_bytes())),
            "the {name} in the database (as bytes)"
        );
    }
}
