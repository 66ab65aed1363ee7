//! A string that must never reach a log, an error message or an API response.
//!
//! `secrecy`'s `SecretString`: its `Debug` prints a placeholder, it has no `Display` or
//! `Serialize`, and the memory is zeroed when it is dropped. Read it with
//! [`ExposeSecret::expose_secret`]; compare it with [`crate::token::constant_time_eq`].

pub use secrecy::{ExposeSecret, SecretString as Secret};
