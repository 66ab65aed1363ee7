//! The decisions and the work that is not one request: completing a consent (the seed's
//! account-selection rules), keeping tokens fresh (single-flight refresh), sweeping expired
//! one-time values, delivering events to the partner's `events_url`, running the durable job
//! queue's jobs (`jobs::Worker`), routing HubSpot's webhook events from the inbox, and the
//! utility connectors that cycle steps call (`utility::Utilities`).

pub mod consent;
pub mod cycles;
pub mod events;
mod idempotency;
pub mod jobs;
pub mod methods;
pub mod retry;
pub mod sweep;
pub mod tokens;
pub mod utility;
pub mod webhook_events;

pub use consent::{Consent, ConsentOutcome, ConsentPolicy};
pub use cycles::CycleEngine;
pub use events::{EventDeliverer, EventKind, Events, EventsConfig};
pub use jobs::{JobError, JobHandler, Progress, RetryBackoff, Worker, WorkerConfig, WorkerTick};
pub use methods::Methods;
pub use sweep::{Sweeper, TransactionRetention};
pub use tokens::{TokenError, TokenManager};
pub use utility::{
    UTILITY_CONNECTOR, Utilities, UtilityCatalogue, UtilityConfig, UtilityError, UtilityMethod,
    UtilityParam, UtilityScope, step_catalogue,
};
pub use webhook_events::{HUBSPOT_EVENT_JOB, HubSpotEventRouter};
