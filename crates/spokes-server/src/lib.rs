//! The Spokes HTTP server: the partner API (`/v1`), the browser routes of the consent
//! (`/connect/{token}`, `/connector/callback`), the console, `/healthz` (the process is up)
//! and `/readyz` (the database answers).

mod api;
mod auth;
mod browser;
mod console;
mod error;
mod inbound;
mod json;
mod mcp;
mod metrics;
pub mod openapi;
mod pages;
mod views;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use spokes_core::{Clock, Secret};
use spokes_engine::{
    Consent, ConsentPolicy, CycleEngine, EventDeliverer, Events, EventsConfig, HubSpotEventRouter,
    Methods, Sweeper, TokenManager, TransactionRetention, Utilities, UtilityConfig, Worker,
    WorkerConfig,
};
use spokes_hubspot::limiter::LocalLimiter;
use spokes_hubspot::{HubSpotConfig, OAuthClient};
use spokes_store::Store;
use tokio::net::TcpListener;

pub use auth::new_api_key;
pub use error::ApiError;

/// API bodies are small; anything larger is refused before it is read.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What the server needs to know; built by the CLI from the layered configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The URL customers' browsers and HubSpot reach Spokes at; the redirect URL is
    /// `{public_url}/connector/callback`.
    pub public_url: String,
    /// Origins a `return_url` may point to (no open redirects).
    pub allowed_return_origins: Vec<String>,
    /// The sandbox also allows any loopback origin.
    pub allow_loopback_return_urls: bool,
    /// Lets a person log in to the console with a password instead of an API key.
    pub admin_password: Option<Secret>,
    /// Refuse `DEVELOPER_TEST` and `SANDBOX` portals instead of accepting them with a warning.
    pub refuse_test_accounts: bool,
    /// Refuse a portal already connected in another account instead of warning.
    pub refuse_shared_portals: bool,
    pub refresh_margin: Duration,
    /// The page shown when a consent fails, with `{{error}}` and `{{error_description}}`.
    pub failure_page_template: String,
    pub events: Option<EventsConfig>,
    pub hubspot: HubSpotConfig,
    /// How often expired auth links, OAuth states and console sessions are deleted.
    pub sweep_interval: Duration,
    /// The job worker (cycles, webhook events): lease, batch, grace period, poll interval.
    pub worker: WorkerConfig,
    /// What cycles' utility steps may reach (the HTTP request's hosts).
    pub utility: UtilityConfig,
    /// How long cycles' finished transactions are kept.
    pub transaction_retention: TransactionRetention,
    /// Keys the console's CSRF tokens; derived from the master key by the caller.
    pub console_secret: Secret,
}

impl ServerConfig {
    /// A server for this machine (tests, benchmarks): loopback return URLs allowed, no
    /// password, no events, nothing refused, the default failure page and intervals.
    pub fn local(public_url: String, hubspot: HubSpotConfig, console_secret: Secret) -> Self {
        Self {
            public_url,
            allowed_return_origins: Vec::new(),
            allow_loopback_return_urls: true,
            admin_password: None,
            refuse_test_accounts: false,
            refuse_shared_portals: false,
            refresh_margin: Duration::from_secs(300),
            failure_page_template: DEFAULT_FAILURE_PAGE.to_string(),
            events: None,
            hubspot,
            sweep_interval: Duration::from_secs(600),
            worker: WorkerConfig::default(),
            utility: UtilityConfig::default(),
            transaction_retention: TransactionRetention::default(),
            console_secret,
        }
    }

    pub fn callback_url(&self) -> String {
        format!(
            "{}{}",
            self.public_url.trim_end_matches('/'),
            spokes_hubspot::connector::CALLBACK_PATH
        )
    }

    /// The Target URL to paste into the HubSpot app's Webhooks settings.
    pub fn webhook_url(&self) -> String {
        format!(
            "{}{}",
            self.public_url.trim_end_matches('/'),
            inbound::PARTNER_WEBHOOK_PATH
        )
    }
}

pub const DEFAULT_FAILURE_PAGE: &str = include_str!("../templates/failure.html");

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServerConfig>,
    pub tokens: Arc<TokenManager>,
    pub consent: Arc<Consent>,
    /// Runs catalogue methods (scope gate, fresh token, the generic client).
    pub methods: Arc<Methods>,
    /// The agents' MCP server, over the same methods.
    pub agents: Arc<spokes_mcp::Agents>,
    pub events: Events,
    /// Cycles: the polling trigger and the transactions' steps, run by the job worker.
    pub cycles: Arc<CycleEngine>,
    /// Wakes the job worker after a job due now was queued (activation, run, retry, events).
    pub worker_waker: Arc<tokio::sync::Notify>,
    /// Console login attempts per client address.
    pub(crate) login_limiter: Arc<console::LoginLimiter>,
}

impl AppState {
    pub fn new(config: ServerConfig, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let events = Events::new(store.clone(), clock.clone(), config.events.as_ref());
        let oauth = OAuthClient::new(config.hubspot.clone());
        let tokens = TokenManager::new(
            store.clone(),
            oauth.clone(),
            clock.clone(),
            events.clone(),
            config.refresh_margin,
        );
        let consent = Consent::new(
            store.clone(),
            oauth,
            clock.clone(),
            events.clone(),
            ConsentPolicy {
                callback_url: config.callback_url(),
                refuse_test_accounts: config.refuse_test_accounts,
                refuse_shared_portals: config.refuse_shared_portals,
            },
        );
        let tokens = Arc::new(tokens);
        // In-process budgets; a budget shared by several processes can replace it.
        let limiter = Arc::new(LocalLimiter::new(config.hubspot.limiter_config()));
        let methods = Arc::new(Methods::new(
            tokens.clone(),
            config.hubspot.clone(),
            limiter,
            store.clone(),
            clock.clone(),
        ));
        let agents = Arc::new(spokes_mcp::Agents::new(
            methods.clone(),
            store.clone(),
            clock.clone(),
        ));
        let utilities = Utilities::new(store.clone(), clock.clone(), config.utility.clone());
        let cycles = CycleEngine::new(
            store.clone(),
            methods.clone(),
            clock.clone(),
            events.clone(),
            utilities,
        );
        Self {
            store,
            clock,
            config: Arc::new(config),
            tokens,
            consent: Arc::new(consent),
            methods,
            agents,
            events,
            cycles,
            worker_waker: Arc::default(),
            login_limiter: Arc::default(),
        }
    }

    pub fn oauth(&self) -> &OAuthClient {
        self.tokens.oauth()
    }
}

pub fn router(state: AppState) -> Router {
    metrics::init();
    Router::new()
        .merge(api::routes())
        .merge(browser::routes())
        .merge(console::routes())
        .merge(mcp::routes(&state))
        .merge(inbound::routes())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics::render))
        .fallback(|| async { ApiError::not_found("no such route; the partner API is under /v1") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that HTTP method; see the route table in the README",
            )
        })
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state)
}

/// Ready when the database answers; 503 with the reason otherwise (load balancers stop sending
/// traffic, the process stays up).
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: the database does not answer");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                format!(
                    "the {} database does not answer: {err}",
                    state.store.backend()
                ),
            )
            .into_response()
        }
    }
}

/// Serves until `shutdown` completes; also runs the event deliverer when events are configured.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let deliverer = EventDeliverer::new(&state.events, state.config.events.clone())
        .map(|d| tokio::spawn(d.run()));
    let sweeper = tokio::spawn(
        Sweeper::new(
            state.store.clone(),
            state.clock.clone(),
            state.config.sweep_interval,
        )
        .with_transaction_retention(state.config.transaction_retention)
        .run(),
    );
    // The durable queue's jobs: HubSpot's webhook events, the cycles' polls and transactions.
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut handlers: Vec<Arc<dyn spokes_engine::JobHandler>> = vec![Arc::new(
        HubSpotEventRouter::new(state.store.clone(), state.clock.clone()),
    )];
    handlers.extend(state.cycles.handlers());
    let worker = tokio::spawn(
        Worker::new(
            state.store.clone(),
            state.clock.clone(),
            handlers,
            state.config.worker.clone(),
        )
        .with_waker(state.worker_waker.clone())
        .run(async {
            let _ = jobs_stopped.await;
        }),
    );
    let agents = state.agents.clone();
    // With the client's address, which the console's login limit is keyed on.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Without TCP_NODELAY a streamed answer's small chunks wait for the client's delayed ACK
    // (about 40 ms each on Linux).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
        }
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(task) = deliverer {
        task.abort();
    }
    sweeper.abort();
    // Running jobs get the worker's grace period, then go back to the queue.
    let _ = stop_jobs.send(());
    if let Err(error) = worker.await {
        tracing::error!(%error, "the job worker ended badly");
    }
    agents.flush_audit().await;
    result
}
