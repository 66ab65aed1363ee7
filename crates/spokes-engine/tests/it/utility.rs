//! The utility connectors through `Utilities::call`, on a real store; the HTTP utility against
//! local listeners that answer, so a request the guard should have stopped shows up as a hit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{self, any};
use serde_json::{Map, Value, json};
use spokes_core::Account;
use spokes_engine::{Utilities, UtilityConfig, UtilityError, UtilityScope};

use crate::support::{Harness, T0};

/// A local HTTP server counting every request it answers.
struct Target {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Target {
    async fn start(bind: &str) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/hello", routing::get(hello))
            .route("/echo", any(echo))
            .route("/redirect", routing::get(redirect))
            .route("/status/{code}", routing::get(status))
            .route("/big", routing::get(|| async { "x".repeat(10_000) }))
            .route("/text", routing::get(|| async { "plain words" }))
            .route("/empty", routing::get(|| async { StatusCode::NO_CONTENT }))
            .layer(axum::middleware::from_fn_with_state(hits.clone(), count))
            .with_state(());
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }
}

async fn count(
    State(hits): State<Arc<AtomicUsize>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    hits.fetch_add(1, Ordering::SeqCst);
    next.run(request).await
}

async fn hello() -> impl IntoResponse {
    (
        [(header::ETAG, "\"v1\""), (header::SET_COOKIE, "s=1")],
        axum::Json(json!({"hello": "world"})),
    )
}

async fn echo(
    method: axum::http::Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> axum::Json<Value> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    axum::Json(json!({
        "method": method.as_str(),
        "query": query,
        "token": header("x-token"),
        "content_type": header("content-type"),
        "body": body,
    }))
}

async fn redirect() -> impl IntoResponse {
    (StatusCode::FOUND, [(header::LOCATION, "/hello")])
}

async fn status(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

fn config(allowed_hosts: &[&str], allow_private: &[&str]) -> UtilityConfig {
    UtilityConfig {
        http_allowed_hosts: allowed_hosts.iter().map(|s| s.to_string()).collect(),
        http_allow_private: allow_private.iter().map(|s| s.to_string()).collect(),
        http_timeout: Duration::from_secs(5),
        http_max_response_bytes: 4096,
    }
}

async fn utilities(h: &Harness, config: UtilityConfig) -> Utilities {
    let account = Account {
        id: "acme".to_owned(),
        name: "Acme".to_owned(),
        timezone: None,
        created_at: T0,
        updated_at: T0,
    };
    if h.store.get_account("acme").await.unwrap().is_none() {
        h.store.create_account(&account).await.unwrap();
    }
    Utilities::new(h.store.clone(), Arc::new(h.clock.clone()), config)
}

fn scope(cycle_id: &str) -> UtilityScope {
    UtilityScope {
        account_id: "acme".to_owned(),
        cycle_id: cycle_id.to_owned(),
    }
}

fn params(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("parameters are an object"),
    }
}

async fn call(u: &Utilities, method: &str, p: Value) -> Result<Value, UtilityError> {
    u.call(&scope("cyc_1"), method, &params(p)).await
}

async fn get(u: &Utilities, url: String) -> Result<Value, UtilityError> {
    call(u, "http.request", json!({"method": "GET", "url": url})).await
}

#[track_caller]
fn assert_refused(result: Result<Value, UtilityError>, code: &str) {
    let error = result.expect_err("the request should be refused");
    assert_eq!(error.code, code, "{error}");
    assert!(!error.transient, "{error}");
}

// --- http.request: the SSRF guard

#[tokio::test]
async fn loopback_addresses_are_refused_before_any_connection() {
    let h = Harness::new().await;
    let v4 = Target::start("127.0.0.1:0").await;
    let v6 = Target::start("[::1]:0").await;
    let u = utilities(&h, config(&[], &[])).await;
    let (p4, p6) = (v4.port(), v6.port());
    let urls = [
        format!("http://127.0.0.1:{p4}/hello"),
        // Other spellings of 127.0.0.1 parse to the same address.
        format!("http://127.1:{p4}/hello"),
        format!("http://2130706433:{p4}/hello"),
        format!("http://[::ffff:127.0.0.1]:{p4}/hello"),
        format!("http://[::1]:{p6}/hello"),
    ];
    // Every URL is tried, so a failure names each one that got through.
    let mut not_refused = Vec::new();
    for url in urls {
        match get(&u, url.clone()).await {
            Err(e) if e.code == "private_address" && !e.transient => {}
            other => not_refused.push(format!("{url}: {other:?}")),
        }
    }
    assert!(not_refused.is_empty(), "{not_refused:#?}");
    assert_eq!((v4.hits(), v6.hits()), (0, 0));
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_after_resolution() {
    let h = Harness::new().await;
    let target = Target::start("127.0.0.1:0").await;
    let u = utilities(&h, config(&[], &[])).await;
    let port = target.port();
    let error = get(&u, format!("http://localhost:{port}/hello"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "private_address", "{error}");
    assert!(error.message.contains("localhost resolves to"), "{error}");
    assert_refused(
        get(&u, format!("http://LocalHost:{port}/hello")).await,
        "private_address",
    );
    assert_eq!(target.hits(), 0);
}

#[tokio::test]
async fn the_cloud_metadata_address_is_refused() {
    let h = Harness::new().await;
    let u = utilities(&h, config(&[], &[])).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fe80::1]/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ] {
        assert_refused(get(&u, url.to_owned()).await, "private_address");
    }
}

#[tokio::test]
async fn allow_private_lets_requests_reach_the_listed_addresses_and_names() {
    let h = Harness::new().await;
    let v4 = Target::start("127.0.0.1:0").await;
    let v6 = Target::start("[::1]:0").await;
    let u = utilities(&h, config(&[], &["127.0.0.1/32", "::1"])).await;

    let answer = get(&u, format!("http://127.0.0.1:{}/hello", v4.port()))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], json!({"hello": "world"}));
    assert_eq!(answer["headers"]["etag"], "\"v1\"");
    assert_eq!(answer["headers"]["content-type"], "application/json");
    // Cookies are not answered.
    assert!(answer["headers"].get("set-cookie").is_none());
    assert_eq!(v4.hits(), 1);

    let answer = get(&u, format!("http://[::1]:{}/hello", v6.port()))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200);
    assert_eq!(v6.hits(), 1);

    // 127.0.0.2 is not listed.
    assert_refused(
        get(&u, format!("http://127.0.0.2:{}/hello", v4.port())).await,
        "private_address",
    );

    // A name allowed to resolve to private addresses.
    let u = utilities(&h, config(&[], &["localhost"])).await;
    let answer = get(&u, format!("http://localhost:{}/hello", v4.port()))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200);
    assert_eq!(v4.hits(), 2);
}

#[tokio::test]
async fn hosts_off_the_allow_list_are_refused() {
    let h = Harness::new().await;
    let target = Target::start("127.0.0.1:0").await;
    let u = utilities(
        &h,
        config(
            &["api.example.com", "*.hooks.example.org"],
            &["127.0.0.1/32"],
        ),
    )
    .await;
    let port = target.port();
    assert_refused(
        get(&u, format!("http://127.0.0.1:{port}/hello")).await,
        "host_not_allowed",
    );
    assert_refused(
        get(&u, format!("http://localhost:{port}/hello")).await,
        "host_not_allowed",
    );
    assert_refused(
        get(&u, "https://hooks.example.org/x".to_owned()).await,
        "host_not_allowed",
    );
    assert_eq!(target.hits(), 0);

    // The listed host itself passes the list (and is then resolved as usual).
    let u = utilities(&h, config(&["127.0.0.1"], &["127.0.0.1/32"])).await;
    let answer = get(&u, format!("http://127.0.0.1:{port}/hello"))
        .await
        .unwrap();
    assert_eq!(answer["status"], 200);
}

#[tokio::test]
async fn redirects_are_answered_not_followed() {
    let h = Harness::new().await;
    let target = Target::start("127.0.0.1:0").await;
    let u = utilities(&h, config(&[], &["127.0.0.1/32"])).await;
    let answer = get(&u, format!("http://127.0.0.1:{}/redirect", target.port()))
        .await
        .unwrap();
    assert_eq!(answer["status"], 302);
    assert_eq!(answer["headers"]["location"], "/hello");
    assert_eq!(answer["body"], Value::Null);
    // Only the redirect itself was requested.
    assert_eq!(target.hits(), 1);
}

// --- http.request: requests and answers

#[tokio::test]
async fn requests_carry_method_headers_query_and_a_json_body() {
    let h = Harness::new().await;
    let target = Target::start("127.0.0.1:0").await;
    let u = utilities(&h, config(&[], &["127.0.0.1/32"])).await;
    let answer = call(
        &u,
        "http.request",
        json!({
            "method": "patch",
            "url": format!("http://127.0.0.1:{}/echo?keep=1", target.port()),
            "headers": {"X-Token": "s3cret"},
            "query": {"a": 1, "b": ["x", "y z"], "c": true, "skip": null},
            "body": {"n": 1, "list": [true]},
        }),
    )
    .await
    .unwrap();
    assert_eq!(answer["status"], 200);
    let echo = &answer["body"];
    assert_eq!(echo["method"], "PATCH");
    assert_eq!(echo["query"], "keep=1&a=1&b=x&b=y+z&c=true");
    assert_eq!(echo["token"], "s3cret");
    assert_eq!(echo["content_type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(echo["body"].as_str().unwrap()).unwrap(),
        json!({"n": 1, "list": [true]})
    );

    let text = get(&u, format!("http://127.0.0.1:{}/text", target.port()))
        .await
        .unwrap();
    assert_eq!(text["body"], "plain words");
    let empty = get(&u, format!("http://127.0.0.1:{}/empty", target.port()))
        .await
        .unwrap();
    assert_eq!(empty["status"], 204);
    assert_eq!(empty["body"], Value::Null);
}

#[tokio::test]
async fn error_answers_and_failures_say_whether_to_retry() {
    let h = Harness::new().await;
    let target = Target::start("127.0.0.1:0").await;
    let u = utilities(&h, config(&[], &["127.0.0.1/32"])).await;
    let port = target.port();
    for (code, transient) in [
        (500, true),
        (503, true),
        (429, true),
        (404, false),
        (400, false),
    ] {
        let error = get(
            &u,
            format!("http://127.0.0.1:{port}/status/{code}?token=s3cret"),
        )
        .await
        .unwrap_err();
        assert_eq!(error.code, "http_error");
        assert_eq!(error.transient, transient, "{error}");
        assert!(error.message.contains(&code.to_string()), "{error}");
        // The URL (which may hold a credential) is not repeated.
        assert!(!error.message.contains("s3cret"), "{error}");
    }

    assert_refused(
        get(&u, format!("http://127.0.0.1:{port}/big")).await,
        "response_too_large",
    );

    // Nothing listens on a freed port: a network error, worth a retry.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let error = get(&u, format!("http://127.0.0.1:{closed_port}/?key=s3cret"))
        .await
        .unwrap_err();
    assert_eq!(error.code, "network_error", "{error}");
    assert!(error.transient);
    assert!(!error.message.contains("s3cret"), "{error}");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let h = Harness::new().await;
    let u = utilities(&h, config(&[], &[])).await;
    let cases = [
        json!({"method": "GET", "url": "ftp://example.com/file"}),
        json!({"method": "GET", "url": "file:///etc/passwd"}),
        json!({"method": "GET", "url": "not a url"}),
        json!({"method": "TRACE", "url": "https://example.com/"}),
        json!({"method": "GET", "url": "https://user:pw@example.com/"}),
        json!({"method": "GET"}),
        json!({"method": "GET", "url": "https://example.com/", "extra": 1}),
        json!({"method": "GET", "url": "https://example.com/", "headers": {"Host": "x"}}),
        json!({"method": "GET", "url": "https://example.com/", "headers": {"X-N": 1}}),
        json!({"method": "GET", "url": "https://example.com/", "query": {"a": {"b": 1}}}),
        json!({"method": 1, "url": "https://example.com/"}),
    ];
    for case in cases {
        let error = call(&u, "http.request", case.clone()).await.unwrap_err();
        assert_eq!(error.code, "invalid_parameters", "{case}: {error}");
        assert!(!error.message.contains("pw"), "{error}");
    }
    let error = call(&u, "http.teleport", json!({})).await.unwrap_err();
    assert_eq!(error.code, "unknown_method");
}

// --- storage

#[tokio::test]
async fn storage_values_and_objects_per_cycle_and_per_account() {
    let h = Harness::new().await;
    let u = utilities(&h, UtilityConfig::default()).await;
    let set = call(
        &u,
        "storage.set",
        json!({"key": "last_sync", "value": "2026-01-01"}),
    )
    .await
    .unwrap();
    assert_eq!(set, json!({"key": "last_sync", "created": true}));
    let set = call(&u, "storage.set", json!({"key": "last_sync", "value": 42}))
        .await
        .unwrap();
    assert_eq!(set["created"], false);
    assert_eq!(
        call(&u, "storage.get", json!({"key": "last_sync"}))
            .await
            .unwrap(),
        json!({"key": "last_sync", "value": "42"})
    );
    // Another cycle, and the account's store, do not see the cycle's key.
    let other = u
        .call(
            &scope("cyc_2"),
            "storage.get",
            &params(json!({"key": "last_sync"})),
        )
        .await
        .unwrap();
    assert_eq!(other["value"], Value::Null);
    let account = call(
        &u,
        "storage.get",
        json!({"key": "last_sync", "scope": "account"}),
    )
    .await
    .unwrap();
    assert_eq!(account["value"], Value::Null);
    // The account's store is shared by the cycles.
    call(
        &u,
        "storage.set",
        json!({"key": "k", "value": "shared", "scope": "account"}),
    )
    .await
    .unwrap();
    let seen = u
        .call(
            &scope("cyc_2"),
            "storage.get",
            &params(json!({"key": "k", "scope": "account"})),
        )
        .await
        .unwrap();
    assert_eq!(seen["value"], "shared");

    // Objects are a store of their own.
    let object = json!({"email": "a@example.com", "score": 3});
    call(
        &u,
        "storage.set_object",
        json!({"key": "last_sync", "object": object}),
    )
    .await
    .unwrap();
    assert_eq!(
        call(&u, "storage.get_object", json!({"key": "last_sync"}))
            .await
            .unwrap()["object"],
        object
    );
    assert_eq!(
        call(&u, "storage.get", json!({"key": "last_sync"}))
            .await
            .unwrap()["value"],
        "42"
    );
    assert_eq!(
        call(&u, "storage.delete_object", json!({"key": "last_sync"}))
            .await
            .unwrap()["deleted"],
        true
    );
    assert_eq!(
        call(&u, "storage.get_object", json!({"key": "last_sync"}))
            .await
            .unwrap()["object"],
        Value::Null
    );
    assert_eq!(
        call(&u, "storage.delete", json!({"key": "last_sync"}))
            .await
            .unwrap()["deleted"],
        true
    );
    assert_eq!(
        call(&u, "storage.delete", json!({"key": "last_sync"}))
            .await
            .unwrap()["deleted"],
        false
    );
}

#[tokio::test]
async fn storage_lists_objects_in_pages() {
    let h = Harness::new().await;
    let u = utilities(&h, UtilityConfig::default()).await;
    for i in 0..5 {
        call(
            &u,
            "storage.set_object",
            json!({"key": format!("contact:{i}"), "object": {"i": i}}),
        )
        .await
        .unwrap();
    }
    call(
        &u,
        "storage.set_object",
        json!({"key": "deal:1", "object": {}}),
    )
    .await
    .unwrap();
    let page = call(
        &u,
        "storage.list_objects",
        json!({"prefix": "contact:", "limit": 2}),
    )
    .await
    .unwrap();
    assert_eq!(
        page,
        json!({"items": [
            {"key": "contact:0", "object": {"i": 0}},
            {"key": "contact:1", "object": {"i": 1}},
        ], "next_after": "contact:1"})
    );
    let mut keys = vec![];
    let mut after = Value::Null;
    loop {
        let page = call(
            &u,
            "storage.list_objects",
            json!({"prefix": "contact:", "limit": 2, "after": after}),
        )
        .await
        .unwrap();
        for item in page["items"].as_array().unwrap() {
            keys.push(item["key"].as_str().unwrap().to_owned());
        }
        after = page["next_after"].clone();
        if after.is_null() {
            break;
        }
    }
    assert_eq!(keys.len(), 5);
    let all = call(&u, "storage.list_objects", json!({})).await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 6);
    assert_eq!(all["next_after"], Value::Null);
    let error = call(&u, "storage.list_objects", json!({"limit": 0}))
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_parameters");
}

#[tokio::test]
async fn storage_limits_are_enforced() {
    let h = Harness::new().await;
    let u = utilities(&h, UtilityConfig::default())
        .await
        .with_storage_limit(2);
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(1025);
    for (method, p) in [
        ("storage.set", json!({"key": long_key, "value": "v"})),
        ("storage.set", json!({"key": "", "value": "v"})),
        ("storage.set", json!({"key": "k", "value": long_value})),
        ("storage.set", json!({"key": "k", "value": {"not": "text"}})),
        (
            "storage.set",
            json!({"key": "k", "value": "v", "scope": "global"}),
        ),
        (
            "storage.set_object",
            json!({"key": "k", "object": {"text": "v".repeat(1020)}}),
        ),
        ("storage.set_object", json!({"key": "k", "object": [1]})),
        ("storage.get", json!({})),
    ] {
        let error = call(&u, method, p.clone()).await.unwrap_err();
        assert_eq!(error.code, "invalid_parameters", "{method} {p}: {error}");
    }
    // Exactly at the limits is fine.
    call(
        &u,
        "storage.set",
        json!({"key": "é".repeat(128), "value": "ü".repeat(1024)}),
    )
    .await
    .unwrap();
    call(&u, "storage.set", json!({"key": "b", "value": "v"}))
        .await
        .unwrap();
    let error = call(&u, "storage.set", json!({"key": "c", "value": "v"}))
        .await
        .unwrap_err();
    assert_eq!(error.code, "limit_reached", "{error}");
    assert!(!error.transient);
    // Replacing a value at the limit is fine; the objects store has its own count.
    call(&u, "storage.set", json!({"key": "b", "value": "w"}))
        .await
        .unwrap();
    call(&u, "storage.set_object", json!({"key": "c", "object": {}}))
        .await
        .unwrap();
}

// --- the cross-update preventer

#[tokio::test]
async fn the_preventer_skips_the_echo_of_a_write_once() {
    let h = Harness::new().await;
    let u = utilities(&h, UtilityConfig::default()).await;
    // Cycle A→B wrote contact 101 in HubSpot.
    let marked = u
        .call(
            &scope("a_to_b"),
            "preventer.mark",
            &params(json!({"system": "hubspot", "record_id": 101})),
        )
        .await
        .unwrap();
    assert_eq!(marked["record_id"], "101");
    let check = |consume: Option<bool>| {
        let mut p = json!({"system": "hubspot", "record_id": "101"});
        if let Some(consume) = consume {
            p["consume"] = json!(consume);
        }
        let u = &u;
        async move {
            u.call(&scope("b_to_a"), "preventer.check", &params(p))
                .await
                .unwrap()["recently_written"]
                .as_bool()
                .unwrap()
        }
    };
    // Cycle B→A sees the echo (a peek first), skips it, and then syncs the next change.
    assert!(check(Some(false)).await);
    assert!(check(None).await);
    assert!(!check(None).await);

    // A mark whose echo never came expires after its TTL.
    call(
        &u,
        "preventer.mark",
        json!({"system": "hubspot", "record_id": "101", "ttl_minutes": 5}),
    )
    .await
    .unwrap();
    h.clock.advance_secs(5 * 60);
    assert!(!check(Some(false)).await);

    let error = call(
        &u,
        "preventer.mark",
        json!({"system": "hubspot", "record_id": "1", "ttl_minutes": 0}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, "invalid_parameters");
}

// --- entity cross references

#[tokio::test]
async fn cross_references_are_looked_up_from_either_side() {
    let h = Harness::new().await;
    let u = utilities(&h, UtilityConfig::default()).await;
    let set = call(
        &u,
        "xref.set",
        json!({"left_system": "hubspot", "left_id": 101, "right_system": "crm", "right_id": "C-9"}),
    )
    .await
    .unwrap();
    assert_eq!(set["left"], json!({"system": "hubspot", "id": "101"}));
    assert_eq!(
        call(&u, "xref.lookup", json!({"system": "crm", "id": "C-9"}))
            .await
            .unwrap(),
        json!({"matches": [{"system": "hubspot", "id": "101"}]})
    );
    assert_eq!(
        call(
            &u,
            "xref.lookup",
            json!({"system": "hubspot", "id": "101", "other_system": "erp"})
        )
        .await
        .unwrap(),
        json!({"matches": null})
    );
    // Per account: another account sees nothing.
    let other = UtilityScope {
        account_id: "other".to_owned(),
        cycle_id: "cyc_1".to_owned(),
    };
    let seen = u
        .call(
            &other,
            "xref.lookup",
            &params(json!({"system": "crm", "id": "C-9"})),
        )
        .await
        .unwrap();
    assert_eq!(seen["matches"], Value::Null);

    assert_eq!(
        call(&u, "xref.delete", json!({"system": "hubspot", "id": "101"}))
            .await
            .unwrap(),
        json!({"deleted": 1})
    );
    assert_eq!(
        call(&u, "xref.lookup", json!({"system": "crm", "id": "C-9"}))
            .await
            .unwrap()["matches"],
        Value::Null
    );
    let error = call(
        &u,
        "xref.set",
        json!({"left_system": "crm", "left_id": "1", "right_system": "crm", "right_id": "1"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, "invalid_parameters");
    // Writing for an account that does not exist.
    let error = u
        .call(
            &other,
            "xref.set",
            &params(
                json!({"left_system": "a", "left_id": "1", "right_system": "b", "right_id": "2"}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "not_found", "{error}");
}

#[test]
fn the_methods_describe_their_parameters() {
    let methods = Utilities::methods();
    let http = methods.iter().find(|m| m.id == "http.request").unwrap();
    assert!(http.writes);
    let url = http.params.iter().find(|p| p.name == "url").unwrap();
    assert!(url.required);
    assert_eq!(url.json_type.map(|t| t.as_str()), Some("string"));
    let get = Utilities::method("storage.get").unwrap();
    assert!(!get.writes);
    for id in [
        "storage.set",
        "storage.delete",
        "storage.set_object",
        "storage.get_object",
        "storage.delete_object",
        "storage.list_objects",
        "preventer.mark",
        "preventer.check",
        "xref.set",
        "xref.lookup",
        "xref.delete",
    ] {
        assert!(Utilities::method(id).is_some(), "{id}");
    }
}
