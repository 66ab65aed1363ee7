//! Runs a transaction's steps in order, storing each step's outcome with the transaction's
//! next step before going on. Delays, wait-untils and the error policy's retry waits end the
//! run with [`Progress::ContinueAt`]: the same job runs the transaction on from there.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use spokes_core::clock::UnixMillis;
use spokes_core::token::new_id;
use spokes_core::{
    Cycle, Incident, Installation, Job, OutboxEvent, Transaction, TransactionStatus,
    TransactionStep, format_rfc3339, redact_secrets,
};
use spokes_cycles::mapping::{Context, SystemValues, evaluate, evaluate_all};
use spokes_cycles::{ErrorPolicy, FinalAction, Mapping, Sandbox, Step, Template, decision};
use spokes_hubspot::{MethodError, MethodInput};
use spokes_store::TransactionWrite;

use super::{CycleEngine, hubspot_method, template_of, variables_of};
use crate::events::EventKind;
use crate::jobs::{JobError, JobHandler, Progress};
use crate::utility::{UTILITY_CONNECTOR, UtilityScope};

pub struct TransactionHandler {
    engine: Arc<CycleEngine>,
}

impl TransactionHandler {
    pub fn new(engine: Arc<CycleEngine>) -> Self {
        Self { engine }
    }
}

#[async_trait]
impl JobHandler for TransactionHandler {
    fn kind(&self) -> &'static str {
        super::TRANSACTION_JOB
    }

    async fn run(&self, job: &Job) -> Result<Progress, JobError> {
        let payload: Value = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::permanent(format!("the job does not parse: {e}")))?;
        let id = payload["transaction"]
            .as_str()
            .ok_or_else(|| JobError::permanent("the job names no transaction"))?;
        let engine = &self.engine;
        let Some(transaction) = engine.store.get_transaction(id).await? else {
            return Ok(Progress::Done);
        };
        if transaction.status.is_finished() {
            return Ok(Progress::Done);
        }
        let Some(cycle) = engine.store.get_cycle(&transaction.cycle_id).await? else {
            return Ok(Progress::Done);
        };
        let template = template_of(&cycle).map_err(JobError::permanent)?;
        let mut run = Run {
            engine,
            variables: variables_of(&cycle, &template),
            outputs: serde_json::from_str(&transaction.outputs).unwrap_or_default(),
            cycle,
            template,
            transaction,
            installation: None,
        };
        run.steps().await
    }
}

/// One run of a transaction: its state as the steps change it.
struct Run<'a> {
    engine: &'a CycleEngine,
    cycle: Cycle,
    template: Template,
    transaction: Transaction,
    variables: BTreeMap<String, Value>,
    /// The outputs of the steps so far, by step id (the trigger item under the trigger's).
    outputs: BTreeMap<String, Value>,
    /// Read at the first method step.
    installation: Option<Installation>,
}

/// How a step ended.
enum Outcome {
    /// Go on with this step (or end, successfully, with `None`); `output` is the step's.
    Next {
        next: Option<String>,
        output: Value,
        record: Record,
    },
    /// Wait until the time, then run the same step on (delays) or again (retries).
    Wait(UnixMillis),
    /// The transaction ends here (failed, unknown): already stored.
    Ended,
}

/// What a step's record says.
struct Record {
    status: &'static str,
    request: Option<Value>,
    response: Option<Value>,
    error: Option<String>,
    /// Stored with the record (an ignored error's warning); boxed, being rare and large.
    incident: Option<Box<Incident>>,
}

impl Record {
    /// A record with nothing but its status.
    fn new(status: &'static str) -> Self {
        Self {
            status,
            request: None,
            response: None,
            error: None,
            incident: None,
        }
    }
}

impl Run<'_> {
    async fn steps(&mut self) -> Result<Progress, JobError> {
        if self.transaction.status == TransactionStatus::Queued {
            self.transaction.status = TransactionStatus::Running;
        }
        loop {
            let now = self.engine.clock.now_ms();
            let Some(step_id) = self.transaction.step_id.clone() else {
                self.succeed().await?;
                return Ok(Progress::Done);
            };
            if let Some(at) = self.transaction.resume_at
                && at > now
            {
                return Ok(Progress::ContinueAt(at));
            }
            let Some(step) = self.template.step(&step_id).cloned() else {
                let message = format!("the cycle has no step `{step_id}`");
                self.fail(&step_id, "step_missing", &message, None, false)
                    .await?;
                return Ok(Progress::Done);
            };
            let started = now;
            let outcome = match &step {
                Step::Method {
                    connector,
                    method,
                    parameters,
                    fields,
                    error_policy,
                    next,
                    ..
                } => {
                    let policy = error_policy
                        .clone()
                        .unwrap_or_else(|| self.template.error_policy.clone());
                    self.method_step(
                        &step_id, connector, method, parameters, fields, &policy, next,
                    )
                    .await?
                }
                Step::Decision {
                    left,
                    operator,
                    right,
                    on_true,
                    on_false,
                    ..
                } => {
                    let left = self.value(left)?;
                    let right = right.as_ref().map(|r| self.value(r)).transpose()?;
                    let result = decision::decide(*operator, &left, right.as_ref());
                    Outcome::Next {
                        next: if result { on_true } else { on_false }.clone(),
                        output: json!({ "result": result }),
                        record: Record {
                            request: Some(
                                json!({ "left": left, "operator": operator, "right": right }),
                            ),
                            response: Some(json!({ "result": result })),
                            ..Record::new("succeeded")
                        },
                    }
                }
                Step::Delay { minutes, next, .. } => {
                    self.wait_or_go(now, now + i64::from(*minutes) * 60_000, next)
                }
                Step::WaitUntil { until, next, .. } => {
                    let value = self.value(until)?;
                    let at =
                        spokes_cycles::parse_instant(&value).map_or(now, |t| t.as_millisecond());
                    self.wait_or_go(now, at, next)
                }
                Step::Stop { .. } => Outcome::Next {
                    next: None,
                    output: Value::Null,
                    record: Record::new("succeeded"),
                },
            };
            match outcome {
                Outcome::Next {
                    next,
                    output,
                    mut record,
                } => {
                    self.outputs.insert(step_id.clone(), output);
                    self.transaction.step_id = next;
                    self.transaction.step_attempt = 0;
                    self.transaction.resume_at = None;
                    self.transaction.in_flight = None;
                    self.transaction.outputs = json!(self.outputs).to_string();
                    let incident = record.incident.take();
                    let step_record = self.record(&step_id, started, record);
                    self.save(TransactionWrite {
                        step: Some(&step_record),
                        incident: incident.as_deref(),
                        ..TransactionWrite::state(&self.transaction)
                    })
                    .await?;
                }
                Outcome::Wait(at) => {
                    self.transaction.status = TransactionStatus::Waiting;
                    self.transaction.resume_at = Some(at);
                    self.save(TransactionWrite::state(&self.transaction))
                        .await?;
                    return Ok(Progress::ContinueAt(at));
                }
                Outcome::Ended => return Ok(Progress::Done),
            }
            self.transaction.status = TransactionStatus::Running;
        }
    }

    /// A delay or wait-until: starts the wait, or, when it is over, goes on.
    fn wait_or_go(&self, now: UnixMillis, until: UnixMillis, next: &Option<String>) -> Outcome {
        match self.transaction.resume_at {
            // Not waiting yet, and the time is ahead.
            None if until > now => Outcome::Wait(until),
            _ => Outcome::Next {
                next: next.clone(),
                output: json!({ "waited_until": format_rfc3339(until.min(now)) }),
                record: Record::new("succeeded"),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn method_step(
        &mut self,
        step_id: &str,
        connector: &str,
        method: &str,
        parameters: &spokes_cycles::Mappings,
        fields: &spokes_cycles::Mappings,
        policy: &ErrorPolicy,
        next: &Option<String>,
    ) -> Result<Outcome, JobError> {
        // A retry's edited input replaces the mappings, once.
        let edited = self.outputs.remove(&super::retry_input_key(step_id));
        let input = match edited {
            Some(edited) => serde_json::from_value(edited)
                .map_err(|e| format!("the retry's input is not a method input: {e}")),
            None => self.input(parameters, fields),
        };
        let input = match input {
            Ok(input) => input,
            Err(message) => {
                return self
                    .step_failed(step_id, "mapping_failed", &message, None, policy)
                    .await;
            }
        };
        let request = serde_json::to_value(&input).unwrap_or(Value::Null);
        if connector == UTILITY_CONNECTOR {
            return self
                .utility_step(step_id, method, input, request, policy, next)
                .await;
        }
        let def = match hubspot_method(connector, method) {
            Ok(def) => def,
            Err(message) => {
                return self
                    .step_failed(step_id, "unknown_method", &message, Some(request), policy)
                    .await;
            }
        };
        let installation = match &self.installation {
            Some(installation) => installation.clone(),
            None => {
                let installation = self.engine.installation(&self.cycle, connector).await?;
                self.installation.insert(installation).clone()
            }
        };
        let attempt = self.transaction.step_attempt + 1;
        let mark = format!("{step_id}#{attempt}");
        let key = format!("cycle:{}:{mark}", self.transaction.id);
        if def.writes && self.transaction.in_flight.as_deref() != Some(&mark) {
            // Marked before sending: a run that finds the mark knows the write may have
            // been sent and reconciles through the key instead of sending blindly.
            self.transaction.in_flight = Some(mark);
            self.save(TransactionWrite::state(&self.transaction))
                .await?;
        }
        let key = def.writes.then_some(key.as_str());
        let result = self
            .engine
            .methods
            .call(&installation, None, def, &input, key)
            .await;
        match result {
            Ok(output) => Ok(Outcome::Next {
                next: next.clone(),
                record: Record {
                    request: Some(request),
                    response: Some(output.data.clone()),
                    ..Record::new("succeeded")
                },
                output: output.data,
            }),
            Err(error) if matches!(error.code, "outcome_unknown" | "in_progress") => {
                self.unknown(step_id, &error, request).await?;
                Ok(Outcome::Ended)
            }
            Err(error) => {
                let detail =
                    json!({ "status": error.status, "code": error.code, "details": error.details });
                self.step_failed(
                    step_id,
                    error.code,
                    &error.message,
                    Some(json!({ "request": request, "error": detail })),
                    policy,
                )
                .await
            }
        }
    }

    /// A utility connector's method: its parameters are the step's mapped parameters. Not
    /// marked in flight: the storage, preventer and cross-reference writes set values by key,
    /// so running one again changes nothing, and an HTTP request's target sees a repeat only
    /// when a crash fell between sending and recording.
    async fn utility_step(
        &mut self,
        step_id: &str,
        method: &str,
        input: MethodInput,
        request: Value,
        policy: &ErrorPolicy,
        next: &Option<String>,
    ) -> Result<Outcome, JobError> {
        let scope = UtilityScope {
            account_id: self.cycle.account_id.clone(),
            cycle_id: self.cycle.id.clone(),
        };
        match self
            .engine
            .utilities
            .call(&scope, method, &input.parameters)
            .await
        {
            Ok(output) => Ok(Outcome::Next {
                next: next.clone(),
                record: Record {
                    request: Some(request),
                    response: Some(output.clone()),
                    ..Record::new("succeeded")
                },
                output,
            }),
            Err(error) => {
                self.step_failed(step_id, error.code, &error.message, Some(request), policy)
                    .await
            }
        }
    }

    /// The method input from the step's mappings.
    fn input(
        &self,
        parameters: &spokes_cycles::Mappings,
        fields: &spokes_cycles::Mappings,
    ) -> Result<MethodInput, String> {
        self.with_context(|context, sandbox| {
            Ok(MethodInput {
                parameters: evaluate_all(parameters, context, sandbox)
                    .map_err(|e| e.to_string())?,
                fields: evaluate_all(fields, context, sandbox).map_err(|e| e.to_string())?,
                paging: Default::default(),
            })
        })
    }

    /// One mapping's value (null when ignored).
    fn value(&self, mapping: &Mapping) -> Result<Value, JobError> {
        self.with_context(|context, sandbox| {
            Ok(evaluate(mapping, context, sandbox)
                .map_err(|e| JobError::permanent(e.to_string()))?
                .unwrap_or(Value::Null))
        })
    }

    /// What the mappings read: the outputs so far, the variables and the system values.
    fn with_context<T>(&self, evaluate: impl FnOnce(&Context<'_>, &Sandbox) -> T) -> T {
        let system = SystemValues {
            last_successful_run_date: None,
            cycle_id: self.cycle.id.clone(),
            account_id: self.cycle.account_id.clone(),
            transaction_id: self.transaction.id.clone(),
            now: self.engine.clock.now_ms(),
        };
        let context = Context {
            trigger_id: self.template.trigger.id(),
            steps: &self.outputs,
            variables: &self.variables,
            system: &system,
        };
        evaluate(&context, &self.engine.sandbox)
    }

    /// Applies the error policy to a failed step.
    async fn step_failed(
        &mut self,
        step_id: &str,
        code: &str,
        message: &str,
        detail: Option<Value>,
        policy: &ErrorPolicy,
    ) -> Result<Outcome, JobError> {
        let now = self.engine.clock.now_ms();
        let action = match policy {
            ErrorPolicy::Retry {
                waits_minutes,
                then,
            } => {
                let done = usize::try_from(self.transaction.step_attempt).unwrap_or(usize::MAX);
                if let Some(wait) = waits_minutes.get(done) {
                    self.transaction.step_attempt += 1;
                    self.transaction.in_flight = None;
                    let record = self.record(
                        step_id,
                        now,
                        Record {
                            request: detail,
                            error: Some(format!("{code}: {message}")),
                            ..Record::new("retrying")
                        },
                    );
                    self.transaction.status = TransactionStatus::Waiting;
                    let at = now + i64::from(*wait) * 60_000;
                    self.transaction.resume_at = Some(at);
                    self.save(TransactionWrite {
                        step: Some(&record),
                        ..TransactionWrite::state(&self.transaction)
                    })
                    .await?;
                    return Ok(Outcome::Wait(at));
                }
                *then
            }
            ErrorPolicy::Ignore => FinalAction::Ignore,
            ErrorPolicy::Stop => FinalAction::Stop,
            ErrorPolicy::Pause => FinalAction::Pause,
        };
        match action {
            FinalAction::Ignore => {
                let next = self
                    .template
                    .step(step_id)
                    .and_then(|s| s.edges().first().map(|e| (*e).to_owned()));
                Ok(Outcome::Next {
                    next,
                    output: Value::Null,
                    record: Record {
                        request: detail,
                        error: Some(format!("{code}: {message}")),
                        incident: Some(Box::new(self.incident(step_id, "warning", code, message))),
                        ..Record::new("ignored")
                    },
                })
            }
            FinalAction::Stop | FinalAction::Pause => {
                self.fail(step_id, code, message, detail, action == FinalAction::Pause)
                    .await?;
                Ok(Outcome::Ended)
            }
        }
    }
}

/// Storing what happened.
impl Run<'_> {
    /// The record of a step that ends now; counts it.
    fn record(&mut self, step_id: &str, started: UnixMillis, record: Record) -> TransactionStep {
        let seq = self.transaction.step_count;
        self.transaction.step_count += 1;
        let now = self.engine.clock.now_ms();
        self.transaction.updated_at = now;
        TransactionStep {
            transaction_id: self.transaction.id.clone(),
            seq,
            step_id: step_id.to_owned(),
            status: record.status.to_owned(),
            attempt: self.transaction.step_attempt + 1,
            request: record.request.map(|v| redact_secrets(&v).to_string()),
            response: record.response.map(|v| redact_secrets(&v).to_string()),
            error: record.error,
            started_at: started,
            finished_at: now,
        }
    }

    async fn save(&self, write: TransactionWrite<'_>) -> Result<(), JobError> {
        match self.engine.store.save_transaction(&write).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(JobError::permanent(
                "the transaction was deleted (with its cycle) while it ran",
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Ends the transaction successfully: no step is left.
    async fn succeed(&mut self) -> Result<(), JobError> {
        let now = self.engine.clock.now_ms();
        let t = &mut self.transaction;
        t.status = TransactionStatus::Succeeded;
        t.resume_at = None;
        t.in_flight = None;
        t.updated_at = now;
        t.finished_at = Some(now);
        self.save(TransactionWrite::state(&self.transaction))
            .await?;
        count(TransactionStatus::Succeeded);
        Ok(())
    }

    /// Ends the transaction as failed at `step_id`, with an incident and the error webhook's
    /// event; `pause` pauses the cycle too.
    async fn fail(
        &mut self,
        step_id: &str,
        code: &str,
        message: &str,
        detail: Option<Value>,
        pause: bool,
    ) -> Result<(), JobError> {
        self.end_with(
            TransactionStatus::Failed,
            step_id,
            code,
            message,
            detail,
            pause,
        )
        .await
    }

    /// A write whose outcome nobody can tell (sent, then the answer or the process was lost):
    /// a person decides, through the incident and a retry.
    async fn unknown(
        &mut self,
        step_id: &str,
        error: &MethodError,
        request: Value,
    ) -> Result<(), JobError> {
        self.end_with(
            TransactionStatus::Unknown,
            step_id,
            "outcome_unknown",
            &error.message,
            Some(json!({ "request": request })),
            false,
        )
        .await
    }

    async fn end_with(
        &mut self,
        status: TransactionStatus,
        step_id: &str,
        code: &str,
        message: &str,
        detail: Option<Value>,
        pause: bool,
    ) -> Result<(), JobError> {
        let now = self.engine.clock.now_ms();
        let record = self.record(
            step_id,
            now,
            Record {
                request: detail.clone(),
                error: Some(format!("{code}: {message}")),
                ..Record::new(if status == TransactionStatus::Unknown {
                    "unknown"
                } else {
                    "failed"
                })
            },
        );
        let incident = self.incident(step_id, "error", code, message);
        let event = self.error_event(step_id, code, message, detail);
        let t = &mut self.transaction;
        t.status = status;
        // The step it failed at stays, so a retry starts there.
        t.step_id = Some(step_id.to_owned());
        t.error = Some(format!("{code}: {message}"));
        t.resume_at = None;
        t.updated_at = now;
        t.finished_at = Some(now);
        self.save(TransactionWrite {
            step: Some(&record),
            incident: Some(&incident),
            event: event.as_ref(),
            pause_cycle: pause,
            ..TransactionWrite::state(&self.transaction)
        })
        .await?;
        if event.is_some() {
            self.engine.events.wake();
        }
        count(status);
        Ok(())
    }

    fn incident(&self, step_id: &str, severity: &str, code: &str, message: &str) -> Incident {
        Incident {
            id: new_id("inc"),
            cycle_id: self.cycle.id.clone(),
            transaction_id: Some(self.transaction.id.clone()),
            step_id: Some(step_id.to_owned()),
            severity: severity.to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
            created_at: self.engine.clock.now_ms(),
        }
    }

    /// The partner's error webhook event (`cycle.error`), delivered through the outbox;
    /// none when no `events_url` is configured.
    fn error_event(
        &self,
        step_id: &str,
        code: &str,
        message: &str,
        detail: Option<Value>,
    ) -> Option<OutboxEvent> {
        self.engine.events.event(
            EventKind::CycleError,
            json!({
                "account": self.cycle.account_id,
                "cycle": self.cycle.id,
                "step": step_id,
                "transaction": self.transaction.id,
                "code": code,
                "message": message,
                "detail": detail.map(|d| redact_secrets(&d)),
            }),
        )
    }
}

fn count(status: TransactionStatus) {
    metrics::counter!("spokes_cycle_transactions_total", "status" => status.as_str()).increment(1);
}
