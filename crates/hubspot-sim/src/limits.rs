//! HubSpot's API rate limits, enforced before the handler runs.
//!
//! * ten-secondly: a rolling 10-second window per (app, portal), `rate_limit_per_10s`
//!   requests (default 110, 0 = off), policy `TEN_SECONDLY_ROLLING`;
//! * secondly: search requests (`POST …/search`) are exempt from the ten-secondly window
//!   and have a rolling 1-second window per access token, `search_rate_limit_per_sec`
//!   (default 5, 0 = off), policy `SECONDLY` (named only here: HubSpot's search 429 has
//!   no `policyName`, and search answers carry no rate-limit headers);
//! * daily: only for tokens issued with `POST /_sim/tokens {"private_app": true}`, per
//!   portal and calendar day in the portal's time zone, `private_app_daily_limit`
//!   (default 250000, 0 = off), policy `DAILY`.
//!
//! Only bearer calls with a live access token are limited; `/oauth/*` and `/_sim/*` never
//! are. A rejected call is answered with HubSpot's 429 body and does not count. The
//! limiter has its own clock (the real one plus an offset, or frozen) that tests move
//! with `POST /_sim/limits/clock` instead of sleeping.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::errors::{ApiError, CorrelationId};
use crate::ids::random_uuid;
use crate::state::{RateLimitInfo, Sim, SimConfig, now_ms};

/// Default requests per (app, portal) in the rolling ten-second window.
pub const DEFAULT_PER_10S: u32 = 110;
/// Length of the ten-secondly window.
pub const TEN_SECONDLY_MS: i64 = 10_000;
/// Default search requests per token in the rolling one-second window.
pub const DEFAULT_SEARCH_PER_SEC: u32 = 5;
/// Length of the secondly (search) window.
pub const SECONDLY_MS: i64 = 1_000;
/// Default daily requests per portal for private-app tokens.
pub const DEFAULT_PRIVATE_APP_DAILY: u64 = 250_000;
const DAY_MS: i64 = 86_400_000;

/// A rate-limit policy, as named in the 429 body's `policyName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Policy {
    TenSecondlyRolling,
    Secondly,
    Daily,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Self::TenSecondlyRolling => "TEN_SECONDLY_ROLLING",
            Self::Secondly => "SECONDLY",
            Self::Daily => "DAILY",
        }
    }

    /// The 429 body's `message`.
    pub fn message(self) -> &'static str {
        match self {
            Self::TenSecondlyRolling => "You have reached your ten_secondly_rolling limit.",
            Self::Secondly => "You have reached your secondly limit.",
            Self::Daily => "You have reached your daily limit.",
        }
    }
}

/// Figures of one window after a call was admitted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max: u64,
    pub remaining: u64,
    pub interval_ms: i64,
}

/// The outcome of [`LimitState::admit`].
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub ten_secondly: Option<Window>,
    pub secondly: Option<Window>,
    pub daily: Option<Window>,
    /// The policy that refused the call, and how long until it would pass.
    pub refused: Option<(Policy, i64)>,
}

/// The limits that apply, taken from [`SimConfig`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_10s: u32,
    pub search_per_sec: u32,
    pub daily: u64,
    pub retry_after: bool,
}

impl Limits {
    pub fn of(config: &SimConfig) -> Self {
        Self {
            per_10s: config.rate_limit_per_10s,
            search_per_sec: config.search_rate_limit_per_sec,
            daily: config.private_app_daily_limit,
            retry_after: config.rate_limit_retry_after,
        }
    }
}

/// Who is calling (from the access token).
#[derive(Debug, Clone)]
pub struct CallerKey<'a> {
    pub token: &'a str,
    pub app_id: i64,
    pub portal_id: i64,
}

/// The limiter's windows, counters and clock.
#[derive(Debug, Default)]
pub struct LimitState {
    offset_ms: i64,
    frozen_at: Option<i64>,
    ten_secondly: HashMap<(i64, i64), VecDeque<i64>>,
    secondly: HashMap<String, VecDeque<i64>>,
    daily: HashMap<(i64, i64), u64>,
    private_tokens: HashSet<String>,
    refused: BTreeMap<&'static str, u64>,
}

/// Drops timestamps older than the window and returns how many remain.
fn prune(window: &mut VecDeque<i64>, now: i64, interval: i64) -> u64 {
    while window.front().is_some_and(|t| *t <= now - interval) {
        window.pop_front();
    }
    u64::try_from(window.len()).unwrap_or(u64::MAX)
}

/// Milliseconds until the oldest entry leaves the window (at least 1).
fn wait_ms(window: &VecDeque<i64>, now: i64, interval: i64) -> i64 {
    window
        .front()
        .map_or(1, |oldest| (oldest + interval - now).max(1))
}

impl LimitState {
    /// The limiter's clock.
    pub fn now(&self) -> i64 {
        self.frozen_at.unwrap_or_else(|| now_ms() + self.offset_ms)
    }

    /// Moves the limiter's clock forward (or back) by `ms`.
    pub fn advance(&mut self, ms: i64) {
        match &mut self.frozen_at {
            Some(at) => *at += ms,
            None => self.offset_ms += ms,
        }
    }

    /// Freezes the limiter's clock at its current time, or lets it run again from there.
    pub fn set_frozen(&mut self, frozen: bool) {
        match (frozen, self.frozen_at) {
            (true, None) => self.frozen_at = Some(self.now()),
            (false, Some(at)) => {
                self.offset_ms = at - now_ms();
                self.frozen_at = None;
            }
            _ => {}
        }
    }

    /// Forgets every window and daily count (the clock and private tokens stay).
    pub fn clear(&mut self) {
        self.ten_secondly.clear();
        self.secondly.clear();
        self.daily.clear();
    }

    pub fn mark_private(&mut self, token: &str) {
        self.private_tokens.insert(token.to_owned());
    }

    pub fn is_private(&self, token: &str) -> bool {
        self.private_tokens.contains(token)
    }

    /// The ten-secondly figures of (app, portal) without counting a call.
    pub fn peek(&self, limits: Limits, app_id: i64, portal_id: i64) -> RateLimitInfo {
        let now = self.now();
        let used = self.ten_secondly.get(&(app_id, portal_id)).map_or(0, |w| {
            w.iter().filter(|t| **t > now - TEN_SECONDLY_MS).count()
        });
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        RateLimitInfo {
            max: limits.per_10s,
            remaining: limits.per_10s.saturating_sub(used),
            interval_ms: TEN_SECONDLY_MS,
        }
    }

    /// Counts a call in the ten-secondly window without enforcing it.
    pub fn count(&mut self, limits: Limits, app_id: i64, portal_id: i64) -> RateLimitInfo {
        let now = self.now();
        let window = self.ten_secondly.entry((app_id, portal_id)).or_default();
        prune(window, now, TEN_SECONDLY_MS);
        window.push_back(now);
        self.peek(limits, app_id, portal_id)
    }

    /// Checks and counts one call. `utc_offset_ms` is the portal's (for the daily reset).
    pub fn admit(
        &mut self,
        limits: Limits,
        caller: &CallerKey<'_>,
        search: bool,
        utc_offset_ms: i64,
    ) -> Admission {
        let now = self.now();
        let mut adm = Admission::default();

        let daily_key = (caller.portal_id, (now + utc_offset_ms).div_euclid(DAY_MS));
        let daily_on = limits.daily > 0 && self.is_private(caller.token);
        if daily_on {
            let used = self.daily.get(&daily_key).copied().unwrap_or(0);
            adm.daily = Some(Window {
                max: limits.daily,
                remaining: limits.daily.saturating_sub(used),
                interval_ms: DAY_MS,
            });
            if used >= limits.daily {
                let next_midnight = (daily_key.1 + 1) * DAY_MS - utc_offset_ms;
                adm.refused = Some((Policy::Daily, (next_midnight - now).max(1)));
            }
        }

        let ten_key = (caller.app_id, caller.portal_id);
        if limits.per_10s > 0 {
            let window = self.ten_secondly.entry(ten_key).or_default();
            let used = prune(window, now, TEN_SECONDLY_MS);
            let max = u64::from(limits.per_10s);
            adm.ten_secondly = Some(Window {
                max,
                remaining: max.saturating_sub(used),
                interval_ms: TEN_SECONDLY_MS,
            });
            if !search && adm.refused.is_none() && used >= max {
                adm.refused = Some((
                    Policy::TenSecondlyRolling,
                    wait_ms(window, now, TEN_SECONDLY_MS),
                ));
            }
        }

        if search && limits.search_per_sec > 0 {
            let window = self.secondly.entry(caller.token.to_owned()).or_default();
            let used = prune(window, now, SECONDLY_MS);
            let max = u64::from(limits.search_per_sec);
            adm.secondly = Some(Window {
                max,
                remaining: max.saturating_sub(used),
                interval_ms: SECONDLY_MS,
            });
            if adm.refused.is_none() && used >= max {
                adm.refused = Some((Policy::Secondly, wait_ms(window, now, SECONDLY_MS)));
            }
        }

        if let Some((policy, _)) = adm.refused {
            *self.refused.entry(policy.name()).or_default() += 1;
            return adm;
        }

        // Admitted: count it everywhere it applies.
        if let Some(w) = &mut adm.daily {
            *self.daily.entry(daily_key).or_default() += 1;
            w.remaining = w.remaining.saturating_sub(1);
        }
        if !search && let Some(w) = &mut adm.ten_secondly {
            self.ten_secondly.entry(ten_key).or_default().push_back(now);
            w.remaining = w.remaining.saturating_sub(1);
        }
        if let Some(w) = &mut adm.secondly {
            self.secondly
                .entry(caller.token.to_owned())
                .or_default()
                .push_back(now);
            w.remaining = w.remaining.saturating_sub(1);
        }
        adm
    }

    /// What `GET /_sim/limits` shows.
    fn snapshot(&self, limits: Limits) -> serde_json::Value {
        let now = self.now();
        let ten: Vec<_> = self
            .ten_secondly
            .iter()
            .map(|((app, portal), w)| {
                let used = w.iter().filter(|t| **t > now - TEN_SECONDLY_MS).count();
                json!({"app_id": app, "portal_id": portal, "used": used})
            })
            .collect();
        let daily: Vec<_> = self
            .daily
            .iter()
            .map(|((portal, day), used)| json!({"portal_id": portal, "day": day, "used": used}))
            .collect();
        json!({
            "now_ms": now,
            "frozen": self.frozen_at.is_some(),
            "offset_ms": self.frozen_at.map_or(self.offset_ms, |at| at - now_ms()),
            "rate_limit_per_10s": limits.per_10s,
            "search_rate_limit_per_sec": limits.search_per_sec,
            "private_app_daily_limit": limits.daily,
            "ten_secondly": ten,
            "daily": daily,
            "refused": self.refused,
        })
    }
}

/// Whether a POST path is a CRM search (`/crm/v3/objects/{type}/search`,
/// `/crm/objects/2026-03/{type}/search`): only those have the search limit (the lists
/// search, for one, does not).
fn is_crm_search(path: &str) -> bool {
    (path.starts_with("/crm/v3/objects/") || path.starts_with("/crm/objects/"))
        && path.ends_with("/search")
}

/// Whether the limiter looks at this path at all.
fn limited_path(path: &str) -> bool {
    !(path.starts_with("/_sim") || path.starts_with("/oauth/") || path == "/oauth")
}

/// `X-HubSpot-RateLimit-*` headers for an admission (never for searches: the secondly
/// window has no headers, its deprecated `-Secondly` ones included).
pub fn headers(adm: &Admission) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: u64| {
        h.insert(HeaderName::from_static(name), HeaderValue::from(value));
    };
    if let Some(w) = adm.ten_secondly {
        put("x-hubspot-ratelimit-max", w.max);
        put("x-hubspot-ratelimit-remaining", w.remaining);
        put(
            "x-hubspot-ratelimit-interval-milliseconds",
            u64::try_from(w.interval_ms).unwrap_or_default(),
        );
    }
    if let Some(w) = adm.daily {
        put("x-hubspot-ratelimit-daily", w.max);
        put("x-hubspot-ratelimit-daily-remaining", w.remaining);
    }
    h
}

/// HubSpot's 429 answer for `policy` (used by the limiter and by injected faults).
///
/// The ten-secondly and daily bodies carry `errorType`, `policyName` and `requestId`;
/// the search (secondly) body is the one recorded from HubSpot: the standard error shape
/// with category `RATE_LIMITS` and no policy name.
pub fn too_many_requests(policy: Policy, retry_after_ms: Option<i64>) -> Response {
    let correlation_id = random_uuid();
    let body = match policy {
        Policy::Secondly => json!({
            "status": "error",
            "message": policy.message(),
            "correlationId": correlation_id,
            "category": "RATE_LIMITS",
        }),
        Policy::TenSecondlyRolling | Policy::Daily => json!({
            "status": "error",
            "message": policy.message(),
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": policy.name(),
            "requestId": random_uuid(),
        }),
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Some(ms) = retry_after_ms {
        let secs = u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
        .extensions_mut()
        .insert(CorrelationId(correlation_id));
    response
}

const RATE_HEADERS: [&str; 7] = [
    "x-hubspot-ratelimit-max",
    "x-hubspot-ratelimit-remaining",
    "x-hubspot-ratelimit-interval-milliseconds",
    "x-hubspot-ratelimit-secondly",
    "x-hubspot-ratelimit-secondly-remaining",
    "x-hubspot-ratelimit-daily",
    "x-hubspot-ratelimit-daily-remaining",
];

/// The middleware: counts the call, answers 429 when a window is full, and puts the
/// `X-HubSpot-RateLimit-*` headers on every response of a limited call (replacing any
/// the handler set, so that they show the figures of this call's admission). Search
/// answers (429s included) carry none, as HubSpot's.
pub async fn enforce(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !limited_path(path) {
        return next.run(request).await;
    }
    let search = request.method() == Method::POST && is_crm_search(path);
    let Some(token) = crate::auth::bearer(request.headers()) else {
        return next.run(request).await;
    };
    let admission = sim.with(|s| {
        let record = s.access_tokens.get(token)?;
        if record.is_expired(now_ms()) {
            return None;
        }
        let offset =
            crate::portals::find(record.portal_id).map_or(0, |p| p.utc_offset_milliseconds);
        let key = CallerKey {
            token,
            app_id: record.app_id,
            portal_id: record.portal_id,
        };
        let limits = Limits::of(&s.config);
        Some((s.limits.admit(limits, &key, search, offset), limits))
    });
    let Some((admission, limits)) = admission else {
        return next.run(request).await;
    };
    let mut response = match admission.refused {
        Some((policy, wait)) => too_many_requests(policy, limits.retry_after.then_some(wait)),
        None => next.run(request).await,
    };
    let h = response.headers_mut();
    for name in RATE_HEADERS {
        h.remove(name);
    }
    if !search {
        h.extend(headers(&admission));
    }
    response
}

/// The `/_sim/limits` controls, for Rust tests holding a [`Sim`].
impl Sim {
    /// Moves the limiter's clock by `ms` (only the rate-limit windows see it).
    pub fn advance_limit_clock(&self, ms: i64) {
        self.with(|s| s.limits.advance(ms));
    }

    /// Freezes (or releases) the limiter's clock.
    pub fn freeze_limit_clock(&self, frozen: bool) {
        self.with(|s| s.limits.set_frozen(frozen));
    }

    /// Empties every rate-limit window and daily count.
    pub fn clear_rate_limits(&self) {
        self.with(|s| s.limits.clear());
    }

    /// Treats `access_token` as a private-app token (daily limit and headers).
    pub fn mark_private_app_token(&self, access_token: &str) {
        self.with(|s| s.limits.mark_private(access_token));
    }
}

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/limits", get(show))
        .route("/_sim/limits/clock", post(clock))
        .route("/_sim/limits/clear", post(clear))
}

async fn show(State(sim): State<Sim>) -> Response {
    Json(sim.with(|s| s.limits.snapshot(Limits::of(&s.config)))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    advance_ms: i64,
    frozen: Option<bool>,
}

async fn clock(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let change: ClockChange = if body.is_empty() {
        ClockChange {
            advance_ms: 0,
            frozen: None,
        }
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?
    };
    Ok(Json(sim.with(|s| {
        if let Some(f) = change.frozen {
            s.limits.set_frozen(f);
        }
        s.limits.advance(change.advance_ms);
        s.limits.snapshot(Limits::of(&s.config))
    }))
    .into_response())
}

async fn clear(State(sim): State<Sim>) -> StatusCode {
    sim.with(|s| s.limits.clear());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_10s: u32, search: u32, daily: u64) -> Limits {
        Limits {
            per_10s,
            search_per_sec: search,
            daily,
            retry_after: true,
        }
    }

    fn key(token: &str) -> CallerKey<'_> {
        CallerKey {
            token,
            app_id: 1,
            portal_id: 2,
        }
    }

    #[test]
    fn ten_secondly_window_rolls() {
        let mut s = LimitState::default();
        s.set_frozen(true);
        let l = limits(3, 5, 0);
        for left in [2, 1, 0] {
            let a = s.admit(l, &key("t"), false, 0);
            assert!(a.refused.is_none());
            assert_eq!(a.ten_secondly.map(|w| w.remaining), Some(left));
        }
        let a = s.admit(l, &key("t"), false, 0);
        assert_eq!(
            a.refused,
            Some((Policy::TenSecondlyRolling, TEN_SECONDLY_MS))
        );
        // Another portal has its own window.
        let other = CallerKey {
            portal_id: 3,
            ..key("t")
        };
        assert!(s.admit(l, &other, false, 0).refused.is_none());
        s.advance(TEN_SECONDLY_MS);
        assert!(s.admit(l, &key("t"), false, 0).refused.is_none());
    }

    #[test]
    fn search_has_its_own_window_per_token() {
        let mut s = LimitState::default();
        s.set_frozen(true);
        let l = limits(1, 2, 0);
        assert!(s.admit(l, &key("t"), true, 0).refused.is_none());
        assert!(s.admit(l, &key("t"), true, 0).refused.is_none());
        let a = s.admit(l, &key("t"), true, 0);
        assert_eq!(a.refused.map(|r| r.0), Some(Policy::Secondly));
        assert!(s.admit(l, &key("u"), true, 0).refused.is_none());
        // Searches did not use the ten-secondly window.
        assert!(s.admit(l, &key("t"), false, 0).refused.is_none());
        assert!(s.admit(l, &key("t"), false, 0).refused.is_some());
    }

    #[test]
    fn daily_only_for_private_tokens() {
        let mut s = LimitState::default();
        s.set_frozen(true);
        let l = limits(0, 0, 1);
        assert!(s.admit(l, &key("t"), false, 0).daily.is_none());
        assert!(s.admit(l, &key("t"), false, 0).refused.is_none());
        s.mark_private("p");
        assert!(s.admit(l, &key("p"), false, 0).refused.is_none());
        let a = s.admit(l, &key("p"), false, 0);
        assert_eq!(a.refused.map(|r| r.0), Some(Policy::Daily));
        s.advance(DAY_MS);
        assert!(s.admit(l, &key("p"), false, 0).refused.is_none());
    }

    #[test]
    fn zero_turns_a_window_off() {
        let mut s = LimitState::default();
        let l = limits(0, 0, 0);
        for _ in 0..500 {
            let a = s.admit(l, &key("t"), false, 0);
            assert!(a.refused.is_none() && a.ten_secondly.is_none());
        }
    }
}
