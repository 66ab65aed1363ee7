//! Fault injection (`/_sim/faults`): error statuses, added latency, 429 bursts,
//! connection resets and slow bodies on HubSpot paths, for a path pattern and a count
//! or a probability, deterministic with a seed.
//!
//! A fault matches a request by path (a glob where `*` stands for any run of
//! characters, `/` included; the query string is not part of the path) and optionally by
//! method. Faults are tried in the order they were added; the first that fires wins.
//! `count` caps how many times a fault fires (then it stays listed, inactive);
//! `probability` makes each matching request fire with that chance, drawn from the
//! fault's own SplitMix64 generator seeded with `seed`, so the same requests in the same
//! order give the same sequence. `/_sim/*` is never faulted.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::limits::{self, Policy};
use crate::state::Sim;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Answer with this status and HubSpot's standard error body; the handler never runs.
    Status(u16),
    /// Wait this long, then handle the request normally.
    Latency(u64),
    /// Answer 429 with the rate-limit body of this policy; the handler never runs.
    RateLimit(Policy),
    /// Close the connection without an answer; the handler never runs.
    Reset,
    /// Handle the request, send the headers, then trickle the body over this long.
    SlowBody(u64),
}

/// The `fault` object of `POST /_sim/faults`: exactly one field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_body_ms: Option<u64>,
}

impl FaultSpec {
    fn kind(&self) -> Result<FaultKind, String> {
        let mut kinds = Vec::new();
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err(format!("fault.status must be 400-599, not {s}"));
            }
            kinds.push(FaultKind::Status(s));
        }
        if let Some(ms) = self.latency_ms {
            kinds.push(FaultKind::Latency(ms));
        }
        if let Some(p) = self.rate_limit {
            kinds.push(FaultKind::RateLimit(p));
        }
        match self.reset {
            Some(true) => kinds.push(FaultKind::Reset),
            Some(false) => return Err("fault.reset must be true".to_owned()),
            None => {}
        }
        if let Some(ms) = self.slow_body_ms {
            kinds.push(FaultKind::SlowBody(ms));
        }
        match kinds.as_slice() {
            [one] => Ok(*one),
            _ => Err(
                "fault needs exactly one of status, latency_ms, rate_limit, reset, slow_body_ms"
                    .to_owned(),
            ),
        }
    }
}

/// Body of `POST /_sim/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFault {
    pub path: String,
    pub method: Option<String>,
    pub fault: FaultSpec,
    pub count: Option<u64>,
    pub probability: Option<f64>,
    pub seed: Option<u64>,
}

/// A registered fault.
#[derive(Debug, Clone)]
pub struct Fault {
    pub id: u64,
    pub path: String,
    pub method: Option<String>,
    pub spec: FaultSpec,
    pub kind: FaultKind,
    pub count: Option<u64>,
    pub remaining: Option<u64>,
    pub probability: Option<f64>,
    pub seed: u64,
    rng: SplitMix64,
    /// Requests that matched path and method while the fault was active.
    pub matched: u64,
    /// Times the fault fired.
    pub injected: u64,
}

impl Fault {
    fn active(&self) -> bool {
        self.remaining != Some(0)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && glob_match(&self.path, path)
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "fault": self.spec,
            "count": self.count,
            "remaining": self.remaining,
            "probability": self.probability,
            "seed": self.seed,
            "matched": self.matched,
            "injected": self.injected,
            "active": self.active(),
        })
    }
}

/// SplitMix64: tiny, fast, and good enough to decide coin flips reproducibly.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 random bits: exact in an f64.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `*` matches any run of characters (also empty, also `/`); everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Registered faults and the injection counter.
#[derive(Debug, Default)]
pub struct FaultState {
    faults: Vec<Fault>,
    next_id: u64,
    injected: u64,
}

impl FaultState {
    pub fn add(&mut self, new: NewFault) -> Result<&Fault, String> {
        let kind = new.fault.kind()?;
        if !new.path.starts_with('/') && !new.path.starts_with('*') {
            return Err("path must start with / or *".to_owned());
        }
        if let Some(p) = new.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err("probability must be between 0 and 1".to_owned());
        }
        self.next_id += 1;
        let seed = new.seed.unwrap_or_else(random_seed);
        self.faults.push(Fault {
            id: self.next_id,
            path: new.path,
            method: new.method.map(|m| m.to_ascii_uppercase()),
            spec: new.fault,
            kind,
            count: new.count,
            remaining: new.count,
            probability: new.probability,
            seed,
            rng: SplitMix64::new(seed),
            matched: 0,
            injected: 0,
        });
        self.faults.last().ok_or_else(String::new)
    }

    /// The fault to inject into this request, if any (counts it).
    pub fn pick(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        for f in &mut self.faults {
            if !f.active() || !f.matches(method, path) {
                continue;
            }
            f.matched += 1;
            if let Some(p) = f.probability
                && f.rng.next_f64() >= p
            {
                continue;
            }
            if let Some(r) = &mut f.remaining {
                *r -= 1;
            }
            f.injected += 1;
            self.injected += 1;
            return Some(f.kind);
        }
        None
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.faults.len();
        self.faults.retain(|f| f.id != id);
        self.faults.len() != before
    }

    /// Removes every fault (the injection counter stays).
    pub fn clear(&mut self) {
        self.faults.clear();
    }

    fn to_json(&self) -> Value {
        json!({
            "faults": self.faults.iter().map(Fault::to_json).collect::<Vec<_>>(),
            "injected": self.injected,
        })
    }
}

fn random_seed() -> u64 {
    let mut buf = [0u8; 8];
    if getrandom::fill(&mut buf).is_err() {
        return crate::state::now_ms().unsigned_abs();
    }
    u64::from_le_bytes(buf)
}

/// HubSpot's standard error body for an injected status.
pub fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (category, message) = match code {
        500 => ("INTERNAL_ERROR", "internal error"),
        502 => ("BAD_GATEWAY", "Bad Gateway"),
        503 => ("SERVICE_UNAVAILABLE", "Service Unavailable"),
        504 => ("GATEWAY_TIMEOUT", "Gateway Timeout"),
        _ => (
            "ERROR",
            status.canonical_reason().unwrap_or("Injected failure"),
        ),
    };
    ApiError::new(status, category, message).into_response()
}

/// A body that fails at once: hyper closes the connection before the head is flushed,
/// so the client sees the connection closed without a response.
struct Broken;

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "hubspot-sim: injected connection reset",
        )))))
    }
}

/// A body sent in up to 10 chunks, one every `interval`, the first after one interval.
struct Trickle {
    data: Bytes,
    chunk: usize,
    interval: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Trickle {
    fn new(data: Bytes, total_ms: u64) -> Self {
        let chunks = data.len().clamp(1, 10);
        let chunk = data.len().div_ceil(chunks).max(1);
        let interval = Duration::from_millis(total_ms / chunks as u64);
        Self {
            data,
            chunk,
            interval,
            sleep: Box::pin(tokio::time::sleep(interval)),
        }
    }
}

impl HttpBody for Trickle {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let n = self.chunk.min(self.data.len());
        let piece = self.data.split_to(n);
        let next = tokio::time::Instant::now() + self.interval;
        self.sleep.as_mut().reset(next);
        Poll::Ready(Some(Ok(http_body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.data.len() as u64)
    }
}

/// Marks a response whose connection is reset (for the request log, which shows 0).
#[derive(Debug, Clone, Copy)]
pub struct InjectedReset;

/// The middleware: injects the first fault that fires for the request.
pub async fn inject(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/_sim") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let picked = sim.with(|s| s.faults.pick(&method, path));
    match picked {
        None => next.run(request).await,
        Some(FaultKind::Status(code)) => status_response(code),
        Some(FaultKind::RateLimit(policy)) => limits::too_many_requests(policy, None),
        Some(FaultKind::Latency(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        Some(FaultKind::Reset) => {
            let mut response = Response::new(Body::new(Broken));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response.extensions_mut().insert(InjectedReset);
            response
        }
        Some(FaultKind::SlowBody(ms)) => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => {
                    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                    Response::from_parts(parts, Body::new(Trickle::new(bytes, ms)))
                }
                Err(_) => Response::from_parts(parts, Body::new(Broken)),
            }
        }
    }
}

/// The `/_sim/faults` controls, for Rust tests holding a [`Sim`].
impl Sim {
    /// Registers a fault; returns its id, or why the definition is refused.
    pub fn add_fault(&self, new: NewFault) -> Result<u64, String> {
        self.with(|s| s.faults.add(new).map(|f| f.id))
    }

    /// Removes a fault; false if there is none with that id.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.with(|s| s.faults.remove(id))
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// How many faults have been injected since the start (or the last reset).
    pub fn faults_injected(&self) -> u64 {
        self.with(|s| s.faults.injected)
    }
}

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/faults", get(list).post(create).delete(clear))
        .route("/_sim/faults/{id}", delete(remove))
}

async fn list(State(sim): State<Sim>) -> Response {
    Json(sim.with(|s| s.faults.to_json())).into_response()
}

async fn create(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let new: NewFault = serde_json::from_slice(&body)
        .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?;
    let fault = sim
        .with(|s| s.faults.add(new).map(Fault::to_json))
        .map_err(ApiError::validation)?;
    Ok((StatusCode::CREATED, Json(fault)).into_response())
}

async fn remove(State(sim): State<Sim>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::validation(format!("Invalid fault id {id:?}")))?;
    if sim.with(|s| s.faults.remove(id)) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("No fault with id {id}")))
    }
}

async fn clear(State(sim): State<Sim>) -> StatusCode {
    sim.with(|s| s.faults.clear());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "/crm/v3/objects/contacts*",
            "/crm/v3/objects/contacts"
        ));
        assert!(glob_match(
            "/crm/v3/objects/contacts*",
            "/crm/v3/objects/contacts/1/x"
        ));
        assert!(glob_match("*", "/anything"));
        assert!(glob_match("/crm/*/search", "/crm/v3/objects/deals/search"));
        assert!(!glob_match(
            "/crm/*/search",
            "/crm/v3/objects/deals/search/x"
        ));
        assert!(!glob_match("/account-info", "/account-info/v3/details"));
        assert!(glob_match("/a*b*c", "/aXbYbZc"));
    }

    #[test]
    fn splitmix_is_reproducible() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), b.next_f64().to_bits());
        }
        // Reference value of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn spec_needs_exactly_one_kind() {
        let two = FaultSpec {
            status: Some(503),
            latency_ms: Some(1),
            ..FaultSpec::default()
        };
        assert!(two.kind().is_err());
        assert!(FaultSpec::default().kind().is_err());
        let bad = FaultSpec {
            status: Some(200),
            ..FaultSpec::default()
        };
        assert!(bad.kind().is_err());
    }

    #[test]
    fn count_caps_injections() {
        let mut s = FaultState::default();
        let new = NewFault {
            path: "/x*".into(),
            method: Some("get".into()),
            fault: FaultSpec {
                status: Some(503),
                ..FaultSpec::default()
            },
            count: Some(2),
            probability: None,
            seed: Some(1),
        };
        assert!(s.add(new).is_ok());
        assert_eq!(s.pick("POST", "/x"), None);
        assert_eq!(s.pick("GET", "/x"), Some(FaultKind::Status(503)));
        assert_eq!(s.pick("GET", "/xy"), Some(FaultKind::Status(503)));
        assert_eq!(s.pick("GET", "/x"), None);
        assert_eq!(s.injected, 2);
    }
}
