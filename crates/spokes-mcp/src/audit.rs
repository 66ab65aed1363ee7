//! Every tool call is recorded: key, installation, tool, outcome, HubSpot's correlation id,
//! and the arguments with anything that looks like a secret removed. A failure to record is
//! logged and does not fail the call (the call has happened by then).
//!
//! The records are written by one background task, in batches: an answer does not wait for
//! its record (a write per call cost SQLite more than the rest of a tool call), and under load
//! many calls share one transaction. The queue is bounded: when it is full, calls wait for
//! room rather than lose records.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use spokes_core::McpCall;
use spokes_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::tools::Outcome;
use crate::{Access, Agents};

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
        arguments: spokes_core::redact_secrets(&Value::Object(arguments.clone())).to_string(),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        created_at: agents.clock.now_ms(),
    };
    tracing::info!(installation.id = %call.installation_id, tool, outcome = %call.outcome, "MCP tool call");
    metrics_record(tool, &call.outcome, started);
    agents.audit.send(Entry::Call(Box::new(call))).await;
}

/// Records waiting to be written, at most.
const QUEUE: usize = 4096;
/// Records written in one transaction, at most.
const BATCH: usize = 256;

enum Entry {
    Call(Box<McpCall>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// The background writer of the audit.
pub(crate) struct AuditLog {
    sender: mpsc::Sender<Entry>,
}

impl AuditLog {
    /// Starts the writer on the current tokio runtime.
    pub(crate) fn start(store: Arc<dyn Store>) -> Self {
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            let (mut batch, mut flushed) = (Vec::new(), Vec::new());
            while let Some(first) = receiver.recv().await {
                let mut next = Some(first);
                while let Some(entry) = next.take() {
                    match entry {
                        Entry::Call(call) => batch.push(*call),
                        Entry::Flush(done) => flushed.push(done),
                    }
                    if batch.len() < BATCH {
                        next = receiver.try_recv().ok();
                    }
                }
                write(store.as_ref(), &batch).await;
                batch.clear();
                for done in flushed.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Self { sender }
    }

    async fn send(&self, entry: Entry) {
        if self.sender.send(entry).await.is_err() {
            tracing::error!("the MCP audit writer has stopped; a tool call was not recorded");
        }
    }

    /// Waits until every call recorded so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        self.send(Entry::Flush(done)).await;
        let _ = written.await;
    }
}

async fn write(store: &dyn Store, batch: &[McpCall]) {
    if batch.is_empty() || store.record_mcp_calls(batch).await.is_ok() {
        return;
    }
    // One record that cannot be written (its account deleted meanwhile) must not take the
    // others with it.
    for call in batch {
        if let Err(error) = store.record_mcp_call(call).await {
            tracing::error!(error = %error, tool = %call.tool, "could not record an MCP tool call");
        }
    }
}

fn metrics_record(tool: &str, outcome: &str, started: Instant) {
    metrics::counter!("spokes_mcp_tool_calls_total", "tool" => tool.to_string(), "outcome" => outcome.to_string()).increment(1);
    metrics::histogram!("spokes_mcp_tool_call_duration_seconds", "tool" => tool.to_string())
        .record(started.elapsed().as_secs_f64());
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
        let kept = spokes_core::redact_secrets(&arguments).to_string();
        for secret in ["k1", "r1", "Bearer x"] {
            assert!(!kept.contains(secret), "{secret} in {kept}");
        }
        assert!(kept.contains("a@b.c") && kept.contains("contacts"));
    }
}
