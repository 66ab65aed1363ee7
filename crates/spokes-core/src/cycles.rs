//! Templates, cycles and their transactions as stored. The documents (a template, a
//! transaction's item and outputs) are JSON text here; `spokes-cycles` gives them their types.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::UnixMillis;

/// A template as imported (`POST /v1/templates`).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub id: String,
    pub name: String,
    /// The template's JSON.
    pub document: String,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleStatus {
    /// Installed or deactivated: no trigger runs; queued transactions may still finish.
    Paused,
    Active,
}

impl CycleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paused => "paused",
            Self::Active => "active",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "paused" => Some(Self::Paused),
            "active" => Some(Self::Active),
            _ => None,
        }
    }
}

/// A template installed into an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub id: String,
    pub account_id: String,
    /// The template it was installed from (gone when the template was deleted since).
    pub template_id: Option<String>,
    pub name: String,
    /// The template's JSON as installed.
    pub document: String,
    /// Connector id → installation id.
    pub installations: BTreeMap<String, String>,
    /// The values set for the template's variables, a JSON object.
    pub variables: String,
    pub status: CycleStatus,
    pub interval_minutes: Option<i64>,
    /// Deactivates itself after one run.
    pub run_once: bool,
    /// When the polling trigger runs next (while active).
    pub next_run_at: Option<UnixMillis>,
    /// The first poll lists items from here instead of from the activation.
    pub backfill_since: Option<UnixMillis>,
    /// Changes with every activation and deactivation: a poll job of another schedule ends
    /// without running.
    pub schedule_version: i64,
    /// The generic inbound webhook's HMAC secret, sealed.
    pub webhook_secret_sealed: Option<String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

/// Where a polling step is: its Last Successful Run Date, and the cursor reached in the
/// window that started at `window_since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepState {
    pub last_successful_run_date: Option<UnixMillis>,
    pub cursor: Option<String>,
    pub window_since: Option<UnixMillis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Queued,
    Running,
    /// In a delay, a wait-until or a retry wait.
    Waiting,
    Succeeded,
    Failed,
    /// The cycle was deactivated without finishing its queued transactions.
    Cancelled,
    /// A write was sent and its outcome is unknown (a crash); a person decides with retry.
    Unknown,
}

impl TransactionStatus {
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Running,
        Self::Waiting,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Nothing more runs unless a person retries it.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::Unknown
        )
    }

    /// Kept for the longer retention.
    pub fn is_errored(self) -> bool {
        matches!(self, Self::Failed | Self::Unknown)
    }
}

/// One trigger item's run through a cycle's steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub id: String,
    pub cycle_id: String,
    pub account_id: String,
    /// Keeps an item to one transaction per cycle (a record's id and date, an event id).
    pub item_key: Option<String>,
    pub status: TransactionStatus,
    /// The trigger item, JSON.
    pub item: String,
    /// The outputs of the steps run so far, a JSON object by step id.
    pub outputs: String,
    /// The step to run next; `None` once the transaction ended.
    pub step_id: Option<String>,
    /// Failed attempts of `step_id` so far (its error policy's retries).
    pub step_attempt: i64,
    /// Step records written so far (the next record's `seq`).
    pub step_count: i64,
    /// The end of a delay, wait-until or retry wait.
    pub resume_at: Option<UnixMillis>,
    /// `<step>#<attempt>` of a write sent and not yet recorded.
    pub in_flight: Option<String>,
    pub error: Option<String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub finished_at: Option<UnixMillis>,
}

/// What one step of a transaction did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionStep {
    #[serde(skip)]
    pub transaction_id: String,
    pub seq: i64,
    pub step_id: String,
    /// `succeeded`, `failed`, `retrying`, `ignored`, `waiting`, `unknown`.
    pub status: String,
    pub attempt: i64,
    /// JSON: what was sent (the method input, a decision's operands).
    pub request: Option<String>,
    /// JSON: what came back.
    pub response: Option<String>,
    pub error: Option<String>,
    pub started_at: UnixMillis,
    pub finished_at: UnixMillis,
}

/// An error or a warning of a cycle, for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: String,
    pub cycle_id: String,
    pub transaction_id: Option<String>,
    pub step_id: Option<String>,
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    pub created_at: UnixMillis,
}

/// Which transactions to list.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub status: Option<TransactionStatus>,
    /// Created at or after.
    pub after: Option<UnixMillis>,
    /// Created before.
    pub before: Option<UnixMillis>,
    pub limit: u32,
}
