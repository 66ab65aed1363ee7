//! The partner API under `/v1`. Route names are a contract; keep them.

mod accounts;
mod connectors;
mod installations;
mod methods;

use axum::Router;
use axum::routing::{any, get, post, put};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", get(accounts::list).post(accounts::create))
        .route(
            "/v1/accounts/{account}",
            get(accounts::get)
                .patch(accounts::update)
                .delete(accounts::delete),
        )
        .route("/v1/connectors", get(connectors::list))
        .route("/v1/connectors/{connector}", get(connectors::get))
        .route("/v1/connectors/{connector}/methods", get(methods::list))
        .route(
            "/v1/connectors/{connector}/methods/{method}",
            get(methods::get),
        )
        .route(
            "/v1/connectors/{connector}/setup",
            put(connectors::put_setup),
        )
        .route(
            "/v1/accounts/{account}/connectors",
            get(installations::list).post(installations::create),
        )
        .route(
            "/v1/accounts/{account}/connectors/{installation}",
            get(installations::get).delete(installations::delete),
        )
        .route(
            "/v1/accounts/{account}/connectors/{installation}/auth-link",
            post(installations::auth_link),
        )
        .route(
            "/v1/accounts/{account}/connectors/{installation}/deauthenticate",
            post(installations::deauthenticate),
        )
        .route(
            "/v1/accounts/{account}/connectors/{installation}/methods/{method}",
            post(installations::call_method),
        )
        .route(
            "/v1/accounts/{account}/connectors/{installation}/proxy/{*path}",
            any(installations::proxy),
        )
}
