//! Seeds contacts into an in-process simulator and pages through them over HTTP with
//! `limit=100`, the way a sync would; prints records/s for both and the peak memory.
//!
//! ```sh
//! cargo run --release -p hubspot-sim --example page_benchmark                  # 100,000
//! cargo run --release -p hubspot-sim --example page_benchmark -- --contacts 1000000 --seed-only
//! ```
//!
//! Options: `--contacts N` (default 100000), `--companies N` (default N/20: the contacts
//! work there and have their domains), `--seed-only` (skip paging), `--limit N` (page
//! size, default 100). Rate limits are off (`rate_limit_per_10s: 0`).

use std::process::ExitCode;
use std::time::Instant;

use hubspot_sim::crm::seed::SeedSpec;
use hubspot_sim::{ConfigPatch, SimConfig};
use serde::Deserialize;
use serde::de::IgnoredAny;

struct Options {
    contacts: usize,
    companies: Option<usize>,
    seed_only: bool,
    limit: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        contacts: 100_000,
        companies: None,
        seed_only: false,
        limit: 100,
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
            "--contacts" => o.contacts = number("--contacts")?,
            "--companies" => o.companies = Some(number("--companies")?),
            "--limit" => o.limit = number("--limit")?,
            "--seed-only" => o.seed_only = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

#[derive(Deserialize)]
struct Page {
    results: Vec<IgnoredAny>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<Next>,
}

#[derive(Deserialize)]
struct Next {
    after: String,
}

/// Peak resident set size in KiB (`VmHWM` from /proc/self/status), if readable.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_text() -> String {
    peak_rss_kib().map_or_else(
        || "unknown".to_owned(),
        |k| format!("{:.0} MiB", k as f64 / 1024.0),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(options()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("page_benchmark: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Result<Options, String>) -> Result<(), String> {
    let o = options?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let server = hubspot_sim::start(listener, SimConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    server
        .sim
        .update_config(ConfigPatch {
            rate_limit_per_10s: Some(0),
            search_rate_limit_per_sec: Some(0),
            private_app_daily_limit: Some(0),
            ..ConfigPatch::default()
        })
        .map_err(|e| e.to_string())?;
    println!(
        "peak RSS before seeding: {} (build: {})",
        rss_text(),
        if cfg!(debug_assertions) {
            "debug - use --release for real figures"
        } else {
            "release"
        }
    );

    let spec = SeedSpec {
        contacts: o.contacts,
        companies: o.companies.unwrap_or(o.contacts / 20),
        ..SeedSpec::default()
    };
    let started = Instant::now();
    let summary = server
        .sim
        .seed_crm(&spec)
        .map_err(|e| e.body.message.clone())?;
    let secs = started.elapsed().as_secs_f64();
    let records_secs = summary.records_ms.max(1) as f64 / 1000.0;
    println!(
        "seeded {} contacts + {} companies in {:.0} ms: {:.0} records/s ({:.0} records/s for the records alone, then {} associations in {} ms); peak RSS {}",
        spec.contacts,
        spec.companies,
        secs * 1000.0,
        summary.total as f64 / secs,
        summary.total as f64 / records_secs,
        summary.associations,
        summary.elapsed_ms - summary.records_ms,
        rss_text()
    );
    if o.seed_only {
        server.shutdown().await;
        return Ok(());
    }

    // reqwest is built without a TLS crypto provider and insists on one even for http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let token = server
        .sim
        .issue_tokens(
            None,
            spec.portal_id,
            &["oauth".to_owned(), "crm.objects.contacts.read".to_owned()],
        )
        .map_err(|e| e.to_string())?
        .access_token;
    let url = format!("{}/crm/v3/objects/contacts", server.base_url);
    let limit = o.limit.to_string();
    let (mut seen, mut pages, mut bytes) = (0usize, 0usize, 0usize);
    let mut after: Option<String> = None;
    let started = Instant::now();
    loop {
        let mut query = vec![("limit", limit.as_str())];
        if let Some(a) = &after {
            query.push(("after", a.as_str()));
        }
        let resp = http
            .get(&url)
            .bearer_auth(&token)
            .query(&query)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        bytes += body.len();
        let page: Page = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        seen += page.results.len();
        pages += 1;
        match page.paging.and_then(|p| p.next) {
            Some(next) => after = Some(next.after),
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "paged {seen} contacts in {pages} pages of {limit} over HTTP in {:.0} ms: {:.0} records/s ({:.1} MB of JSON)",
        secs * 1000.0,
        seen as f64 / secs,
        bytes as f64 / 1e6
    );
    println!("peak RSS (VmHWM): {}", rss_text());
    if seen != spec.contacts {
        return Err(format!("expected {} contacts, paged {seen}", spec.contacts));
    }
    server.shutdown().await;
    Ok(())
}
