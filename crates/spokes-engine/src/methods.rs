//! The one execution path of a catalogue method, shared by the partner API and (later) the
//! agents' tools and the cycles: the scope gate, a fresh token, the generic client.

use std::sync::Arc;

use spokes_core::{Clock, ExposeSecret, Installation, InstallationStatus};
use spokes_hubspot::catalogue::MethodDef;
use spokes_hubspot::client::{Caller, ProxyAnswer};
use spokes_hubspot::limiter::RateLimiter;
use spokes_hubspot::{ApiClient, HubSpotConfig, MethodError, MethodInput, MethodOutput, scopes};
use spokes_store::Store;

use crate::tokens::{TokenError, TokenManager};

pub struct Methods {
    tokens: Arc<TokenManager>,
    client: ApiClient,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Methods {
    pub fn new(
        tokens: Arc<TokenManager>,
        config: HubSpotConfig,
        limiter: Arc<dyn RateLimiter>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            client: ApiClient::new(config, limiter),
            store,
            clock,
        }
    }

    /// Runs `method` on the installation's portal; a write with an `idempotency_key` runs
    /// at most once per key.
    pub async fn call(
        &self,
        installation: &Installation,
        method: &MethodDef,
        input: &MethodInput,
        idempotency_key: Option<&str>,
    ) -> Result<MethodOutput, MethodError> {
        match idempotency_key {
            Some(key) if method.writes => self.call_once(installation, method, input, key).await,
            _ => self.run(installation, method, input).await,
        }
    }

    /// The call itself: the scope gate, a fresh token, the generic client.
    pub(crate) async fn run(
        &self,
        installation: &Installation,
        method: &MethodDef,
        input: &MethodInput,
    ) -> Result<MethodOutput, MethodError> {
        if installation.status == InstallationStatus::Authenticated {
            let granted = installation
                .portal
                .as_ref()
                .map(|p| p.granted_scopes.as_slice())
                .unwrap_or_default();
            if !scopes::satisfies(granted, &method.scopes) {
                return Err(MethodError::missing_scopes(
                    method,
                    &method.scopes,
                    &seat_hint(method, granted),
                ));
            }
        }
        let token = self
            .tokens
            .access_token(installation)
            .await
            .map_err(token_error)?;
        let caller = Caller {
            access_token: token.expose_secret(),
            portal_id: installation.portal.as_ref().map_or(0, |p| p.portal_id),
            installation_id: &installation.id,
        };
        let started = std::time::Instant::now();
        let result = self.client.execute(method, input, caller).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => {
                tracing::info!(installation.id = %installation.id, method = %method.id, code = error.code, http.status = error.status, "method call failed");
                error.code
            }
        };
        metrics::counter!("spokes_hubspot_calls_total", "method" => method.id.clone(), "outcome" => outcome).increment(1);
        metrics::histogram!("spokes_hubspot_call_duration_seconds", "method" => method.id.clone())
            .record(started.elapsed().as_secs_f64());
        result
    }
}

impl Methods {
    /// Sends any HubSpot API request with the installation's token and the portal's budget.
    pub async fn proxy(
        &self,
        installation: &Installation,
        verb: reqwest::Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: bytes::Bytes,
    ) -> Result<ProxyAnswer, MethodError> {
        let token = self
            .tokens
            .access_token(installation)
            .await
            .map_err(token_error)?;
        let caller = Caller {
            access_token: token.expose_secret(),
            portal_id: installation.portal.as_ref().map_or(0, |p| p.portal_id),
            installation_id: &installation.id,
        };
        self.client
            .proxy(verb, path_and_query, content_type, body, caller)
            .await
    }
}

/// HubSpot's consent drops `e-commerce` for a user without a paid Sales Hub seat.
fn seat_hint(method: &MethodDef, granted: &[String]) -> String {
    let needs_commerce = method
        .scopes
        .iter()
        .any(|set| set.iter().any(|s| s == "e-commerce"));
    if needs_commerce && !granted.iter().any(|g| g == "e-commerce") {
        " HubSpot grants `e-commerce` only when the user who connects has a paid Sales Hub seat: if it was requested and is still missing, that user needs a seat.".into()
    } else {
        String::new()
    }
}

fn token_error(err: TokenError) -> MethodError {
    let message = err.to_string();
    match err {
        TokenError::NotConnected => MethodError::new(409, "not_connected", message),
        TokenError::NeedsReauth(_) => MethodError::new(409, "needs_reauth", message),
        TokenError::SetupMissing => MethodError::new(409, "setup_missing", message),
        TokenError::Unavailable(_) => MethodError::unavailable(message),
        TokenError::Store(store) => {
            tracing::error!(error = %store, "could not read the installation's tokens");
            MethodError::new(
                500,
                "internal",
                "something went wrong inside Spokes; the server log has the details",
            )
        }
    }
}
