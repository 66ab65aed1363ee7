//! HubSpot's webhooks for apps: the management API (`/webhooks/v3/{appId}/...`), the
//! sender that delivers change events to an app's target URL, and the `/_sim/webhooks`
//! controls.
//!
//! CRM code reports a change with [`Sim::emit_webhook`] / [`Sim::emit_webhooks`] (outside
//! the state lock), or with [`State::queue_webhook`] while holding it (then nothing else
//! is needed once settings exist; [`Sim::kick_webhooks`] makes sure the sender runs). For
//! every app installed in the portal (it holds a refresh token for it) that has settings
//! and an active matching subscription, one event is queued. A background task sends the
//! queue as signed JSON arrays and retries failures (see [`sender`]).

pub mod api;
pub mod controls;
pub mod sender;
pub mod signature;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, Semaphore};

use crate::state::{Sim, SimApp, State, now_ms};

/// Subscriptions an app may have.
pub const MAX_SUBSCRIPTIONS_PER_APP: usize = 1000;
/// Entries kept in the delivery log.
const DELIVERY_LOG_CAPACITY: usize = 1000;

/// The management API and the `/_sim/webhooks` controls.
pub fn routes() -> Router<Sim> {
    Router::new().merge(api::routes()).merge(controls::routes())
}

// ---------------------------------------------------------------------------------------
// Object types and event kinds

/// Object types that webhooks for apps cover, in HubSpot's singular `eventType` spelling.
pub const OBJECT_TYPES: [&str; 6] = [
    "contact",
    "company",
    "deal",
    "ticket",
    "product",
    "line_item",
];

/// The webhook spelling of an object type: accepts `contact`, `contacts` and `0-1` (and so
/// on for company `0-2`, deal `0-3`, ticket `0-5`, product `0-7`, line_item `0-8`).
pub fn normalise_object_type(object_type: &str) -> Option<&'static str> {
    Some(match object_type {
        "contact" | "contacts" | "0-1" => "contact",
        "company" | "companies" | "0-2" => "company",
        "deal" | "deals" | "0-3" => "deal",
        "ticket" | "tickets" | "0-5" => "ticket",
        "product" | "products" | "0-7" => "product",
        "line_item" | "line_items" | "0-8" => "line_item",
        _ => return None,
    })
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Creation,
    Deletion,
    PropertyChange,
    Merge,
    Restore,
    AssociationChange,
    /// `contact.privacyDeletion` only.
    PrivacyDeletion,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Creation,
        ChangeKind::Deletion,
        ChangeKind::PropertyChange,
        ChangeKind::Merge,
        ChangeKind::Restore,
        ChangeKind::AssociationChange,
        ChangeKind::PrivacyDeletion,
    ];

    /// The suffix of the `eventType`, e.g. `propertyChange`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Creation => "creation",
            ChangeKind::Deletion => "deletion",
            ChangeKind::PropertyChange => "propertyChange",
            ChangeKind::Merge => "merge",
            ChangeKind::Restore => "restore",
            ChangeKind::AssociationChange => "associationChange",
            ChangeKind::PrivacyDeletion => "privacyDeletion",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The payload's `changeFlag` (absent for property and association changes).
    pub fn change_flag(self) -> Option<&'static str> {
        match self {
            ChangeKind::Creation => Some("NEW"),
            ChangeKind::Deletion | ChangeKind::PrivacyDeletion => Some("DELETED"),
            ChangeKind::Merge => Some("MERGED"),
            ChangeKind::Restore => Some("RESTORED"),
            ChangeKind::PropertyChange | ChangeKind::AssociationChange => None,
        }
    }
}

/// Whether `object_type.kind` is an `eventType` the simulator supports: every kind for the
/// six object types, except `product.associationChange`; `privacyDeletion` for contacts only.
pub fn event_type_supported(object_type: &str, kind: ChangeKind) -> bool {
    match kind {
        ChangeKind::AssociationChange => object_type != "product",
        ChangeKind::PrivacyDeletion => object_type == "contact",
        _ => true,
    }
}

/// Parses an `eventType` such as `contact.propertyChange` into its parts.
pub fn parse_event_type(event_type: &str) -> Option<(&'static str, ChangeKind)> {
    let (object, kind) = event_type.split_once('.')?;
    let object = OBJECT_TYPES.into_iter().find(|o| *o == object)?;
    let kind = ChangeKind::parse(kind)?;
    event_type_supported(object, kind).then_some((object, kind))
}

/// The fields of an `associationChange` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssociationChange {
    /// e.g. `CONTACT_TO_COMPANY`.
    pub association_type: String,
    pub from_object_id: i64,
    pub to_object_id: i64,
    #[serde(default)]
    pub association_removed: bool,
    #[serde(default)]
    pub is_primary_association: bool,
}

/// A change to a CRM object, as reported by the CRM code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// `contact`, `contacts` or `0-1` etc. (see [`normalise_object_type`]).
    pub object_type: String,
    pub object_id: i64,
    pub kind: ChangeKind,
    /// For `propertyChange`: the property and its new value.
    pub property_name: Option<String>,
    pub property_value: Option<String>,
    /// For `merge`.
    pub primary_object_id: Option<i64>,
    pub merged_object_ids: Vec<i64>,
    /// For `associationChange`.
    pub association: Option<AssociationChange>,
    /// `changeSource`, default `CRM` (HubSpot uses e.g. `CRM`, `API`, `IMPORT`, `CRM_UI`).
    pub change_source: String,
    /// `sourceId`, sent when set.
    pub source_id: Option<String>,
    /// Milliseconds since the epoch; `None` = now.
    pub occurred_at: Option<i64>,
}

impl ChangeEvent {
    pub fn new(object_type: impl Into<String>, object_id: i64, kind: ChangeKind) -> Self {
        Self {
            object_type: object_type.into(),
            object_id,
            kind,
            property_name: None,
            property_value: None,
            primary_object_id: None,
            merged_object_ids: Vec::new(),
            association: None,
            change_source: "CRM".to_owned(),
            source_id: None,
            occurred_at: None,
        }
    }

    /// A `propertyChange` of `name` to `value`.
    pub fn property_change(
        object_type: impl Into<String>,
        object_id: i64,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        let mut event = Self::new(object_type, object_id, ChangeKind::PropertyChange);
        event.property_name = Some(name.into());
        event.property_value = Some(value.into());
        event
    }

    /// A `merge`: `merged_object_ids` went into `primary_object_id` (also the `objectId`).
    pub fn merge(
        object_type: impl Into<String>,
        primary_object_id: i64,
        merged_object_ids: Vec<i64>,
    ) -> Self {
        let mut event = Self::new(object_type, primary_object_id, ChangeKind::Merge);
        event.primary_object_id = Some(primary_object_id);
        event.merged_object_ids = merged_object_ids;
        event
    }

    /// An `associationChange` seen from `object_type` / `association.from_object_id`.
    pub fn association_change(
        object_type: impl Into<String>,
        association: AssociationChange,
    ) -> Self {
        let mut event = Self::new(
            object_type,
            association.from_object_id,
            ChangeKind::AssociationChange,
        );
        event.association = Some(association);
        event
    }

    /// Sets `changeSource`.
    pub fn with_change_source(mut self, source: impl Into<String>) -> Self {
        self.change_source = source.into();
        self
    }

    /// Checks the object type, the kind and the fields the kind needs.
    pub fn validate(&self) -> Result<(), String> {
        let Some(object_type) = normalise_object_type(&self.object_type) else {
            return Err(format!(
                "unknown object type {:?}; expected one of {}",
                self.object_type,
                OBJECT_TYPES.join(", ")
            ));
        };
        if !event_type_supported(object_type, self.kind) {
            return Err(format!(
                "{object_type}.{} is not a webhook event type",
                self.kind.as_str()
            ));
        }
        if self.kind == ChangeKind::PropertyChange && self.property_name.is_none() {
            return Err("a propertyChange needs property_name".to_owned());
        }
        if self.kind == ChangeKind::AssociationChange && self.association.is_none() {
            return Err("an associationChange needs association".to_owned());
        }
        Ok(())
    }
}

/// One event as delivered (field order as in HubSpot's example).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPayload {
    pub event_id: i64,
    pub subscription_id: i64,
    pub portal_id: i64,
    pub occurred_at: i64,
    pub subscription_type: String,
    pub attempt_number: u32,
    pub object_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_value: Option<String>,
    pub change_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_flag: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_object_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_object_ids: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_object_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_object_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_removed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_primary_association: Option<bool>,
    pub app_id: i64,
}

// ---------------------------------------------------------------------------------------
// Settings, subscriptions, configuration, delivery log

/// An app's webhook settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSettings {
    pub target_url: String,
    pub max_concurrent_requests: u32,
    /// `SECONDLY` or `ROLLING_MINUTE`; echoed, not enforced.
    pub period: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An event subscription of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: i64,
    pub app_id: i64,
    pub object_type: &'static str,
    pub kind: ChangeKind,
    pub property_name: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Subscription {
    pub fn event_type(&self) -> String {
        format!("{}.{}", self.object_type, self.kind.as_str())
    }
}

/// Sender settings (`GET|PATCH /_sim/webhooks/config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// Events per request. Default 100.
    pub batch_size: usize,
    /// Attempts per batch, the first included. Default 10.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles on each further retry. Default 60 000.
    pub backoff_ms: u64,
    /// Longest wait between attempts (also caps `Retry-After`). Default 21 600 000 (6 h).
    pub backoff_max_ms: u64,
    /// Per-request timeout, also sent as `X-HubSpot-Timeout-Millis`. Default 10 000.
    pub timeout_ms: u64,
    /// Which signature goes in `X-HubSpot-Signature` (v3 is always sent too). Default v1.
    #[serde(default)]
    pub signature_version: SignatureVersion,
}

/// The signature carried by `X-HubSpot-Signature` (named by
/// `X-HubSpot-Signature-Version`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVersion {
    /// `hex(sha256(client_secret + body))`.
    #[default]
    V1,
    /// `hex(sha256(client_secret + METHOD + URI + body))`.
    V2,
}

impl SignatureVersion {
    /// `v1` or `v2`, as in `X-HubSpot-Signature-Version`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureVersion::V1 => "v1",
            SignatureVersion::V2 => "v2",
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            max_attempts: 10,
            backoff_ms: 60_000,
            backoff_max_ms: 6 * 3_600_000,
            timeout_ms: 10_000,
            signature_version: SignatureVersion::V1,
        }
    }
}

impl WebhookConfig {
    /// The wait before attempt `attempt + 1` after a failed `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u64 << attempt.min(40);
        Duration::from_millis(
            self.backoff_ms
                .saturating_mul(factor)
                .min(self.backoff_max_ms),
        )
    }
}

/// A change to [`WebhookConfig`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfigPatch {
    pub batch_size: Option<usize>,
    pub max_attempts: Option<u32>,
    pub backoff_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub signature_version: Option<SignatureVersion>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// 2xx.
    Delivered,
    /// Failed; another attempt follows after `retry_in_ms`.
    Retrying,
    /// Failed with a status that is not retried (4xx other than 429).
    Rejected,
    /// Failed and no attempts are left.
    Exhausted,
    /// The app's settings were deleted before the attempt; the batch is dropped.
    Dropped,
}

/// One line of the delivery log (`GET /_sim/webhooks/deliveries`). No secrets, no bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub at_ms: i64,
    pub app_id: i64,
    pub url: String,
    /// The `attemptNumber` sent (0 for the first attempt).
    pub attempt: u32,
    pub event_count: usize,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// `timeout`, `connection` or `request` when no response arrived.
    pub error: Option<String>,
    pub outcome: DeliveryOutcome,
    /// The wait before the next attempt (`Retry-After` or backoff).
    pub retry_in_ms: Option<u64>,
}

/// Events waiting for the sender.
#[derive(Debug, Clone)]
pub(crate) struct QueuedEvent {
    pub app_id: i64,
    pub payload: EventPayload,
}

/// The webhook part of the simulator state (inside [`State`]).
#[derive(Debug)]
pub struct WebhookState {
    /// Distinguishes this state from the one a reset replaced (stale tasks stop).
    pub(crate) generation: u64,
    pub config: WebhookConfig,
    pub settings: BTreeMap<i64, AppSettings>,
    pub subscriptions: BTreeMap<i64, Subscription>,
    next_subscription_id: i64,
    next_event_id: i64,
    pub(crate) queue: VecDeque<QueuedEvent>,
    /// Batches taken by the sender and not finished yet.
    pub(crate) in_flight: usize,
    pub(crate) deliveries: VecDeque<DeliveryRecord>,
    pub(crate) dispatcher_running: bool,
    pub(crate) wake: Arc<Notify>,
    pub(crate) idle: Arc<Notify>,
    /// Per app: the concurrency limit and its semaphore.
    pub(crate) semaphores: HashMap<i64, (u32, Arc<Semaphore>)>,
}

impl Default for WebhookState {
    fn default() -> Self {
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        Self {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            config: WebhookConfig::default(),
            settings: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            next_subscription_id: 1,
            next_event_id: 1,
            queue: VecDeque::new(),
            in_flight: 0,
            deliveries: VecDeque::new(),
            dispatcher_running: false,
            wake: Arc::new(Notify::new()),
            idle: Arc::new(Notify::new()),
            semaphores: HashMap::new(),
        }
    }
}

impl WebhookState {
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight == 0
    }

    pub(crate) fn notify_if_idle(&self) {
        if self.is_idle() {
            self.idle.notify_waiters();
        }
    }

    pub(crate) fn record(&mut self, record: DeliveryRecord) {
        if self.deliveries.len() >= DELIVERY_LOG_CAPACITY {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(record);
    }

    pub(crate) fn new_subscription_id(&mut self) -> i64 {
        let id = self.next_subscription_id;
        self.next_subscription_id += 1;
        id
    }

    /// The subscriptions of `app_id`, by id.
    pub fn app_subscriptions(&self, app_id: i64) -> impl Iterator<Item = &Subscription> {
        self.subscriptions
            .values()
            .filter(move |s| s.app_id == app_id)
    }
}

// ---------------------------------------------------------------------------------------
// Developer API keys

/// The developer API key (`hapikey`) of the developer account owning `app`. Every app
/// has its own developer account in the simulator; the key is derived from the client
/// secret, so the sandbox app's key is fixed.
pub fn developer_api_key(app: &SimApp) -> String {
    let d = Sha256::new()
        .chain_update(b"hubspot-sim developer api key\0")
        .chain_update(app.client_secret.as_bytes())
        .finalize();
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An app as JSON with its `developer_api_key` added (for `/_sim/apps`).
pub fn app_json(app: &SimApp) -> Value {
    let mut value = serde_json::to_value(app).unwrap_or_else(|_| json!({}));
    if let Some(obj) = value.as_object_mut() {
        obj.insert("developer_api_key".into(), json!(developer_api_key(app)));
    }
    value
}

// ---------------------------------------------------------------------------------------
// Time

/// `2019-10-30T03:30:17.883Z`.
pub fn iso8601_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    format!("{}.{:03}Z", iso_secs(secs), ms.rem_euclid(1000))
}

/// `2020-01-24T16:27:59Z`.
pub fn iso8601(ms: i64) -> String {
    format!("{}Z", iso_secs(ms.div_euclid(1000)))
}

fn iso_secs(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------
// Emitting

impl State {
    /// Queues `event` for every app installed in `portal_id` (it holds a refresh token for
    /// the portal) that has webhook settings and an active matching subscription; returns
    /// how many events were queued. Invalid events queue nothing. Callable while the state
    /// is locked; the sender picks the events up once running (see [`Sim::kick_webhooks`]).
    pub fn queue_webhook(&mut self, portal_id: i64, event: ChangeEvent) -> usize {
        if event.validate().is_err() {
            return 0;
        }
        let Some(object_type) = normalise_object_type(&event.object_type) else {
            return 0;
        };
        let installed: BTreeSet<i64> = self
            .refresh_tokens
            .values()
            .filter(|r| r.portal_id == portal_id)
            .map(|r| r.app_id)
            .collect();
        let occurred_at = event.occurred_at.unwrap_or_else(now_ms);
        let wh = &mut self.webhooks;
        let matching: Vec<(i64, i64, String)> = installed
            .into_iter()
            .filter(|app_id| wh.settings.contains_key(app_id))
            .flat_map(|app_id| {
                wh.app_subscriptions(app_id)
                    .filter(|s| {
                        s.active
                            && s.object_type == object_type
                            && s.kind == event.kind
                            && (s.kind != ChangeKind::PropertyChange
                                || s.property_name == event.property_name)
                    })
                    .map(|s| (app_id, s.id, s.event_type()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let count = matching.len();
        for (app_id, subscription_id, subscription_type) in matching {
            let event_id = wh.next_event_id;
            wh.next_event_id += 1;
            let association = event.association.as_ref();
            let payload = EventPayload {
                event_id,
                subscription_id,
                portal_id,
                occurred_at,
                subscription_type,
                attempt_number: 0,
                object_id: event.object_id,
                property_name: event.property_name.clone(),
                property_value: event
                    .property_name
                    .as_ref()
                    .map(|_| event.property_value.clone().unwrap_or_default()),
                change_source: event.change_source.clone(),
                change_flag: event.kind.change_flag(),
                source_id: event.source_id.clone(),
                primary_object_id: (event.kind == ChangeKind::Merge)
                    .then(|| event.primary_object_id.unwrap_or(event.object_id)),
                merged_object_ids: (event.kind == ChangeKind::Merge)
                    .then(|| event.merged_object_ids.clone()),
                association_type: association.map(|a| a.association_type.clone()),
                from_object_id: association.map(|a| a.from_object_id),
                to_object_id: association.map(|a| a.to_object_id),
                association_removed: association.map(|a| a.association_removed),
                is_primary_association: association.map(|a| a.is_primary_association),
                app_id,
            };
            wh.queue.push_back(QueuedEvent { app_id, payload });
        }
        if count > 0 {
            wh.wake.notify_one();
        }
        count
    }
}

impl Sim {
    /// Reports a change in `portal_id`; see [`State::queue_webhook`]. Do not call it while
    /// holding the state lock (use [`State::queue_webhook`] there).
    pub fn emit_webhook(&self, portal_id: i64, event: ChangeEvent) -> usize {
        self.emit_webhooks(portal_id, [event])
    }

    /// Reports several changes at once: they are queued together, so they share batches.
    pub fn emit_webhooks(
        &self,
        portal_id: i64,
        events: impl IntoIterator<Item = ChangeEvent>,
    ) -> usize {
        let queued = self.with(|s| {
            events
                .into_iter()
                .map(|e| s.queue_webhook(portal_id, e))
                .sum()
        });
        self.kick_webhooks();
        queued
    }

    /// Starts the sender task if it is not running (needs a Tokio runtime; without one
    /// nothing happens and events stay queued).
    pub fn kick_webhooks(&self) {
        sender::ensure_dispatcher(self);
    }

    pub fn webhook_config(&self) -> WebhookConfig {
        self.with(|s| s.webhooks.config.clone())
    }

    /// Applies `patch` (every number must be positive).
    pub fn update_webhook_config(
        &self,
        patch: WebhookConfigPatch,
    ) -> Result<WebhookConfig, String> {
        let positive = [
            patch.batch_size.map(|v| v as u64),
            patch.max_attempts.map(u64::from),
            patch.timeout_ms,
        ];
        if positive.into_iter().flatten().any(|v| v == 0) {
            return Err("batch_size, max_attempts and timeout_ms must be positive".to_owned());
        }
        Ok(self.with(|s| {
            let c = &mut s.webhooks.config;
            if let Some(v) = patch.batch_size {
                c.batch_size = v;
            }
            if let Some(v) = patch.max_attempts {
                c.max_attempts = v;
            }
            if let Some(v) = patch.backoff_ms {
                c.backoff_ms = v;
            }
            if let Some(v) = patch.backoff_max_ms {
                c.backoff_max_ms = v;
            }
            if let Some(v) = patch.timeout_ms {
                c.timeout_ms = v;
            }
            if let Some(v) = patch.signature_version {
                c.signature_version = v;
            }
            c.clone()
        }))
    }

    /// The delivery log, oldest first (last 1000 attempts).
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.with(|s| s.webhooks.deliveries.iter().cloned().collect())
    }

    /// The developer API key (`hapikey`) of the app `app_id`.
    pub fn developer_api_key(&self, app_id: i64) -> Option<String> {
        self.with(|s| {
            s.apps
                .iter()
                .find(|a| a.app_id == app_id)
                .map(developer_api_key)
        })
    }

    /// Waits until no event is queued and no batch is being delivered (retries included).
    /// Returns false if `timeout` passed first.
    pub async fn wait_webhooks_idle(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, async {
            loop {
                let idle = self.with(|s| s.webhooks.idle.clone());
                let notified = idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.with(|s| s.webhooks.is_idle()) {
                    return;
                }
                notified.await;
            }
        })
        .await
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_formats() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_572_406_217_883), "2019-10-30T03:30:17.883Z");
        assert_eq!(iso8601(1_579_883_279_000), "2020-01-24T16:27:59Z");
        assert_eq!(iso8601_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn event_types() {
        assert_eq!(
            parse_event_type("contact.propertyChange"),
            Some(("contact", ChangeKind::PropertyChange))
        );
        assert_eq!(parse_event_type("product.associationChange"), None);
        assert_eq!(parse_event_type("deal.privacyDeletion"), None);
        assert!(parse_event_type("contact.privacyDeletion").is_some());
        assert_eq!(parse_event_type("conversation.creation"), None);
        assert_eq!(parse_event_type("contact.create"), None);
        assert_eq!(normalise_object_type("0-8"), Some("line_item"));
        assert_eq!(normalise_object_type("companies"), Some("company"));
    }

    #[test]
    fn payload_matches_the_official_example() {
        // The official example, byte for byte, so its v1 test vector applies.
        let payload = EventPayload {
            event_id: 1,
            subscription_id: 12345,
            portal_id: 62515,
            occurred_at: 1_564_113_600_000,
            subscription_type: "contact.creation".into(),
            attempt_number: 0,
            object_id: 123,
            property_name: None,
            property_value: None,
            change_source: "CRM".into(),
            change_flag: ChangeKind::Creation.change_flag(),
            source_id: None,
            primary_object_id: None,
            merged_object_ids: None,
            association_type: None,
            from_object_id: None,
            to_object_id: None,
            association_removed: None,
            is_primary_association: None,
            app_id: 54321,
        };
        let body = serde_json::to_string(&[payload]).unwrap_or_default();
        assert_eq!(
            body,
            r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#
        );
        assert_eq!(
            signature::v1("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", body.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let c = WebhookConfig {
            backoff_ms: 10,
            backoff_max_ms: 50,
            ..WebhookConfig::default()
        };
        let waits: Vec<u128> = (0..4).map(|a| c.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![10, 20, 40, 50]);
    }

    #[test]
    fn developer_keys_are_stable_and_distinct() {
        let sim = Sim::new(crate::state::SimConfig::default());
        let app = sim.sandbox_app();
        let key = developer_api_key(&app);
        // As documented in the README.
        assert_eq!(key, "0deb7891-b631-64a1-2cd9-f39a930f75d7");
        assert_eq!(Some(key.clone()), sim.developer_api_key(app.app_id));
        let other = SimApp {
            client_secret: "other".into(),
            ..app
        };
        assert_ne!(developer_api_key(&other), key);
    }

    #[test]
    fn queues_only_for_installed_apps_with_matching_active_subscriptions() {
        let sim = Sim::new(crate::state::SimConfig::default());
        let app = crate::state::SANDBOX_APP_ID;
        let portal = crate::portals::ACME_INC;
        let event = || ChangeEvent::property_change("contacts", 7, "email", "a@b.example");
        let add = |kind, prop: Option<&str>, active| {
            sim.with(|s| {
                let id = s.webhooks.new_subscription_id();
                s.webhooks.subscriptions.insert(
                    id,
                    Subscription {
                        id,
                        app_id: app,
                        object_type: "contact",
                        kind,
                        property_name: prop.map(str::to_owned),
                        active,
                        created_at: 0,
                        updated_at: 0,
                    },
                );
            })
        };
        add(ChangeKind::PropertyChange, Some("email"), true);
        add(ChangeKind::PropertyChange, Some("firstname"), true);
        add(ChangeKind::Creation, None, false);
        // Not installed, no settings.
        assert_eq!(sim.with(|s| s.queue_webhook(portal, event())), 0);
        let _ = sim.issue_tokens(None, portal, &["oauth".to_owned()]);
        assert_eq!(sim.with(|s| s.queue_webhook(portal, event())), 0);
        sim.with(|s| {
            s.webhooks.settings.insert(
                app,
                AppSettings {
                    target_url: "http://127.0.0.1:9/hook".into(),
                    max_concurrent_requests: 10,
                    period: "SECONDLY".into(),
                    created_at: 0,
                    updated_at: 0,
                },
            )
        });
        assert_eq!(sim.with(|s| s.queue_webhook(portal, event())), 1);
        // Another portal: not installed there.
        assert_eq!(
            sim.with(|s| s.queue_webhook(crate::portals::ACME_STARTER, event())),
            0
        );
        // Inactive creation subscription.
        let created = ChangeEvent::new("contact", 7, ChangeKind::Creation);
        assert_eq!(sim.with(|s| s.queue_webhook(portal, created)), 0);
        let queued = sim.with(|s| s.webhooks.queue.clone());
        assert_eq!(queued.len(), 1);
        assert_eq!(
            queued[0].payload.subscription_type,
            "contact.propertyChange"
        );
        assert_eq!(
            queued[0].payload.property_value.as_deref(),
            Some("a@b.example")
        );
    }
}
