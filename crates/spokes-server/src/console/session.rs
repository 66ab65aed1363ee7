//! Console sessions, kept on the server. The cookie carries only a random id (32 bytes,
//! base64url); the store keeps its SHA-256, the API key it was opened with and its expiry, and
//! every console request looks it up, so logging out, expiry and revoking the key (the store
//! deletes the key's sessions) end it at once, in every Spokes process.
//!
//! Hand-written rather than tower-sessions: its session record cannot express "ends when its
//! API key is revoked", across processes sharing the database, which the store's
//! `find_console_session` answers in one query.

use axum::http::{HeaderMap, header};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use spokes_core::token::{random_token, sha256_hex};
use spokes_core::{ConsoleSession, ExposeSecret};
use spokes_store::StoreError;

use crate::AppState;

const COOKIE: &str = "spokes_console";
const SESSION_MS: i64 = 8 * 60 * 60 * 1000;
/// `random_token(ID_BYTES)` is this long.
const ID_BYTES: usize = 32;
const ID_LEN: usize = 43;
/// A request rarely carries more than one session cookie; more than this are ignored.
const MAX_PRESENTED: usize = 4;

/// A live session of the request.
pub struct Session {
    id: String,
}

/// The well-formed session ids in the request's cookies. Malformed values are never looked up.
fn presented(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, value)| *name == COOKIE && is_id(value))
        .map(|(_, value)| value)
        .take(MAX_PRESENTED)
        .collect()
}

fn is_id(value: &str) -> bool {
    value.len() == ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request's session, when its cookie names one that is live.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
    let now = state.clock.now_ms();
    for id in presented(headers) {
        if state
            .store
            .find_console_session(&sha256_hex(id.as_bytes()), now)
            .await?
            .is_some()
        {
            return Ok(Some(Session { id: id.to_string() }));
        }
    }
    Ok(None)
}

/// Opens a session for whoever just logged in (`key_id` is `None` for the admin password) and
/// returns its `Set-Cookie` value. The id is new at every login and any session the browser
/// presented is ended first, so an id planted in the browser before the login is never the
/// one that gets logged in (session fixation).
pub async fn open(
    state: &AppState,
    headers: &HeaderMap,
    key_id: Option<String>,
) -> Result<String, StoreError> {
    for id in presented(headers) {
        state
            .store
            .delete_console_session(&sha256_hex(id.as_bytes()))
            .await?;
    }
    let id = random_token(ID_BYTES);
    let now = state.clock.now_ms();
    state
        .store
        .create_console_session(&ConsoleSession {
            id_hash: sha256_hex(id.as_bytes()),
            key_id,
            created_at: now,
            expires_at: now + SESSION_MS,
        })
        .await?;
    Ok(cookie(state, &id, SESSION_MS / 1000))
}

/// Ends the session (log out) and returns the `Set-Cookie` value that clears it.
pub async fn close(state: &AppState, session: &Session) -> Result<String, StoreError> {
    state
        .store
        .delete_console_session(&sha256_hex(session.id.as_bytes()))
        .await?;
    Ok(clear_cookie(state))
}

pub fn clear_cookie(state: &AppState) -> String {
    cookie(state, "", 0)
}

fn cookie(state: &AppState, value: &str, max_age_secs: i64) -> String {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

impl Session {
    fn csrf_mac(&self, state: &AppState) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(state.config.console_secret.expose_secret().as_bytes())
                .expect("HMAC accepts keys of any length");
        mac.update(b"csrf|");
        mac.update(self.id.as_bytes());
        mac
    }

    /// The token every console form carries: HMAC(console secret, session id), in hex.
    pub fn csrf_token(&self, state: &AppState) -> String {
        hex::encode(self.csrf_mac(state).finalize().into_bytes())
    }

    /// Whether a form's token is this session's (compared by the hmac crate, in constant time).
    pub fn csrf_ok(&self, state: &AppState, token: Option<&str>) -> bool {
        token
            .and_then(|t| hex::decode(t).ok())
            .is_some_and(|tag| self.csrf_mac(state).verify_slice(&tag).is_ok())
    }
}
