//! What wraps every response: the `x-hubspot-correlation-id` header and the request log.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::errors::{ApiError, CorrelationId};
use crate::ids::random_uuid;
use crate::state::Sim;

/// Path prefixes whose next segment is a token, redacted in the request log.
const TOKEN_PATHS: [&str; 2] = ["/oauth/v1/access-tokens/", "/oauth/v1/refresh-tokens/"];

/// The path as logged: no query string (the URI's path has none) and no tokens.
fn loggable_path(path: &str) -> String {
    for prefix in TOKEN_PATHS {
        if path.starts_with(prefix) {
            return format!("{prefix}[redacted]");
        }
    }
    path.to_owned()
}

/// Adds `x-hubspot-correlation-id` (the error body's id when there is one) and logs
/// HubSpot-path requests.
pub async fn hubspot_headers(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let id = response
        .extensions()
        .get::<CorrelationId>()
        .map(|c| c.0.clone())
        .unwrap_or_else(random_uuid);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert("x-hubspot-correlation-id", value);
    }
    if !path.starts_with("/_sim") {
        // An injected connection reset never sends its status: logged as 0.
        let status = if response
            .extensions()
            .get::<crate::faults::InjectedReset>()
            .is_some()
        {
            0
        } else {
            response.status().as_u16()
        };
        sim.log_request(&method, loggable_path(&path), status);
    }
    response
}

/// Unknown route: 404 with the standard error body.
pub async fn not_found() -> ApiError {
    ApiError::not_found("Resource not found")
}

/// Known route, wrong method: 405 with the standard error body.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "VALIDATION_ERROR",
        "HTTP method not allowed for this resource",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_in_paths() {
        assert_eq!(
            loggable_path("/oauth/v1/refresh-tokens/na1-1234"),
            "/oauth/v1/refresh-tokens/[redacted]"
        );
        assert_eq!(loggable_path("/oauth/v1/token"), "/oauth/v1/token");
    }
}
