//! The job that takes one HubSpot webhook event from the inbox (`/api/partnerwebhook/hubspot`)
//! to whoever listens for it: the installations connected to the event's portal, and (with
//! cycles) the cycles of those installations whose trigger is the event's type. An event
//! nobody listens for is done once that is known.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use spokes_core::Job;
use spokes_store::Store;

use crate::jobs::{JobError, JobHandler, Progress};

/// The kind of the jobs the inbox queues for HubSpot's events.
pub const HUBSPOT_EVENT_JOB: &str = "hubspot.webhook_event";

pub struct HubSpotEventRouter {
    store: Arc<dyn Store>,
}

impl HubSpotEventRouter {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
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
        let installations = self
            .store
            .installations_for_portal(portal_id)
            .await
            .map_err(|e| {
                JobError::transient(format!("could not read the portal's installations: {e}"))
            })?;
        // The store answers the connected ones only.
        let connected = installations.len();
        // No cycle can listen yet (issue 9 builds them): the event ends here, counted.
        let outcome = if connected == 0 {
            "no_installation"
        } else {
            "no_listener"
        };
        tracing::debug!(
            portal.id = portal_id,
            event_type,
            connected,
            outcome,
            "HubSpot webhook event routed"
        );
        metrics::counter!("spokes_webhook_events_routed_total", "outcome" => outcome).increment(1);
        Ok(Progress::Done)
    }
}
