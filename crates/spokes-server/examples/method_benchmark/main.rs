//! What Spokes' method layer costs over calling HubSpot directly: a real spokes-server and a
//! real hubspot-sim in this process on 127.0.0.1, the simulator's rate limits off, every
//! figure printed as a ratio to the same call sent straight to the simulator in this run.
//!
//! ```sh
//! cargo run --release -p spokes-server --example method_benchmark
//! cargo run --release -p spokes-server --example method_benchmark -- --calls 5000 --contacts 100000
//! cargo run --release -p spokes-server --example method_benchmark -- --mcp-only
//! ```
//!
//! Prints: `contacts.get` p50/p99 latency (one caller) and calls/s (8 callers) through Spokes
//! and direct; `contacts.list` with `paging.all` over `--contacts` seeded contacts in records/s
//! through Spokes and direct (pages of 100), with the process's resident memory before and
//! after, for 10,000 and for all contacts; and the same list streamed as NDJSON
//! (`Accept: application/x-ndjson`, each line parsed as the direct pages are) for 10,000 and
//! for all contacts, in records/s and the resident memory's growth while it streams; and
//! `contacts.get` as an MCP tool call against the same call through the REST API (one
//! caller's p50/p99, then calls/s of 20 concurrent clients each way).

mod mcp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hubspot_sim::SimConfig;
use serde_json::{Value, json};
use spokes_core::{ApiKey, ExposeSecret, SystemClock};
use spokes_server::{AppState, ServerConfig};
use spokes_store::testing::{TempDir, test_key_ring};
use tokio::net::TcpListener;

struct Options {
    calls: usize,
    contacts: usize,
    seconds: u64,
    /// Length of the run against HubSpot's budget (0: skipped).
    saturate: u64,
    /// Only the MCP comparison.
    mcp_only: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        calls: 2_000,
        contacts: 100_000,
        seconds: 5,
        saturate: 60,
        mcp_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let v = args
                .next()
                .ok_or_else(|| format!("{name} needs a number"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match arg.as_str() {
            "--calls" => o.calls = number("--calls")?,
            "--contacts" => o.contacts = number("--contacts")?,
            "--seconds" => o.seconds = number("--seconds")? as u64,
            "--saturate" => o.saturate = number("--saturate")? as u64,
            "--mcp-only" => o.mcp_only = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// Resident and peak memory of this process, MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A Spokes server and a simulator, connected: the base URLs, the partner key, the
/// installation, and the access token Spokes holds (to call the simulator directly).
struct Setup {
    spokes: String,
    sim: String,
    key: String,
    installation: String,
    token: String,
    http: reqwest::Client,
    store: Arc<dyn spokes_store::Store>,
    _dir: TempDir,
}

/// A Spokes server on `listener` over `store`, calling HubSpot as `hubspot` says.
fn start_spokes(
    listener: TcpListener,
    store: Arc<dyn spokes_store::Store>,
    hubspot: spokes_hubspot::HubSpotConfig,
) {
    let public_url = format!("http://{}", listener.local_addr().expect("addr"));
    let config = ServerConfig::local(public_url, hubspot, spokes_core::Secret::from("bench"));
    let state = AppState::new(config, store, Arc::new(SystemClock));
    tokio::spawn(spokes_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
}

async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

async fn setup() -> Setup {
    let dir = TempDir::new("spokes-bench");
    let store = spokes_store::connect(
        &spokes_store::sqlite_url(&dir.path().join("spokes.db")),
        test_key_ring(),
    )
    .await
    .expect("store");
    let (listener, spokes) = bind().await;
    let (sim_listener, _) = bind().await;
    let sim = hubspot_sim::start(
        sim_listener,
        SimConfig {
            sandbox_redirect_urls: vec![format!("{spokes}/connector/callback")],
            ..SimConfig::default()
        },
    )
    .await
    .expect("sim");
    let http = spokes_core::http::build_client(Duration::from_secs(60));
    http.patch(format!("{}/_sim/config", sim.base_url))
        .json(&json!({"rate_limit_per_10s": 0, "search_rate_limit_per_sec": 0}))
        .send()
        .await
        .expect("limits off");
    let mut hubspot = spokes_hubspot::HubSpotConfig::pointing_at(&sim.base_url);
    // The simulator's limits are off: so is Spokes' budget, to measure the layer itself.
    hubspot.rate_limit_per_10s = 1_000_000;
    hubspot.search_per_second = 1_000_000;
    start_spokes(listener, store.clone(), hubspot);

    let (key, hash) = spokes_server::new_api_key();
    store
        .create_api_key(&ApiKey {
            id: "key_bench".into(),
            name: "bench".into(),
            key_hash: hash,
            account_id: None,
            read_only: false,
            confirm_writes: true,
            created_at: 0,
            revoked_at: None,
        })
        .await
        .expect("key");
    let api = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{spokes}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let app = &sim.sandbox_app;
    api(
        reqwest::Method::PUT,
        "/v1/connectors/hubspot/setup",
        json!({"client_id": app.client_id, "client_secret": app.client_secret}),
    )
    .await
    .expect("setup");
    api(
        reqwest::Method::POST,
        "/v1/accounts",
        json!({"id": "acme", "name": "Acme"}),
    )
    .await
    .expect("account");
    let installation: Value = api(
        reqwest::Method::POST,
        "/v1/accounts/acme/connectors",
        json!({"connector": "hubspot"}),
    )
    .await
    .expect("install")
    .json()
    .await
    .expect("json");
    let installation = installation["id"].as_str().expect("id").to_string();
    let link: Value = api(
        reqwest::Method::POST,
        &format!("/v1/accounts/acme/connectors/{installation}/auth-link"),
        json!({}),
    )
    .await
    .expect("link")
    .json()
    .await
    .expect("json");
    let link = link["url"].as_str().expect("url");
    let token = link.rsplit('/').next().expect("token");
    let to_hubspot = http
        .post(link)
        .form(&[("token", token)])
        .send()
        .await
        .expect("continue");
    let authorize = to_hubspot.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let portal = hubspot_sim::portals::ACME_INC;
    let decided = http
        .post(format!("{}/oauth/authorize", sim.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "{}&portal_id={portal}&decision=allow",
            authorize.split_once('?').expect("query").1
        ))
        .send()
        .await
        .expect("consent");
    let callback = decided.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    http.get(&callback).send().await.expect("callback");
    let tokens = store
        .get_tokens(&installation)
        .await
        .expect("tokens")
        .expect("connected");
    Setup {
        spokes,
        sim: sim.base_url.clone(),
        key,
        installation,
        token: tokens.access_token.expose_secret().to_string(),
        http,
        store,
        _dir: dir,
    }
}

impl Setup {
    fn method(&self, method: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/v1/accounts/acme/connectors/{}/methods/{method}",
                self.spokes, self.installation
            ))
            .bearer_auth(&self.key)
            .json(body)
    }

    fn direct(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.sim))
            .bearer_auth(&self.token)
    }
}

async fn latencies(calls: usize, send: impl Fn() -> reqwest::RequestBuilder) -> Vec<Duration> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let response = send().send().await.expect("call");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("body");
        times.push(started.elapsed());
    }
    times.sort();
    times
}

async fn throughput(
    seconds: u64,
    callers: usize,
    send: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
) -> f64 {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let send = send.clone();
        tasks.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let response = send().send().await.expect("call");
                assert!(response.status().is_success());
                response.bytes().await.expect("body");
                done += 1;
            }
            done
        });
    }
    let total: u64 = tasks.join_all().await.into_iter().sum();
    total as f64 / seconds as f64
}

/// Pages through `limit` contacts directly with `limit=100`; returns records/s.
async fn page_direct(setup: &Setup, count: usize) -> f64 {
    let started = Instant::now();
    let mut after: Option<String> = None;
    let mut seen = 0;
    while seen < count {
        let mut path = "/crm/objects/2026-03/contacts?limit=100".to_string();
        if let Some(after) = &after {
            path.push_str(&format!("&after={after}"));
        }
        let page: Value = setup
            .direct(&path)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        seen += page["results"].as_array().map_or(0, Vec::len);
        match page["paging"]["next"]["after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    seen as f64 / started.elapsed().as_secs_f64()
}

/// Streams `contacts.list` with `paging.all` as NDJSON and parses each line, up to `count`
/// records (then hangs up); returns the records, records/s and the growth of resident memory
/// while streaming (its highest sample above the value before), MiB.
async fn stream_ndjson(setup: &Setup, count: usize) -> (usize, f64, f64) {
    let (rss_before, _) = memory_mib();
    let mut highest = rss_before;
    let started = Instant::now();
    let mut response = setup
        .method("contacts.list", &json!({"paging": {"all": true}}))
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .expect("stream");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let mut seen = 0usize;
    let mut partial: Vec<u8> = Vec::new();
    let mut chunks = 0u64;
    while seen < count {
        let Some(chunk) = response.chunk().await.expect("chunk") else {
            break;
        };
        partial.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = partial[start..].iter().position(|b| *b == b'\n') {
            let record: Value =
                serde_json::from_slice(&partial[start..start + end]).expect("a JSON line");
            assert!(record.get("error").is_none(), "{record}");
            seen += 1;
            start += end + 1;
        }
        partial.drain(..start);
        chunks += 1;
        if chunks.is_multiple_of(16) {
            highest = highest.max(memory_mib().0);
        }
    }
    let seen = seen.min(count);
    let rate = seen as f64 / started.elapsed().as_secs_f64();
    highest = highest.max(memory_mib().0);
    (seen, rate, highest - rss_before)
}

/// `seconds` of `contacts.get` from 20 callers through a Spokes server with HubSpot's default
/// budget, the simulator enforcing 110 calls per 10 s: how much of the budget was used, and
/// how many 429s reached a caller or were sent by HubSpot.
async fn saturate(setup: &Setup, contact: &str, seconds: u64) {
    const CALLERS: usize = 20;
    const PER_10S: u64 = 110;
    let (listener, spokes) = bind().await;
    start_spokes(
        listener,
        setup.store.clone(),
        spokes_hubspot::HubSpotConfig::pointing_at(&setup.sim),
    );
    let sim_config = |limit: u64| {
        setup
            .http
            .patch(format!("{}/_sim/config", setup.sim))
            .json(&json!({ "rate_limit_per_10s": limit }))
            .send()
    };
    sim_config(PER_10S).await.expect("limit on");
    setup
        .http
        .post(format!("{}/_sim/limits/clear", setup.sim))
        .send()
        .await
        .expect("clear the windows");
    let url = format!(
        "{spokes}/v1/accounts/acme/connectors/{}/methods/contacts.get",
        setup.installation
    );
    let body = json!({"parameters": {"id": contact}});
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let request = setup.http.post(&url).bearer_auth(&setup.key).json(&body);
        callers.spawn(async move {
            let (mut ok, mut limited, mut other) = (0u64, 0u64, 0u64);
            // A call still waiting for budget when the time is up is not counted.
            while let Ok(sent) =
                tokio::time::timeout_at(until.into(), request.try_clone().expect("clone").send())
                    .await
            {
                match sent.expect("call").status().as_u16() {
                    200 => ok += 1,
                    429 => limited += 1,
                    _ => other += 1,
                }
            }
            (ok, limited, other)
        });
    }
    let (mut ok, mut limited, mut other) = (0, 0, 0);
    for (o, l, x) in callers.join_all().await {
        (ok, limited, other) = (ok + o, limited + l, other + x);
    }
    let limits: Value = setup
        .http
        .get(format!("{}/_sim/limits", setup.sim))
        .send()
        .await
        .expect("limits")
        .json()
        .await
        .expect("json");
    let refused: u64 = limits["refused"]
        .as_object()
        .map(|r| r.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    sim_config(0).await.expect("limit off");
    let budget = PER_10S * seconds / 10;
    println!(
        "contacts.get from {CALLERS} callers for {seconds} s, HubSpot at {PER_10S} per 10 s: {ok} answered of a budget of {budget} ({:.1} % used); 429s reaching a caller: {limited}; other failures: {other}; 429s sent by HubSpot: {refused}",
        ok as f64 / budget as f64 * 100.0
    );
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let setup = setup().await;
    let created: Value = setup
        .method(
            "contacts.create",
            &json!({"fields": {"email": "bench@example.com"}}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["data"]["id"].as_str().expect("id").to_string();
    let get_body = json!({"parameters": {"id": id}});
    let direct_path = format!("/crm/objects/2026-03/contacts/{id}");

    if options.mcp_only {
        mcp::run(&Arc::new(setup), &id, options.calls, options.seconds).await;
        return;
    }
    // Warm both paths (connections, caches).
    latencies(100, || setup.method("contacts.get", &get_body)).await;
    latencies(100, || setup.direct(&direct_path)).await;
    let via = latencies(options.calls, || setup.method("contacts.get", &get_body)).await;
    let direct = latencies(options.calls, || setup.direct(&direct_path)).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (v50, v99, d50, d99) = (
        percentile(&via, 0.5),
        percentile(&via, 0.99),
        percentile(&direct, 0.5),
        percentile(&direct, 0.99),
    );
    println!("contacts.get, one caller, {} calls:", options.calls);
    println!(
        "  p50 {:.3} ms via Spokes, {:.3} ms direct: overhead {:.3} ms ({:.2}x)",
        ms(v50),
        ms(d50),
        ms(v50) - ms(d50),
        ms(v50) / ms(d50)
    );
    println!(
        "  p99 {:.3} ms via Spokes, {:.3} ms direct: overhead {:.3} ms",
        ms(v99),
        ms(d99),
        ms(v99) - ms(d99)
    );

    let setup = Arc::new(setup);
    let (s, body) = (setup.clone(), get_body.clone());
    let via_rate = throughput(
        options.seconds,
        8,
        Arc::new(move || s.method("contacts.get", &body)),
    )
    .await;
    let (s, path) = (setup.clone(), direct_path.clone());
    let direct_rate = throughput(options.seconds, 8, Arc::new(move || s.direct(&path))).await;
    println!(
        "contacts.get, 8 callers, {} s: {:.0} calls/s via Spokes, {:.0} direct ({:.0} % of direct)",
        options.seconds,
        via_rate,
        direct_rate,
        via_rate / direct_rate * 100.0
    );

    mcp::run(&setup, &id, options.calls, options.seconds).await;

    if options.saturate > 0 {
        saturate(&setup, &id, options.saturate).await;
    }

    // Seed, then list everything both ways.
    let seeded: Value = setup
        .http
        .post(format!("{}/_sim/seed", setup.sim))
        .json(&json!({"companies": (options.contacts / 20).max(1), "contacts": options.contacts}))
        .send()
        .await
        .expect("seed")
        .json()
        .await
        .expect("json");
    let total = seeded["counts"]["contacts"].as_u64().unwrap_or(0) as usize + 1;
    // Streamed first: the collecting runs below leave the allocator holding freed memory
    // that a later stream would reuse without growing. Three rounds, each streamed then
    // direct, and the median of each (this machine is shared, single runs vary by ±20 %).
    for count in [10_000.min(total), total] {
        let (mut vias, mut directs, mut growth, mut seen) = (Vec::new(), Vec::new(), 0.0f64, 0);
        for _ in 0..3 {
            let (records, via, grew) = stream_ndjson(&setup, count).await;
            vias.push(via);
            directs.push(page_direct(&setup, count).await);
            growth = growth.max(grew);
            seen = records;
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (via, direct) = (median(&mut vias), median(&mut directs));
        println!(
            "contacts.list of {seen} contacts streamed (NDJSON, paging.all), median of 3: {via:.0} records/s via Spokes, {direct:.0} direct ({:.0} %); RSS +{growth:.1} MiB at most while streaming",
            via / direct * 100.0
        );
    }
    for count in [10_000.min(total), total] {
        let (rss_before, _) = memory_mib();
        let started = Instant::now();
        let mut seen = 0usize;
        let mut after: Option<String> = None;
        // `paging.all` for the whole list; for the 10,000 case, pages up to that many.
        if count == total {
            let body: Value = setup
                .method("contacts.list", &json!({"paging": {"all": true}}))
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            seen = body["data"].as_array().map_or(0, Vec::len);
        } else {
            while seen < count {
                let mut paging = json!({"limit": 100});
                if let Some(after) = &after {
                    paging["after"] = json!(after);
                }
                let body: Value = setup
                    .method("contacts.list", &json!({"paging": paging}))
                    .send()
                    .await
                    .expect("list")
                    .json()
                    .await
                    .expect("json");
                seen += body["data"].as_array().map_or(0, Vec::len);
                match body["paging"]["next"].as_str() {
                    Some(next) => after = Some(next.to_string()),
                    None => break,
                }
            }
        }
        let via = seen as f64 / started.elapsed().as_secs_f64();
        let (rss_after, peak) = memory_mib();
        let direct = page_direct(&setup, count).await;
        println!(
            "contacts.list of {seen} contacts{}: {via:.0} records/s via Spokes, {direct:.0} direct ({:.0} %); RSS {rss_before:.0} → {rss_after:.0} MiB (peak {peak:.0})",
            if count == total {
                " with paging.all"
            } else {
                ", page by page"
            },
            via / direct * 100.0
        );
    }
}
