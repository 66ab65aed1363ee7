//! Work that is not one request: keeping tokens fresh (single-flight refresh) and delivering
//! events to the partner's `events_url`.

pub mod events;
pub mod tokens;

pub use events::{EventDeliverer, EventKind, Events, EventsConfig};
pub use tokens::{TokenError, TokenManager};
