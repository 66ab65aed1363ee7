//! Idempotency keys: the first call with a key claims it with one `INSERT … ON CONFLICT DO
//! NOTHING` (of racing callers exactly one inserts); its outcome is stored when it ends.

use spokes_core::clock::UnixMillis;
use spokes_core::{IdempotencyClaim, SweepCounts};
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows::RowExt;

pub(crate) async fn claim<DB: Backend>(
    pool: &Pool<DB>,
    key_hash: &str,
    request_hash: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    expires_at: UnixMillis,
) -> StoreResult<IdempotencyClaim> {
    // An expired key is free again.
    sql::<DB>("DELETE FROM idempotency_keys WHERE key_hash = $1 AND expires_at <= $2")
        .bind(key_hash)
        .bind(now)
        .execute(pool)
        .await?;
    let inserted = sql::<DB>(
        "INSERT INTO idempotency_keys \
         (key_hash, request_hash, outcome, lease_until, created_at, expires_at) \
         VALUES ($1, $2, NULL, $3, $4, $5) ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(key_hash)
    .bind(request_hash)
    .bind(lease_until)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    if inserted == 1 {
        return Ok(IdempotencyClaim::Claimed);
    }
    let row = sql::<DB>(
        "SELECT request_hash, outcome, lease_until FROM idempotency_keys WHERE key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        // Deleted between the two statements (released by its holder): one more try.
        return Ok(IdempotencyClaim::Running { stale: false });
    };
    if row.text("request_hash")? != request_hash {
        return Ok(IdempotencyClaim::OtherRequest);
    }
    Ok(match row.opt_text("outcome")? {
        Some(outcome) => IdempotencyClaim::Done(outcome),
        None => IdempotencyClaim::Running {
            stale: row.int("lease_until")? <= now,
        },
    })
}

pub(crate) async fn finish<DB: Backend>(
    pool: &Pool<DB>,
    key_hash: &str,
    outcome: &str,
) -> StoreResult<()> {
    sql::<DB>("UPDATE idempotency_keys SET outcome = $2 WHERE key_hash = $1")
        .bind(key_hash)
        .bind(outcome)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn release<DB: Backend>(pool: &Pool<DB>, key_hash: &str) -> StoreResult<()> {
    sql::<DB>("DELETE FROM idempotency_keys WHERE key_hash = $1 AND outcome IS NULL")
        .bind(key_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn sweep<DB: Backend>(
    pool: &Pool<DB>,
    now: UnixMillis,
    counts: &mut SweepCounts,
) -> StoreResult<()> {
    counts.idempotency_keys = sql::<DB>("DELETE FROM idempotency_keys WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}
