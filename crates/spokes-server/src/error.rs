//! The API's one error shape: `{"error": {"code", "message"}}` with a message that says what
//! to do. Internal causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use spokes_engine::TokenError;
use spokes_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Machine-readable particulars, sent as `error.details` when set.
    pub details: Option<serde_json::Value>,
    /// HubSpot's id of a failed call, sent as `error.correlation_id` when set.
    pub correlation_id: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            correlation_id: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong inside Spokes; the server log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(details) = self.details {
            error["details"] = details;
        }
        if let Some(id) = self.correlation_id {
            error["correlation_id"] = id.into();
        }
        let body = json!({ "error": error });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => Self::conflict("conflict", what),
            StoreError::NotFound(what) => Self::not_found(what),
            other => {
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        let message = err.to_string();
        match err {
            TokenError::NotConnected => Self::conflict("not_connected", message),
            TokenError::NeedsReauth(_) => Self::conflict("needs_reauth", message),
            TokenError::SetupMissing => Self::conflict("setup_missing", message),
            TokenError::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "hubspot_unavailable",
                message,
            ),
            TokenError::Store(store) => store.into(),
        }
    }
}

impl From<spokes_hubspot::MethodError> for ApiError {
    fn from(err: spokes_hubspot::MethodError) -> Self {
        let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_GATEWAY);
        Self {
            status,
            code: err.code,
            message: err.message,
            details: (!err.details.is_null()).then_some(err.details),
            correlation_id: err.correlation_id,
        }
    }
}
