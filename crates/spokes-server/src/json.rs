//! A JSON body extractor whose rejections use the API's error shape and say what was wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

/// Like [`ApiJson`], but an empty body means `T::default()` (for optional bodies).
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v == "0")
            || (req
                .headers()
                .get(axum::http::header::CONTENT_TYPE)
                .is_none()
                && req
                    .headers()
                    .get(axum::http::header::TRANSFER_ENCODING)
                    .is_none()
                && req
                    .headers()
                    .get(axum::http::header::CONTENT_LENGTH)
                    .is_none());
        if empty {
            return Ok(Self(T::default()));
        }
        ApiJson::from_request(req, state)
            .await
            .map(|ApiJson(v)| Self(v))
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {detail}"),
        ),
        JsonRejection::JsonDataError(_) => ApiError::bad_request(
            "invalid_request",
            format!("the body does not have the expected fields: {detail}"),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is too large; API bodies are limited to 64 KiB",
        ),
        _ => ApiError::bad_request(
            "invalid_request",
            format!("could not read the body: {detail}"),
        ),
    }
}
