//! The webhook inbox: events accepted once each by their source's event id, each queued as a
//! job in the same transaction, so an acknowledged event is never lost and a redelivered one
//! is never queued twice.

use std::collections::HashSet;

use serde_json::{Value, json};
use spokes_core::NewJob;
use spokes_core::clock::UnixMillis;
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows::RowExt;

/// Records each event not seen before and queues its job; all in one transaction, in two
/// statements whatever the batch's size (HubSpot sends up to 100 events a request, and a
/// statement per event cost SQLite a thread hand-off each). Returns how many were new.
pub(crate) async fn accept<DB: Backend>(
    pool: &Pool<DB>,
    events: &[(String, NewJob)],
    now: UnixMillis,
) -> StoreResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let keys: Vec<Value> = events
        .iter()
        .map(|(key, job)| json!({"key": key, "job": job.id}))
        .collect();
    let mut tx = pool.begin().await?;
    let mut fresh: HashSet<String> = sql::<DB>(DB::ACCEPT_WEBHOOK_EVENTS)
        .bind(Value::Array(keys).to_string())
        .bind(now)
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|row| row.text("job_id"))
        .collect::<sqlx::Result<_>>()?;
    // Inbox jobs carry no dedupe key: the inbox is what keeps them single.
    let jobs: Vec<Value> = events
        .iter()
        // Each job once, even when a delivery repeats an event.
        .filter(|(_, job)| fresh.remove(&job.id))
        .map(|(_, job)| {
            json!({
                "id": job.id,
                "kind": job.kind,
                "payload": job.payload,
                "run_at": job.run_at,
                "max_attempts": job.max_attempts,
                "created_at": job.created_at,
            })
        })
        .collect();
    let jobs_count = jobs.len();
    if !jobs.is_empty() {
        sql::<DB>(DB::ENQUEUE_PLAIN_JOBS)
            .bind(Value::Array(jobs).to_string())
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(jobs_count)
}

pub(crate) async fn sweep<DB: Backend>(
    pool: &Pool<DB>,
    received_before: UnixMillis,
) -> StoreResult<u64> {
    Ok(
        sql::<DB>("DELETE FROM webhook_events WHERE received_at < $1")
            .bind(received_before)
            .execute(pool)
            .await?,
    )
}
