//! Integration tests of the HubSpot simulator: each test starts a simulator on
//! 127.0.0.1:0 and talks HTTP to it.

mod admin;
mod api;
mod consent;
mod support;
mod tokens;
