//! The refresh lease of an installation: at most one refresher across processes.

use spokes_core::clock::UnixMillis;
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};

pub(crate) async fn try_acquire_refresh_lease<DB: Backend>(
    pool: &Pool<DB>,
    installation_id: &str,
    owner: &str,
    now: UnixMillis,
    until: UnixMillis,
) -> StoreResult<bool> {
    // One statement: the row lock (PostgreSQL) or the write lock (SQLite) makes racing callers
    // see each other's lease, so exactly one matches.
    let taken = sql::<DB>(
        "UPDATE installations SET refresh_lease_owner = $2, refresh_lease_until = $4 \
         WHERE id = $1 AND (refresh_lease_until IS NULL OR refresh_lease_until < $3)",
    )
    .bind(installation_id)
    .bind(owner)
    .bind(now)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(taken == 1)
}

pub(crate) async fn release_refresh_lease<DB: Backend>(
    pool: &Pool<DB>,
    installation_id: &str,
    owner: &str,
) -> StoreResult<()> {
    sql::<DB>(
        "UPDATE installations SET refresh_lease_owner = NULL, \
         refresh_lease_until = NULL WHERE id = $1 AND refresh_lease_owner = $2",
    )
    .bind(installation_id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}
