//! Prometheus metrics at `GET /metrics` (the `metrics` facade and its Prometheus exporter):
//! API requests by route and status with latency, and what the engine records (HubSpot calls,
//! token refreshes) and the HubSpot client (retries, limiter waits). Labels carry route
//! templates and method ids only: never an id of a customer, a token or a secret.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a cached read to a slow HubSpot page.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's recorder: the first server of a process installs it, later ones (tests run
/// several in one process) share it.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /metrics shows only what reaches this one"
            );
        }
        handle
    })
}

/// Installs the recorder; call before serving so early events are counted.
pub fn init() {
    handle();
}

/// Counts every request by its route template, method and status, with its latency.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("spokes_api_requests_total", "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!("spokes_api_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn render() -> Response {
    let handle = handle();
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
