//! The HubSpot connector: where HubSpot is, how to talk OAuth to it, which scopes exist,
//! which methods Spokes offers, the HTTP client that calls them, and the check that a webhook
//! request really comes from HubSpot.

pub mod catalogue;
pub mod client;
pub mod config;
pub mod connector;
pub mod http;
pub mod limiter;
pub mod oauth;
pub mod scopes;
pub mod webhooks;

pub use client::{ApiClient, MethodError, MethodInput, MethodOutput};
pub use config::{HubSpotConfig, OAuthApiVersion};
pub use oauth::{OAuthClient, OAuthError, TokenInfo, TokenResponse};
