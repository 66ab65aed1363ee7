//! `GET /v1/accounts/{account}/mcp/calls`: the audit of agents' tool calls, read from records
//! put straight into the store, paged newest first, and swept after 30 days.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spokes_core::{Clock, McpCall};

use crate::hardening::eventually;
use crate::{Options, TestEnv, read};

const DAY_MS: i64 = 24 * 3600 * 1000;

pub fn call(id: &str, installation_id: &str, created_at: i64) -> McpCall {
    McpCall {
        id: id.to_owned(),
        account_id: "acme".to_owned(),
        key_id: Some("key_agent".to_owned()),
        installation_id: installation_id.to_owned(),
        tool: "contacts_create".to_owned(),
        outcome: "ok".to_owned(),
        correlation_id: None,
        arguments: json!({"fields": {"email": "a@example.com"}, "confirm": true}).to_string(),
        duration_ms: 42,
        created_at,
    }
}

fn ids(page: &Value) -> Vec<&str> {
    page["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect()
}

impl TestEnv {
    async fn record(&self, calls: &[McpCall]) {
        for c in calls {
            self.store.record_mcp_call(c).await.expect("record");
        }
    }
}

#[tokio::test]
async fn calls_list_newest_first_in_pages_by_installation() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let first = env.new_installation("acme", json!({})).await;
    let second = env.new_installation("acme", json!({})).await;
    let t = env.clock.now_ms() - 60_000;
    let mut dry_run = call("mcp_c", &second, t + 2);
    dry_run.key_id = None;
    dry_run.outcome = "dry_run".to_owned();
    let mut failed = call("mcp_d", &first, t + 3);
    failed.outcome = "rate_limited".to_owned();
    failed.correlation_id = Some("corr-1".to_owned());
    env.record(&[
        call("mcp_a", &first, t),
        call("mcp_b", &first, t + 1),
        dry_run,
        failed,
    ])
    .await;

    let (status, page) = env.get_json("/v1/accounts/acme/mcp/calls").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), ["mcp_d", "mcp_c", "mcp_b", "mcp_a"]);
    assert_eq!(page["next_before"], Value::Null);
    assert_eq!(
        page["calls"][0],
        json!({
            "id": "mcp_d",
            "account_id": "acme",
            "installation_id": first,
            "key_id": "key_agent",
            "tool": "contacts_create",
            "arguments": {"fields": {"email": "a@example.com"}, "confirm": true},
            "outcome": "rate_limited",
            "correlation_id": "corr-1",
            "duration_ms": 42,
            "created_at": spokes_core::format_rfc3339(t + 3),
        })
    );
    assert_eq!(
        page["calls"][1]["key_id"],
        Value::Null,
        "the stdio transport"
    );

    // Pages of two, following next_before to the end.
    let (_, page) = env.get_json("/v1/accounts/acme/mcp/calls?limit=2").await;
    assert_eq!(ids(&page), ["mcp_d", "mcp_c"]);
    assert_eq!(page["next_before"], t + 2);
    let (_, page) = env
        .get_json(&format!(
            "/v1/accounts/acme/mcp/calls?limit=2&before={}",
            t + 2
        ))
        .await;
    assert_eq!(ids(&page), ["mcp_b", "mcp_a"]);
    assert_eq!(page["next_before"], Value::Null);

    let (_, page) = env
        .get_json(&format!(
            "/v1/accounts/acme/mcp/calls?installation={second}"
        ))
        .await;
    assert_eq!(ids(&page), ["mcp_c"]);
    // A deleted installation's calls stay in the audit.
    let (status, _) = read(
        env.request(
            Method::DELETE,
            &format!("/v1/accounts/acme/connectors/{second}"),
        )
        .send()
        .await
        .expect("delete"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = env
        .get_json(&format!(
            "/v1/accounts/acme/mcp/calls?installation={second}"
        ))
        .await;
    assert_eq!(ids(&page), ["mcp_c"]);
}

#[tokio::test]
async fn bad_queries_and_other_accounts_are_refused() {
    let env = TestEnv::start().await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    env.new_installation("beta", json!({})).await;
    env.record(&[call("mcp_a", &id, env.clock.now_ms())]).await;

    for query in ["limit=0", "limit=501", "before=yesterday", "since=1"] {
        let (status, body) = env
            .get_json(&format!("/v1/accounts/acme/mcp/calls?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameters", "{query}");
    }
    let (status, page) = env.get_json("/v1/accounts/acme/mcp/calls?limit=500").await;
    assert_eq!(status, StatusCode::OK, "{page}");

    let (status, body) = env.get_json("/v1/accounts/nobody/mcp/calls").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A key restricted to an account sees only its own.
    for (account, expected) in [("acme", StatusCode::OK), ("beta", StatusCode::NOT_FOUND)] {
        let key = env.create_key(Some(account)).await;
        let (status, body) = read(
            env.request_as(&key, Method::GET, "/v1/accounts/acme/mcp/calls")
                .send()
                .await
                .expect("list"),
        )
        .await;
        assert_eq!(status, expected, "{account}: {body}");
    }

    // The account's deletion takes its calls.
    let (status, _) = read(
        env.request(Method::DELETE, "/v1/accounts/acme")
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let calls = env
        .store
        .list_mcp_calls("acme", None, None, 10)
        .await
        .expect("list");
    assert!(calls.is_empty(), "{calls:?}");
}

#[tokio::test]
async fn calls_older_than_thirty_days_are_swept() {
    let env = TestEnv::with(Options {
        sweep_interval: Some(Duration::from_millis(20)),
        ..Options::default()
    })
    .await;
    env.setup_connector(json!({})).await;
    let id = env.new_installation("acme", json!({})).await;
    let now = env.clock.now_ms();
    env.record(&[
        call("mcp_old", &id, now - 31 * DAY_MS),
        call("mcp_recent", &id, now - 29 * DAY_MS),
    ])
    .await;
    let listed = || async {
        env.store
            .list_mcp_calls("acme", None, None, 10)
            .await
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    eventually("the sweep to delete the old call", || async {
        listed().await == ["mcp_recent"]
    })
    .await;
}
