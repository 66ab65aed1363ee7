//! Templates, cycles, their polling state, transactions, step records and incidents.
//!
//! A transaction and the job that runs it are written in one database transaction, and so
//! are a step's record and the transaction's new state: what a step did is on disk before
//! the next step starts, and an item is never queued without its job.

use std::collections::BTreeMap;

use spokes_core::clock::UnixMillis;
use spokes_core::{
    Cycle, CycleStatus, Incident, NewJob, StepState, TemplateRecord, Transaction,
    TransactionFilter, TransactionStatus, TransactionStep,
};
use sqlx::Pool;

use crate::backend::{Backend, On, sql};
use crate::rows::{self, RowExt};
use crate::sql::{jobs, outbox};
use crate::store::TransactionWrite;
use crate::{StoreError, StoreResult};

macro_rules! template_columns {
    () => {
        "id, name, document, created_at, updated_at"
    };
}

macro_rules! cycle_columns {
    () => {
        "id, account_id, template_id, name, document, variables, status, interval_minutes, \
         run_once, next_run_at, backfill_since, schedule_version, webhook_secret_sealed, \
         created_at, updated_at"
    };
}

macro_rules! transaction_columns {
    () => {
        "id, cycle_id, account_id, item_key, status, item, outputs, step_id, step_attempt, \
         step_count, resume_at, in_flight, error, created_at, updated_at, finished_at"
    };
}

// --- templates

pub(crate) async fn create_template<DB: Backend>(
    pool: &Pool<DB>,
    template: &TemplateRecord,
) -> StoreResult<()> {
    sql::<DB>(concat!(
        "INSERT INTO templates (",
        template_columns!(),
        ") VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&template.id)
    .bind(&template.name)
    .bind(&template.document)
    .bind(template.created_at)
    .bind(template.updated_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("a template with id {} exists", template.id),
            String::new,
        )
    })?;
    Ok(())
}

pub(crate) async fn get_template<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<TemplateRecord>> {
    sql::<DB>(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|row| template(&row))
    .transpose()
}

pub(crate) async fn list_templates<DB: Backend>(
    pool: &Pool<DB>,
) -> StoreResult<Vec<TemplateRecord>> {
    sql::<DB>(concat!(
        "SELECT ",
        template_columns!(),
        " FROM templates ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(template)
    .collect()
}

pub(crate) async fn update_template<DB: Backend>(
    pool: &Pool<DB>,
    template: &TemplateRecord,
) -> StoreResult<bool> {
    let updated =
        sql::<DB>("UPDATE templates SET name = $2, document = $3, updated_at = $4 WHERE id = $1")
            .bind(&template.id)
            .bind(&template.name)
            .bind(&template.document)
            .bind(template.updated_at)
            .execute(pool)
            .await?;
    Ok(updated == 1)
}

pub(crate) async fn delete_template<DB: Backend>(pool: &Pool<DB>, id: &str) -> StoreResult<bool> {
    let deleted = sql::<DB>("DELETE FROM templates WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(deleted == 1)
}

fn template(row: &impl RowExt) -> StoreResult<TemplateRecord> {
    Ok(TemplateRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        document: row.text("document")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

// --- cycles

/// `StoreError::NotFound` when the account does not exist.
pub(crate) async fn create_cycle<DB: Backend>(pool: &Pool<DB>, cycle: &Cycle) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sql::<DB>(concat!(
        "INSERT INTO cycles (",
        cycle_columns!(),
        ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
         WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2)"
    ))
    .bind(&cycle.id)
    .bind(&cycle.account_id)
    .bind(&cycle.template_id)
    .bind(&cycle.name)
    .bind(&cycle.document)
    .bind(&cycle.variables)
    .bind(cycle.status.as_str())
    .bind(cycle.interval_minutes)
    .bind(i64::from(cycle.run_once))
    .bind(cycle.next_run_at)
    .bind(cycle.backfill_since)
    .bind(cycle.schedule_version)
    .bind(&cycle.webhook_secret_sealed)
    .bind(cycle.created_at)
    .bind(cycle.updated_at)
    .execute(&mut tx)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("a cycle with id {} exists", cycle.id),
            String::new,
        )
    })
    .and_then(|inserted| match inserted {
        1 => Ok(()),
        _ => Err(StoreError::NotFound(format!(
            "account {} does not exist",
            cycle.account_id
        ))),
    })?;
    for (connector, installation) in &cycle.installations {
        sql::<DB>(
            "INSERT INTO cycle_installations (cycle_id, connector, installation_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(&cycle.id)
        .bind(connector)
        .bind(installation)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The cycles' rows, each with one of its installations (or none), so that cycles and their
/// installations are read in one query.
macro_rules! cycles_with_installations {
    () => {
        concat!(
            "SELECT ",
            cycle_columns!(),
            ", ci.connector AS ci_connector, ci.installation_id AS ci_installation FROM cycles \
             LEFT JOIN cycle_installations ci ON ci.cycle_id = cycles.id"
        )
    };
}

pub(crate) async fn get_cycle<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<Cycle>> {
    let rows = sql::<DB>(concat!(
        cycles_with_installations!(),
        " WHERE cycles.id = $1"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(fold_cycles(&rows)?.pop())
}

pub(crate) async fn list_cycles<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
) -> StoreResult<Vec<Cycle>> {
    let rows = sql::<DB>(concat!(
        cycles_with_installations!(),
        " WHERE cycles.account_id = $1 ORDER BY cycles.created_at, cycles.id"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await?;
    fold_cycles(&rows)
}

/// The active cycles that run with this installation.
pub(crate) async fn active_cycles_of_installation<DB: Backend>(
    pool: &Pool<DB>,
    installation_id: &str,
) -> StoreResult<Vec<Cycle>> {
    let rows = sql::<DB>(concat!(
        cycles_with_installations!(),
        " WHERE cycles.status = 'active' AND cycles.id IN \
         (SELECT cycle_id FROM cycle_installations WHERE installation_id = $1) \
         ORDER BY cycles.created_at, cycles.id"
    ))
    .bind(installation_id)
    .fetch_all(pool)
    .await?;
    fold_cycles(&rows)
}

/// One cycle per run of rows with the same id (the query orders them together).
fn fold_cycles(rows: &[impl RowExt]) -> StoreResult<Vec<Cycle>> {
    let mut cycles: Vec<Cycle> = Vec::new();
    for row in rows {
        let id = row.text("id")?;
        if cycles.last().is_none_or(|c| c.id != id) {
            cycles.push(cycle(row)?);
        }
        if let (Some(connector), Some(installation), Some(cycle)) = (
            row.opt_text("ci_connector")?,
            row.opt_text("ci_installation")?,
            cycles.last_mut(),
        ) {
            cycle.installations.insert(connector, installation);
        }
    }
    Ok(cycles)
}

/// Writes the cycle's changeable columns (not its account, template or installations) and
/// enqueues `jobs`, in one transaction. False when the cycle does not exist.
pub(crate) async fn update_cycle<DB: Backend>(
    pool: &Pool<DB>,
    cycle: &Cycle,
    jobs_to_enqueue: &[NewJob],
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let updated = sql::<DB>(
        "UPDATE cycles SET name = $2, document = $3, variables = $4, status = $5, \
         interval_minutes = $6, run_once = $7, next_run_at = $8, backfill_since = $9, \
         schedule_version = $10, webhook_secret_sealed = $11, updated_at = $12 WHERE id = $1",
    )
    .bind(&cycle.id)
    .bind(&cycle.name)
    .bind(&cycle.document)
    .bind(&cycle.variables)
    .bind(cycle.status.as_str())
    .bind(cycle.interval_minutes)
    .bind(i64::from(cycle.run_once))
    .bind(cycle.next_run_at)
    .bind(cycle.backfill_since)
    .bind(cycle.schedule_version)
    .bind(&cycle.webhook_secret_sealed)
    .bind(cycle.updated_at)
    .execute(&mut tx)
    .await?;
    if updated != 1 {
        return Ok(false);
    }
    for job in jobs_to_enqueue {
        jobs::enqueue(&mut tx, job).await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn delete_cycle<DB: Backend>(pool: &Pool<DB>, id: &str) -> StoreResult<bool> {
    let deleted = sql::<DB>("DELETE FROM cycles WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(deleted == 1)
}

fn cycle(row: &impl RowExt) -> StoreResult<Cycle> {
    let status = row.text("status")?;
    Ok(Cycle {
        id: row.text("id")?,
        account_id: row.text("account_id")?,
        template_id: row.opt_text("template_id")?,
        name: row.text("name")?,
        document: row.text("document")?,
        installations: BTreeMap::new(),
        variables: row.text("variables")?,
        status: CycleStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown cycle status {status:?}")))?,
        interval_minutes: row.opt_int("interval_minutes")?,
        run_once: row.int("run_once")? != 0,
        next_run_at: row.opt_int("next_run_at")?,
        backfill_since: row.opt_int("backfill_since")?,
        schedule_version: row.int("schedule_version")?,
        webhook_secret_sealed: row.opt_text("webhook_secret_sealed")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

// --- polling state

pub(crate) async fn get_step_state<DB: Backend>(
    pool: &Pool<DB>,
    cycle_id: &str,
    step_id: &str,
) -> StoreResult<StepState> {
    let row = sql::<DB>(
        "SELECT last_successful_run_date, cursor, window_since FROM cycle_step_states \
         WHERE cycle_id = $1 AND step_id = $2",
    )
    .bind(cycle_id)
    .bind(step_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(StepState::default());
    };
    Ok(StepState {
        last_successful_run_date: row.opt_int("last_successful_run_date")?,
        cursor: row.opt_text("cursor")?,
        window_since: row.opt_int("window_since")?,
    })
}

async fn put_step_state<DB: Backend>(
    mut on: On<'_, DB>,
    cycle_id: &str,
    step_id: &str,
    state: &StepState,
) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO cycle_step_states (cycle_id, step_id, last_successful_run_date, cursor, \
         window_since) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cycle_id, step_id) DO UPDATE \
         SET last_successful_run_date = excluded.last_successful_run_date, \
         cursor = excluded.cursor, window_since = excluded.window_since",
    )
    .bind(cycle_id)
    .bind(step_id)
    .bind(state.last_successful_run_date)
    .bind(&state.cursor)
    .bind(state.window_since)
    .execute(on.reborrow())
    .await?;
    Ok(())
}

// --- transactions

/// Stores each transaction whose item the cycle has not had before, with its job; then the
/// polling step's state (when given) and `then` jobs; all in one transaction. Returns the
/// ids of the transactions stored.
pub(crate) async fn queue_transactions<DB: Backend>(
    pool: &Pool<DB>,
    transactions: &[(Transaction, NewJob)],
    state: Option<(&str, &str, &StepState)>,
    then: &[NewJob],
) -> StoreResult<Vec<String>> {
    let mut tx = pool.begin().await?;
    let mut stored = Vec::new();
    for (transaction, job) in transactions {
        let inserted = insert_transaction(On::from(&mut tx), transaction).await?;
        if inserted {
            jobs::enqueue(&mut tx, job).await?;
            stored.push(transaction.id.clone());
        }
    }
    if let Some((cycle_id, step_id, state)) = state {
        put_step_state(On::from(&mut tx), cycle_id, step_id, state).await?;
    }
    for job in then {
        jobs::enqueue(&mut tx, job).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

/// False when the cycle already has a transaction for the item.
async fn insert_transaction<DB: Backend>(on: On<'_, DB>, t: &Transaction) -> StoreResult<bool> {
    let inserted = sql::<DB>(concat!(
        "INSERT INTO transactions (",
        transaction_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (cycle_id, item_key) DO NOTHING"
    ))
    .bind(&t.id)
    .bind(&t.cycle_id)
    .bind(&t.account_id)
    .bind(&t.item_key)
    .bind(t.status.as_str())
    .bind(&t.item)
    .bind(&t.outputs)
    .bind(&t.step_id)
    .bind(t.step_attempt)
    .bind(t.step_count)
    .bind(t.resume_at)
    .bind(&t.in_flight)
    .bind(&t.error)
    .bind(t.created_at)
    .bind(t.updated_at)
    .bind(t.finished_at)
    .execute(on)
    .await?;
    Ok(inserted == 1)
}

pub(crate) async fn get_transaction<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<Transaction>> {
    sql::<DB>(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|row| transaction(&row))
    .transpose()
}

/// Newest first.
pub(crate) async fn list_transactions<DB: Backend>(
    pool: &Pool<DB>,
    cycle_id: &str,
    filter: &TransactionFilter,
) -> StoreResult<Vec<Transaction>> {
    sql::<DB>(concat!(
        "SELECT ",
        transaction_columns!(),
        " FROM transactions WHERE cycle_id = $1 AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at < $4) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(cycle_id)
    .bind(filter.status.map(TransactionStatus::as_str))
    .bind(filter.after)
    .bind(filter.before)
    .bind(i64::from(filter.limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(transaction)
    .collect()
}

/// Writes the transaction's state with what came with it (see [`TransactionWrite`]) in one
/// transaction. False when the transaction no longer exists (its cycle was deleted).
pub(crate) async fn save_transaction<DB: Backend>(
    pool: &Pool<DB>,
    write: &TransactionWrite<'_>,
) -> StoreResult<bool> {
    let t = write.transaction;
    let mut tx = pool.begin().await?;
    let updated = sql::<DB>(
        "UPDATE transactions SET status = $2, outputs = $3, step_id = $4, step_attempt = $5, \
         step_count = $6, resume_at = $7, in_flight = $8, error = $9, updated_at = $10, \
         finished_at = $11 WHERE id = $1",
    )
    .bind(&t.id)
    .bind(t.status.as_str())
    .bind(&t.outputs)
    .bind(&t.step_id)
    .bind(t.step_attempt)
    .bind(t.step_count)
    .bind(t.resume_at)
    .bind(&t.in_flight)
    .bind(&t.error)
    .bind(t.updated_at)
    .bind(t.finished_at)
    .execute(&mut tx)
    .await?;
    if updated != 1 {
        return Ok(false);
    }
    if let Some(step) = write.step {
        sql::<DB>(
            "INSERT INTO transaction_steps (transaction_id, seq, step_id, status, attempt, \
             request, response, error, started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&t.id)
        .bind(step.seq)
        .bind(&step.step_id)
        .bind(&step.status)
        .bind(step.attempt)
        .bind(&step.request)
        .bind(&step.response)
        .bind(&step.error)
        .bind(step.started_at)
        .bind(step.finished_at)
        .execute(&mut tx)
        .await?;
    }
    if let Some(incident) = write.incident {
        insert_incident(On::from(&mut tx), incident).await?;
    }
    if let Some(event) = write.event {
        outbox::enqueue_event(&mut tx, event).await?;
    }
    if write.pause_cycle {
        sql::<DB>(
            "UPDATE cycles SET status = 'paused', next_run_at = NULL, \
             schedule_version = schedule_version + 1, updated_at = $2 WHERE id = $1",
        )
        .bind(&t.cycle_id)
        .bind(t.updated_at)
        .execute(&mut tx)
        .await?;
    }
    if let Some(job) = write.job {
        jobs::enqueue(&mut tx, job).await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn cancel_transactions<DB: Backend>(
    pool: &Pool<DB>,
    cycle_id: &str,
    now: UnixMillis,
) -> StoreResult<u64> {
    Ok(sql::<DB>(
        "UPDATE transactions SET status = 'cancelled', step_id = NULL, resume_at = NULL, \
         updated_at = $2, finished_at = $2 WHERE cycle_id = $1 AND status IN ('queued', 'waiting')",
    )
    .bind(cycle_id)
    .bind(now)
    .execute(pool)
    .await?)
}

pub(crate) async fn list_transaction_steps<DB: Backend>(
    pool: &Pool<DB>,
    transaction_id: &str,
) -> StoreResult<Vec<TransactionStep>> {
    sql::<DB>(
        "SELECT transaction_id, seq, step_id, status, attempt, request, response, error, \
         started_at, finished_at FROM transaction_steps WHERE transaction_id = $1 ORDER BY seq",
    )
    .bind(transaction_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(TransactionStep {
            transaction_id: row.text("transaction_id")?,
            seq: row.int("seq")?,
            step_id: row.text("step_id")?,
            status: row.text("status")?,
            attempt: row.int("attempt")?,
            request: row.opt_text("request")?,
            response: row.opt_text("response")?,
            error: row.opt_text("error")?,
            started_at: row.int("started_at")?,
            finished_at: row.int("finished_at")?,
        })
    })
    .collect()
}

/// Deletes finished transactions: those that succeeded or were cancelled before
/// `finished_before`, the errored ones before `errored_before`. How many.
pub(crate) async fn sweep_transactions<DB: Backend>(
    pool: &Pool<DB>,
    finished_before: UnixMillis,
    errored_before: UnixMillis,
) -> StoreResult<u64> {
    Ok(sql::<DB>(
        "DELETE FROM transactions WHERE finished_at IS NOT NULL AND \
         ((status IN ('failed', 'unknown') AND finished_at < $2) \
          OR (status NOT IN ('failed', 'unknown') AND finished_at < $1))",
    )
    .bind(finished_before)
    .bind(errored_before)
    .execute(pool)
    .await?)
}

fn transaction(row: &impl RowExt) -> StoreResult<Transaction> {
    let status = row.text("status")?;
    Ok(Transaction {
        id: row.text("id")?,
        cycle_id: row.text("cycle_id")?,
        account_id: row.text("account_id")?,
        item_key: row.opt_text("item_key")?,
        status: TransactionStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown transaction status {status:?}")))?,
        item: row.text("item")?,
        outputs: row.text("outputs")?,
        step_id: row.opt_text("step_id")?,
        step_attempt: row.int("step_attempt")?,
        step_count: row.int("step_count")?,
        resume_at: row.opt_int("resume_at")?,
        in_flight: row.opt_text("in_flight")?,
        error: row.opt_text("error")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        finished_at: row.opt_int("finished_at")?,
    })
}

// --- incidents

async fn insert_incident<DB: Backend>(on: On<'_, DB>, incident: &Incident) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO incidents (id, cycle_id, transaction_id, step_id, severity, code, \
         message, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&incident.id)
    .bind(&incident.cycle_id)
    .bind(&incident.transaction_id)
    .bind(&incident.step_id)
    .bind(&incident.severity)
    .bind(&incident.code)
    .bind(&incident.message)
    .bind(incident.created_at)
    .execute(on)
    .await?;
    Ok(())
}

/// Newest first.
pub(crate) async fn list_incidents<DB: Backend>(
    pool: &Pool<DB>,
    cycle_id: &str,
    limit: u32,
) -> StoreResult<Vec<Incident>> {
    sql::<DB>(
        "SELECT id, cycle_id, transaction_id, step_id, severity, code, message, created_at \
         FROM incidents WHERE cycle_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(cycle_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(Incident {
            id: row.text("id")?,
            cycle_id: row.text("cycle_id")?,
            transaction_id: row.opt_text("transaction_id")?,
            step_id: row.opt_text("step_id")?,
            severity: row.text("severity")?,
            code: row.text("code")?,
            message: row.text("message")?,
            created_at: row.int("created_at")?,
        })
    })
    .collect()
}
