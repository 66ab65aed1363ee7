//! Domain types shared by every Spokes crate. No I/O lives here.

pub mod clock;
pub mod model;
pub mod secret;
pub mod token;

pub use clock::{Clock, ManualClock, SystemClock, format_rfc3339};
pub use model::*;
pub use secret::Secret;
