//! Cycles: a polling trigger that turns each listed record into a transaction
//! (`poll`), and the job that runs a transaction's steps one after the other (`run`). Both run
//! on the durable job queue (`jobs::Worker`).
//!
//! - A transaction and its job are stored together (`Store::queue_transactions`), once per
//!   item (`item_key`), so an item is neither lost nor run twice by its trigger.
//! - Each step's outcome is stored with the transaction's next step before that step runs
//!   (`Store::save_transaction`); a job that dies mid-transaction resumes at the step after
//!   the last one recorded.
//! - A write is marked in flight before it is sent and carries the method layer's
//!   idempotency key for that attempt: a run that finds the mark sends with the same key, so
//!   it gets the first outcome instead of writing again; a write whose outcome nobody can
//!   tell ends the transaction as `unknown`, for a person to decide.

mod poll;
mod run;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spokes_core::clock::UnixMillis;
use spokes_core::token::new_id;
use spokes_core::{Clock, Cycle, Installation, NewJob, Transaction, TransactionStatus};
use spokes_cycles::Template;
use spokes_cycles::sandbox::Sandbox;
use spokes_store::Store;

use spokes_hubspot::catalogue::{self, MethodDef};

use crate::events::Events;
use crate::jobs::JobError;
use crate::methods::Methods;
use crate::utility::Utilities;

pub use poll::PollHandler;
pub use run::TransactionHandler;

/// The job that runs a polling trigger once (`{cycle, version, first_since}`).
pub const POLL_JOB: &str = "cycle.poll";
/// The job that runs a transaction's steps (`{transaction}`).
pub const TRANSACTION_JOB: &str = "cycle.transaction";

/// Attempts of a transaction's job beyond the error policy's own retries: they cover crashes
/// and store outages, not HubSpot's errors.
const TRANSACTION_JOB_ATTEMPTS: i64 = 10;
const POLL_JOB_ATTEMPTS: i64 = 5;

/// What the cycle handlers share.
pub struct CycleEngine {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) methods: Arc<Methods>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The error webhook's events (`cycle.error`).
    pub(crate) events: Events,
    /// The utility connector's methods (`connector: "utility"` steps).
    pub(crate) utilities: Utilities,
    pub(crate) sandbox: Sandbox,
}

impl CycleEngine {
    pub fn new(
        store: Arc<dyn Store>,
        methods: Arc<Methods>,
        clock: Arc<dyn Clock>,
        events: Events,
        utilities: Utilities,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            methods,
            clock,
            events,
            utilities,
            sandbox: Sandbox::new(),
        })
    }

    /// The installation the cycle runs `connector` with.
    pub(crate) async fn installation(
        &self,
        cycle: &Cycle,
        connector: &str,
    ) -> Result<Installation, JobError> {
        let id = cycle.installations.get(connector).ok_or_else(|| {
            JobError::permanent(format!("the cycle has no `{connector}` installation"))
        })?;
        self.store
            .get_installation(id)
            .await?
            .ok_or_else(|| JobError::permanent("the cycle's installation no longer exists"))
    }

    /// The job handlers to give a `jobs::Worker`.
    pub fn handlers(self: &Arc<Self>) -> Vec<Arc<dyn crate::JobHandler>> {
        vec![
            Arc::new(PollHandler::new(self.clone())),
            Arc::new(TransactionHandler::new(self.clone())),
        ]
    }
}

/// The payload of a [`POLL_JOB`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PollPayload {
    pub cycle: String,
    /// The cycle's `schedule_version` when the job was queued; `None` for a run asked for
    /// through the API, which runs whatever the schedule.
    pub version: Option<i64>,
    /// Where the first window starts when the step never ran: the activation time, or the
    /// backfill date.
    pub first_since: UnixMillis,
}

/// The job of a poll due at `run_at`.
pub fn poll_job(
    cycle: &Cycle,
    run_at: UnixMillis,
    payload: &PollPayload,
    now: UnixMillis,
) -> NewJob {
    let key = match payload.version {
        Some(version) => format!("{POLL_JOB}:{}:{version}:{run_at}", cycle.id),
        None => format!("{POLL_JOB}:{}:now", cycle.id),
    };
    NewJob {
        id: new_id("job"),
        kind: POLL_JOB.into(),
        payload: serde_json::to_string(payload).unwrap_or_default(),
        dedupe_key: Some(key),
        run_at,
        max_attempts: POLL_JOB_ATTEMPTS,
        created_at: now,
    }
}

/// A transaction for one trigger item, queued, with the job that runs it.
pub fn new_transaction(
    cycle: &Cycle,
    template: &Template,
    item: &Value,
    item_key: Option<String>,
    now: UnixMillis,
) -> (Transaction, NewJob) {
    let id = new_id("txn");
    let mut outputs = Map::new();
    outputs.insert(template.trigger.id().to_owned(), item.clone());
    let transaction = Transaction {
        id: id.clone(),
        cycle_id: cycle.id.clone(),
        account_id: cycle.account_id.clone(),
        item_key,
        status: TransactionStatus::Queued,
        item: item.to_string(),
        outputs: Value::Object(outputs).to_string(),
        step_id: template.trigger.next().map(str::to_owned),
        step_attempt: 0,
        step_count: 0,
        resume_at: None,
        in_flight: None,
        error: None,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    let job = transaction_job(&id, now, now);
    (transaction, job)
}

/// The job that runs (or goes on running) a transaction from `run_at`.
pub fn transaction_job(transaction_id: &str, run_at: UnixMillis, now: UnixMillis) -> NewJob {
    NewJob {
        id: new_id("job"),
        kind: TRANSACTION_JOB.into(),
        payload: serde_json::json!({ "transaction": transaction_id }).to_string(),
        dedupe_key: Some(format!("{TRANSACTION_JOB}:{transaction_id}")),
        run_at,
        max_attempts: TRANSACTION_JOB_ATTEMPTS,
        created_at: now,
    }
}

/// Where a retry's edited input for `step` is kept among the transaction's outputs until the
/// step runs with it.
pub fn retry_input_key(step: &str) -> String {
    format!("$retry_input:{step}")
}

/// A HubSpot method of a cycle's step; why not, for the step's error.
pub(crate) fn hubspot_method(connector: &str, method: &str) -> Result<&'static MethodDef, String> {
    if connector != spokes_hubspot::connector::CONNECTOR_ID {
        return Err(format!("connector `{connector}` is not available"));
    }
    catalogue::find(method).ok_or_else(|| format!("method `{method}` is not in the catalogue"))
}

/// The cycle's template as installed.
pub fn template_of(cycle: &Cycle) -> Result<Template, String> {
    serde_json::from_str(&cycle.document)
        .map_err(|e| format!("the cycle's template does not parse: {e}"))
}

/// The variables a cycle runs with: the values it was installed with over the template's
/// defaults.
pub fn variables_of(cycle: &Cycle, template: &Template) -> BTreeMap<String, Value> {
    let set: BTreeMap<String, Value> = serde_json::from_str(&cycle.variables).unwrap_or_default();
    template
        .variables
        .iter()
        .filter_map(|v| {
            set.get(&v.name)
                .or(v.default.as_ref())
                .map(|value| (v.name.clone(), value.clone()))
        })
        .collect()
}
