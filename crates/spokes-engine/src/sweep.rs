//! Deletes used and expired auth links and OAuth states, expired console sessions, and MCP
//! call records and the webhook inbox's event ids past their retention, and expired
//! cross-update preventer marks, and cycles' finished transactions past their retention, so
//! those tables do not grow without bound.

use std::sync::Arc;
use std::time::Duration;

use spokes_core::{Clock, SweepCounts};
use spokes_store::{Store, StoreResult};

/// Used and expired one-time values are kept this long, so a late click on a link still hears
/// "already used" or "expired" instead of "not valid".
pub const KEEP_SPENT_MS: i64 = 24 * 60 * 60 * 1000;

/// The audit of AI agents' MCP tool calls is kept this long.
pub const KEEP_MCP_CALLS_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The ids of accepted webhook events are kept this long: longer than HubSpot retries a
/// delivery, so a redelivery is still known.
pub const KEEP_WEBHOOK_EVENTS_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How long cycles' finished transactions (with their step data) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionRetention {
    /// Succeeded and cancelled ones.
    pub finished: Duration,
    /// Failed and unknown ones, kept longer for a person to look at.
    pub errored: Duration,
}

impl Default for TransactionRetention {
    /// 31 days; errored ones 90.
    fn default() -> Self {
        let days = |d: u64| Duration::from_secs(d * 24 * 60 * 60);
        Self {
            finished: days(31),
            errored: days(90),
        }
    }
}

pub struct Sweeper {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    transactions: TransactionRetention,
}

impl Sweeper {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, interval: Duration) -> Self {
        Self {
            store,
            clock,
            interval,
            transactions: TransactionRetention::default(),
        }
    }

    pub fn with_transaction_retention(mut self, retention: TransactionRetention) -> Self {
        self.transactions = retention;
        self
    }

    pub async fn sweep_once(&self) -> StoreResult<SweepCounts> {
        let now = self.clock.now_ms();
        let counts = self.store.sweep_expired(now, KEEP_SPENT_MS).await?;
        let mcp_calls = self.store.sweep_mcp_calls(now - KEEP_MCP_CALLS_MS).await?;
        if mcp_calls > 0 {
            tracing::info!(mcp_calls, "swept MCP call records past their retention");
        }
        let webhook_events = self
            .store
            .sweep_webhook_events(now - KEEP_WEBHOOK_EVENTS_MS)
            .await?;
        if webhook_events > 0 {
            tracing::info!(
                webhook_events,
                "swept webhook event ids past their retention"
            );
        }
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let transactions = self
            .store
            .sweep_transactions(
                now.saturating_sub(ms(self.transactions.finished)),
                now.saturating_sub(ms(self.transactions.errored)),
            )
            .await?;
        if transactions > 0 {
            tracing::info!(
                transactions,
                "swept cycle transactions past their retention"
            );
        }
        let preventer_marks = self.store.sweep_preventer_marks(now).await?;
        if preventer_marks > 0 {
            tracing::info!(
                preventer_marks,
                "swept expired cross-update preventer marks"
            );
        }
        if counts.total() > 0 {
            tracing::info!(
                auth_links = counts.auth_links,
                oauth_states = counts.oauth_states,
                console_sessions = counts.console_sessions,
                "swept expired one-time values and sessions"
            );
        }
        Ok(counts)
    }

    /// Sweeps every `interval` until the task is dropped. Several processes may sweep the same
    /// database: the deletes are idempotent.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(err) = self.sweep_once().await {
                tracing::warn!(error = %err, "the sweep of expired values failed; trying again later");
            }
        }
    }
}
