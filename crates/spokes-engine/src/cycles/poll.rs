//! The polling trigger: one window of a "list new / updated" method per run, from the step's
//! Last Successful Run Date, each listed record queued as a transaction.
//!
//! The window is read page by page through the method's (date, id) cursor; after each page
//! its transactions and the cursor are stored together, so a crash resumes the window where
//! it stopped. The Last Successful Run Date advances (to the time the window began) only once
//! every item of the window is queued. A record seen again (the window's end overlaps the
//! next window's start) has the same item key and is not queued twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use spokes_core::{CycleStatus, InstallationStatus, Job, StepState};
use spokes_cycles::Trigger;
use spokes_cycles::mapping::{Context, SystemValues, evaluate_all};
use spokes_hubspot::catalogue::{MethodDef, Paging};
use spokes_hubspot::{MethodInput, client::PagingInput};

use super::{
    CycleEngine, PollPayload, hubspot_method, new_transaction, poll_job, template_of, variables_of,
};
use crate::jobs::{JobError, JobHandler, Progress};

/// Records asked for per page.
const PAGE: u32 = 100;

pub struct PollHandler {
    engine: Arc<CycleEngine>,
}

impl PollHandler {
    pub fn new(engine: Arc<CycleEngine>) -> Self {
        Self { engine }
    }
}

#[async_trait]
impl JobHandler for PollHandler {
    fn kind(&self) -> &'static str {
        super::POLL_JOB
    }

    async fn run(&self, job: &Job) -> Result<Progress, JobError> {
        let payload: PollPayload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::permanent(format!("the poll job does not parse: {e}")))?;
        let engine = &self.engine;
        let Some(cycle) = engine.store.get_cycle(&payload.cycle).await? else {
            return Ok(Progress::Done);
        };
        if let Some(version) = payload.version
            && (cycle.status != CycleStatus::Active || cycle.schedule_version != version)
        {
            // Deactivated or activated again since: another schedule (or none) runs now.
            return Ok(Progress::Done);
        }
        let template = template_of(&cycle).map_err(JobError::permanent)?;
        let Trigger::Poll {
            id: step_id,
            connector,
            method,
            parameters,
            ..
        } = &template.trigger
        else {
            return Err(JobError::permanent(
                "the cycle's trigger is not a polling trigger",
            ));
        };
        let method = hubspot_method(connector, method).map_err(JobError::permanent)?;
        let installation = engine.installation(&cycle, connector).await?;
        if installation.status != InstallationStatus::Authenticated {
            return Err(JobError::transient(format!(
                "the installation is {}; the poll waits for it to be connected again",
                installation.status.as_str()
            )));
        }

        let window_start = engine.clock.now_ms();
        let state = engine.store.get_step_state(&cycle.id, step_id).await?;
        let since = state
            .window_since
            .or(state.last_successful_run_date)
            .or(cycle.backfill_since)
            .unwrap_or(payload.first_since);
        let variables = variables_of(&cycle, &template);
        let mut outputs = BTreeMap::new();
        outputs.insert(step_id.clone(), Value::Null);
        let system = SystemValues {
            last_successful_run_date: state.last_successful_run_date,
            cycle_id: cycle.id.clone(),
            account_id: cycle.account_id.clone(),
            transaction_id: String::new(),
            now: window_start,
        };
        let context = Context {
            trigger_id: step_id,
            steps: &outputs,
            variables: &variables,
            system: &system,
        };
        let mut parameters = evaluate_all(parameters, &context, &engine.sandbox)
            .map_err(|e| JobError::permanent(format!("the trigger's parameters: {e}")))?;
        parameters.insert("since".into(), spokes_core::format_rfc3339(since).into());

        let mut cursor = state.cursor.clone();
        let mut queued = 0usize;
        loop {
            let input = MethodInput {
                parameters: parameters.clone(),
                fields: Default::default(),
                paging: PagingInput {
                    after: cursor.clone(),
                    limit: Some(PAGE),
                    all: false,
                },
            };
            let page = engine
                .methods
                .call(&installation, None, method, &input, None)
                .await
                .map_err(|e| JobError::transient(format!("`{}`: {e}", method.id)))?;
            let now = engine.clock.now_ms();
            let items = records(&page.data);
            let transactions: Vec<_> = items
                .iter()
                .map(|item| new_transaction(&cycle, &template, item, item_key(method, item), now))
                .collect();
            let done = page.next.is_none();
            let (state, then) = if done {
                let finished = StepState {
                    last_successful_run_date: Some(window_start),
                    cursor: None,
                    window_since: None,
                };
                (finished, next_poll(&cycle, job, &payload, now))
            } else {
                let within = StepState {
                    last_successful_run_date: state.last_successful_run_date,
                    cursor: page.next.clone(),
                    window_since: Some(since),
                };
                (within, Vec::new())
            };
            let stored = engine
                .store
                .queue_transactions(&transactions, Some((&cycle.id, step_id, &state)), &then)
                .await?;
            queued += stored.len();
            if done {
                break;
            }
            cursor = page.next;
        }
        tracing::info!(cycle.id = %cycle.id, queued, "poll done");
        metrics::counter!("spokes_cycle_items_queued_total").increment(queued as u64);
        if cycle.run_once && payload.version.is_some() {
            let mut paused = cycle.clone();
            paused.status = CycleStatus::Paused;
            paused.next_run_at = None;
            paused.schedule_version += 1;
            paused.updated_at = engine.clock.now_ms();
            engine.store.update_cycle(&paused, &[]).await?;
        }
        Ok(Progress::Done)
    }
}

/// The next scheduled poll, for a scheduled run of a cycle that keeps running.
fn next_poll(
    cycle: &spokes_core::Cycle,
    job: &Job,
    payload: &PollPayload,
    now: i64,
) -> Vec<spokes_core::NewJob> {
    let (Some(_), Some(minutes), false) = (payload.version, cycle.interval_minutes, cycle.run_once)
    else {
        return Vec::new();
    };
    let interval = minutes.max(1) * 60_000;
    // The next slot of the schedule after now: a late run does not queue a burst of catch-ups.
    let mut at = job.run_at + interval;
    if at <= now {
        at += (now - at) / interval * interval + interval;
    }
    vec![poll_job(cycle, at, payload, now)]
}

/// The records of a page: a list, or a paged answer's `results`.
fn records(data: &Value) -> Vec<Value> {
    match data {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// What makes a listed record one item: its id and the date it was listed by, so a record
/// listed again for the same change is not queued twice, and a later change is.
fn item_key(method: &MethodDef, item: &Value) -> Option<String> {
    let id = match &item["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let date = match method.paging {
        Paging::Window { date_property } => item["properties"][date_property].clone(),
        _ => method
            .shape
            .since
            .map(|since| item[since.field].clone())
            .unwrap_or(Value::Null),
    };
    let date = match date {
        Value::String(s) => s,
        Value::Null => item["updatedAt"].as_str().unwrap_or_default().to_owned(),
        other => other.to_string(),
    };
    Some(format!("{id}@{date}"))
}
