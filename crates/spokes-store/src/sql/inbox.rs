//! The webhook inbox: events accepted once each by their source's event id, each queued as a
//! job in the same transaction, so an acknowledged event is never lost and a redelivered one
//! is never queued twice.

use spokes_core::clock::UnixMillis;
use spokes_core::{EnqueueOutcome, NewJob};
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::sql::jobs;

/// Records each event not seen before and queues its job; all in one transaction. Returns
/// how many were new.
pub(crate) async fn accept<DB: Backend>(
    pool: &Pool<DB>,
    events: &[(String, NewJob)],
    now: UnixMillis,
) -> StoreResult<usize> {
    let mut tx = pool.begin().await?;
    let mut new = 0;
    for (event_key, job) in events {
        let inserted = sql::<DB>(
            "INSERT INTO webhook_events (event_key, job_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(event_key)
        .bind(&job.id)
        .bind(now)
        .execute(&mut tx)
        .await?;
        if inserted == 0 {
            continue;
        }
        if let EnqueueOutcome::Enqueued(_) = jobs::enqueue(&mut tx, job).await? {
            new += 1;
        }
    }
    tx.commit().await?;
    Ok(new)
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
