//! The job that takes one HubSpot webhook event from the inbox (`/api/partnerwebhook/hubspot`)
//! to whoever listens for it: the active cycles of the portal's connected installations whose
//! trigger takes the event's type, each as one transaction keyed by the event's id (a
//! redelivered event, or this job run again, queues nothing twice). An event nobody listens
//! for is done once that is known.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use spokes_core::{Clock, Job};
use spokes_cycles::Trigger;
use spokes_store::Store;

use crate::cycles::{new_transaction, template_of};
use crate::jobs::{JobError, JobHandler, Progress};

/// The kind of the jobs the inbox queues for HubSpot's events.
pub const HUBSPOT_EVENT_JOB: &str = "hubspot.webhook_event";

pub struct HubSpotEventRouter {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl HubSpotEventRouter {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl JobHandler for HubSpotEventRouter {
    fn kind(&self) -> &'static str {
        HUBSPOT_EVENT_JOB
    }

    async fn run(&self, job: &Job) -> Result<Progress, JobError> {
        // The inbox checked the shape before queueing; a payload that still does not parse
        // cannot get better by waiting.
        let event: Value = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::permanent(format!("the event is not JSON: {e}")))?;
        let portal_id = event["portalId"]
            .as_i64()
            .ok_or_else(|| JobError::permanent("the event has no numeric portalId"))?;
        let event_type = event["subscriptionType"].as_str().unwrap_or("unknown");
        let event_id = match &event["eventId"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(JobError::permanent("the event has no eventId")),
        };
        // The store answers the connected ones only.
        let installations = self.store.installations_for_portal(portal_id).await?;
        let now = self.clock.now_ms();
        let mut transactions = Vec::new();
        for installation in &installations {
            let cycles = self
                .store
                .active_cycles_of_installation(&installation.id)
                .await?;
            for cycle in cycles {
                let Ok(template) = template_of(&cycle) else {
                    continue;
                };
                let listens = matches!(&template.trigger,
                    Trigger::HubspotWebhook { events, .. } if events.iter().any(|e| e == event_type));
                if listens {
                    let key = Some(format!("hubspot:{event_id}"));
                    transactions.push(new_transaction(&cycle, &template, &event, key, now));
                }
            }
        }
        let queued = self
            .store
            .queue_transactions(&transactions, None, &[])
            .await?
            .len();
        let outcome = match (installations.len(), transactions.len()) {
            (0, _) => "no_installation",
            (_, 0) => "no_listener",
            _ => "queued",
        };
        tracing::debug!(
            portal.id = portal_id,
            event_type,
            queued,
            outcome,
            "HubSpot webhook event routed"
        );
        metrics::counter!("spokes_webhook_events_routed_total", "outcome" => outcome).increment(1);
        Ok(Progress::Done)
    }
}
