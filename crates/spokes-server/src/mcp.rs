//! `/mcp`: the agents' MCP endpoint (Streamable HTTP, served by `rmcp`). Every request is
//! authenticated here with a partner API key and given its installation, named by the
//! `Spokes-Installation` header on `/mcp` or by the path
//! `/mcp/accounts/{account}/installations/{installation}`; `?tools=all` lists one tool per
//! catalogue method instead of the compact set. A missing or revoked key answers HTTP 401; an
//! installation the key cannot use answers every MCP request with an MCP error saying why.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use spokes_core::token::sha256_hex;
use spokes_mcp::{Access, AccessResult, Refusal, SpokesMcp, ToolSet};

use crate::AppState;
use crate::auth::{bearer_key, load_key_and_installation};

pub const INSTALLATION_HEADER: &str = "spokes-installation";

pub fn routes(state: &AppState) -> Router<AppState> {
    let agents = state.agents.clone();
    // Stateless: each request stands alone (no session to keep or to share between
    // processes), and is checked on its own, so a revoked key stops at once.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(allowed_hosts(&state.config.public_url));
    let service = StreamableHttpService::new(
        move || Ok(SpokesMcp::for_http(agents.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service.clone())
        .route_service(
            "/mcp/accounts/{account}/installations/{installation}",
            service,
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
}

/// The public URL's host and the loopback names: `rmcp` refuses other `Host` headers (DNS
/// rebinding).
fn allowed_hosts(public_url: &str) -> Vec<String> {
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Some(host) = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
    {
        hosts.push(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        );
    }
    hosts
}

async fn authorize(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let key = match bearer_key(request.headers()) {
        Ok(key) => sha256_hex(key.as_bytes()),
        Err(error) => return unauthorized(error),
    };
    let named = Named::of(&request);
    let access = match resolve(&state, &key, named).await {
        Ok(access) => access,
        Err(response) => return *response,
    };
    request.extensions_mut().insert::<AccessResult>(access);
    next.run(request).await
}

/// What the request names: the account (by path), the installation, the tool set.
struct Named {
    account: Option<String>,
    installation_id: Option<String>,
    tools: Option<String>,
}

impl Named {
    fn of(request: &Request) -> Self {
        let path = request.uri().path();
        let (account, installation_id) = match path
            .strip_prefix("/mcp/accounts/")
            .and_then(|rest| rest.split_once("/installations/"))
        {
            Some((account, id)) => (Some(account.to_string()), Some(id.to_string())),
            None => (
                None,
                request
                    .headers()
                    .get(INSTALLATION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            ),
        };
        Self {
            account,
            installation_id,
            tools: query_value(request.uri().query(), "tools"),
        }
    }
}

/// The request's installation and rights; an `Err` is an HTTP answer (no valid key).
async fn resolve(
    state: &AppState,
    key_hash: &str,
    named: Named,
) -> Result<AccessResult, Box<Response>> {
    let Named {
        account,
        installation_id,
        tools,
    } = named;
    let (key, installation) = load_key_and_installation(
        state,
        key_hash,
        installation_id.as_deref().unwrap_or_default(),
    )
    .await
    .map_err(|error| Box::new(unauthorized(error)))?;
    let tools = match tools {
        None => ToolSet::Compact,
        Some(text) => match ToolSet::parse(&text) {
            Some(tools) => tools,
            None => {
                return Ok(Err(refusal(
                    "invalid_parameters",
                    format!("`tools={text}` is not a tool set; use `tools=all` or `tools=compact`"),
                )));
            }
        },
    };
    let Some(installation_id) = installation_id else {
        return Ok(Err(refusal(
            "invalid_parameters",
            "name the installation: the `Spokes-Installation` header, or the path /mcp/accounts/{account}/installations/{installation}"
                .to_string(),
        )));
    };
    let visible = |account_id: &str| {
        key.account_id
            .as_deref()
            .is_none_or(|own| own == account_id)
            && account.as_deref().is_none_or(|wanted| wanted == account_id)
    };
    let Some((installation, tokens)) = installation.filter(|(i, _)| visible(&i.account_id)) else {
        // Another account's installation looks absent, as in the partner API.
        return Ok(Err(refusal(
            "not_found",
            format!(
                "installation `{installation_id}` does not exist{}; GET /v1/accounts/{{account}}/connectors lists them",
                account
                    .map(|a| format!(" in account `{a}`"))
                    .unwrap_or_default()
            ),
        )));
    };
    Ok(Ok(Access {
        key_id: Some(key.id.clone()),
        read_only: key
            .read_only_reason()
            .or_else(|| installation.read_only_reason()),
        confirm_writes: key.confirm_writes,
        tools,
        installation,
        tokens,
    }))
}

fn refusal(code: &'static str, message: String) -> Refusal {
    Refusal { code, message }
}

/// The error as an HTTP answer; a 401 also names the scheme (`WWW-Authenticate`).
fn unauthorized(error: crate::error::ApiError) -> Response {
    let mut response = error.into_response();
    if response.status() == axum::http::StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"spokes\""),
        );
    }
    response
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
