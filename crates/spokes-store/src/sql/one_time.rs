//! One-time values stored by hash: auth links and OAuth states, and their sweep.
//!
//! Consuming is one `UPDATE … SET used_at = $now WHERE … used_at IS NULL AND expires_at > $now
//! RETURNING …`, so of racing callers only one gets the value; when nothing comes back a
//! `SELECT` tells unknown / used / expired.

use spokes_core::clock::UnixMillis;
use spokes_core::{AuthLink, OAuthState, OneTimeProblem, SweepCounts};
use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows::{self, RowExt};
use crate::seal::KeyRing;

macro_rules! auth_link_columns {
    () => {
        "token_hash, installation_id, return_url, created_at, expires_at"
    };
}

macro_rules! oauth_state_columns {
    () => {
        "state_hash, installation_id, code_verifier_sealed, return_url, created_at, expires_at"
    };
}

/// Why a one-time value was not consumed, from its row (`used_at`) or its absence.
fn one_time_problem(row: Option<&impl RowExt>) -> StoreResult<OneTimeProblem> {
    Ok(match row {
        None => OneTimeProblem::Unknown,
        Some(row) if row.opt_int("used_at")?.is_some() => OneTimeProblem::AlreadyUsed,
        Some(_) => OneTimeProblem::Expired,
    })
}

pub(crate) async fn create_auth_link<DB: Backend>(
    pool: &Pool<DB>,
    link: &AuthLink,
) -> StoreResult<()> {
    sql::<DB>(concat!(
        "INSERT INTO auth_links (",
        auth_link_columns!(),
        ") VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&link.token_hash)
    .bind(&link.installation_id)
    .bind(&link.return_url)
    .bind(link.created_at)
    .bind(link.expires_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || "an auth link with this token exists".to_owned(),
            || format!("there is no installation with id {}", link.installation_id),
        )
    })?;
    Ok(())
}

pub(crate) async fn find_auth_link<DB: Backend>(
    pool: &Pool<DB>,
    token_hash: &str,
    now: UnixMillis,
) -> StoreResult<Result<AuthLink, OneTimeProblem>> {
    let row = sql::<DB>(concat!(
        "SELECT used_at, ",
        auth_link_columns!(),
        " FROM auth_links WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => {
            let link = rows::auth_link(&row)?;
            if row.opt_int("used_at")?.is_some() {
                Ok(Err(OneTimeProblem::AlreadyUsed))
            } else if link.expires_at <= now {
                Ok(Err(OneTimeProblem::Expired))
            } else {
                Ok(Ok(link))
            }
        }
        None => Ok(Err(OneTimeProblem::Unknown)),
    }
}

pub(crate) async fn consume_auth_link<DB: Backend>(
    pool: &Pool<DB>,
    token_hash: &str,
    now: UnixMillis,
) -> StoreResult<Result<AuthLink, OneTimeProblem>> {
    let claimed = sql::<DB>(concat!(
        "UPDATE auth_links SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
        auth_link_columns!()
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_all(pool)
    .await?;
    if let Some(row) = claimed.first() {
        return rows::auth_link(row).map(Ok);
    }
    let row = sql::<DB>("SELECT used_at FROM auth_links WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    one_time_problem(row.as_ref()).map(Err)
}

pub(crate) async fn create_oauth_state<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    state: &OAuthState,
) -> StoreResult<()> {
    let sealed = rows::seal_secret(
        keys,
        &rows::code_verifier_context(&state.state_hash),
        &state.code_verifier,
    )?;
    sql::<DB>(concat!(
        "INSERT INTO oauth_states (",
        oauth_state_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(&state.state_hash)
    .bind(&state.installation_id)
    .bind(sealed)
    .bind(&state.return_url)
    .bind(state.created_at)
    .bind(state.expires_at)
    .execute(pool)
    .await
    .map_err(|e| {
        rows::insert_error(
            e,
            || "an OAuth state with this value exists".to_owned(),
            || format!("there is no installation with id {}", state.installation_id),
        )
    })?;
    Ok(())
}

pub(crate) async fn consume_oauth_state<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    state_hash: &str,
    now: UnixMillis,
) -> StoreResult<Result<OAuthState, OneTimeProblem>> {
    let claimed = sql::<DB>(concat!(
        "UPDATE oauth_states SET used_at = $2 \
         WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
        oauth_state_columns!()
    ))
    .bind(state_hash)
    .bind(now)
    .fetch_all(pool)
    .await?;
    if let Some(row) = claimed.first() {
        return rows::oauth_state(row, keys).map(Ok);
    }
    let row = sql::<DB>("SELECT used_at FROM oauth_states WHERE state_hash = $1")
        .bind(state_hash)
        .fetch_optional(pool)
        .await?;
    one_time_problem(row.as_ref()).map(Err)
}

pub(crate) async fn sweep_expired<DB: Backend>(
    pool: &Pool<DB>,
    now: UnixMillis,
    keep_ms: i64,
) -> StoreResult<SweepCounts> {
    let before = now - keep_ms.max(0);
    let auth_links = sql::<DB>("DELETE FROM auth_links WHERE expires_at < $1 OR used_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    let oauth_states = sql::<DB>("DELETE FROM oauth_states WHERE expires_at < $1 OR used_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    let console_sessions = sql::<DB>("DELETE FROM console_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(SweepCounts {
        auth_links,
        oauth_states,
        console_sessions,
        idempotency_keys: 0,
    })
}
