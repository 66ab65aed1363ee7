//! Partner API authentication: `Authorization: Bearer <key>`; keys are stored as SHA-256.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use spokes_core::token::sha256_hex;
use spokes_core::{ApiKey, Installation, TokenSet};

use crate::AppState;
use crate::api::accounts;
use crate::error::ApiError;

/// The authenticated caller of a `/v1` route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Set for keys restricted to one account.
    pub account_id: Option<String>,
    /// The key may not write (see `spokes keys create --read-only`).
    pub read_only: bool,
}

impl Caller {
    /// Account-restricted keys see only their own account; any other account looks absent.
    pub fn check_account(&self, account_id: &str) -> Result<(), ApiError> {
        match &self.account_id {
            Some(own) if own != account_id => Err(account_not_found(account_id)),
            _ => Ok(()),
        }
    }

    /// Partner-level changes need an unrestricted key.
    pub fn require_partner(&self) -> Result<(), ApiError> {
        match self.account_id {
            Some(_) => Err(ApiError::forbidden(
                "this API key is restricted to one account; use a partner key (created without --account) for this",
            )),
            None => Ok(()),
        }
    }
}

pub fn account_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "account `{id}` does not exist; create it with POST /v1/accounts"
    ))
}

/// Generates a new key: what to show the user once, and what to store.
pub fn new_api_key() -> (String, String) {
    let key = format!("spk_{}", spokes_core::token::random_token(32));
    let hash = sha256_hex(key.as_bytes());
    (key, hash)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key_hash = sha256_hex(bearer_key(&parts.headers)?.as_bytes());
        let found = state.store.find_api_key_by_hash(&key_hash).await?;
        caller_of(found)
    }
}

/// The caller of a route under `/v1/accounts/{account}/connectors/{installation}/…` that
/// acts on the installation (method calls, the proxy), with the installation and its tokens,
/// read with the key in one query: the method-call path's only read when the token is fresh.
pub struct InstallationCaller {
    /// The caller's key, valid: what it may do (`read_only`, `confirm_writes`).
    pub key: ApiKey,
    pub installation: Installation,
    pub tokens: Option<TokenSet>,
}

impl FromRequestParts<AppState> for InstallationCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key_hash = sha256_hex(bearer_key(&parts.headers)?.as_bytes());
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_request", e.body_text()))?;
        let param = |name: &str| {
            params
                .iter()
                .find_map(|(k, v)| (k == name).then(|| v.to_string()))
                .unwrap_or_default()
        };
        let (account_id, installation_id) = (param("account"), param("installation"));
        let (key, installation) =
            load_key_and_installation(state, &key_hash, &installation_id).await?;
        let caller = Caller::from(&key);
        caller.check_account(&account_id)?;
        match installation.filter(|(i, _)| i.account_id == account_id) {
            Some((installation, tokens)) => Ok(Self {
                key,
                installation,
                tokens,
            }),
            None => {
                // An installation of the account proves the account exists (it cascades), so
                // the account is read only to say which of the two is missing.
                accounts::load(state, &caller, &account_id).await?;
                Err(installation_not_found(&account_id, &installation_id))
            }
        }
    }
}

pub fn installation_not_found(account_id: &str, installation_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "installation `{installation_id}` does not exist in account `{account_id}`; \
         GET /v1/accounts/{account_id}/connectors lists them"
    ))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        message.to_string(),
    )
}

/// The key of `Authorization: Bearer <key>`.
pub(crate) fn bearer_key(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            unauthorized(
                "send an API key as `Authorization: Bearer <key>`; create one with `spokes keys create`",
            )
        })?;
    header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))
}

/// The caller of a key found by its hash: none, or a revoked one, is refused.
pub(crate) fn caller_of(found: Option<ApiKey>) -> Result<Caller, ApiError> {
    valid_key(found).map(|key| Caller::from(&key))
}

impl From<&ApiKey> for Caller {
    fn from(key: &ApiKey) -> Self {
        Self {
            account_id: key.account_id.clone(),
            read_only: key.read_only,
        }
    }
}

/// The key of `key_hash`, refused when unknown or revoked, and installation `installation_id`
/// with its tokens when it exists (of any account: the caller checks that), in one query.
pub(crate) async fn load_key_and_installation(
    state: &AppState,
    key_hash: &str,
    installation_id: &str,
) -> Result<(ApiKey, Option<(Installation, Option<TokenSet>)>), ApiError> {
    let (key, installation) = match state.store.load_call(key_hash, installation_id).await? {
        Some(found) => (Some(found.key), found.installation),
        None => (None, None),
    };
    Ok((valid_key(key)?, installation))
}

/// The key found by its hash when it may be used: none, or a revoked one, is refused.
pub(crate) fn valid_key(found: Option<ApiKey>) -> Result<ApiKey, ApiError> {
    match found {
        Some(key) if key.revoked_at.is_none() => Ok(key),
        _ => Err(unauthorized(
            "the API key is not valid or was revoked; create a new one with `spokes keys create`",
        )),
    }
}
