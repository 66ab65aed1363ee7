//! The nouns of Spokes: accounts, connector setups, installations, API keys, auth links.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::UnixMillis;
use crate::secret::Secret;

/// One customer of the partner, identified by the partner's own id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub timezone: Option<String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

/// Partner-level settings of a connector (the HubSpot app's credentials and default scopes).
#[derive(Debug, Clone)]
pub struct ConnectorSetup {
    pub connector: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// `Scopes` / `OptionalScopes` given at setup level.
    pub properties: BTreeMap<String, String>,
    pub updated_at: UnixMillis,
}

/// A copy of a connector's Custom Objects category bound to one custom object schema, by
/// the schema's name (the same in every portal): its record methods without the object type,
/// under a category of the partner's naming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomObjectCopy {
    pub connector: String,
    /// The schema's `name` (`cars`): the object type is `p<portalId>_<name>` in each portal.
    pub schema_name: String,
    /// The category the copied methods show, e.g. `Cars`.
    pub category: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallationStatus {
    Unauthenticated,
    Authenticated,
    NeedsReauth,
}

impl InstallationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Authenticated => "authenticated",
            Self::NeedsReauth => "needs_reauth",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "unauthenticated" => Some(Self::Unauthenticated),
            "authenticated" => Some(Self::Authenticated),
            "needs_reauth" => Some(Self::NeedsReauth),
            _ => None,
        }
    }
}

/// What went wrong last, kept on the installation so the partner can show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    pub code: String,
    pub message: String,
    pub at: UnixMillis,
}

/// What we learned about the connected HubSpot portal. Never holds a token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortalDetails {
    pub portal_id: i64,
    pub account_type: String,
    pub ui_domain: Option<String>,
    pub hub_domain: Option<String>,
    /// The email of the HubSpot user who authorised.
    pub user: Option<String>,
    pub user_id: Option<i64>,
    pub granted_scopes: Vec<String>,
    pub warnings: Vec<String>,
}

/// A connector installed into an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Installation {
    pub id: String,
    pub account_id: String,
    pub connector: String,
    pub name: String,
    /// `Scopes` / `OptionalScopes` given on this installation.
    pub properties: BTreeMap<String, String>,
    pub status: InstallationStatus,
    pub portal: Option<PortalDetails>,
    pub last_error: Option<LastError>,
    pub token_expires_at: Option<UnixMillis>,
    /// Bumped by every write of the auth state (status, portal, tokens); a conditional write
    /// names the version it read, so a refresh cannot undo a disconnect.
    pub auth_version: i64,
    /// Refuses every write (methods that write, proxy requests other than GET/HEAD), whatever
    /// the key.
    pub read_only: bool,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

impl Installation {
    /// Why writes are refused on this installation, when they are, and how to allow them.
    pub fn read_only_reason(&self) -> Option<String> {
        self.read_only.then(|| {
            format!(
                "installation `{id}` is read-only; PATCH /v1/accounts/{account}/connectors/{id} \
                 with {{\"read_only\": false}} to allow writes",
                id = self.id,
                account = self.account_id,
            )
        })
    }

    /// The scopes HubSpot granted at the last consent (none before the first).
    pub fn granted_scopes(&self) -> &[String] {
        self.portal
            .as_ref()
            .map(|p| p.granted_scopes.as_slice())
            .unwrap_or_default()
    }
}

/// The OAuth tokens of an installation; stored sealed.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub expires_at: UnixMillis,
    /// The app that minted the tokens: HubSpot only refreshes with the same client.
    pub client_id: String,
}

/// A partner API key. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    /// Restricts the key to one account when set.
    pub account_id: Option<String>,
    /// The key may not write: no method that writes, no proxy request other than GET/HEAD.
    pub read_only: bool,
    /// An MCP write tool called without `confirm: true` answers a dry-run preview (the
    /// default); false lets the key's agents write without confirming.
    pub confirm_writes: bool,
    pub created_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
}

impl ApiKey {
    /// Why this key may not write, when it may not, and what to use instead.
    pub fn read_only_reason(&self) -> Option<String> {
        self.read_only.then(|| {
            "this API key is read-only; use a key created without `--read-only` \
             (`spokes keys create`) to write"
                .to_string()
        })
    }
}

/// A one-time link that starts the consent for one installation.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthLink {
    pub token_hash: String,
    pub installation_id: String,
    pub return_url: Option<String>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// The `state` of one consent in flight, with its PKCE verifier.
#[derive(Debug, Clone)]
pub struct OAuthState {
    pub state_hash: String,
    pub installation_id: String,
    pub code_verifier: Secret,
    pub return_url: Option<String>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// Why a one-time value (auth link or state) could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeProblem {
    Unknown,
    AlreadyUsed,
    Expired,
}

/// An event for the partner's `events_url`, waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub id: String,
    pub event_type: String,
    /// The JSON body to POST.
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: UnixMillis,
    pub created_at: UnixMillis,
}

/// A console login, kept on the server. The cookie carries the session id; only its SHA-256
/// is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSession {
    pub id_hash: String,
    /// The partner API key used to log in; `None` for the admin password.
    pub key_id: Option<String>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// One tool call of an AI agent over MCP, kept for the partner's audit.
#[derive(Debug, Clone, PartialEq)]
pub struct McpCall {
    pub id: String,
    pub account_id: String,
    /// The API key the agent used; `None` for the local stdio transport.
    pub key_id: Option<String>,
    pub installation_id: String,
    pub tool: String,
    /// `ok`, `dry_run`, or the error code the call answered.
    pub outcome: String,
    /// HubSpot's id of a failed call.
    pub correlation_id: Option<String>,
    /// The tool's arguments as JSON text, stripped of secrets by the caller.
    pub arguments: String,
    pub duration_ms: i64,
    pub created_at: UnixMillis,
}

/// How many rows a sweep of expired one-time values and sessions deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepCounts {
    pub auth_links: u64,
    pub oauth_states: u64,
    pub console_sessions: u64,
    pub idempotency_keys: u64,
}

impl SweepCounts {
    pub fn total(&self) -> u64 {
        self.auth_links + self.oauth_states + self.console_sessions + self.idempotency_keys
    }
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new: this caller runs the call and stores its outcome.
    Claimed,
    /// Another call with the key is running (`stale`: its holder is past its lease, so it
    /// probably died mid-call).
    Running { stale: bool },
    /// The first call's stored outcome.
    Done(String),
    /// The key was used with another method or input.
    OtherRequest,
}

/// Where a job of the durable queue is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its `run_at`, then for a worker to claim it.
    Queued,
    /// Claimed by `lease_owner` until `lease_until`; past that, any worker may claim it again.
    Running,
    /// Finished successfully.
    Done,
    /// Given up: failed without a retry, or out of attempts.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }
}

/// A job of the durable queue, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    /// What to do, e.g. `cycle.poll`; a worker claims the kinds it handles.
    pub kind: String,
    /// The job's input as JSON text.
    pub payload: String,
    /// At most one unfinished job has a given key.
    pub dedupe_key: Option<String>,
    pub state: JobState,
    /// Not claimed before this time.
    pub run_at: UnixMillis,
    /// Claims so far, this one included while running (a released claim does not count).
    pub attempts: i64,
    pub max_attempts: i64,
    /// The worker holding (or, once finished, that last held) the lease.
    pub lease_owner: Option<String>,
    pub lease_until: Option<UnixMillis>,
    pub heartbeat_at: Option<UnixMillis>,
    pub last_error: Option<String>,
    pub created_at: UnixMillis,
    pub finished_at: Option<UnixMillis>,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    /// When set, the job is not enqueued while an unfinished job has the same key (the key is
    /// shared by every kind: include the kind in it when that matters).
    pub dedupe_key: Option<String>,
    pub run_at: UnixMillis,
    /// At least 1.
    pub max_attempts: i64,
    pub created_at: UnixMillis,
}

/// What enqueueing a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// The job was stored with this id.
    Enqueued(String),
    /// An unfinished job (this id) has the dedupe key; nothing was stored.
    Duplicate(String),
}

// --- utility connectors (the data the cycles' "utility" steps keep)

/// Whose data a utility store holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StorageScope {
    /// Shared by every cycle of the account.
    Account,
    /// One cycle's own data (the cycle's id).
    Cycle(String),
}

/// Plain text values, or JSON objects (kept as their JSON text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageKind {
    Values,
    Objects,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Values => "values",
            StorageKind::Objects => "objects",
        }
    }
}

/// One utility data store: an account's, of one scope and one kind. Each has its own keys
/// and its own item limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageRef {
    pub account_id: String,
    pub scope: StorageScope,
    pub kind: StorageKind,
}

/// One entry of a utility data store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageItem {
    pub key: String,
    /// The text, or an object's JSON text.
    pub value: String,
    pub updated_at: UnixMillis,
}

/// What writing a key of a utility data store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoragePut {
    /// The key was new.
    Created,
    /// The key existed; its value was replaced.
    Updated,
    /// The key was new and the store already holds its limit of items: nothing was written.
    LimitReached,
}

/// "This cycle just wrote this record of `system`": the cross-update preventer's mark, so the
/// change event the write causes is not synced back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreventerMark {
    pub account_id: String,
    pub system: String,
    pub record_id: String,
    /// The cycle that wrote the record (for diagnostics).
    pub cycle_id: String,
    pub expires_at: UnixMillis,
    pub created_at: UnixMillis,
}

/// A record of some system, one side of an entity cross reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    pub system: String,
    pub id: String,
}
