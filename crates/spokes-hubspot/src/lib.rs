//! The HubSpot connector: where HubSpot is, how to talk OAuth to it, which scopes exist,
//! which methods Spokes offers, and the HTTP client that calls them.

pub mod catalogue;
pub mod client;
pub mod config;
pub mod connector;
pub mod http;
pub mod limiter;
pub mod oauth;
pub mod scopes;

pub use client::{ApiClient, MethodError, MethodInput, MethodOutput};
pub use config::{HubSpotConfig, OAuthApiVersion};
pub use oauth::{OAuthClient, OAuthError, TokenInfo, TokenResponse};
