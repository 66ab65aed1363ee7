//! `paging.all` with `Accept: application/x-ndjson`: the records stream one per line, page by
//! page, for HubSpot's cursors and for the search windows; an error after the first record
//! is the last line, an error before it the usual answer.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use spokes_core::Clock;

use crate::TestEnv;

/// What a streamed call answered: the status, the content type and the body's lines.
struct Streamed {
    status: StatusCode,
    content_type: String,
    lines: Vec<Value>,
    text: String,
}

impl TestEnv {
    async fn stream(&self, id: &str, method: &str, input: Value) -> Streamed {
        let response = self
            .request(
                Method::POST,
                &format!("/v1/accounts/acme/connectors/{id}/methods/{method}"),
            )
            .header("Accept", "application/x-ndjson")
            .json(&input)
            .send()
            .await
            .expect("send");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.expect("body");
        let lines = if content_type == "application/x-ndjson" {
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "lines end: {text:?}"
            );
            text.lines()
                .map(|line| serde_json::from_str(line).expect("each line is JSON"))
                .collect()
        } else {
            Vec::new()
        };
        Streamed {
            status,
            content_type,
            lines,
            text,
        }
    }

    async fn seed_contacts(&self, contacts: usize) {
        let seeded = self
            .sim_json(
                Method::POST,
                "/_sim/seed",
                Some(json!({"companies": 10, "contacts": contacts})),
            )
            .await;
        assert_eq!(seeded["counts"]["contacts"], contacts, "{seeded}");
    }
}

fn ids(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| {
            r["id"]
                .as_str()
                .unwrap_or_else(|| panic!("a record with an id: {r}"))
                .parse()
                .expect("numeric id")
        })
        .collect()
}

#[tokio::test]
async fn contacts_list_all_streams_one_record_a_line() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.seed_contacts(3_000).await;
    for email in ["stream-1@example.com", "stream-2@example.com"] {
        let (status, body) = env
            .method(&id, "contacts.create", json!({"fields": {"email": email}}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let streamed = env
        .stream(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(streamed.status, StatusCode::OK, "{}", streamed.text);
    assert_eq!(streamed.content_type, "application/x-ndjson");
    assert_eq!(streamed.lines.len(), 3_002, "every record, one a line");
    assert!(
        streamed.lines.iter().all(|r| r["properties"].is_object()),
        "each line a record"
    );
    let streamed_ids = ids(&streamed.lines);
    let unique: BTreeSet<u64> = streamed_ids.iter().copied().collect();
    assert_eq!(unique.len(), streamed_ids.len(), "no record twice");
    assert!(streamed_ids.windows(2).all(|w| w[0] < w[1]), "in id order");

    // The same walk collected: one JSON document with the same records.
    let (status, collected) = env
        .method(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(collected["data"].as_array().expect("data")),
        streamed_ids
    );

    // Without `paging.all` (or without the Accept header) the answer is JSON as before.
    let page = env
        .stream(&id, "contacts.list", json!({"paging": {"limit": 5}}))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.content_type.starts_with("application/json"),
        "{}",
        page.content_type
    );
    let page: Value = serde_json::from_str(&page.text).expect("json");
    assert_eq!(page["data"].as_array().expect("page").len(), 5);
    assert!(page["paging"]["next"].is_string(), "{page}");

    // `paging.after` is where the stream starts.
    let after = page["paging"]["next"].as_str().expect("next");
    let rest = env
        .stream(
            &id,
            "contacts.list",
            json!({"paging": {"all": true, "after": after}}),
        )
        .await;
    assert_eq!(rest.lines.len(), 3_002 - 5);
    assert_eq!(ids(&rest.lines), streamed_ids[5..]);
}

#[tokio::test]
async fn a_list_new_window_streams_every_record_once() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    let start = spokes_core::SystemClock.now_ms() - 60_000;
    // One seed call gives its records one creation time: the window pages them by id.
    env.seed_contacts(3_000).await;
    let (status, late) = env
        .method(
            &id,
            "contacts.create",
            json!({"fields": {"email": "late@example.com"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{late}");

    let streamed = env
        .stream(
            &id,
            "contacts.list_new",
            json!({"parameters": {"since": start.to_string()}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(streamed.status, StatusCode::OK, "{}", streamed.text);
    assert_eq!(streamed.content_type, "application/x-ndjson");
    let streamed_ids = ids(&streamed.lines);
    assert_eq!(streamed_ids.len(), 3_001, "every record once");
    let unique: BTreeSet<u64> = streamed_ids.iter().copied().collect();
    assert_eq!(unique.len(), streamed_ids.len(), "no record twice");
    assert!(
        streamed_ids[..3_000].windows(2).all(|w| w[0] < w[1]),
        "ties by id"
    );
    assert_eq!(
        streamed_ids[3_000].to_string(),
        late["data"]["id"].as_str().expect("id"),
        "the newest last"
    );

    // A bad `since` is found before anything is streamed: the usual error answer.
    let bad = env
        .stream(
            &id,
            "contacts.list_new",
            json!({"parameters": {"since": "last week"}, "paging": {"all": true}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let bad: Value = serde_json::from_str(&bad.text).expect("json error");
    assert_eq!(bad["error"]["code"], "invalid_parameters");
}

#[tokio::test]
async fn an_error_mid_stream_is_the_last_line_and_one_before_it_the_usual_answer() {
    let env = TestEnv::start().await;
    let id = env.connected().await;
    env.seed_contacts(1_000).await;
    let path = "/crm/objects/2026-03/contacts";

    // HubSpot is down from the start: nothing streamed, the usual error answer.
    env.sim_json(
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": path, "method": "GET", "fault": {"status": 503}, "count": 3})),
    )
    .await;
    let early = env
        .stream(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(
        early.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        early.text
    );
    assert!(early.content_type.starts_with("application/json"));
    let early: Value = serde_json::from_str(&early.text).expect("json error");
    assert_eq!(early["error"]["code"], "hubspot_unavailable");

    // Two pages arrive, then HubSpot fails for good (every retry of the third page too).
    env.sim_json(Method::DELETE, "/_sim/faults", None).await;
    env.sim_json(
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": path, "method": "GET", "fault": {"latency_ms": 1}, "count": 2})),
    )
    .await;
    env.sim_json(
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": path, "method": "GET", "fault": {"status": 503}})),
    )
    .await;
    let late = env
        .stream(&id, "contacts.list", json!({"paging": {"all": true}}))
        .await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.text);
    assert_eq!(late.content_type, "application/x-ndjson");
    let (last, records) = late.lines.split_last().expect("lines");
    assert_eq!(records.len(), 200, "the first two pages");
    assert_eq!(ids(records).len(), 200);
    assert_eq!(last["error"]["code"], "hubspot_unavailable", "{last}");
    assert!(
        last["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{last}"
    );
}
