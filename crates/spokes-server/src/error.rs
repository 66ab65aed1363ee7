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
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
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
        let body = json!({"error": {"code": self.code, "message": self.message}});
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
