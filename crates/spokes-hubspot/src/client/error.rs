//! A method call's failure, normalised from HubSpot's answer (or from Spokes' own checks) to
//! a stable code the partner can act on.

use serde_json::{Value, json};

use crate::catalogue::{Body, MethodDef, ScopeSets};

/// What went wrong with a method call. `status` is the HTTP status Spokes answers with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct MethodError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// HubSpot's `correlationId`, for HubSpot support.
    pub correlation_id: Option<String>,
    /// Machine-readable particulars (missing scopes, per-property messages, existing id, …).
    pub details: Value,
    /// HubSpot received the request and may have acted on it (a 5xx, a broken connection):
    /// a write that failed so must not simply be sent again.
    pub may_have_acted: bool,
}

/// Every code a [`MethodError`] can carry, so a stored outcome reads back to the same one.
pub const CODES: &[&str] = &[
    "invalid_parameters",
    "missing_scopes",
    "sales_hub_seat_required",
    "not_found",
    "conflict",
    "validation_failed",
    "rate_limited",
    "needs_reauth",
    "not_connected",
    "setup_missing",
    "hubspot_unavailable",
    "outcome_unknown",
    "hubspot_error",
    "in_progress",
    "idempotency_key_reused",
    "internal",
];

impl MethodError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            correlation_id: None,
            details: Value::Null,
            may_have_acted: false,
        }
    }

    /// The code `code` as one of [`CODES`] (`hubspot_error` for anything else).
    pub fn known_code(code: &str) -> &'static str {
        CODES
            .iter()
            .find(|c| **c == code)
            .copied()
            .unwrap_or("hubspot_error")
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Bad input, found before anything was sent; `problems` names each bad value.
    pub fn invalid_parameters(method: &MethodDef, problems: Vec<String>) -> Self {
        Self::new(
            400,
            "invalid_parameters",
            format!(
                "`{}` was not called: {}. GET /v1/connectors/hubspot/methods/{} shows its parameters and fields",
                method.id,
                problems.join("; "),
                method.id
            ),
        )
        .with_details(json!({ "problems": problems }))
    }

    /// The installation was not granted any of the method's scope sets.
    pub fn missing_scopes(method: &MethodDef, needed: &ScopeSets, hint: &str) -> Self {
        let alternatives: Vec<String> = needed.iter().map(|set| set.join(" + ")).collect();
        Self::new(
            403,
            "missing_scopes",
            format!(
                "`{}` needs the scope{} {}, which this connection was not granted; add {} to Scopes or OptionalScopes (the connector setup or the installation) and have the customer reconnect.{hint}",
                method.id,
                if alternatives.len() == 1 { "" } else { "s of one of" },
                alternatives.join(" or "),
                if alternatives.len() == 1 { "it" } else { "one of them" },
            ),
        )
        .with_details(json!({ "required_scopes": needed }))
    }

    /// HubSpot's daily limit for the portal is used up; `reset_at` when HubSpot said.
    pub fn daily_limit(method: &MethodDef, reset_at: Option<i64>) -> Self {
        let when = reset_at.map_or_else(
            || "at midnight in the portal's time zone".to_string(),
            |at| format!("at {}", spokes_core::format_rfc3339(at)),
        );
        Self::new(
            429,
            "rate_limited",
            format!("`{}` was not sent: the portal's daily HubSpot API limit is used up; it resets {when}", method.id),
        )
        .with_details(json!({ "policy": "DAILY", "reset_at": reset_at.map(spokes_core::format_rfc3339) }))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "hubspot_unavailable", message)
    }

    /// A write whose fate is unknown: HubSpot may or may not have acted.
    pub fn outcome_unknown(method: &MethodDef, why: &str) -> Self {
        let mut error = Self::new(
            502,
            "outcome_unknown",
            format!(
                "`{}` was sent to HubSpot but {why}, so Spokes cannot tell whether HubSpot acted; check before trying again",
                method.id
            ),
        );
        error.may_have_acted = true;
        error
    }

    /// From HubSpot's error answer to `method`.
    pub fn from_hubspot(method: &MethodDef, status: u16, body: &[u8]) -> Self {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |name: &str| parsed.get(name).and_then(Value::as_str).map(str::to_owned);
        let category = text("category").unwrap_or_default();
        let hubspot_message =
            text("message").unwrap_or_else(|| format!("HubSpot answered HTTP {status}"));
        let mut error = match (status, category.as_str()) {
            (403, "MISSING_SCOPES") => {
                let context = &parsed["errors"][0]["context"];
                let listed = |name: &str| -> Vec<String> {
                    context[name]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let needed: ScopeSets =
                    [listed("requiredGranularScopes"), listed("requiredScopes")]
                        .into_iter()
                        .filter(|set| !set.is_empty())
                        .collect();
                Self::missing_scopes(method, &needed, " (HubSpot refused the call.)")
            }
            (403, _) if is_commerce(method) => Self::new(
                403,
                "sales_hub_seat_required",
                format!(
                    "HubSpot refused `{}`: Products and Line Items need the HubSpot user who connected the portal to have a paid Sales Hub seat. Give that user a seat, or have a user with one reconnect. ({hubspot_message})",
                    method.id
                ),
            ),
            (401, _) => Self::new(
                409,
                "needs_reauth",
                format!(
                    "HubSpot no longer accepts this connection's token ({hubspot_message}); the customer must reconnect"
                ),
            ),
            (404, _) => Self::new(
                404,
                "not_found",
                format!(
                    "HubSpot found nothing for `{}`: {hubspot_message}",
                    method.id
                ),
            ),
            // Timeline events cannot change and a re-sent event id answers 400: that is the
            // event already being there, so "create or update" becomes create-once.
            (400, _) if hubspot_message.contains("Event ID already in use") => Self::new(
                409,
                "conflict",
                format!("`{}`: the event exists already and HubSpot's events cannot change: {hubspot_message}", method.id),
            )
            .with_details(json!({ "existing_id": parsed["context"]["id"].get(0).cloned().unwrap_or(Value::Null) })),
            (409, _) => {
                let existing = existing_id(&hubspot_message);
                Self::new(
                    409,
                    "conflict",
                    format!(
                        "`{}` conflicts with an existing record: {hubspot_message}",
                        method.id
                    ),
                )
                .with_details(json!({ "existing_id": existing }))
            }
            (429, _) => Self::new(
                429,
                "rate_limited",
                format!("HubSpot's rate limit for this portal was reached: {hubspot_message}"),
            ),
            (400 | 422, _) => {
                let properties: Vec<Value> = parsed["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|e| json!({
                                "property": e["context"]["propertyName"].get(0).or(e.get("name")).cloned().unwrap_or(Value::Null),
                                "message": e["message"].clone(),
                            }))
                            .collect()
                    })
                    .unwrap_or_default();
                // Only a record write carries property values; other bodies (a property
                // definition, a list's filters) are refused as a whole.
                let what = match method.body {
                    Body::Properties { .. } | Body::Upsert { .. } => "the values of ",
                    _ => "",
                };
                Self::new(
                    422,
                    "validation_failed",
                    format!("HubSpot refused {what}`{}`: {hubspot_message}", method.id),
                )
                .with_details(json!({ "errors": properties }))
            }
            (s, _) if s >= 500 => Self::unavailable(format!(
                "HubSpot failed on `{}` (HTTP {s}): {hubspot_message}; try again shortly",
                method.id
            )),
            (s, _) => Self::new(
                502,
                "hubspot_error",
                format!(
                    "HubSpot answered `{}` with HTTP {s}: {hubspot_message}",
                    method.id
                ),
            ),
        };
        error.correlation_id = text("correlationId");
        error.may_have_acted = status >= 500;
        error
    }
}

fn is_commerce(method: &MethodDef) -> bool {
    matches!(method.category.as_str(), "Products" | "Line Items")
}

/// HubSpot's conflict messages end in "Existing ID: 123".
fn existing_id(message: &str) -> Option<String> {
    let (_, rest) = message.rsplit_once("Existing ID:")?;
    let id: String = rest
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_existing_id_of_a_conflict() {
        assert_eq!(
            existing_id("Contact already exists. Existing ID: 1234501").as_deref(),
            Some("1234501")
        );
        assert_eq!(existing_id("Conflict"), None);
    }
}
