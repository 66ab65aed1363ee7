//! A HubSpot simulator: HubSpot's OAuth 2.0 flow, token endpoints, account-info API and
//! CRM objects and properties APIs, served over HTTP with HubSpot's paths, status codes
//! and bodies, plus a `/_sim` control API for tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = hubspot_sim::start(listener, hubspot_sim::SimConfig::default()).await?;
//! println!("{} {}", server.base_url, server.sandbox_app.client_id);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See the crate README for every endpoint and every choice made where HubSpot's
//! behaviour is not documented.

pub mod account;
pub mod admin;
pub mod auth;
pub mod calling;
pub mod campaigns;
pub mod catalogue;
pub mod cms;
pub mod contacts_v1;
pub mod crm;
pub mod errors;
pub mod faults;
pub mod forms;
pub mod ids;
pub mod limits;
pub mod lists;
pub mod middleware;
pub mod oauth;
pub mod pages;
pub mod portals;
pub mod state;
pub mod timeline;
pub mod webhooks;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::state::{
    ConfigPatch, Counters, NewApp, RequestLogEntry, SANDBOX_APP_ID, SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET, Sim, SimApp, SimConfig, SimError, TokenKind, TokenResponse,
};

/// The simulator's axum router and a handle to its state.
pub fn router(config: SimConfig) -> (Router, Sim) {
    let sim = Sim::new(config);
    let router = Router::new()
        .merge(oauth::routes())
        .merge(account::routes())
        .merge(crm::routes())
        .merge(forms::routes())
        .merge(lists::routes())
        .merge(contacts_v1::routes())
        .merge(calling::routes())
        .merge(cms::routes())
        .merge(campaigns::routes())
        .merge(timeline::routes())
        .merge(admin::routes())
        .merge(webhooks::routes())
        .merge(limits::routes())
        .merge(faults::routes())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        // Innermost first: the URI length limit (414 on every path, unknown ones
        // included), rate limits, then injected faults, then headers and the log.
        .layer(axum::middleware::from_fn(crm::http::uri_limit))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            faults::inject,
        ))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            middleware::hubspot_headers,
        ))
        .with_state(sim.clone());
    (router, sim)
}

/// A running simulator.
#[derive(Debug)]
pub struct SimServer {
    /// e.g. `http://127.0.0.1:8089` (a wildcard listen address is given as loopback).
    pub base_url: String,
    /// The built-in sandbox app (as it was at start).
    pub sandbox_app: SimApp,
    /// Handle to the state, for the same controls as `/_sim`.
    pub sim: Sim,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl SimServer {
    /// The address the simulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Stops the server task at once.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Serves the simulator on `listener` in a spawned task. The listener is already
/// bound, so the simulator accepts requests as soon as this returns. Dropping the
/// returned [`SimServer`] leaves the server running; call [`SimServer::shutdown`] or
/// [`SimServer::abort`] to stop it.
pub async fn start(listener: TcpListener, config: SimConfig) -> std::io::Result<SimServer> {
    let addr = listener.local_addr()?;
    let (router, sim) = router(config);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                // A dropped SimServer keeps serving: only an explicit shutdown stops it.
                if rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "hubspot-sim: server stopped");
        }
    });
    let shown = if addr.ip().is_unspecified() {
        let loopback = match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        SocketAddr::new(loopback, addr.port())
    } else {
        addr
    };
    Ok(SimServer {
        base_url: format!("http://{shown}"),
        sandbox_app: sim.sandbox_app(),
        sim,
        addr,
        shutdown: Some(tx),
        task,
    })
}
