//! How fast Spokes acknowledges HubSpot's webhook deliveries: a real spokes-server on
//! 127.0.0.1, concurrent senders POSTing signed batches of events (as HubSpot does, up to 100
//! a request) to `/api/partnerwebhook/hubspot` for a while; each acknowledged event has been
//! checked, written to the inbox once and queued as a job. The server's worker routes the
//! queued events meanwhile, as it would in production.
//!
//! ```sh
//! cargo run --release -p spokes-server --example webhook_benchmark
//! SPOKES_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p spokes-server --example webhook_benchmark
//! cargo run --release -p spokes-server --example webhook_benchmark -- --seconds 10 --senders 20 --batch 100
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use spokes_core::{Clock, ConnectorSetup, Secret, SystemClock};
use spokes_server::{AppState, ServerConfig};
use spokes_store::testing::{TempDir, test_database_url, test_key_ring};

const SECRET: &str = "benchmark-app-secret";

struct Options {
    seconds: u64,
    senders: usize,
    batch: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 10,
        senders: 20,
        batch: 100,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a number"))?;
        let number: usize = value
            .parse()
            .map_err(|_| format!("{arg}: not a number: {value}"))?;
        match arg.as_str() {
            "--seconds" => o.seconds = number as u64,
            "--senders" => o.senders = number,
            "--batch" => o.batch = number.clamp(1, 100),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
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
    let dir = TempDir::new("spokes-webhook-bench");
    let database_url = test_database_url(dir.path()).await;
    let store = spokes_store::connect(&database_url, test_key_ring())
        .await
        .expect("store");
    store
        .put_connector_setup(&ConnectorSetup {
            connector: "hubspot".into(),
            client_id: "benchmark-app".into(),
            client_secret: Secret::from(SECRET),
            properties: Default::default(),
            updated_at: SystemClock.now_ms(),
        })
        .await
        .expect("setup");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    // Nothing here calls HubSpot.
    let hubspot = spokes_hubspot::HubSpotConfig::pointing_at("http://127.0.0.1:9");
    let config = ServerConfig::local(base.clone(), hubspot, Secret::from("bench"));
    let state = AppState::new(config, store.clone(), Arc::new(SystemClock));
    tokio::spawn(spokes_server::serve(
        listener,
        state,
        std::future::pending(),
    ));

    let url = format!("{base}/api/partnerwebhook/hubspot");
    let http = spokes_core::http::build_client(Duration::from_secs(30));
    let next_event = Arc::new(AtomicU64::new(1));
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..options.senders {
        let (http, url, next_event) = (http.clone(), url.clone(), next_event.clone());
        let batch = options.batch as u64;
        senders.spawn(async move {
            let (mut acknowledged, mut times) = (0u64, Vec::new());
            while Instant::now() < until {
                let sent = Instant::now();
                let first = next_event.fetch_add(batch, Ordering::Relaxed);
                let now = SystemClock.now_ms();
                let events: Vec<_> = (first..first + batch)
                    .map(|id| json!({"eventId": id, "subscriptionId": 1, "portalId": 24682001, "appId": 1, "occurredAt": now, "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": id, "changeSource": "CRM", "changeFlag": "NEW"}))
                    .collect();
                let body = serde_json::to_vec(&events).expect("json");
                let signature =
                    hubspot_sim::webhooks::signature::v3(SECRET, "POST", &url, &body, now);
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("X-HubSpot-Signature-v3", signature)
                    .header("X-HubSpot-Request-Timestamp", now.to_string())
                    .body(body)
                    .send()
                    .await
                    .expect("deliver");
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.expect("answer");
                times.push(sent.elapsed());
                acknowledged += batch;
            }
            (acknowledged, times)
        });
    }
    let started = Instant::now();
    let (mut acknowledged, mut times) = (0u64, Vec::new());
    for (count, sender_times) in senders.join_all().await {
        acknowledged += count;
        times.extend(sender_times);
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    let queued = store
        .list_jobs(spokes_engine::HUBSPOT_EVENT_JOB, u32::MAX)
        .await
        .expect("jobs")
        .len();
    println!(
        "{} webhook intake, {} senders, batches of {}, {} s: {acknowledged} events acknowledged, {:.0} events/s; a request answered in {:.1} ms at p50, {:.1} ms at p99, {:.1} ms at most; {queued} jobs in the queue (each event once)",
        store.backend(),
        options.senders,
        options.batch,
        options.seconds,
        acknowledged as f64 / elapsed,
        at(0.5),
        at(0.99),
        at(1.0),
    );
    assert_eq!(
        queued as u64, acknowledged,
        "every acknowledged event is queued once"
    );
}
