//! Account info: `GET /account-info/v3/details` (and `/account-info/2026-03/details`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::auth::{self, Scopes};
use crate::errors::ApiError;
use crate::state::Sim;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/account-info/v3/details", get(details))
        .route("/account-info/2026-03/details", get(details))
}

/// The portal of the calling token. Scope `oauth`.
async fn details(State(sim): State<Sim>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = auth::authenticate(&sim, &headers)?;
    caller.require(Scopes::AnyOf(&["oauth"]))?;
    let p = caller.portal;
    let body = json!({
        "portalId": p.id,
        "portalName": p.name,
        "accountType": p.account_type,
        "timeZone": p.time_zone,
        "companyCurrency": p.company_currency,
        "additionalCurrencies": p.additional_currencies,
        "utcOffset": p.utc_offset(),
        "utcOffsetMilliseconds": p.utc_offset_milliseconds,
        "uiDomain": p.ui_domain,
        "dataHostingLocation": p.data_hosting_location,
    });
    Ok((caller.rate_limit_headers(), Json(body)).into_response())
}
