//! The simulator's in-memory state and [`Sim`], the cloneable handle to it.
//!
//! Everything lives behind one `std::sync::Mutex`; it is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{catalogue, ids, portals};

/// Client id of the built-in sandbox app (fixed so the sandbox is reproducible).
pub const SANDBOX_CLIENT_ID: &str = "5a0db0c5-c11e-4e1d-8000-000000000001";
/// Client secret of the built-in sandbox app.
pub const SANDBOX_CLIENT_SECRET: &str = "5a0db0c5-5ec2-4e75-8000-000000000001";
/// App id of the built-in sandbox app.
pub const SANDBOX_APP_ID: i64 = 1_000_001;
/// Name of the built-in sandbox app.
pub const SANDBOX_APP_NAME: &str = "Spokes Sandbox";

/// How long an authorization code can be exchanged.
pub const AUTH_CODE_LIFETIME_SECS: i64 = 600;
/// Entries kept in the request log.
const REQUEST_LOG_CAPACITY: usize = 1000;
/// Default requests per app and portal in a 10-second window (`rate_limit_per_10s`).
pub const RATE_LIMIT_MAX: u32 = crate::limits::DEFAULT_PER_10S;
/// The rolling window of [`RATE_LIMIT_MAX`].
pub const RATE_LIMIT_INTERVAL_MS: i64 = crate::limits::TEN_SECONDLY_MS;

/// Milliseconds since the Unix epoch, from the real clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Settings of a simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// `expires_in` of new access tokens. Default 1800.
    pub access_token_lifetime_secs: i64,
    /// Redirect URLs registered on the built-in sandbox app.
    pub sandbox_redirect_urls: Vec<String>,
    /// When true, a refresh returns a new refresh token and revokes the old one.
    /// Default false: a refresh returns the same refresh token.
    pub rotate_refresh_tokens: bool,
    /// When true (the default), the products and line-items APIs answer 403 on portals
    /// whose user has no paid Sales Hub seat (the seed guide's rule; see the README).
    #[serde(default = "default_true")]
    pub require_sales_hub_seat: bool,
    /// CRM search: records created or updated less than this many ms ago are not
    /// yet visible to search (HubSpot indexes asynchronously). Default 0.
    #[serde(default)]
    pub search_indexing_delay_ms: u64,
    /// CRM search: most `filterGroups` in one request. Default 5.
    #[serde(default = "default_search_max_filter_groups")]
    pub search_max_filter_groups: usize,
    /// CRM search: most filters in one group. Default 10 (see the README).
    #[serde(default = "default_search_max_filters_per_group")]
    pub search_max_filters_per_group: usize,
    /// CRM search: most filters in one request, all groups together. Default 25.
    #[serde(default = "default_search_max_filters_total")]
    pub search_max_filters_total: usize,
    /// Most inputs in an object batch request (50 when property history is asked). Default 100.
    #[serde(default = "default_batch_max_inputs")]
    pub batch_max_inputs: usize,
    /// Most inputs in an associations v4 batch request. Default 1000.
    #[serde(default = "default_association_batch_max_inputs")]
    pub association_batch_max_inputs: usize,
    /// Requests per (app, portal) in the rolling 10-second window; 0 = off. Default 110.
    #[serde(default = "default_rate_limit_per_10s")]
    pub rate_limit_per_10s: u32,
    /// Search requests per access token per second; 0 = off. Default 5.
    #[serde(default = "default_search_rate_limit_per_sec")]
    pub search_rate_limit_per_sec: u32,
    /// Requests per portal and day for private-app tokens; 0 = off. Default 250000.
    #[serde(default = "default_private_app_daily_limit")]
    pub private_app_daily_limit: u64,
    /// Whether limiter 429s carry `Retry-After` (seconds). Default true.
    #[serde(default = "default_true")]
    pub rate_limit_retry_after: bool,
}

fn default_rate_limit_per_10s() -> u32 {
    crate::limits::DEFAULT_PER_10S
}

fn default_search_rate_limit_per_sec() -> u32 {
    crate::limits::DEFAULT_SEARCH_PER_SEC
}

fn default_private_app_daily_limit() -> u64 {
    crate::limits::DEFAULT_PRIVATE_APP_DAILY
}

fn default_search_max_filter_groups() -> usize {
    5
}

fn default_search_max_filters_per_group() -> usize {
    10
}

fn default_search_max_filters_total() -> usize {
    25
}

fn default_batch_max_inputs() -> usize {
    100
}

fn default_association_batch_max_inputs() -> usize {
    1000
}

fn default_true() -> bool {
    true
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            access_token_lifetime_secs: 1800,
            sandbox_redirect_urls: vec![
                "http://127.0.0.1:8080/connector/callback".to_owned(),
                "http://localhost:8080/connector/callback".to_owned(),
            ],
            rotate_refresh_tokens: false,
            require_sales_hub_seat: true,
            search_indexing_delay_ms: 0,
            search_max_filter_groups: default_search_max_filter_groups(),
            search_max_filters_per_group: default_search_max_filters_per_group(),
            search_max_filters_total: default_search_max_filters_total(),
            batch_max_inputs: default_batch_max_inputs(),
            association_batch_max_inputs: default_association_batch_max_inputs(),
            rate_limit_per_10s: default_rate_limit_per_10s(),
            search_rate_limit_per_sec: default_search_rate_limit_per_sec(),
            private_app_daily_limit: default_private_app_daily_limit(),
            rate_limit_retry_after: true,
        }
    }
}

/// A change to [`SimConfig`] (body of `PATCH /_sim/config`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    pub access_token_lifetime_secs: Option<i64>,
    pub rotate_refresh_tokens: Option<bool>,
    pub sandbox_redirect_urls: Option<Vec<String>>,
    pub require_sales_hub_seat: Option<bool>,
    pub search_indexing_delay_ms: Option<u64>,
    pub search_max_filter_groups: Option<usize>,
    pub search_max_filters_per_group: Option<usize>,
    pub search_max_filters_total: Option<usize>,
    pub batch_max_inputs: Option<usize>,
    pub association_batch_max_inputs: Option<usize>,
    pub rate_limit_per_10s: Option<u32>,
    pub search_rate_limit_per_sec: Option<u32>,
    pub private_app_daily_limit: Option<u64>,
    pub rate_limit_retry_after: Option<bool>,
}

/// A HubSpot app (public app) registered with the simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimApp {
    pub app_id: i64,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_urls: Vec<String>,
    /// The scopes configured on the app; an install URL may ask for no others.
    pub scopes: Vec<String>,
}

impl SimApp {
    /// Whether `scope` is configured on the app. `oauth` always is.
    pub fn allows_scope(&self, scope: &str) -> bool {
        scope == "oauth" || self.scopes.iter().any(|s| s == scope)
    }
}

/// A new app (body of `POST /_sim/apps`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    pub name: Option<String>,
    pub redirect_urls: Vec<String>,
    /// Scopes configured on the app; default: the whole catalogue.
    pub scopes: Option<Vec<String>>,
}

/// The token endpoint's success body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub token_type: String,
    pub token_use: String,
    pub hub_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
}

/// A live access token.
#[derive(Debug, Clone)]
pub struct AccessTokenRecord {
    pub token: String,
    pub app_id: i64,
    pub client_id: String,
    pub portal_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub expires_at_ms: i64,
    /// The refresh token this access token was minted with.
    pub refresh_token: String,
}

impl AccessTokenRecord {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whole seconds until expiry; zero or negative once expired.
    pub fn expires_in_secs(&self, now_ms: i64) -> i64 {
        (self.expires_at_ms - now_ms).div_euclid(1000)
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at_ms
    }
}

/// A live refresh token.
#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    pub token: String,
    pub app_id: i64,
    pub client_id: String,
    pub portal_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
}

/// PKCE transform named in `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    Plain,
    S256,
}

/// An issued, not yet exchanged authorization code.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub portal_id: i64,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub pkce: Option<(PkceMethod, String)>,
    pub expires_at_ms: i64,
}

/// Which kind of credential a token string turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    AuthorizationCode,
    AccessToken,
    RefreshToken,
}

/// Calls counted by the simulator (`GET /_sim/counters`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Token endpoint calls by `grant_type` (all outcomes; `other` for unknown or missing).
    pub token_requests: BTreeMap<String, u64>,
    /// Token endpoint failures by error `status` (e.g. `BAD_AUTH_CODE`).
    pub token_errors: BTreeMap<String, u64>,
    /// Consent decisions that redirected with a code.
    pub consents_allowed: u64,
    /// Consent decisions that redirected with `access_denied`.
    pub consents_denied: u64,
    /// Calls to the introspect endpoints.
    pub introspections: u64,
    /// Calls to the revoke endpoints (v1 DELETE and v3 revoke).
    pub revocations: u64,
    /// Calls to `GET /oauth/v1/access-tokens/*` and `/oauth/v1/refresh-tokens/*`.
    pub token_info_requests: u64,
    /// Bearer-authenticated API calls (account info, ...), whatever their outcome.
    pub api_requests: u64,
}

impl Default for Counters {
    fn default() -> Self {
        let token_requests = ["authorization_code", "refresh_token"]
            .into_iter()
            .map(|g| (g.to_owned(), 0))
            .collect();
        Self {
            token_requests,
            token_errors: BTreeMap::new(),
            consents_allowed: 0,
            consents_denied: 0,
            introspections: 0,
            revocations: 0,
            token_info_requests: 0,
            api_requests: 0,
        }
    }
}

/// One line of the request log. Query strings are never recorded and token path
/// segments are redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub at_ms: i64,
}

/// Rate-limit figures reported in `X-HubSpot-RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitInfo {
    pub max: u32,
    pub remaining: u32,
    pub interval_ms: i64,
}

/// Errors of the [`Sim`] control methods.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown client_id {0}")]
    UnknownClient(String),
    #[error("unknown portal {0}")]
    UnknownPortal(i64),
    #[error("unknown scope(s): {}", .0.join(" "))]
    UnknownScopes(Vec<String>),
    #[error("invalid redirect URL {0:?}: it must be an absolute http(s) URL")]
    InvalidRedirectUrl(String),
    #[error("access_token_lifetime_secs must be positive")]
    InvalidLifetime,
}

/// All mutable state.
#[derive(Debug)]
pub struct State {
    initial_config: SimConfig,
    pub config: SimConfig,
    pub apps: Vec<SimApp>,
    next_app_id: i64,
    pub codes: HashMap<String, AuthCode>,
    pub access_tokens: HashMap<String, AccessTokenRecord>,
    pub refresh_tokens: HashMap<String, RefreshTokenRecord>,
    pub counters: Counters,
    requests: VecDeque<RequestLogEntry>,
    /// Rate-limit windows, private-app tokens and the limiter's clock.
    pub limits: crate::limits::LimitState,
    /// Injected faults (`/_sim/faults`).
    pub faults: crate::faults::FaultState,
    /// Webhook settings, subscriptions, the event queue and the delivery log.
    pub webhooks: crate::webhooks::WebhookState,
    /// CRM records and property definitions of every portal.
    pub crm: crate::crm::CrmState,
    /// Marketing forms and their submissions, per portal.
    pub forms: crate::forms::FormsState,
    /// Lists v3, per portal.
    pub lists: crate::lists::ListsState,
    /// User tokens given by form submissions.
    pub user_tokens: crate::contacts_v1::UserTokens,
    /// Marketing campaigns v3, per portal.
    pub campaigns: crate::campaigns::CampaignsState,
    /// Timeline event templates of every app and their events.
    pub timeline: crate::timeline::TimelineState,
}

impl State {
    fn new(config: SimConfig) -> Self {
        let sandbox = sandbox_app(&config);
        Self {
            initial_config: config.clone(),
            config,
            apps: vec![sandbox],
            next_app_id: SANDBOX_APP_ID + 1,
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            counters: Counters::default(),
            requests: VecDeque::new(),
            limits: crate::limits::LimitState::default(),
            faults: crate::faults::FaultState::default(),
            webhooks: crate::webhooks::WebhookState::default(),
            crm: crate::crm::CrmState::default(),
            forms: crate::forms::FormsState::default(),
            lists: crate::lists::ListsState::default(),
            user_tokens: crate::contacts_v1::UserTokens::default(),
            campaigns: crate::campaigns::CampaignsState::default(),
            timeline: crate::timeline::TimelineState::default(),
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&SimApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    /// Mints an access token for a grant. Without `refresh_token` a new refresh token is
    /// created; with one, that refresh token is reused (or rotated, per config).
    pub fn mint(
        &mut self,
        app_id: i64,
        client_id: &str,
        portal_id: i64,
        user_id: i64,
        scopes: Vec<String>,
        refresh_token: Option<String>,
    ) -> TokenResponse {
        let refresh = match refresh_token {
            Some(old) if self.config.rotate_refresh_tokens => {
                self.refresh_tokens.remove(&old);
                None
            }
            other => other,
        };
        let refresh = refresh.unwrap_or_else(|| {
            let token = ids::refresh_token();
            self.refresh_tokens.insert(
                token.clone(),
                RefreshTokenRecord {
                    token: token.clone(),
                    app_id,
                    client_id: client_id.to_owned(),
                    portal_id,
                    user_id,
                    scopes: scopes.clone(),
                },
            );
            token
        });
        let lifetime = self.config.access_token_lifetime_secs;
        let access = ids::access_token();
        self.access_tokens.insert(
            access.clone(),
            AccessTokenRecord {
                token: access.clone(),
                app_id,
                client_id: client_id.to_owned(),
                portal_id,
                user_id,
                scopes: scopes.clone(),
                expires_at_ms: now_ms() + lifetime * 1000,
                refresh_token: refresh.clone(),
            },
        );
        TokenResponse {
            access_token: access,
            refresh_token: refresh,
            expires_in: lifetime,
            token_type: "bearer".to_owned(),
            token_use: "access_token".to_owned(),
            hub_id: portal_id,
            user_id,
            scopes,
        }
    }

    /// Counts an API call of `app_id` on `portal_id` in the rolling window, without
    /// enforcing it (the `limits` middleware counts and enforces HTTP calls).
    pub fn note_api_call(&mut self, app_id: i64, portal_id: i64) -> RateLimitInfo {
        let limits = crate::limits::Limits::of(&self.config);
        self.limits.count(limits, app_id, portal_id)
    }

    /// The ten-secondly figures of `app_id` on `portal_id`, without counting a call.
    pub fn rate_limit_info(&self, app_id: i64, portal_id: i64) -> RateLimitInfo {
        let limits = crate::limits::Limits::of(&self.config);
        self.limits.peek(limits, app_id, portal_id)
    }

    pub fn count_token_request(&mut self, grant_type: Option<&str>) {
        let key = grant_type
            .filter(|g| {
                matches!(
                    *g,
                    "authorization_code" | "refresh_token" | "client_credentials"
                )
            })
            .unwrap_or("other");
        *self
            .counters
            .token_requests
            .entry(key.to_owned())
            .or_default() += 1;
    }

    pub fn count_token_error(&mut self, status: &str) {
        *self
            .counters
            .token_errors
            .entry(status.to_owned())
            .or_default() += 1;
    }
}

/// Cloneable handle to a simulator's state.
#[derive(Debug, Clone)]
pub struct Sim {
    inner: Arc<Mutex<State>>,
}

impl Sim {
    pub fn new(config: SimConfig) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::new(config))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that matters to a simulator, so a poisoned lock is simply taken over.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the state locked.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.lock())
    }

    /// The built-in sandbox app.
    pub fn sandbox_app(&self) -> SimApp {
        self.with(|s| {
            s.app(SANDBOX_CLIENT_ID)
                .cloned()
                .unwrap_or_else(|| sandbox_app(&s.config))
        })
    }

    /// Every registered app, the sandbox app first.
    pub fn apps(&self) -> Vec<SimApp> {
        self.with(|s| s.apps.clone())
    }

    /// Registers an app with random credentials.
    pub fn create_app(&self, new: NewApp) -> Result<SimApp, SimError> {
        validate_redirect_urls(&new.redirect_urls)?;
        let scopes = match new.scopes {
            Some(scopes) => {
                validate_scopes(&scopes)?;
                scopes
            }
            None => catalogue::all_scopes(),
        };
        Ok(self.with(|s| {
            let app_id = s.next_app_id;
            s.next_app_id += 1;
            let app = SimApp {
                app_id,
                name: new.name.unwrap_or_else(|| format!("App {app_id}")),
                client_id: ids::random_uuid(),
                client_secret: ids::random_uuid(),
                redirect_urls: new.redirect_urls,
                scopes,
            };
            s.apps.push(app.clone());
            app
        }))
    }

    /// Issues an access and refresh token without the consent flow. `client_id`
    /// defaults to the sandbox app. The scopes are granted exactly as given (`oauth`
    /// is not added), whatever the app or portal allows.
    pub fn issue_tokens(
        &self,
        client_id: Option<&str>,
        portal_id: i64,
        scopes: &[String],
    ) -> Result<TokenResponse, SimError> {
        validate_scopes(scopes)?;
        let portal = portals::find(portal_id).ok_or(SimError::UnknownPortal(portal_id))?;
        let client_id = client_id.unwrap_or(SANDBOX_CLIENT_ID);
        self.with(|s| {
            let app = s
                .app(client_id)
                .ok_or_else(|| SimError::UnknownClient(client_id.to_owned()))?;
            let (app_id, client_id) = (app.app_id, app.client_id.clone());
            Ok(s.mint(
                app_id,
                &client_id,
                portal.id,
                portals::DEFAULT_USER.user_id,
                scopes.to_vec(),
                None,
            ))
        })
    }

    /// The live access token `token`, if any (expired ones included).
    pub fn access_token(&self, token: &str) -> Option<AccessTokenRecord> {
        self.with(|s| s.access_tokens.get(token).cloned())
    }

    /// Revokes an access token, a refresh token (only it) or an authorization code.
    pub fn revoke_token(&self, token: &str) -> Option<TokenKind> {
        self.with(|s| {
            if s.codes.remove(token).is_some() {
                Some(TokenKind::AuthorizationCode)
            } else if s.access_tokens.remove(token).is_some() {
                Some(TokenKind::AccessToken)
            } else if s.refresh_tokens.remove(token).is_some() {
                Some(TokenKind::RefreshToken)
            } else {
                None
            }
        })
    }

    /// Makes an access token or authorization code expire `seconds_ago` seconds ago
    /// (0 = now); invalidates a refresh token.
    pub fn expire_token(&self, token: &str, seconds_ago: i64) -> Option<TokenKind> {
        let at = now_ms() - seconds_ago.max(0) * 1000;
        self.with(|s| {
            if let Some(code) = s.codes.get_mut(token) {
                code.expires_at_ms = at;
                Some(TokenKind::AuthorizationCode)
            } else if let Some(rec) = s.access_tokens.get_mut(token) {
                rec.expires_at_ms = at;
                Some(TokenKind::AccessToken)
            } else if s.refresh_tokens.remove(token).is_some() {
                Some(TokenKind::RefreshToken)
            } else {
                None
            }
        })
    }

    pub fn counters(&self) -> Counters {
        self.with(|s| s.counters.clone())
    }

    /// The request log, oldest first (HubSpot paths only; `/_sim` calls are not logged).
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.with(|s| s.requests.iter().cloned().collect())
    }

    pub(crate) fn log_request(&self, method: &str, path: String, status: u16) {
        self.with(|s| {
            if s.requests.len() >= REQUEST_LOG_CAPACITY {
                s.requests.pop_front();
            }
            s.requests.push_back(RequestLogEntry {
                method: method.to_owned(),
                path,
                status,
                at_ms: now_ms(),
            });
        });
    }

    pub fn config(&self) -> SimConfig {
        self.with(|s| s.config.clone())
    }

    /// Applies `patch`; new sandbox redirect URLs replace the sandbox app's.
    pub fn update_config(&self, patch: ConfigPatch) -> Result<SimConfig, SimError> {
        if patch.access_token_lifetime_secs.is_some_and(|l| l <= 0) {
            return Err(SimError::InvalidLifetime);
        }
        if let Some(urls) = &patch.sandbox_redirect_urls {
            validate_redirect_urls(urls)?;
        }
        Ok(self.with(|s| {
            if let Some(l) = patch.access_token_lifetime_secs {
                s.config.access_token_lifetime_secs = l;
            }
            if let Some(r) = patch.rotate_refresh_tokens {
                s.config.rotate_refresh_tokens = r;
            }
            if let Some(r) = patch.require_sales_hub_seat {
                s.config.require_sales_hub_seat = r;
            }
            if let Some(n) = patch.rate_limit_per_10s {
                s.config.rate_limit_per_10s = n;
            }
            if let Some(n) = patch.search_rate_limit_per_sec {
                s.config.search_rate_limit_per_sec = n;
            }
            if let Some(n) = patch.private_app_daily_limit {
                s.config.private_app_daily_limit = n;
            }
            if let Some(r) = patch.rate_limit_retry_after {
                s.config.rate_limit_retry_after = r;
            }
            if let Some(d) = patch.search_indexing_delay_ms {
                s.config.search_indexing_delay_ms = d;
            }
            if let Some(n) = patch.search_max_filter_groups {
                s.config.search_max_filter_groups = n;
            }
            if let Some(n) = patch.search_max_filters_per_group {
                s.config.search_max_filters_per_group = n;
            }
            if let Some(n) = patch.search_max_filters_total {
                s.config.search_max_filters_total = n;
            }
            if let Some(n) = patch.batch_max_inputs {
                s.config.batch_max_inputs = n;
            }
            if let Some(n) = patch.association_batch_max_inputs {
                s.config.association_batch_max_inputs = n;
            }
            if let Some(urls) = patch.sandbox_redirect_urls {
                s.config.sandbox_redirect_urls = urls.clone();
                if let Some(app) = s.apps.iter_mut().find(|a| a.client_id == SANDBOX_CLIENT_ID) {
                    app.redirect_urls = urls;
                }
            }
            s.config.clone()
        }))
    }

    /// Forgets every token, code, created app, counter and logged request, and
    /// restores the configuration the simulator was started with.
    pub fn reset(&self) {
        self.with(|s| *s = State::new(s.initial_config.clone()));
    }
}

/// The built-in sandbox app: fixed credentials, every catalogue scope.
fn sandbox_app(config: &SimConfig) -> SimApp {
    SimApp {
        app_id: SANDBOX_APP_ID,
        name: SANDBOX_APP_NAME.to_owned(),
        client_id: SANDBOX_CLIENT_ID.to_owned(),
        client_secret: SANDBOX_CLIENT_SECRET.to_owned(),
        redirect_urls: config.sandbox_redirect_urls.clone(),
        scopes: catalogue::all_scopes(),
    }
}

fn validate_scopes(scopes: &[String]) -> Result<(), SimError> {
    let unknown: Vec<String> = scopes
        .iter()
        .filter(|s| !catalogue::is_known(s))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(SimError::UnknownScopes(unknown))
    }
}

fn validate_redirect_urls(urls: &[String]) -> Result<(), SimError> {
    for u in urls {
        let ok = url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
        if !ok {
            return Err(SimError::InvalidRedirectUrl(u.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_reuses_or_rotates() {
        let sim = Sim::new(SimConfig::default());
        let first = sim
            .issue_tokens(None, portals::ACME_INC, &["oauth".to_owned()])
            .ok();
        let first = first.map(|t| t.refresh_token).unwrap_or_default();
        let again = sim.with(|s| {
            s.mint(
                SANDBOX_APP_ID,
                SANDBOX_CLIENT_ID,
                portals::ACME_INC,
                4021,
                vec![],
                Some(first.clone()),
            )
        });
        assert_eq!(again.refresh_token, first);
        sim.with(|s| s.config.rotate_refresh_tokens = true);
        let rotated = sim.with(|s| {
            s.mint(
                SANDBOX_APP_ID,
                SANDBOX_CLIENT_ID,
                portals::ACME_INC,
                4021,
                vec![],
                Some(first.clone()),
            )
        });
        assert_ne!(rotated.refresh_token, first);
        assert!(sim.with(|s| !s.refresh_tokens.contains_key(&first)));
    }

    #[test]
    fn reset_restores_initial_config() {
        let sim = Sim::new(SimConfig::default());
        let patched = sim.update_config(ConfigPatch {
            access_token_lifetime_secs: Some(60),
            ..ConfigPatch::default()
        });
        assert_eq!(patched.map(|c| c.access_token_lifetime_secs).ok(), Some(60));
        sim.reset();
        assert_eq!(sim.config(), SimConfig::default());
    }

    #[test]
    fn rate_window_counts_down() {
        let sim = Sim::new(SimConfig::default());
        let a = sim.with(|s| s.note_api_call(1, 2));
        let b = sim.with(|s| s.note_api_call(1, 2));
        let other = sim.with(|s| s.note_api_call(1, 3));
        assert_eq!(a.remaining, RATE_LIMIT_MAX - 1);
        assert_eq!(b.remaining, RATE_LIMIT_MAX - 2);
        assert_eq!(other.remaining, RATE_LIMIT_MAX - 1);
    }
}
