//! A string that must never reach a log, an error message or an API response.
//!
//! `secrecy`'s `SecretString`: its `Debug` prints a placeholder, it has no `Display` or
//! `Serialize`, and the memory is zeroed when it is dropped. Read it with
//! [`ExposeSecret::expose_secret`]; compare it with [`crate::token::constant_time_eq`].

pub use secrecy::{ExposeSecret, SecretString as Secret};

/// Key names whose values are never stored or logged, at any depth (audit records, cycle
/// step records, error events).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "apikey",
    "api_key",
    "authorization",
    "credential",
];

/// `value` with the values of secret-looking keys replaced by `"[removed]"`.
pub fn redact_secrets(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let lower = k.to_lowercase();
                    let secret = SECRET_WORDS.iter().any(|w| lower.contains(w));
                    let kept = if secret {
                        Value::from("[removed]")
                    } else {
                        redact_secrets(v)
                    };
                    (k.clone(), kept)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_secrets).collect()),
        other => other.clone(),
    }
}
