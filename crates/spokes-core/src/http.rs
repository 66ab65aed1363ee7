//! The one way Spokes builds an outbound HTTP client (HubSpot calls, event delivery).

use std::sync::Once;
use std::time::Duration;

/// A client that follows no redirects (a token endpoint that redirects is not followed), with a
/// timeout and our user agent. TLS uses rustls with the ring provider.
pub fn build_client(timeout: Duration) -> reqwest::Client {
    client_builder(timeout)
        .build()
        // Only fails when the TLS backend cannot initialise: a startup invariant.
        .expect("the HTTP client could not be built")
}

/// The settings of [`build_client`], for a client that needs more (e.g. its own resolver).
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider was installed first, which is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("spokes/", env!("CARGO_PKG_VERSION")))
}
