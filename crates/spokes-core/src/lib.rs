//! Domain types shared by every Spokes crate, and the small helpers all of them use (clock,
//! tokens, URL checks, the outbound HTTP client builder). No I/O is performed here.

pub mod clock;
pub mod cycles;
pub mod http;
pub mod model;
pub mod secret;
pub mod token;
pub mod urls;

pub use clock::{Clock, ManualClock, SystemClock, format_rfc3339};
pub use cycles::*;
pub use model::*;
pub use secret::{ExposeSecret, Secret, redact_secrets};
