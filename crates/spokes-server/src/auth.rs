//! Partner API authentication: `Authorization: Bearer <key>`; keys are stored as SHA-256.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use spokes_core::token::sha256_hex;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a `/v1` route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Set for keys restricted to one account.
    pub account_id: Option<String>,
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
        let unauthorized = |message: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                message.to_string(),
            )
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                unauthorized(
                    "send an API key as `Authorization: Bearer <key>`; create one with `spokes keys create`",
                )
            })?;
        let key = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
        let found = state
            .store
            .find_api_key_by_hash(&sha256_hex(key.as_bytes()))
            .await?;
        match found {
            Some(api_key) if api_key.revoked_at.is_none() => Ok(Caller {
                account_id: api_key.account_id,
            }),
            _ => Err(unauthorized(
                "the API key is not valid or was revoked; create a new one with `spokes keys create`",
            )),
        }
    }
}
