//! Faults found in review (issue 6 §1), each shown over HTTP: a refresh racing a disconnect,
//! the refresh lease, an unknown account type, the sweep of spent one-time values, and
//! readiness.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::token::sha256_hex;
use spokes_core::{Clock, ExposeSecret, OneTimeProblem};
use tokio::time::Instant;

use crate::{Options, TestEnv, read};

/// Polls `check` until it holds; panics after ten seconds. For background work whose end the
/// test cannot otherwise observe (a request held at the simulator, a periodic sweep).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl TestEnv {
    pub async fn counter(&self, name: &str) -> u64 {
        self.sim_json(Method::GET, "/_sim/counters", None).await[name]
            .as_u64()
            .unwrap_or(0)
    }

    /// The simulator answers the next refresh only after `hold_ms`: it mints the tokens at
    /// once and then trickles the response body.
    async fn hold_next_refresh_answer(&self, hold_ms: u64) {
        self.sim_json(
            Method::POST,
            "/_sim/faults",
            Some(json!({
                "path": "/oauth/2026-03/token",
                "method": "POST",
                "fault": {"slow_body_ms": hold_ms},
                "count": 1,
            })),
        )
        .await;
    }

    /// Runs one statement on the test database behind the server's back.
    async fn raw_sql(&self, statement: &'static str) {
        use sqlx::Connection as _;
        if self.database_url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .expect("postgres");
            sqlx::raw_sql(statement)
                .execute(&mut conn)
                .await
                .expect("sql");
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .expect("sqlite");
            sqlx::raw_sql(statement)
                .execute(&mut conn)
                .await
                .expect("sql");
        }
    }

    /// With the token expired and HubSpot holding its refresh answer, starts an `account.get`
    /// on `base` and returns once the refresh has reached HubSpot.
    async fn call_during_a_held_refresh(
        &self,
        base: &str,
        installation: &str,
    ) -> tokio::task::JoinHandle<(StatusCode, Value)> {
        self.hold_next_refresh_answer(1500).await;
        self.clock.advance_secs(31 * 60);
        let call = self.spawn_call(base, installation);
        eventually("the refresh to reach HubSpot", || async {
            self.token_requests("refresh_token").await == 1
        })
        .await;
        call
    }

    async fn get_path(&self, path: &str) -> (StatusCode, Value) {
        read(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// Starts an `account.get` on `base` in the background.
    fn spawn_call(
        &self,
        base: &str,
        installation: &str,
    ) -> tokio::task::JoinHandle<(StatusCode, Value)> {
        let request = self
            .http
            .post(format!(
                "{base}/v1/accounts/acme/connectors/{installation}/methods/account.get"
            ))
            .bearer_auth(&self.key);
        tokio::spawn(async move { read(request.send().await.expect("call")).await })
    }
}

#[tokio::test]
async fn a_refresh_that_loses_to_a_disconnect_is_discarded_and_revoked() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let call = env.call_during_a_held_refresh(&env.base, &id).await;
    let revocations = env.counter("revocations").await;
    let response = env
        .request(
            Method::POST,
            &format!("/v1/accounts/acme/connectors/{id}/deauthenticate"),
        )
        .send()
        .await
        .expect("deauthenticate");
    assert!(response.status().is_success(), "{:?}", response.status());

    // The refresh answer arrives after the disconnect: it must not reconnect the installation.
    let (status, body) = call.await.expect("call task");
    assert_ne!(status, StatusCode::OK, "{body}");
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated", "{installation}");
    assert!(
        env.store.get_tokens(&id).await.expect("tokens").is_none(),
        "the refreshed tokens were stored"
    );
    // The disconnect revoked the grant, and the losing refresh revoked what it was given.
    assert_eq!(env.counter("revocations").await, revocations + 2);
}

#[tokio::test]
async fn a_second_process_never_refreshes_while_the_first_still_holds_the_work() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let other = env.second_instance().await;
    let first = env.call_during_a_held_refresh(&env.base, &id).await;
    // 70 s pass while the first process waits for HubSpot: longer than the old fixed 60-s
    // lease, well within the worst case of 3 attempts of 30 s each.
    env.clock.advance_secs(70);
    let second = env.spawn_call(&other, &id);

    for call in [first, second] {
        let (status, body) = call.await.expect("call task");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        env.token_requests("refresh_token").await,
        1,
        "the second process refreshed while the first was still at it"
    );
}

#[tokio::test]
async fn an_unknown_account_type_is_refused_and_revoked() {
    let env = TestEnv::with(Options {
        outage_switch: true,
        ..Options::default()
    })
    .await;
    env.outage
        .as_ref()
        .expect("switch")
        .strip_account_type
        .store(true, Ordering::SeqCst);
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let revocations = env.counter("revocations").await;
    let response = env.connect("acme", &id, "Acme Inc", "allow").await;
    let page = response.text().await.expect("page");
    assert!(page.contains("Products attached"), "{page}");

    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "unauthenticated", "{installation}");
    assert_eq!(installation["last_error"]["code"], "account_type_unknown");
    assert!(
        installation["last_error"]["message"]
            .as_str()
            .expect("message")
            .contains("main HubSpot account"),
        "{installation}"
    );
    assert!(env.store.get_tokens(&id).await.expect("tokens").is_none());
    assert_eq!(env.counter("revocations").await, revocations + 1);
}

#[tokio::test]
async fn spent_auth_links_are_swept() {
    let env = TestEnv::with(Options {
        sweep_interval: Some(Duration::from_millis(20)),
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let link = env.auth_link("acme", &id, json!({})).await;
    let token = link.rsplit('/').next().expect("token").to_string();
    let hash = sha256_hex(token.as_bytes());
    let look = || async {
        env.store
            .find_auth_link(&hash, env.clock.now_ms())
            .await
            .expect("find")
    };

    // Expired, but kept for a day so the customer hears "expired", not "not valid".
    env.clock.advance_secs(10 * 60);
    assert_eq!(look().await, Err(OneTimeProblem::Expired));
    let page = env.http.get(&link).send().await.expect("link");
    assert_eq!(page.status(), StatusCode::GONE);

    env.clock.advance_secs(25 * 3600);
    eventually("the sweep to delete the link", || async {
        look().await == Err(OneTimeProblem::Unknown)
    })
    .await;
    let page = env.http.get(&link).send().await.expect("link");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readyz_reports_a_database_without_its_schema() {
    let env = TestEnv::start().await;
    assert_eq!(env.get_path("/readyz").await.0, StatusCode::OK);

    env.raw_sql("ALTER TABLE meta RENAME TO meta_moved").await;
    let (status, body) = env.get_path("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "not_ready");
    let (status, _) = env.get_path("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the process is still up");

    env.raw_sql("ALTER TABLE meta_moved RENAME TO meta").await;
    assert_eq!(env.get_path("/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_hubspot_calls_and_refreshes_without_secrets() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.clock.advance_secs(31 * 60);
    let (status, _) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK);
    let (status, text) = env.get_path("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("text").to_string();
    for expected in [
        "spokes_api_requests_total{",
        "route=\"/v1/accounts/{account}/connectors/{installation}/methods/{method}\"",
        "spokes_api_request_duration_seconds_bucket{",
        "spokes_hubspot_calls_total{method=\"account.get\",outcome=\"ok\"}",
        "spokes_token_refreshes_total{outcome=\"refreshed\"}",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let tokens = env.tokens(&id).await;
    assert!(!text.contains(tokens.access_token.expose_secret()));
    assert!(!text.contains(&id), "no installation ids in labels");
    assert!(!text.contains(&env.key));
}

#[tokio::test]
async fn a_rate_limited_token_endpoint_is_waited_out_not_taken_for_a_lost_connection() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let fault = env
        .sim_json(
            Method::POST,
            "/_sim/faults",
            Some(json!({
                "path": "/oauth/2026-03/token",
                "method": "POST",
                "fault": {"rate_limit": "TEN_SECONDLY_ROLLING"},
                "count": 2,
            })),
        )
        .await;
    env.clock.advance_secs(31 * 60);
    let (status, body) = env.call(&env.base, &id, "account.get").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let faults = env.sim_json(Method::GET, "/_sim/faults", None).await;
    assert_eq!(faults["injected"], 2, "both 429s were answered: {faults}");
    assert_eq!(fault["id"], faults["faults"][0]["id"]);
    let installation = env.installation("acme", &id).await;
    assert_eq!(installation["status"], "authenticated", "{installation}");
}
