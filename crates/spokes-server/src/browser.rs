//! The routes a customer's browser follows: `/connect/{token}` (the auth link: a GET shows what
//! the connection asks for, the page's button POSTs and goes on to HubSpot's consent page) and
//! `/connector/callback` (back from HubSpot; the seed guide's path).

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use spokes_core::token::{pkce_s256, random_token, sha256_hex};
use spokes_core::{AuthLink, ConnectorSetup, Installation, OAuthState, OneTimeProblem, Secret};
use spokes_engine::consent::ConsentAnswer;
use spokes_hubspot::connector::{CALLBACK_PATH, CONNECTOR_ID};
use spokes_hubspot::oauth::AuthorizeParams;
use spokes_store::StoreError;

use crate::pages::{self, ConnectPage, Outcome};
use crate::{AppState, views};

/// A consent must come back within this long.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// Auth link tokens are 43 characters; anything much longer is not one and is not looked up.
const MAX_TOKEN_LEN: usize = 128;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connect/{token}", get(show_link).post(use_link))
        .route(CALLBACK_PATH, get(callback))
}

fn internal_error_page() -> Response {
    pages::problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Spokes could not continue because of an internal error. Please try again in a moment.",
    )
}

fn or_internal_error(result: Result<Response, StoreError>, what: &str) -> Response {
    result.unwrap_or_else(|err| {
        tracing::error!(error = %err, "{what}");
        internal_error_page()
    })
}

/// Peeks at (`consume == false`) or uses up the link behind `token`.
async fn find_link(
    state: &AppState,
    token: &str,
    consume: bool,
) -> Result<Result<AuthLink, OneTimeProblem>, StoreError> {
    if token.len() > MAX_TOKEN_LEN {
        return Ok(Err(OneTimeProblem::Unknown));
    }
    let (hash, now) = (sha256_hex(token.as_bytes()), state.clock.now_ms());
    if consume {
        state.store.consume_auth_link(&hash, now).await
    } else {
        state.store.find_auth_link(&hash, now).await
    }
}

/// The installation and the app setup a link needs, or the page saying one was removed.
async fn link_target(
    state: &AppState,
    link: &AuthLink,
) -> Result<Result<(Installation, ConnectorSetup), Response>, StoreError> {
    let installation = state.store.get_installation(&link.installation_id).await?;
    let setup = state.store.get_connector_setup(CONNECTOR_ID).await?;
    Ok(match (installation, setup) {
        (Some(installation), Some(setup)) => Ok((installation, setup)),
        _ => Err(pages::problem(
            StatusCode::CONFLICT,
            "This connection cannot be started",
            "The connection or the HubSpot app setup was removed. Ask for a new link.",
        )),
    })
}

/// GET: safe to repeat (mail scanners and chat previews fetch links before people do), so it
/// only shows the page; the link stays unused until its button is pressed.
async fn show_link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    or_internal_error(
        link_page(&state, &token).await,
        "could not show an auth link",
    )
}

async fn link_page(state: &AppState, token: &str) -> Result<Response, StoreError> {
    let link = match find_link(state, token, false).await? {
        Ok(link) => link,
        Err(problem) => return Ok(link_problem_page(problem)),
    };
    let (installation, setup) = match link_target(state, &link).await? {
        Ok(target) => target,
        Err(page) => return Ok(page),
    };
    let account = state.store.get_account(&installation.account_id).await?;
    let account_name = account.map_or(installation.account_id.clone(), |a| a.name);
    let scopes = views::scopes_for(&installation, Some(&setup));
    Ok(pages::render(
        StatusCode::OK,
        &ConnectPage {
            account_name: &account_name,
            scopes: &scopes.scopes,
            optional_scopes: &scopes.optional_scopes,
            token,
        },
    ))
}

/// The form of the link page; the token comes in the body too, so a POST to a link is always
/// a deliberate submission of that page.
#[derive(Deserialize)]
struct UseLinkForm {
    #[serde(default)]
    token: String,
}

/// POST: uses the link up and sends the browser on to HubSpot's consent page.
async fn use_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: Result<Form<UseLinkForm>, FormRejection>,
) -> Response {
    let matches = form.is_ok_and(|Form(form)| form.token == token);
    if !matches {
        return pages::problem(
            StatusCode::BAD_REQUEST,
            "This connection was not started",
            "Open the connection link again and use its Continue to HubSpot button.",
        );
    }
    or_internal_error(begin(&state, &token).await, "could not start a consent")
}

async fn begin(state: &AppState, token: &str) -> Result<Response, StoreError> {
    let link = match find_link(state, token, true).await? {
        Ok(link) => link,
        Err(problem) => return Ok(link_problem_page(problem)),
    };
    let (installation, setup) = match link_target(state, &link).await? {
        Ok(target) => target,
        Err(page) => return Ok(page),
    };
    let now = state.clock.now_ms();
    let scopes = views::scopes_for(&installation, Some(&setup));
    let oauth_state = random_token(32);
    let verifier = random_token(48);
    state
        .store
        .create_oauth_state(&OAuthState {
            state_hash: sha256_hex(oauth_state.as_bytes()),
            installation_id: installation.id.clone(),
            code_verifier: Secret::from(verifier.clone()),
            return_url: link.return_url,
            created_at: now,
            expires_at: now + STATE_TTL_MS,
        })
        .await?;
    let url = state.oauth().authorize_url(&AuthorizeParams {
        client_id: &setup.client_id,
        redirect_uri: &state.config.callback_url(),
        scopes: &scopes.scopes,
        optional_scopes: &scopes.optional_scopes,
        state: &oauth_state,
        code_challenge: &pkce_s256(&verifier),
    });
    tracing::info!(installation.id = %installation.id, account.id = %installation.account_id, "consent started");
    // 303: the browser follows a POST's answer with a GET.
    Ok(redirect(StatusCode::SEE_OTHER, &url))
}

fn link_problem_page(problem: OneTimeProblem) -> Response {
    let (status, title, message) = match problem {
        OneTimeProblem::Unknown => (
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check that you copied the whole link, or ask for a new one.",
        ),
        OneTimeProblem::AlreadyUsed => (
            StatusCode::GONE,
            "This link was already used",
            "Each connection link works once. Ask for a new link to connect HubSpot again.",
        ),
        OneTimeProblem::Expired => (
            StatusCode::GONE,
            "This link has expired",
            "Connection links are valid for 5 minutes. Ask for a new link to connect HubSpot.",
        ),
    };
    pages::problem(status, title, message)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = status.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(_) => internal_error_page(),
    }
}

/// What HubSpot sends back. Unknown parameters are ignored.
#[derive(Deserialize, Default)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl CallbackParams {
    fn is_reasonable(&self) -> bool {
        let within = |v: &Option<String>, max: usize| v.as_ref().is_none_or(|s| s.len() <= max);
        within(&self.code, 2048)
            && within(&self.state, 256)
            && within(&self.error, 256)
            && within(&self.error_description, 2048)
    }
}

async fn callback(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params: CallbackParams = match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
        Ok(params) => params,
        Err(_) => return bad_callback("The answer from HubSpot could not be read."),
    };
    if !params.is_reasonable() {
        return bad_callback("The answer from HubSpot has values that are far too long.");
    }
    let Some(raw_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return bad_callback(
            "The answer from HubSpot has no `state`, so Spokes cannot tell which connection it belongs to.",
        );
    };
    // Only the hash of the state is stored and compared, so timing reveals nothing about it.
    let consumed = match state
        .store
        .consume_oauth_state(&sha256_hex(raw_state.as_bytes()), state.clock.now_ms())
        .await
    {
        Ok(consumed) => consumed,
        Err(err) => {
            tracing::error!(error = %err, "could not read the consent state");
            return internal_error_page();
        }
    };
    let oauth_state = match consumed {
        Ok(s) => s,
        Err(OneTimeProblem::Unknown) => {
            return bad_callback(
                "This sign-in was not started by Spokes, or its address was changed. Start again from your application.",
            );
        }
        Err(OneTimeProblem::AlreadyUsed) => {
            return bad_callback(
                "This sign-in was already completed. Start again from your application to connect HubSpot again.",
            );
        }
        Err(OneTimeProblem::Expired) => {
            return bad_callback(
                "This sign-in took longer than 10 minutes and has expired. Start again from your application.",
            );
        }
    };
    // The engine decides; this route only renders what it decided.
    let answer = ConsentAnswer {
        code: params.code.as_deref(),
        error: params.error.as_deref(),
        error_description: params.error_description.as_deref(),
    };
    let decided = state.consent.complete_consent(&oauth_state, answer).await;
    let outcome = Outcome {
        installation_id: &oauth_state.installation_id,
        error: decided.failure().map(|f| (f.code, f.description.as_str())),
    };
    match &oauth_state.return_url {
        Some(return_url) => match url::Url::parse(return_url) {
            Ok(mut url) => {
                url.query_pairs_mut().extend_pairs(outcome.query_pairs());
                redirect(StatusCode::FOUND, url.as_str())
            }
            Err(_) => internal_error_page(),
        },
        None => pages::finish(
            &outcome,
            &state.config.failure_page_template,
            &state.config.allowed_return_origins,
        ),
    }
}

fn bad_callback(message: &str) -> Response {
    pages::problem(
        StatusCode::BAD_REQUEST,
        "HubSpot was not connected",
        message,
    )
}
