//! HubSpot calls over the shared client builder, and the normalised error of an API call.

use serde::Serialize;
use serde_json::Value;

pub use spokes_core::http::build_client;

/// A failed HubSpot API call, normalised from HubSpot's error body.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("HubSpot answered {status}: {message}")]
pub struct ApiError {
    /// HTTP status from HubSpot; 0 when no response arrived.
    pub status: u16,
    /// HubSpot's `category` (e.g. `MISSING_SCOPES`, `EXPIRED_AUTHENTICATION`), when given.
    pub category: Option<String>,
    pub message: String,
    pub correlation_id: Option<String>,
}

impl ApiError {
    pub fn transport(err: &reqwest::Error) -> Self {
        let message = if err.is_timeout() {
            "HubSpot did not answer in time".to_string()
        } else if err.is_connect() {
            "could not connect to HubSpot".to_string()
        } else {
            "the request to HubSpot failed".to_string()
        };
        Self {
            status: 0,
            category: None,
            message,
            correlation_id: None,
        }
    }

    /// Worth trying again later: no answer, rate limited, or a server-side failure.
    pub fn is_transient(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }

    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Self {
            status,
            category: field("category").or_else(|| field("errorType")),
            message: field("message")
                .unwrap_or_else(|| format!("HubSpot answered HTTP {status} without an error body")),
            correlation_id: field("correlationId"),
        }
    }
}

/// `GET {api_url}{path}` with a bearer token; the JSON body or a normalised error.
pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
    access_token: &str,
) -> Result<Value, ApiError> {
    let response = client
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| ApiError::transport(&e))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| ApiError::transport(&e))?;
    if (200..300).contains(&status) {
        serde_json::from_slice(&body).map_err(|_| ApiError {
            status,
            category: None,
            message: "HubSpot answered with a body that is not JSON".into(),
            correlation_id: None,
        })
    } else {
        Err(ApiError::from_body(status, &body))
    }
}
