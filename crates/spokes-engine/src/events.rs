//! Installation events for the partner (`installation.authenticated`, `.failed`,
//! `.needs_reauth`): written to an outbox in the database, then POSTed to `events_url`, signed
//! with HMAC-SHA256 and retried with backoff, so none is lost when a process stops.

use spokes_core::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use spokes_core::token::new_id;
use spokes_core::{Clock, OutboxEvent, Secret, format_rfc3339};
use spokes_store::Store;
use tokio::sync::Notify;

pub const SIGNATURE_HEADER: &str = "Spokes-Signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Authenticated,
    Failed,
    NeedsReauth,
    /// A cycle's transaction failed (the error webhook).
    CycleError,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authenticated => "installation.authenticated",
            Self::Failed => "installation.failed",
            Self::NeedsReauth => "installation.needs_reauth",
            Self::CycleError => "cycle.error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EventsConfig {
    pub url: String,
    /// HMAC key the partner verifies the signature with.
    pub secret: Secret,
}

/// Queues events; cheap to clone. Does nothing when no `events_url` is configured.
#[derive(Clone)]
pub struct Events {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    enabled: bool,
    wake: Arc<Notify>,
}

impl Events {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Option<&EventsConfig>,
    ) -> Self {
        Self {
            store,
            clock,
            enabled: config.is_some(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The outbox record of an event, for a caller that stores it with other writes in one
    /// transaction (then [`Events::wake`]); `None` when no `events_url` is configured.
    pub fn event(&self, kind: EventKind, data: serde_json::Value) -> Option<OutboxEvent> {
        if !self.enabled {
            return None;
        }
        let now = self.clock.now_ms();
        let id = new_id("evt");
        let payload = json!({
            "id": id,
            "type": kind.as_str(),
            "created_at": format_rfc3339(now),
            "data": data,
        });
        Some(OutboxEvent {
            id,
            event_type: kind.as_str().to_string(),
            payload: payload.to_string(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        })
    }

    /// Tells the deliverer that an event was stored.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Records the event in the outbox; a failure to record is logged, never fatal to the caller.
    pub async fn publish(&self, kind: EventKind, data: serde_json::Value) {
        let Some(event) = self.event(kind, data) else {
            return;
        };
        match self.store.enqueue_event(&event).await {
            Ok(()) => self.wake(),
            Err(err) => {
                tracing::error!(event.type = kind.as_str(), error = %err, "could not queue an event for the partner")
            }
        }
    }
}

/// Delivers queued events in the background.
pub struct EventDeliverer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: EventsConfig,
    http: reqwest::Client,
    wake: Arc<Notify>,
}

impl EventDeliverer {
    /// `None` when events are not configured.
    pub fn new(events: &Events, config: Option<EventsConfig>) -> Option<Self> {
        let config = config?;
        Some(Self {
            store: events.store.clone(),
            clock: events.clock.clone(),
            config,
            http: spokes_core::http::build_client(Duration::from_secs(10)),
            wake: events.wake.clone(),
        })
    }

    /// Runs until the task is dropped: delivers what is due, then waits for a new event or a
    /// short poll interval (another process may have queued events too).
    pub async fn run(self) {
        loop {
            match self.deliver_due().await {
                Ok(0) | Err(_) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                }
                Ok(_) => {}
            }
        }
    }

    /// Delivers the events due now; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, spokes_store::StoreError> {
        let now = self.clock.now_ms();
        let claimed = self.store.claim_due_events(now, now + 60_000, 20).await?;
        for event in &claimed {
            self.deliver(event).await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(&self, event: &OutboxEvent) -> Result<(), spokes_store::StoreError> {
        let timestamp = self.clock.now_ms().to_string();
        let signature = sign(
            self.config.secret.expose_secret(),
            &timestamp,
            &event.payload,
        );
        let result = self
            .http
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
            .body(event.payload.clone())
            .send()
            .await;
        let failure = match result {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!(
                "the events URL answered HTTP {}",
                response.status().as_u16()
            )),
            Err(err) if err.is_timeout() => Some("the events URL did not answer in time".into()),
            Err(_) => Some("could not reach the events URL".into()),
        };
        match failure {
            None => {
                self.store
                    .mark_event_delivered(&event.id, self.clock.now_ms())
                    .await
            }
            Some(reason) => {
                let attempts = event.attempts + 1;
                let next = crate::retry::event_retry_wait(attempts)
                    .map(|wait| self.clock.now_ms() + wait.as_millis() as i64);
                tracing::warn!(event.id = %event.id, attempts, reason = %reason, "event delivery failed");
                self.store
                    .reschedule_event(&event.id, attempts, next, &reason)
                    .await
            }
        }
    }
}

/// hex(HMAC-SHA256(secret, "{timestamp}.{body}")).
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_python_hmac() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'k',b'1.{}',hashlib.sha256).hexdigest())"
        assert_eq!(
            sign("k", "1", "{}"),
            "3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
    }
}
