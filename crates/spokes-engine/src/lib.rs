//! The decisions and the work that is not one request: completing a consent (the seed's
//! account-selection rules), keeping tokens fresh (single-flight refresh), sweeping expired
//! one-time values, and delivering events to the partner's `events_url`.

pub mod consent;
pub mod events;
mod idempotency;
pub mod methods;
pub mod retry;
pub mod sweep;
pub mod tokens;

pub use consent::{Consent, ConsentOutcome, ConsentPolicy};
pub use events::{EventDeliverer, EventKind, Events, EventsConfig};
pub use methods::Methods;
pub use sweep::Sweeper;
pub use tokens::{TokenError, TokenManager};
