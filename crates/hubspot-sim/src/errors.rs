//! HubSpot's error bodies.
//!
//! * [`ApiError`]: the standard API error body (`status: "error"`, `message`,
//!   `correlationId`, `category`, optional `errors`, `context`, `links`).
//! * [`OAuthError`]: the token endpoint's body, which carries the legacy fields
//!   (`status`, `message`) and the RFC 6749 fields (`error`, `error_description`).
//!
//! Both put their correlation id into the response extensions so that the
//! `x-hubspot-correlation-id` header repeats the id of the body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::ids::random_uuid;

/// The correlation id of a response, carried in its extensions.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

/// The URL HubSpot links from the 401 "credentials not found" message.
pub const OAUTH_OVERVIEW_URL: &str =
    "https://developers.hubspot.com/docs/methods/auth/oauth-overview";
/// The URL HubSpot links from MISSING_SCOPES errors.
pub const SCOPES_URL: &str = "https://developers.hubspot.com/scopes";

/// HubSpot's standard error body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: &'static str,
    pub message: String,
    pub correlation_id: String,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_category: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub context: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub links: Map<String, Value>,
}

/// An API error: HTTP status and HubSpot's standard body (boxed, so that
/// `Result<_, ApiError>` stays small).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub http_status: StatusCode,
    pub body: Box<ErrorBody>,
}

impl ApiError {
    pub fn new(http_status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        Self {
            http_status,
            body: Box::new(ErrorBody {
                status: "error",
                message: message.into(),
                correlation_id: random_uuid(),
                category: category.to_owned(),
                sub_category: None,
                errors: Vec::new(),
                context: Map::new(),
                links: Map::new(),
            }),
        }
    }

    /// 400 VALIDATION_ERROR.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 404 OBJECT_NOT_FOUND.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    /// 401 INVALID_AUTHENTICATION: no credentials at all.
    pub fn credentials_not_found() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            format!(
                "Authentication credentials not found. This API supports OAuth 2.0 authentication \
                 and you can find more details at {OAUTH_OVERVIEW_URL}"
            ),
        )
    }

    /// 401 INVALID_AUTHENTICATION: an unknown or revoked token.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "The OAuth token used to make this call is invalid or has been revoked.",
        )
    }

    /// 401 EXPIRED_AUTHENTICATION: a token that expired `elapsed_secs` ago.
    pub fn expired_token(elapsed_secs: i64) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            format!(
                "The OAuth token used to make this call expired {} ago.",
                describe_elapsed(elapsed_secs)
            ),
        )
    }

    /// 403 MISSING_SCOPES. `all_required` selects the "All of" wording (an AND set)
    /// instead of "One or more of" (alternatives).
    pub fn missing_scopes(required: &[&str], all_required: bool) -> Self {
        let mut err = Self::new(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            format!(
                "This app hasn't been granted all required scopes to make this call. \
                 Read more about required scopes here: {SCOPES_URL}."
            ),
        );
        let legacy: Vec<&str> = required
            .iter()
            .copied()
            .filter(|s| crate::catalogue::is_legacy(s))
            .collect();
        let granular: Vec<&str> = required
            .iter()
            .copied()
            .filter(|s| !crate::catalogue::is_legacy(s))
            .collect();
        let mut context = Map::new();
        if !legacy.is_empty() {
            context.insert("requiredScopes".into(), json!(legacy));
        }
        if !granular.is_empty() {
            context.insert("requiredGranularScopes".into(), json!(granular));
        }
        let message = if all_required {
            "All of the following scopes are required."
        } else {
            "One or more of the following scopes are required."
        };
        err.body.errors = vec![json!({ "message": message, "context": context })];
        err.body.links.insert("scopes".into(), json!(SCOPES_URL));
        err
    }
}

/// "5 second(s)", "3 minute(s)", "2 hour(s)": HubSpot's wording in EXPIRED_AUTHENTICATION.
pub fn describe_elapsed(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} second(s)")
    } else if secs < 3600 {
        format!("{} minute(s)", secs / 60)
    } else {
        format!("{} hour(s)", secs / 3600)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.http_status;
        let cid = self.body.correlation_id.clone();
        let mut response = (status, Json(self.body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "x-hubspot-auth-failure",
                HeaderValue::from_static("401 Unauthorized"),
            );
        }
        response.extensions_mut().insert(CorrelationId(cid));
        response
    }
}

/// An error of the OAuth token, introspect and revoke endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthError {
    #[serde(skip)]
    pub http_status: StatusCode,
    /// Legacy status such as `BAD_AUTH_CODE`.
    pub status: &'static str,
    pub message: String,
    /// RFC 6749 error code such as `invalid_grant`.
    pub error: &'static str,
    pub error_description: String,
    #[serde(rename = "correlationId")]
    pub correlation_id: String,
}

impl OAuthError {
    /// A 400 error; HubSpot answers every token error with 400.
    pub fn new(status: &'static str, error: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            http_status: StatusCode::BAD_REQUEST,
            status,
            error_description: message.clone(),
            message,
            error,
            correlation_id: random_uuid(),
        }
    }

    pub fn bad_grant_type() -> Self {
        Self::new(
            "BAD_GRANT_TYPE",
            "unsupported_grant_type",
            "missing or unsupported grant type",
        )
    }

    pub fn bad_client_id() -> Self {
        Self::new(
            "BAD_CLIENT_ID",
            "invalid_client",
            "missing or unknown client id",
        )
    }

    pub fn bad_client_secret() -> Self {
        Self::new(
            "BAD_CLIENT_SECRET",
            "invalid_client",
            "missing or invalid client secret",
        )
    }

    pub fn bad_auth_code() -> Self {
        Self::new(
            "BAD_AUTH_CODE",
            "invalid_grant",
            "missing or unknown auth code",
        )
    }

    pub fn expired_auth_code() -> Self {
        Self::new("EXPIRED_AUTH_CODE", "invalid_grant", "auth code is expired")
    }

    pub fn bad_refresh_token() -> Self {
        Self::new(
            "BAD_REFRESH_TOKEN",
            "invalid_grant",
            "refresh token is invalid, expired or revoked",
        )
    }

    pub fn missing_redirect_uri() -> Self {
        Self::new(
            "BAD_REDIRECT_URI",
            "invalid_request",
            "missing redirect_uri",
        )
    }

    pub fn redirect_uri_mismatch() -> Self {
        Self::new(
            "BAD_REDIRECT_URI",
            "invalid_grant",
            "redirect_uri does not match the redirect_uri used to obtain the auth code",
        )
    }

    pub fn bad_code_verifier() -> Self {
        Self::new(
            "BAD_CODE_VERIFIER",
            "invalid_grant",
            "missing or invalid code_verifier",
        )
    }

    pub fn bad_content_type() -> Self {
        Self::new(
            "BAD_REQUEST",
            "invalid_request",
            "the request body must be application/x-www-form-urlencoded",
        )
    }

    pub fn missing_token() -> Self {
        Self::new("BAD_REQUEST", "invalid_request", "missing token")
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let cid = self.correlation_id.clone();
        let mut response = (self.http_status, Json(self)).into_response();
        response.extensions_mut().insert(CorrelationId(cid));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_fields() {
        let v = serde_json::to_value(OAuthError::bad_auth_code()).unwrap_or_default();
        let mut keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "correlationId",
                "error",
                "error_description",
                "message",
                "status"
            ]
        );
    }

    #[test]
    fn elapsed_wording() {
        assert_eq!(describe_elapsed(0), "0 second(s)");
        assert_eq!(describe_elapsed(59), "59 second(s)");
        assert_eq!(describe_elapsed(60), "1 minute(s)");
        assert_eq!(describe_elapsed(3599), "59 minute(s)");
        assert_eq!(describe_elapsed(5 * 3600 + 10), "5 hour(s)");
    }

    #[test]
    fn missing_scopes_body_matches_hubspot() {
        let err = ApiError::missing_scopes(&["contacts"], false);
        let v = serde_json::to_value(&err.body).unwrap_or_default();
        assert_eq!(v["status"], "error");
        assert_eq!(v["category"], "MISSING_SCOPES");
        assert_eq!(
            v["message"],
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes."
        );
        assert_eq!(
            v["errors"][0]["message"],
            "One or more of the following scopes are required."
        );
        assert_eq!(
            v["errors"][0]["context"]["requiredScopes"],
            json!(["contacts"])
        );
        assert_eq!(v["links"]["scopes"], SCOPES_URL);
        assert!(v.get("context").is_none());
    }

    #[test]
    fn missing_granular_scopes_use_their_own_key() {
        let err = ApiError::missing_scopes(&["crm.objects.products.read", "e-commerce"], false);
        let v = serde_json::to_value(&err.body).unwrap_or_default();
        assert_eq!(
            v["errors"][0]["context"]["requiredGranularScopes"],
            json!(["crm.objects.products.read"])
        );
        assert_eq!(
            v["errors"][0]["context"]["requiredScopes"],
            json!(["e-commerce"])
        );
    }
}
