//! The events outbox: events for the partner, claimed by one process at a time.

use spokes_core::OutboxEvent;
use spokes_core::clock::UnixMillis;
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, On, sql};
use crate::rows;

/// The columns of an outbox event, also for `RETURNING` in the backends' claim statements.
macro_rules! outbox_event_columns {
    () => {
        "id, event_type, payload, attempts, next_attempt_at, created_at"
    };
}

/// The `WHERE` condition of a due outbox event (`$1` = now).
macro_rules! outbox_event_due {
    () => {
        "delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1"
    };
}

pub(crate) use {outbox_event_columns, outbox_event_due};

/// Runs on the pool or inside the caller's transaction (`&mut tx`).
pub(crate) async fn enqueue_event<'e, DB: Backend>(
    on: impl Into<On<'e, DB>>,
    event: &OutboxEvent,
) -> StoreResult<()> {
    sql::<DB>(concat!(
        "INSERT INTO outbox_events (",
        outbox_event_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(event.attempts)
    .bind(event.next_attempt_at)
    .bind(event.created_at)
    .execute(on)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || format!("an event with id {} exists", event.id),
            String::new,
        )
    })?;
    Ok(())
}

pub(crate) async fn claim_due_events<DB: Backend>(
    pool: &Pool<DB>,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
) -> StoreResult<Vec<OutboxEvent>> {
    let mut events = sql::<DB>(DB::CLAIM_EVENTS)
        .bind(now)
        .bind(lease_until)
        .bind(limit.max(0))
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::outbox_event)
        .collect::<StoreResult<Vec<_>>>()?;
    // RETURNING does not keep the subquery's order.
    events.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(events)
}

pub(crate) async fn mark_event_delivered<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    at: UnixMillis,
) -> StoreResult<()> {
    sql::<DB>(
        "UPDATE outbox_events SET delivered_at = $2, next_attempt_at = NULL \
         WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn reschedule_event<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    attempts: i64,
    next_attempt_at: Option<UnixMillis>,
    last_error: &str,
) -> StoreResult<()> {
    sql::<DB>(
        "UPDATE outbox_events SET attempts = $2, next_attempt_at = $3, \
         last_error = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(next_attempt_at)
    .bind(last_error)
    .execute(pool)
    .await?;
    Ok(())
}
