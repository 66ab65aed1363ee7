//! `Idempotency-Key` on writes: the same key within 24 hours returns the first outcome and
//! never writes twice, also while the first call is still running (the second waits for it,
//! then answers 409 `in_progress`).

use std::time::Duration;

use serde_json::{Value, json};
use spokes_core::token::sha256_hex;
use spokes_core::{IdempotencyClaim, Installation, TokenSet};
use spokes_hubspot::catalogue::MethodDef;
use spokes_hubspot::{MethodError, MethodInput, MethodOutput};

use crate::methods::Methods;

/// How long a key keeps its outcome.
const KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a running call holds its key; past it the holder is taken to have died mid-call.
const LEASE_MS: i64 = 10 * 60 * 1000;
/// How long a second call with the key waits for the first before answering `in_progress`.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(25);
/// Longest key accepted (Stripe's and HubSpot's are far shorter).
pub const MAX_KEY_LEN: usize = 255;

impl Methods {
    /// Runs a write at most once per `key` and installation; reads ignore the key.
    pub(crate) async fn call_once(
        &self,
        installation: &Installation,
        tokens: Option<&TokenSet>,
        method: &MethodDef,
        input: &MethodInput,
        key: &str,
    ) -> Result<MethodOutput, MethodError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(MethodError::invalid_parameters(
                method,
                vec![format!(
                    "the Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"
                )],
            ));
        }
        let key_hash = sha256_hex(format!("{}\n{key}", installation.id).as_bytes());
        let request = serde_json::to_string(input).unwrap_or_default();
        let request_hash = sha256_hex(format!("{}\n{request}", method.id).as_bytes());
        let started = tokio::time::Instant::now();
        loop {
            let now = self.clock.now_ms();
            let claim = self
                .store
                .claim_idempotency_key(&key_hash, &request_hash, now, now + LEASE_MS, now + KEEP_MS)
                .await
                .map_err(store_error)?;
            match claim {
                IdempotencyClaim::Claimed => {
                    let result = self.run(installation, tokens, method, input).await;
                    let stored = if result.as_ref().is_err_and(did_nothing) {
                        // A retry with the key may try again.
                        self.store.release_idempotency_key(&key_hash).await
                    } else {
                        self.store
                            .finish_idempotency_key(&key_hash, &encode(&result))
                            .await
                    };
                    if let Err(err) = stored {
                        tracing::error!(error = %err, method = %method.id, "could not record the outcome of an idempotent call");
                    }
                    return result;
                }
                IdempotencyClaim::Done(outcome) => return decode(&outcome),
                IdempotencyClaim::OtherRequest => {
                    return Err(MethodError::new(
                        422,
                        "idempotency_key_reused",
                        format!(
                            "this Idempotency-Key was used within 24 hours for another method or other input; use a new key for `{}`",
                            method.id
                        ),
                    ));
                }
                IdempotencyClaim::Running { stale: true } => {
                    return Err(MethodError::new(
                        409,
                        "outcome_unknown",
                        "the first call with this Idempotency-Key stopped without an outcome (its Spokes process ended); check HubSpot before writing again with a new key",
                    ));
                }
                IdempotencyClaim::Running { stale: false } if started.elapsed() >= WAIT => {
                    return Err(MethodError::new(
                        409,
                        "in_progress",
                        "a call with this Idempotency-Key is still running; ask again shortly for its outcome",
                    ));
                }
                IdempotencyClaim::Running { stale: false } => tokio::time::sleep(POLL).await,
            }
        }
    }
}

/// The call stopped before HubSpot could act: Spokes refused it, or HubSpot refused it
/// unread (a 429), or it never reached HubSpot. What HubSpot answered otherwise is the
/// outcome, kept for the key.
fn did_nothing(error: &MethodError) -> bool {
    !error.may_have_acted
        && matches!(
            error.code,
            "invalid_parameters"
                | "missing_scopes"
                | "not_connected"
                | "needs_reauth"
                | "setup_missing"
                | "internal"
                | "rate_limited"
                | "hubspot_unavailable"
        )
}

fn encode(result: &Result<MethodOutput, MethodError>) -> String {
    match result {
        Ok(output) => json!({"ok": {"data": output.data, "next": output.next}}),
        Err(e) => json!({"error": {
            "status": e.status,
            "code": e.code,
            "message": e.message,
            "correlation_id": e.correlation_id,
            "details": e.details,
            "may_have_acted": e.may_have_acted,
        }}),
    }
    .to_string()
}

fn decode(stored: &str) -> Result<MethodOutput, MethodError> {
    let value: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    if let Some(ok) = value.get("ok") {
        return Ok(MethodOutput {
            data: ok["data"].clone(),
            next: ok["next"].as_str().map(str::to_owned),
        });
    }
    let e = &value["error"];
    let mut error = MethodError::new(
        e["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(502),
        MethodError::known_code(e["code"].as_str().unwrap_or("")),
        e["message"]
            .as_str()
            .unwrap_or("the first call with this key failed"),
    );
    error.correlation_id = e["correlation_id"].as_str().map(str::to_owned);
    error.details = e["details"].clone();
    error.may_have_acted = e["may_have_acted"].as_bool().unwrap_or(false);
    Err(error)
}

pub(crate) fn store_error(err: spokes_store::StoreError) -> MethodError {
    tracing::error!(error = %err, "the store failed during a method call");
    MethodError::new(
        500,
        "internal",
        "something went wrong inside Spokes; the server log has the details",
    )
}
