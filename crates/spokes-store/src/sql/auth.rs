//! The auth state of an installation and its sealed tokens.

use spokes_core::clock::UnixMillis;
use spokes_core::{LastError, TokenSet};
use sqlx::Pool;

use crate::backend::{Backend, sql};
use crate::rows;
use crate::seal::KeyRing;
use crate::{AuthState, StoreResult};

pub(crate) async fn save_auth_state<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    id: &str,
    state: &AuthState,
    at: UnixMillis,
    expected_version: Option<i64>,
) -> StoreResult<bool> {
    let (access, refresh, client_id, expires_at) = match &state.tokens {
        Some(tokens) => (
            Some(rows::seal_secret(
                keys,
                &rows::access_token_context(id),
                &tokens.access_token,
            )?),
            Some(rows::seal_secret(
                keys,
                &rows::refresh_token_context(id),
                &tokens.refresh_token,
            )?),
            Some(tokens.client_id.as_str()),
            Some(tokens.expires_at),
        ),
        None => (None, None, None, None),
    };
    let written = sql::<DB>(
        "UPDATE installations SET status = $2, portal = $3, portal_id = $4, \
         last_error = $5, access_token_sealed = $6, refresh_token_sealed = $7, \
         token_client_id = $8, token_expires_at = $9, updated_at = $10, \
         auth_version = auth_version + 1 \
         WHERE id = $1 AND ($11 IS NULL OR auth_version = $11)",
    )
    .bind(id)
    .bind(state.status.as_str())
    .bind(rows::portal_json(state.portal.as_ref())?)
    .bind(state.portal.as_ref().map(|p| p.portal_id))
    .bind(rows::last_error_json(state.last_error.as_ref())?)
    .bind(access.as_deref())
    .bind(refresh.as_deref())
    .bind(client_id)
    .bind(expires_at)
    .bind(at)
    .bind(expected_version)
    .execute(pool)
    .await?;
    Ok(written > 0)
}

pub(crate) async fn set_last_error<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    last_error: Option<&LastError>,
    at: UnixMillis,
) -> StoreResult<bool> {
    let written =
        sql::<DB>("UPDATE installations SET last_error = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(rows::last_error_json(last_error)?)
            .bind(at)
            .execute(pool)
            .await?;
    Ok(written > 0)
}

pub(crate) async fn get_tokens<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    installation_id: &str,
) -> StoreResult<Option<TokenSet>> {
    let row = sql::<DB>(
        "SELECT access_token_sealed, refresh_token_sealed, token_client_id, \
         token_expires_at FROM installations WHERE id = $1",
    )
    .bind(installation_id)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => rows::tokens(&row, keys, installation_id),
        None => Ok(None),
    }
}
