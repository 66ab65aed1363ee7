//! How fast Spokes may call HubSpot for one installing portal, so callers wait for budget
//! instead of collecting 429s.
//!
//! HubSpot limits a public OAuth app to 110 requests in any rolling 10 seconds per installing
//! portal (search excluded), and the search API to 5 requests a second per portal. Normal answers
//! carry `X-HubSpot-RateLimit-Max`, `-Remaining` and `-Interval-Milliseconds`; search answers
//! carry none, so the search budget is kept by counting alone.
//!
//! [`RateLimiter`] is the seam: [`LocalLimiter`] keeps the budgets of one process; a budget
//! shared by several Spokes processes can replace it behind the same trait.
//!
//! # Why hand-written and not `governor`
//!
//! `governor` implements GCRA, which is not a rolling window: a quota of 110 per 10 s (burst
//! 110, one cell back every 91 ms) lets 110 calls through at once and then one every 91 ms,
//! so up to ~220 calls land in a single 10-s window, and HubSpot refuses half of them. Its
//! state cannot be corrected either: there is no way to tell it "HubSpot says only 40 are
//! left" or "hold this key for 3 s", only to build a new limiter with another quota. A
//! sliding log (the send times of the calls of the last two windows) is exact, small (a few
//! times `limit` instants per portal and budget at most; idle portals are forgotten) and
//! takes corrections naturally, so it is written here.
//!
//! # Waiting
//!
//! Each (portal, budget) has a FIFO queue (`tokio::sync::Mutex`, which is fair): only its head
//! sleeps, until the oldest call of the window leaves it (or a hold from a 429 ends), then
//! records its call and passes the turn on. The others sleep on the queue. Nobody polls, and
//! a cancelled `acquire` (its future dropped) leaves no trace.
//!
//! Time is tokio's (`tokio::time::Instant`, `sleep_until`), so tests pause it; the wall
//! clock (for a daily reset time) is a [`Clock`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;
use spokes_core::clock::{Clock, SystemClock, UnixMillis};
use tokio::time::Instant;

/// Whose budget a call uses: one app (its OAuth client id) in one installing portal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortalKey {
    /// The app's OAuth client id.
    pub app: String,
    pub portal_id: i64,
}

impl PortalKey {
    pub fn new(app: impl Into<String>, portal_id: i64) -> Self {
        Self {
            app: app.into(),
            portal_id,
        }
    }
}

/// Which of HubSpot's limits a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// The rolling 10-second window (every call but search).
    Standard,
    /// The CRM search API's 5 calls a second.
    Search,
}

/// Which limit a 429 says was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `policyName: "TEN_SECONDLY_ROLLING"`.
    TenSecondlyRolling,
    /// The search limit: "You have reached your secondly limit.", no policy name.
    Secondly,
    /// `policyName: "DAILY"` (private apps; OAuth apps have no daily limit).
    Daily,
    /// A 429 that names none of these (or has no readable body).
    Unknown,
}

/// What the caller should do after a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After429 {
    /// Try again, no sooner than this; the limiter holds the budget back as long, so the
    /// retry simply goes through [`RateLimiter::acquire`] again.
    RetryAfter(Duration),
    /// The daily limit: stop and report `rate_limited`. `reset_at` is when it resets, known
    /// only when HubSpot sent `Retry-After`; otherwise it resets at midnight in the portal's
    /// time zone, which the 429 does not name.
    GiveUp { reset_at: Option<UnixMillis> },
}

/// The rate-limit figures of one answer, parsed from its headers (absent or unreadable ones
/// are `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-HubSpot-RateLimit-Max`.
    pub max: Option<u32>,
    /// `X-HubSpot-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds`.
    pub interval: Option<Duration>,
}

/// The longest window a header may set (anything longer is taken as garbage).
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

impl RateHeaders {
    pub fn parse(headers: &HeaderMap) -> Self {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Self {
            max: number("x-hubspot-ratelimit-max").and_then(|v| u32::try_from(v).ok()),
            remaining: number("x-hubspot-ratelimit-remaining")
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            interval: number("x-hubspot-ratelimit-interval-milliseconds")
                .map(Duration::from_millis)
                .filter(|d| !d.is_zero() && *d <= MAX_INTERVAL),
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by HubSpot and is ignored).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(86_400)))
}

/// Which limit a 429 body names.
pub fn classify_429(body: &[u8]) -> Policy {
    let Ok(parsed) = serde_json::from_slice::<Value>(body) else {
        return Policy::Unknown;
    };
    let field = |name: &str| parsed.get(name).and_then(Value::as_str);
    match field("policyName") {
        Some(p) if p.eq_ignore_ascii_case("TEN_SECONDLY_ROLLING") => {
            return Policy::TenSecondlyRolling;
        }
        Some(p) if p.eq_ignore_ascii_case("DAILY") => return Policy::Daily,
        Some(p) if p.eq_ignore_ascii_case("SECONDLY") => return Policy::Secondly,
        _ => {}
    }
    // HubSpot's own Node client matches the search limit on its message.
    let message = field("message").unwrap_or_default().to_ascii_lowercase();
    if message.contains("your secondly limit") {
        Policy::Secondly
    } else if message.contains("your daily limit") {
        Policy::Daily
    } else {
        Policy::Unknown
    }
}

/// Per-portal calls to HubSpot: wait for budget, learn from answers, back off after 429s.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Waits until a call of `budget` may be sent for `key`; returns how long it waited.
    /// Cancel-safe: dropping the future gives the turn up without using budget.
    async fn acquire(&self, key: &PortalKey, budget: Budget) -> Duration;

    /// Corrects the budget from an answer's rate-limit headers: a portal whose `Max` is lower
    /// than configured, or whose `Remaining` shows calls this limiter did not make (other
    /// processes, other apps). Call it for every answer, 429s included; answers without
    /// the headers (search answers always) change nothing.
    ///
    /// `sent_at` is when the call was sent (`Instant::now()` right after `acquire`):
    /// HubSpot's `Remaining` is as of then, and an answer that took long must not be read
    /// as if it were fresh.
    fn observe(&self, key: &PortalKey, budget: Budget, sent_at: Instant, headers: &RateHeaders);

    /// A 429 arrived anyway: classifies it, holds this portal's budget back accordingly and
    /// says whether to retry.
    fn rate_limited(
        &self,
        key: &PortalKey,
        budget: Budget,
        headers: &HeaderMap,
        body: &[u8],
    ) -> After429;
}

/// The budgets [`LocalLimiter`] keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct LimiterConfig {
    /// Calls per rolling 10 s per portal (HubSpot's public-app limit: 110).
    pub per_ten_seconds: u32,
    /// Search calls per second per portal (HubSpot: 5).
    pub search_per_second: u32,
    /// The fraction of each budget Spokes may use (the portal's other apps may need the rest),
    /// in (0, 1]; at least one call per window is always allowed.
    pub share: f64,
    /// Added to every window, so calls that leave at the edge of a window but arrive with
    /// some network jitter still land outside it.
    pub margin: Duration,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            per_ten_seconds: 110,
            search_per_second: 5,
            share: 1.0,
            margin: Duration::from_millis(100),
        }
    }
}

impl LimiterConfig {
    fn share(&self) -> f64 {
        if self.share.is_nan() {
            1.0
        } else {
            self.share.clamp(0.0, 1.0)
        }
    }

    /// `base` scaled by the share, at least 1.
    fn scaled(&self, base: u32) -> u32 {
        let scaled = (f64::from(base) * self.share()).floor();
        // `scaled` is within 0..=base, so the cast cannot truncate.
        (scaled as u32).max(1)
    }
}

/// How long a portal must be idle before it is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(300);
/// How often idle portals are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const TEN_SECONDS: Duration = Duration::from_secs(10);
const ONE_SECOND: Duration = Duration::from_secs(1);

/// The in-process [`RateLimiter`].
pub struct LocalLimiter {
    config: LimiterConfig,
    wall: Arc<dyn Clock>,
    portals: Mutex<Portals>,
}

struct Portals {
    map: HashMap<PortalKey, Arc<Portal>>,
    last_sweep: Instant,
}

struct Portal {
    standard: Window,
    search: Window,
}

/// One budget of one portal.
struct Window {
    /// The waiters, first come first served.
    queue: tokio::sync::Mutex<()>,
    state: Mutex<WindowState>,
}

struct WindowState {
    /// The configured calls per window (after the share), before header corrections.
    configured: u32,
    /// The calls per window now allowed.
    limit: u32,
    /// The window HubSpot counts in (without the margin).
    interval: Duration,
    margin: Duration,
    /// When the calls of the last two windows were sent, oldest first (including calls
    /// HubSpot counted that this limiter did not make, recorded at the send time of the call
    /// whose answer told of them).
    sent: VecDeque<Instant>,
    /// No call before this (after a 429).
    held_until: Option<Instant>,
    last_used: Instant,
}

impl WindowState {
    fn new(limit: u32, interval: Duration, margin: Duration, now: Instant) -> Self {
        Self {
            configured: limit,
            limit,
            interval,
            margin,
            sent: VecDeque::with_capacity(limit.min(128) as usize),
            held_until: None,
            last_used: now,
        }
    }

    fn span(&self) -> Duration {
        self.interval + self.margin
    }

    /// Drops the calls that left the window more than a window ago (kept so that an answer
    /// up to a window old can be compared with what was sent by then).
    fn prune(&mut self, now: Instant) {
        let keep = self.span() * 2;
        while self.sent.front().is_some_and(|t| *t + keep <= now) {
            self.sent.pop_front();
        }
        if self.held_until.is_some_and(|h| h <= now) {
            self.held_until = None;
        }
    }

    /// `None` if a call may go now, else when to look again.
    fn next_slot(&mut self, now: Instant) -> Option<Instant> {
        self.prune(now);
        let limit = self.limit as usize;
        let mut at = None;
        if self.sent.len() - self.window_start(now) >= limit {
            // The call that has to leave the window before one more fits.
            at = Some(self.sent[self.sent.len() - limit] + self.span());
        }
        if let Some(held) = self.held_until {
            at = Some(at.map_or(held, |a: Instant| a.max(held)));
        }
        at
    }

    /// The index of the first call still in the window that ends at `at`.
    fn window_start(&self, at: Instant) -> usize {
        let span = self.span();
        self.sent.partition_point(|t| *t + span <= at)
    }

    fn hold(&mut self, until: Instant) {
        self.held_until = Some(self.held_until.map_or(until, |h| h.max(until)));
    }

    fn is_idle(&mut self, now: Instant) -> bool {
        self.prune(now);
        self.sent.is_empty() && self.held_until.is_none() && self.last_used + FORGET_AFTER <= now
    }
}

impl Window {
    fn new(limit: u32, interval: Duration, margin: Duration, now: Instant) -> Self {
        Self {
            queue: tokio::sync::Mutex::new(()),
            state: Mutex::new(WindowState::new(limit, interval, margin, now)),
        }
    }

    fn state(&self) -> MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Portal {
    fn window(&self, budget: Budget) -> &Window {
        match budget {
            Budget::Standard => &self.standard,
            Budget::Search => &self.search,
        }
    }
}

impl LocalLimiter {
    pub fn new(config: LimiterConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// `wall` gives the wall-clock time for a daily limit's reset time.
    pub fn with_clock(config: LimiterConfig, wall: Arc<dyn Clock>) -> Self {
        Self {
            config,
            wall,
            portals: Mutex::new(Portals {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    pub fn config(&self) -> &LimiterConfig {
        &self.config
    }

    /// The portal's budgets, created on first use; forgets idle portals now and then.
    fn portal(&self, key: &PortalKey) -> Arc<Portal> {
        let now = Instant::now();
        let mut portals = self.portals.lock().unwrap_or_else(PoisonError::into_inner);
        if portals.last_sweep + SWEEP_EVERY <= now {
            portals.last_sweep = now;
            // Strong count 1: nobody is waiting on or about to use this portal.
            portals.map.retain(|_, p| {
                Arc::strong_count(p) > 1
                    || !(p.standard.state().is_idle(now) && p.search.state().is_idle(now))
            });
        }
        if let Some(portal) = portals.map.get(key) {
            return Arc::clone(portal);
        }
        let margin = self.config.margin;
        let portal = Arc::new(Portal {
            standard: Window::new(
                self.config.scaled(self.config.per_ten_seconds),
                TEN_SECONDS,
                margin,
                now,
            ),
            search: Window::new(
                self.config.scaled(self.config.search_per_second),
                ONE_SECOND,
                margin,
                now,
            ),
        });
        portals.map.insert(key.clone(), Arc::clone(&portal));
        portal
    }

    /// How many portals are remembered.
    pub fn tracked_portals(&self) -> usize {
        self.portals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

impl Default for LocalLimiter {
    fn default() -> Self {
        Self::new(LimiterConfig::default())
    }
}

#[async_trait::async_trait]
impl RateLimiter for LocalLimiter {
    async fn acquire(&self, key: &PortalKey, budget: Budget) -> Duration {
        let start = Instant::now();
        let portal = self.portal(key);
        let window = portal.window(budget);
        let _turn = window.queue.lock().await;
        loop {
            // Looked at again after every sleep: a 429 or an answer's headers may have
            // pushed the slot later meanwhile.
            let slot = {
                let mut state = window.state();
                let now = Instant::now();
                match state.next_slot(now) {
                    None => {
                        state.sent.push_back(now);
                        state.last_used = now;
                        break;
                    }
                    Some(slot) => slot,
                }
            };
            tokio::time::sleep_until(slot).await;
        }
        let waited = start.elapsed();
        if !waited.is_zero() {
            tracing::debug!(
                portal.id = key.portal_id,
                budget = ?budget,
                waited_ms = waited.as_millis() as u64,
                "waited for HubSpot rate-limit budget"
            );
        }
        waited
    }

    fn observe(&self, key: &PortalKey, budget: Budget, sent_at: Instant, headers: &RateHeaders) {
        // Search answers carry no rate-limit headers; any that came would describe the
        // ten-secondly window, which search calls do not count against.
        if budget == Budget::Search {
            return;
        }
        if headers.max.is_none() && headers.remaining.is_none() && headers.interval.is_none() {
            return;
        }
        let portal = self.portal(key);
        let mut state = portal.window(budget).state();
        let now = Instant::now();
        if let Some(interval) = headers.interval {
            state.interval = interval;
        }
        if let Some(max) = headers.max {
            // The configured figure is an upper bound: a lower Max lowers it, a higher one
            // does not raise it.
            let portal_limit = self.config.scaled(max);
            state.limit = state.configured.min(portal_limit);
        }
        state.prune(now);
        let at = sent_at.min(now);
        if let Some(remaining) = headers.remaining
            && at + state.span() > now
        {
            // What this limiter thought was left when HubSpot counted `remaining`: the
            // calls in the window as it was then (calls sent since are not in HubSpot's
            // figure; they still count against what it said was left).
            let by_then = state.sent.partition_point(|t| *t <= at);
            let then = by_then - state.window_start(at);
            let ours = state
                .limit
                .saturating_sub(u32::try_from(then).unwrap_or(u32::MAX));
            // HubSpot counted calls this limiter did not make: record them as made at
            // `at` (they were made at some time in the window before it; `at` is the safe
            // guess), so that what is left is what HubSpot said.
            for _ in remaining..ours {
                state.sent.insert(by_then, at);
            }
        }
        state.last_used = now;
    }

    fn rate_limited(
        &self,
        key: &PortalKey,
        budget: Budget,
        headers: &HeaderMap,
        body: &[u8],
    ) -> After429 {
        let policy = classify_429(body);
        let retry_after = retry_after(headers);
        let (window_budget, default_wait) = match (policy, budget) {
            (Policy::Daily, _) => {
                let reset_at = retry_after.map(|d| {
                    self.wall
                        .now_ms()
                        .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                });
                tracing::warn!(
                    portal.id = key.portal_id,
                    "HubSpot daily rate limit reached"
                );
                return After429::GiveUp { reset_at };
            }
            (Policy::TenSecondlyRolling, _) => (Budget::Standard, None),
            (Policy::Secondly, _) | (Policy::Unknown, Budget::Search) => {
                (Budget::Search, Some(ONE_SECOND))
            }
            (Policy::Unknown, Budget::Standard) => (Budget::Standard, None),
        };
        let portal = self.portal(key);
        let mut state = portal.window(window_budget).state();
        let now = Instant::now();
        // The ten-secondly window is full until its oldest call leaves; without Retry-After
        // a whole window is the safe wait.
        let wait = retry_after
            .or(default_wait)
            .unwrap_or(state.interval)
            .max(Duration::from_millis(1));
        state.hold(now + wait);
        state.last_used = now;
        tracing::debug!(
            portal.id = key.portal_id,
            policy = ?policy,
            wait_ms = wait.as_millis() as u64,
            "HubSpot answered 429"
        );
        After429::RetryAfter(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use spokes_core::clock::ManualClock;

    fn portal(id: i64) -> PortalKey {
        PortalKey::new("client-1", id)
    }

    fn limiter(config: LimiterConfig) -> Arc<LocalLimiter> {
        Arc::new(LocalLimiter::new(config))
    }

    /// No call window of length `window` holds more than `max` of `times`.
    fn assert_at_most(times: &mut [Instant], window: Duration, max: usize) {
        times.sort();
        let mut first = 0;
        for i in 0..times.len() {
            while times[first] + window <= times[i] {
                first += 1;
            }
            let in_window = i - first + 1;
            assert!(
                in_window <= max,
                "{in_window} calls in one window of {window:?} (at most {max})"
            );
        }
    }

    async fn acquire_n(
        limiter: &LocalLimiter,
        key: &PortalKey,
        budget: Budget,
        n: usize,
    ) -> Vec<Instant> {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            limiter.acquire(key, budget).await;
            times.push(Instant::now());
        }
        times
    }

    /// How many acquires pass at once (without any virtual time passing); one more is made,
    /// the first that had to wait.
    async fn immediate(limiter: &LocalLimiter, key: &PortalKey, budget: Budget) -> usize {
        let start = Instant::now();
        let mut n = 0;
        loop {
            limiter.acquire(key, budget).await;
            if Instant::now() > start {
                return n;
            }
            n += 1;
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const TEN_SECONDLY: &[u8] = br#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING","requestId":"r"}"#;
    const SECONDLY: &[u8] = br#"{"status":"error","message":"You have reached your secondly limit.","correlationId":"c","category":"RATE_LIMITS"}"#;
    const DAILY: &[u8] = br#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"DAILY","requestId":"r"}"#;

    #[tokio::test(start_paused = true)]
    async fn burst_of_300_takes_two_windows_and_never_overfills_one() {
        let limiter = limiter(LimiterConfig::default());
        let start = Instant::now();
        let mut times = acquire_n(&limiter, &portal(1), Budget::Standard, 300).await;
        assert!(
            start.elapsed() >= Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
        assert!(
            start.elapsed() < Duration::from_secs(21),
            "{:?}",
            start.elapsed()
        );
        assert_at_most(&mut times, TEN_SECONDS, 110);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_are_reported() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        for _ in 0..110 {
            assert_eq!(
                limiter.acquire(&key, Budget::Standard).await,
                Duration::ZERO
            );
        }
        // The 111th waits for the first to leave the window (plus the margin).
        let waited = limiter.acquire(&key, Budget::Standard).await;
        assert_eq!(waited, TEN_SECONDS + LimiterConfig::default().margin);
    }

    #[tokio::test(start_paused = true)]
    async fn portals_and_apps_do_not_share_budget() {
        let limiter = limiter(LimiterConfig::default());
        assert_eq!(immediate(&limiter, &portal(1), Budget::Standard).await, 110);
        assert_eq!(immediate(&limiter, &portal(2), Budget::Standard).await, 110);
        let other_app = PortalKey::new("client-2", 1);
        assert_eq!(immediate(&limiter, &other_app, Budget::Standard).await, 110);
    }

    #[tokio::test(start_paused = true)]
    async fn search_has_its_own_five_a_second() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let start = Instant::now();
        let _ = acquire_n(&limiter, &key, Budget::Standard, 110).await;
        let _ = acquire_n(&limiter, &key, Budget::Search, 5).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        // And the standard budget is untouched by search calls.
        let other = portal(2);
        assert_eq!(immediate(&limiter, &other, Budget::Search).await, 5);
        assert_eq!(immediate(&limiter, &other, Budget::Standard).await, 110);

        let start = Instant::now();
        let mut times = acquire_n(&limiter, &portal(3), Budget::Search, 20).await;
        assert!(
            start.elapsed() >= Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
        assert_at_most(&mut times, ONE_SECOND, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn lower_remaining_slows_the_limiter() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let _ = acquire_n(&limiter, &key, Budget::Standard, 10).await;
        // Some other process used 50 more than this one knows of.
        let seen = RateHeaders::parse(&headers(&[
            ("x-hubspot-ratelimit-max", "110"),
            ("x-hubspot-ratelimit-remaining", "50"),
            ("x-hubspot-ratelimit-interval-milliseconds", "10000"),
        ]));
        assert_eq!(
            seen,
            RateHeaders {
                max: Some(110),
                remaining: Some(50),
                interval: Some(TEN_SECONDS)
            }
        );
        limiter.observe(&key, Budget::Standard, Instant::now(), &seen);
        // The same figure once more (say, an answer that overtook it) changes nothing.
        limiter.observe(&key, Budget::Standard, Instant::now(), &seen);
        assert_eq!(immediate(&limiter, &key, Budget::Standard).await, 50);
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_is_read_as_of_when_the_call_was_sent() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let remaining = |r: u32| RateHeaders {
            remaining: Some(r),
            ..RateHeaders::default()
        };
        // 50 calls, then a slow one at 9 s: HubSpot counted 51 when it answered it with 59
        // left, which is what this limiter thought then, though the 50 have left the window
        // by the time the answer comes.
        let _ = acquire_n(&limiter, &key, Budget::Standard, 50).await;
        tokio::time::sleep(Duration::from_secs(9)).await;
        limiter.acquire(&key, Budget::Standard).await;
        let slow = Instant::now();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        limiter.observe(&key, Budget::Standard, slow, &remaining(59));
        assert_eq!(immediate(&limiter, &key, Budget::Standard).await, 109);

        // An answer from a call sent more than a window ago says nothing about now.
        let other = portal(2);
        let sent = Instant::now();
        tokio::time::sleep(Duration::from_secs(11)).await;
        limiter.observe(&other, Budget::Standard, sent, &remaining(0));
        assert_eq!(immediate(&limiter, &other, Budget::Standard).await, 110);

        // Unknown calls learnt of from an answer sent 6 s ago leave the window 6 s early.
        let third = portal(3);
        let sent = Instant::now();
        tokio::time::sleep(Duration::from_secs(6)).await;
        limiter.observe(&third, Budget::Standard, sent, &remaining(0));
        let waited = limiter.acquire(&third, Budget::Standard).await;
        assert_eq!(
            waited,
            Duration::from_secs(4) + LimiterConfig::default().margin
        );
    }

    #[tokio::test(start_paused = true)]
    async fn lower_max_lowers_the_budget_and_higher_does_not_raise_it() {
        let limiter = limiter(LimiterConfig::default());
        let low = portal(1);
        let max = |m: u32| RateHeaders {
            max: Some(m),
            ..RateHeaders::default()
        };
        limiter.observe(&low, Budget::Standard, Instant::now(), &max(40));
        assert_eq!(immediate(&limiter, &low, Budget::Standard).await, 40);
        let high = portal(2);
        limiter.observe(&high, Budget::Standard, Instant::now(), &max(190));
        assert_eq!(immediate(&limiter, &high, Budget::Standard).await, 110);
        // Headers on a search answer (there are none in practice) do not touch search.
        let search = portal(3);
        limiter.observe(
            &search,
            Budget::Search,
            Instant::now(),
            &RateHeaders {
                remaining: Some(0),
                ..RateHeaders::default()
            },
        );
        assert_eq!(immediate(&limiter, &search, Budget::Search).await, 5);
        assert_eq!(immediate(&limiter, &search, Budget::Standard).await, 110);
    }

    #[tokio::test(start_paused = true)]
    async fn share_halves_the_budget() {
        let limiter = limiter(LimiterConfig {
            share: 0.5,
            ..LimiterConfig::default()
        });
        let key = portal(1);
        assert_eq!(immediate(&limiter, &key, Budget::Standard).await, 55);
        assert_eq!(immediate(&limiter, &key, Budget::Search).await, 2);
        let mut times = acquire_n(&limiter, &portal(2), Budget::Standard, 200).await;
        assert_at_most(&mut times, TEN_SECONDS, 55);
        // The share applies to a portal's own Max too.
        let low = portal(3);
        limiter.observe(
            &low,
            Budget::Standard,
            Instant::now(),
            &RateHeaders {
                max: Some(40),
                ..RateHeaders::default()
            },
        );
        assert_eq!(immediate(&limiter, &low, Budget::Standard).await, 20);
    }

    #[test]
    fn classifies_the_three_bodies() {
        assert_eq!(classify_429(TEN_SECONDLY), Policy::TenSecondlyRolling);
        assert_eq!(classify_429(SECONDLY), Policy::Secondly);
        assert_eq!(classify_429(DAILY), Policy::Daily);
        assert_eq!(classify_429(b"<html>busy</html>"), Policy::Unknown);
        assert_eq!(
            classify_429(br#"{"message":"You have reached your rate limit."}"#),
            Policy::Unknown
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ten_secondly_429_holds_the_portal() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let after = limiter.rate_limited(
            &key,
            Budget::Standard,
            &headers(&[("retry-after", "3")]),
            TEN_SECONDLY,
        );
        assert_eq!(after, After429::RetryAfter(Duration::from_secs(3)));
        let waited = limiter.acquire(&key, Budget::Standard).await;
        assert_eq!(waited, Duration::from_secs(3));
        // Search is not held by the ten-secondly limit.
        assert_eq!(limiter.acquire(&key, Budget::Search).await, Duration::ZERO);

        let after = limiter.rate_limited(&key, Budget::Standard, &HeaderMap::new(), TEN_SECONDLY);
        assert_eq!(after, After429::RetryAfter(TEN_SECONDS));
        assert_eq!(limiter.acquire(&key, Budget::Standard).await, TEN_SECONDS);
        // Other portals go on.
        assert_eq!(
            limiter.acquire(&portal(2), Budget::Standard).await,
            Duration::ZERO
        );
    }

    #[tokio::test(start_paused = true)]
    async fn search_429_holds_search_for_a_second() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let after = limiter.rate_limited(&key, Budget::Search, &HeaderMap::new(), SECONDLY);
        assert_eq!(after, After429::RetryAfter(ONE_SECOND));
        assert_eq!(limiter.acquire(&key, Budget::Search).await, ONE_SECOND);
        assert_eq!(
            limiter.acquire(&key, Budget::Standard).await,
            Duration::ZERO
        );

        let after = limiter.rate_limited(
            &key,
            Budget::Search,
            &headers(&[("retry-after", "2")]),
            SECONDLY,
        );
        assert_eq!(after, After429::RetryAfter(Duration::from_secs(2)));
        assert_eq!(
            limiter.acquire(&key, Budget::Search).await,
            Duration::from_secs(2)
        );

        // An unrecognised 429 on a search call is taken as the search limit.
        let after = limiter.rate_limited(&key, Budget::Search, &HeaderMap::new(), b"");
        assert_eq!(after, After429::RetryAfter(ONE_SECOND));
    }

    #[tokio::test(start_paused = true)]
    async fn daily_429_gives_up() {
        let wall = ManualClock::new(1_000_000);
        let limiter = LocalLimiter::with_clock(LimiterConfig::default(), Arc::new(wall));
        let key = portal(1);
        let after = limiter.rate_limited(
            &key,
            Budget::Standard,
            &headers(&[("retry-after", "3600")]),
            DAILY,
        );
        assert_eq!(
            after,
            After429::GiveUp {
                reset_at: Some(1_000_000 + 3_600_000)
            }
        );
        let after = limiter.rate_limited(&key, Budget::Standard, &HeaderMap::new(), DAILY);
        assert_eq!(after, After429::GiveUp { reset_at: None });
        // Giving up does not hold the budget (the caller stops calling).
        assert_eq!(
            limiter.acquire(&key, Budget::Standard).await,
            Duration::ZERO
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_reaches_a_caller_already_waiting() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let _ = acquire_n(&limiter, &key, Budget::Standard, 110).await;
        let waiter = {
            let limiter = Arc::clone(&limiter);
            let key = key.clone();
            tokio::spawn(async move { limiter.acquire(&key, Budget::Standard).await })
        };
        tokio::time::sleep(ONE_SECOND).await;
        limiter.rate_limited(
            &key,
            Budget::Standard,
            &headers(&[("retry-after", "30")]),
            TEN_SECONDLY,
        );
        let waited = waiter.await.unwrap();
        assert_eq!(waited, Duration::from_secs(30) + ONE_SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_callers_never_overfill_the_window() {
        let limiter = limiter(LimiterConfig::default());
        let times = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                let times = Arc::clone(&times);
                tokio::spawn(async move {
                    let key = portal(1);
                    for _ in 0..50 {
                        limiter.acquire(&key, Budget::Standard).await;
                        times.lock().unwrap().push(Instant::now());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let mut times = times.lock().unwrap().clone();
        assert_eq!(times.len(), 1000);
        assert_at_most(&mut times, TEN_SECONDS, 110);
        // 1000 calls: 9 full windows and a bit, no more.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_secs(90) && took < Duration::from_secs(92),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_acquire_uses_no_budget() {
        let limiter = limiter(LimiterConfig::default());
        let key = portal(1);
        let _ = acquire_n(&limiter, &key, Budget::Search, 5).await;
        let gave_up = tokio::time::timeout(
            Duration::from_millis(10),
            limiter.acquire(&key, Budget::Search),
        )
        .await;
        assert!(gave_up.is_err());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(immediate(&limiter, &key, Budget::Search).await, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_portals_are_forgotten() {
        let limiter = limiter(LimiterConfig::default());
        for id in 0..100 {
            limiter.acquire(&portal(id), Budget::Standard).await;
        }
        assert_eq!(limiter.tracked_portals(), 100);
        tokio::time::sleep(FORGET_AFTER + SWEEP_EVERY).await;
        limiter.acquire(&portal(1000), Budget::Standard).await;
        assert_eq!(limiter.tracked_portals(), 1);
    }
}
