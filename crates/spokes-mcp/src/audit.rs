//! Every tool call is recorded: key, installation, tool, outcome, HubSpot's correlation id,
//! and the arguments with anything that looks like a secret removed. A failure to record is
//! logged and does not fail the call (the call has happened by then).

use std::time::Instant;

use serde_json::{Map, Value};
use spokes_core::McpCall;

use crate::tools::Outcome;
use crate::{Access, Agents};

/// Argument names whose values are never stored (at any depth).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "apikey",
    "api_key",
    "authorization",
    "credential",
];

pub(crate) async fn record(
    agents: &Agents,
    access: &Access,
    tool: &str,
    arguments: &Map<String, Value>,
    outcome: &Outcome,
    started: Instant,
) {
    let call = McpCall {
        id: spokes_core::token::new_id("mcp"),
        account_id: access.installation.account_id.clone(),
        key_id: access.key_id.clone(),
        installation_id: access.installation.id.clone(),
        tool: tool.to_string(),
        outcome: outcome.label().to_string(),
        correlation_id: outcome.correlation_id().map(str::to_string),
        arguments: redact(&Value::Object(arguments.clone())).to_string(),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        created_at: agents.clock.now_ms(),
    };
    tracing::info!(installation.id = %call.installation_id, tool, outcome = %call.outcome, "MCP tool call");
    metrics_record(tool, &call.outcome, started);
    if let Err(error) = agents.store.record_mcp_call(&call).await {
        tracing::error!(error = %error, "could not record an MCP tool call");
    }
}

fn metrics_record(tool: &str, outcome: &str, started: Instant) {
    metrics::counter!("spokes_mcp_tool_calls_total", "tool" => tool.to_string(), "outcome" => outcome.to_string()).increment(1);
    metrics::histogram!("spokes_mcp_tool_call_duration_seconds", "tool" => tool.to_string())
        .record(started.elapsed().as_secs_f64());
}

/// `value` with the values of secret-looking keys replaced by `"[removed]"`.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let lower = k.to_lowercase();
                    let secret = SECRET_WORDS.iter().any(|w| lower.contains(w));
                    (
                        k.clone(),
                        if secret {
                            Value::from("[removed]")
                        } else {
                            redact(v)
                        },
                    )
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn secret_looking_arguments_are_removed_at_any_depth() {
        let arguments = json!({
            "object_type": "contacts",
            "fields": {"email": "a@b.c", "hs_api_key": "k1", "nested": [{"refresh_token": "r1"}]},
            "Authorization": "Bearer x",
        });
        let kept = super::redact(&arguments).to_string();
        for secret in ["k1", "r1", "Bearer x"] {
            assert!(!kept.contains(secret), "{secret} in {kept}");
        }
        assert!(kept.contains("a@b.c") && kept.contains("contacts"));
    }
}
