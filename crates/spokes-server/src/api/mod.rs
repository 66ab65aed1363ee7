//! The partner API under `/v1`. Route names are a contract; keep them.

pub(crate) mod accounts;
pub(crate) mod connectors;
pub(crate) mod cycles;
pub(crate) mod installations;
pub(crate) mod mcp_calls;
pub(crate) mod methods;
pub(crate) mod templates;

use axum::Router;
use axum::routing::{any, delete, get, patch, post, put};

use crate::AppState;

/// Declares each `/v1` route once: the router and [`ROUTES`] are built from the same lines, so
/// the OpenAPI test can check that the document describes every route the router serves.
macro_rules! v1_routes {
    ($($verb:ident $path:literal => $handler:path,)*) => {
        /// Every `/v1` route as `(verb, path)` in axum's path syntax; verb `any` takes them all.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($verb), $path),)*];

        pub fn routes() -> Router<AppState> {
            // Routes of one path merge into one method router.
            Router::new()$(.route($path, $verb($handler)))*
        }
    };
}

v1_routes! {
    get "/v1/openapi.json" => crate::openapi::document,
    get "/v1/accounts" => accounts::list,
    post "/v1/accounts" => accounts::create,
    get "/v1/accounts/{account}" => accounts::get,
    patch "/v1/accounts/{account}" => accounts::update,
    delete "/v1/accounts/{account}" => accounts::delete,
    get "/v1/connectors" => connectors::list,
    get "/v1/connectors/{connector}" => connectors::get,
    get "/v1/connectors/{connector}/methods" => methods::list,
    get "/v1/connectors/{connector}/methods/{method}" => methods::get,
    put "/v1/connectors/{connector}/setup" => connectors::put_setup,
    get "/v1/connectors/{connector}/custom-objects" => connectors::list_copies,
    put "/v1/connectors/{connector}/custom-objects/{schema}" => connectors::put_copy,
    delete "/v1/connectors/{connector}/custom-objects/{schema}" => connectors::delete_copy,
    get "/v1/accounts/{account}/connectors" => installations::list,
    post "/v1/accounts/{account}/connectors" => installations::create,
    get "/v1/accounts/{account}/connectors/{installation}" => installations::get,
    patch "/v1/accounts/{account}/connectors/{installation}" => installations::update,
    delete "/v1/accounts/{account}/connectors/{installation}" => installations::delete,
    post "/v1/accounts/{account}/connectors/{installation}/auth-link" => installations::auth_link,
    post "/v1/accounts/{account}/connectors/{installation}/deauthenticate" => installations::deauthenticate,
    post "/v1/accounts/{account}/connectors/{installation}/methods/{method}" => installations::call_method,
    any "/v1/accounts/{account}/connectors/{installation}/proxy/{*path}" => installations::proxy,
    get "/v1/accounts/{account}/mcp/calls" => mcp_calls::list,
    get "/v1/templates" => templates::list,
    post "/v1/templates" => templates::create,
    get "/v1/templates/{template}" => templates::get,
    put "/v1/templates/{template}" => templates::update,
    delete "/v1/templates/{template}" => templates::delete,
    get "/v1/templates/{template}/export" => templates::export,
    get "/v1/accounts/{account}/cycles" => cycles::list,
    post "/v1/accounts/{account}/cycles" => cycles::create,
    get "/v1/accounts/{account}/cycles/{cycle}" => cycles::get,
    patch "/v1/accounts/{account}/cycles/{cycle}" => cycles::update,
    delete "/v1/accounts/{account}/cycles/{cycle}" => cycles::delete,
    get "/v1/accounts/{account}/cycles/{cycle}/prerequisites" => cycles::prerequisites,
    put "/v1/accounts/{account}/cycles/{cycle}/activate" => cycles::activate,
    put "/v1/accounts/{account}/cycles/{cycle}/deactivate" => cycles::deactivate,
    post "/v1/accounts/{account}/cycles/{cycle}/run" => cycles::run,
    get "/v1/accounts/{account}/cycles/{cycle}/transactions" => cycles::transactions,
    get "/v1/accounts/{account}/cycles/{cycle}/transactions/{transaction}" => cycles::transaction,
    post "/v1/accounts/{account}/cycles/{cycle}/transactions/{transaction}/retry" => cycles::retry,
    get "/v1/accounts/{account}/cycles/{cycle}/incidents" => cycles::incidents,
}
