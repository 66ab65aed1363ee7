//! Backend-neutral pieces of the SQL stores: reading rows into domain types, sealing contexts,
//! JSON columns and error mapping.

use spokes_core::ExposeSecret;
use std::collections::BTreeMap;

use spokes_core::{
    Account, ApiKey, AuthLink, ConnectorSetup, ConsoleSession, Installation, InstallationStatus,
    Job, JobState, LastError, McpCall, OAuthState, OutboxEvent, PortalDetails, Secret, TokenSet,
};

use crate::seal::KeyRing;
use crate::{StoreError, StoreResult};

/// Typed column access, implemented for the row types of both backends so that the decoders
/// below are written once.
pub(crate) trait RowExt {
    fn text(&self, column: &str) -> sqlx::Result<String>;
    fn opt_text(&self, column: &str) -> sqlx::Result<Option<String>>;
    fn int(&self, column: &str) -> sqlx::Result<i64>;
    fn opt_int(&self, column: &str) -> sqlx::Result<Option<i64>>;
    /// A flag column (BOOLEAN on PostgreSQL, 0/1 on SQLite).
    fn flag(&self, column: &str) -> sqlx::Result<bool>;
    fn blob(&self, column: &str) -> sqlx::Result<Vec<u8>>;
    fn opt_blob(&self, column: &str) -> sqlx::Result<Option<Vec<u8>>>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, column: &str) -> sqlx::Result<String> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_text(&self, column: &str) -> sqlx::Result<Option<String>> {
                sqlx::Row::try_get(self, column)
            }
            fn int(&self, column: &str) -> sqlx::Result<i64> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_int(&self, column: &str) -> sqlx::Result<Option<i64>> {
                sqlx::Row::try_get(self, column)
            }
            fn flag(&self, column: &str) -> sqlx::Result<bool> {
                sqlx::Row::try_get(self, column)
            }
            fn blob(&self, column: &str) -> sqlx::Result<Vec<u8>> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_blob(&self, column: &str) -> sqlx::Result<Option<Vec<u8>>> {
                sqlx::Row::try_get(self, column)
            }
        }
    };
}

impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);

// --- where sealed values live: the associated data of each sealed column

pub(crate) fn client_secret_context(connector: &str) -> String {
    format!("connector_setups/client_secret/{connector}")
}

pub(crate) fn access_token_context(installation_id: &str) -> String {
    format!("installations/access_token/{installation_id}")
}

pub(crate) fn refresh_token_context(installation_id: &str) -> String {
    format!("installations/refresh_token/{installation_id}")
}

pub(crate) fn code_verifier_context(state_hash: &str) -> String {
    format!("oauth_states/code_verifier/{state_hash}")
}

pub(crate) fn seal_secret(keys: &KeyRing, context: &str, secret: &Secret) -> StoreResult<Vec<u8>> {
    keys.seal(context, secret.expose_secret().as_bytes())
}

pub(crate) fn open_secret(keys: &KeyRing, context: &str, sealed: &[u8]) -> StoreResult<Secret> {
    let bytes = keys.open(context, sealed)?;
    String::from_utf8(bytes).map(Secret::from).map_err(|_| {
        StoreError::Corrupt(format!(
            "the sealed value in {} is not UTF-8",
            context.rsplit_once('/').map_or(context, |(place, _)| place)
        ))
    })
}

// --- JSON columns

fn parse_json<T>(column: &str, parsed: serde_json::Result<T>) -> StoreResult<T> {
    parsed.map_err(|e| StoreError::Corrupt(format!("{column} is not valid JSON: {e}")))
}

pub(crate) fn properties_json(properties: &BTreeMap<String, String>) -> StoreResult<String> {
    serde_json::to_string(properties).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn portal_json(portal: Option<&PortalDetails>) -> StoreResult<Option<String>> {
    portal
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn last_error_json(last_error: Option<&LastError>) -> StoreResult<Option<String>> {
    last_error
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

// --- errors

/// Maps constraint violations of an INSERT to the domain errors; anything else stays a
/// database error.
pub(crate) fn insert_error(
    error: sqlx::Error,
    duplicate: impl FnOnce() -> String,
    missing_parent: impl FnOnce() -> String,
) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            return StoreError::Conflict(duplicate());
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound(missing_parent());
        }
    }
    StoreError::Database(error)
}

// --- row decoders

pub(crate) fn api_key(row: &impl RowExt) -> StoreResult<ApiKey> {
    api_key_prefixed(row, "")
}

/// An API key whose columns are named `<prefix><column>` (in a join).
pub(crate) fn api_key_prefixed(row: &impl RowExt, prefix: &str) -> StoreResult<ApiKey> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(ApiKey {
        id: row.text(&column("id"))?,
        name: row.text(&column("name"))?,
        key_hash: row.text(&column("key_hash"))?,
        account_id: row.opt_text(&column("account_id"))?,
        read_only: row.flag(&column("read_only"))?,
        confirm_writes: row.flag(&column("confirm_writes"))?,
        created_at: row.int(&column("created_at"))?,
        revoked_at: row.opt_int(&column("revoked_at"))?,
    })
}

pub(crate) fn account(row: &impl RowExt) -> StoreResult<Account> {
    Ok(Account {
        id: row.text("id")?,
        name: row.text("name")?,
        timezone: row.opt_text("timezone")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn connector_setup(row: &impl RowExt, keys: &KeyRing) -> StoreResult<ConnectorSetup> {
    let connector = row.text("connector")?;
    let client_secret = open_secret(
        keys,
        &client_secret_context(&connector),
        &row.blob("client_secret_sealed")?,
    )?;
    Ok(ConnectorSetup {
        client_id: row.text("client_id")?,
        client_secret,
        properties: parse_json(
            "connector_setups.properties",
            serde_json::from_str(&row.text("properties")?),
        )?,
        updated_at: row.int("updated_at")?,
        connector,
    })
}

pub(crate) fn installation(row: &impl RowExt) -> StoreResult<Installation> {
    let status = row.text("status")?;
    Ok(Installation {
        id: row.text("id")?,
        account_id: row.text("account_id")?,
        connector: row.text("connector")?,
        name: row.text("name")?,
        properties: parse_json(
            "installations.properties",
            serde_json::from_str(&row.text("properties")?),
        )?,
        status: InstallationStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown installation status {status:?}"))
        })?,
        portal: row
            .opt_text("portal")?
            .map(|text| parse_json("installations.portal", serde_json::from_str(&text)))
            .transpose()?,
        last_error: row
            .opt_text("last_error")?
            .map(|text| parse_json("installations.last_error", serde_json::from_str(&text)))
            .transpose()?,
        token_expires_at: row.opt_int("token_expires_at")?,
        auth_version: row.int("auth_version")?,
        read_only: row.flag("read_only")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn console_session(row: &impl RowExt) -> StoreResult<ConsoleSession> {
    Ok(ConsoleSession {
        id_hash: row.text("id_hash")?,
        key_id: row.opt_text("key_id")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

/// The tokens of installation `id`, or `None` when it has none.
pub(crate) fn tokens(row: &impl RowExt, keys: &KeyRing, id: &str) -> StoreResult<Option<TokenSet>> {
    let Some(access) = row.opt_blob("access_token_sealed")? else {
        return Ok(None);
    };
    let incomplete = || StoreError::Corrupt(format!("installation {id} has incomplete tokens"));
    let refresh = row
        .opt_blob("refresh_token_sealed")?
        .ok_or_else(incomplete)?;
    Ok(Some(TokenSet {
        access_token: open_secret(keys, &access_token_context(id), &access)?,
        refresh_token: open_secret(keys, &refresh_token_context(id), &refresh)?,
        expires_at: row.opt_int("token_expires_at")?.ok_or_else(incomplete)?,
        client_id: row.opt_text("token_client_id")?.ok_or_else(incomplete)?,
    }))
}

pub(crate) fn auth_link(row: &impl RowExt) -> StoreResult<AuthLink> {
    Ok(AuthLink {
        token_hash: row.text("token_hash")?,
        installation_id: row.text("installation_id")?,
        return_url: row.opt_text("return_url")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

pub(crate) fn oauth_state(row: &impl RowExt, keys: &KeyRing) -> StoreResult<OAuthState> {
    let state_hash = row.text("state_hash")?;
    let code_verifier = open_secret(
        keys,
        &code_verifier_context(&state_hash),
        &row.blob("code_verifier_sealed")?,
    )?;
    Ok(OAuthState {
        installation_id: row.text("installation_id")?,
        code_verifier,
        return_url: row.opt_text("return_url")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
        state_hash,
    })
}

pub(crate) fn mcp_call(row: &impl RowExt) -> StoreResult<McpCall> {
    Ok(McpCall {
        id: row.text("id")?,
        account_id: row.text("account_id")?,
        key_id: row.opt_text("key_id")?,
        installation_id: row.text("installation_id")?,
        tool: row.text("tool")?,
        outcome: row.text("outcome")?,
        correlation_id: row.opt_text("correlation_id")?,
        arguments: row.text("arguments")?,
        duration_ms: row.int("duration_ms")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn outbox_event(row: &impl RowExt) -> StoreResult<OutboxEvent> {
    Ok(OutboxEvent {
        id: row.text("id")?,
        event_type: row.text("event_type")?,
        payload: row.text("payload")?,
        attempts: row.int("attempts")?,
        next_attempt_at: row.opt_int("next_attempt_at")?.unwrap_or(0),
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn job(row: &impl RowExt) -> StoreResult<Job> {
    let state = row.text("state")?;
    Ok(Job {
        id: row.text("id")?,
        kind: row.text("kind")?,
        payload: row.text("payload")?,
        dedupe_key: row.opt_text("dedupe_key")?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown job state {state:?}")))?,
        run_at: row.int("run_at")?,
        attempts: row.int("attempts")?,
        max_attempts: row.int("max_attempts")?,
        lease_owner: row.opt_text("lease_owner")?,
        lease_until: row.opt_int("lease_until")?,
        heartbeat_at: row.opt_int("heartbeat_at")?,
        last_error: row.opt_text("last_error")?,
        created_at: row.int("created_at")?,
        finished_at: row.opt_int("finished_at")?,
    })
}
