//! Fresh access tokens for installations.
//!
//! A token is refreshed when it is within `margin` of expiry. Refreshes are single-flight per
//! installation: inside a process through an async mutex, across processes sharing a database
//! through a lease row (taken with one conditional UPDATE, re-read after taking it, never held
//! as a lock or transaction across the HTTP call), sized from the HTTP timeout so it outlasts
//! the slowest refresh.
//!
//! Every write of the auth state names the `auth_version` it read: a refresh that finishes
//! after a disconnect or a reconnect finds the version moved on, discards its tokens and
//! revokes them at HubSpot instead of undoing the newer state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::Retryable;
use serde_json::json;
use spokes_core::token::new_id;
use spokes_core::{
    Clock, ExposeSecret, Installation, InstallationStatus, LastError, Secret, TokenSet,
};
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_hubspot::oauth::AppCredentials;
use spokes_hubspot::{OAuthClient, OAuthError};
use spokes_store::{AuthState, Store, StoreError};

use crate::events::{EventKind, Events};
use crate::retry;

/// Attempts of a disconnect to write over a changing auth state before it writes regardless.
const DISCONNECT_TRIES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the installation is not connected to HubSpot; create an auth link and have the customer connect"
    )]
    NotConnected,
    #[error(
        "the customer must reconnect HubSpot ({0}); create an auth link (POST …/connectors/{{installation}}/auth-link) and have them consent again"
    )]
    NeedsReauth(String),
    #[error("the HubSpot connector is not set up; PUT /v1/connectors/hubspot/setup first")]
    SetupMissing,
    #[error("HubSpot is unavailable right now ({0}); try again shortly")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct TokenManager {
    store: Arc<dyn Store>,
    oauth: OAuthClient,
    clock: Arc<dyn Clock>,
    events: Events,
    margin_ms: i64,
    lease: Duration,
    /// Identifies this process as the holder of refresh leases.
    owner: String,
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl TokenManager {
    pub fn new(
        store: Arc<dyn Store>,
        oauth: OAuthClient,
        clock: Arc<dyn Clock>,
        events: Events,
        margin: Duration,
    ) -> Self {
        let lease = retry::refresh_lease(oauth.config().request_timeout());
        Self {
            store,
            oauth,
            clock,
            events,
            margin_ms: margin.as_millis() as i64,
            lease,
            owner: new_id("proc"),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }

    fn is_fresh(&self, tokens: &TokenSet) -> bool {
        tokens.expires_at - self.margin_ms > self.clock.now_ms()
    }

    async fn fresh_stored(&self, id: &str) -> Result<Option<Secret>, TokenError> {
        Ok(self
            .store
            .get_tokens(id)
            .await?
            .filter(|t| self.is_fresh(t))
            .map(|t| t.access_token))
    }

    /// A valid access token for the installation, refreshing it first when near expiry.
    pub async fn access_token(&self, installation: &Installation) -> Result<Secret, TokenError> {
        self.access_token_with(installation, None).await
    }

    /// Like [`TokenManager::access_token`], given the tokens that were read in the same row
    /// as `installation` (`Store::load_call`): when they are fresh, no read is needed.
    pub async fn access_token_with(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
    ) -> Result<Secret, TokenError> {
        check_status(installation)?;
        if let Some(tokens) = stored.filter(|t| self.is_fresh(t)) {
            return Ok(tokens.access_token.clone());
        }
        let id = installation.id.as_str();
        // Tokens just read and stale need no second read here: the one under the lock below
        // sees a refresh made meanwhile.
        if stored.is_none()
            && let Some(token) = self.fresh_stored(id).await?
        {
            return Ok(token);
        }
        let local = self.local_lock(id);
        let _one_at_a_time = local.lock().await;
        let started = tokio::time::Instant::now();
        loop {
            // Whoever held the lock before us may have refreshed already.
            if let Some(token) = self.fresh_stored(id).await? {
                return Ok(token);
            }
            let now = self.clock.now_ms();
            let until = now + self.lease.as_millis() as i64;
            if self
                .store
                .try_acquire_refresh_lease(id, &self.owner, now, until)
                .await?
            {
                let result = self.refresh_holding_lease(id).await;
                if let Err(err) = self.store.release_refresh_lease(id, &self.owner).await {
                    tracing::warn!(installation.id = %id, error = %err, "could not release the refresh lease; it expires by itself");
                }
                return result;
            }
            // Another process is refreshing; its result lands in the database.
            if started.elapsed() > self.lease + Duration::from_secs(5) {
                return Err(TokenError::Unavailable(
                    "another Spokes process holds the token refresh for too long".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn local_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }

    async fn refresh_holding_lease(&self, id: &str) -> Result<Secret, TokenError> {
        // Re-read under the lease: another process may have refreshed just before we took it.
        let installation = self
            .store
            .get_installation(id)
            .await?
            .ok_or(TokenError::NotConnected)?;
        check_status(&installation)?;
        let tokens = self
            .store
            .get_tokens(id)
            .await?
            .ok_or(TokenError::NotConnected)?;
        if self.is_fresh(&tokens) {
            return Ok(tokens.access_token);
        }
        let setup = self
            .store
            .get_connector_setup(CONNECTOR_ID)
            .await?
            .ok_or(TokenError::SetupMissing)?;
        if setup.client_id != tokens.client_id {
            let message = "the HubSpot app's client id changed since this portal was connected; \
                           HubSpot only refreshes tokens for the app that issued them, so the customer must reconnect";
            return Err(self
                .needs_reauth(&installation, "app_changed", message)
                .await?);
        }
        let app = AppCredentials {
            client_id: setup.client_id,
            client_secret: setup.client_secret,
        };
        let refreshed = (|| self.oauth.refresh(&app, tokens.refresh_token.expose_secret()))
            .retry(retry::refresh_backoff())
            .when(|err| {
                err.is_transient()
                    && err
                        .retry_after()
                        .is_none_or(|wait| wait <= retry::MAX_TOKEN_RETRY_AFTER)
            })
            // The token endpoint's 429 is waited out as long as it asks.
            .adjust(|err, wait| wait.map(|planned| err.retry_after().unwrap_or(planned)))
            .notify(|err, wait| {
                tracing::info!(installation.id = %id, error = %err, wait_ms = wait.as_millis() as u64, "token refresh failed; retrying");
            })
            .await;
        let response = match refreshed {
            Ok(response) => response,
            Err(OAuthError::Rejected { status, message }) => {
                metrics::counter!("spokes_token_refreshes_total", "outcome" => "rejected")
                    .increment(1);
                let message = format!(
                    "HubSpot refused the refresh token ({status}: {message}); the customer must reconnect"
                );
                return Err(self
                    .needs_reauth(&installation, "refresh_rejected", &message)
                    .await?);
            }
            Err(err) => {
                let now = self.clock.now_ms();
                let last_error = LastError {
                    code: "refresh_failed".into(),
                    message: err.to_string(),
                    at: now,
                };
                self.store
                    .set_last_error(id, Some(&last_error), now)
                    .await?;
                metrics::counter!("spokes_token_refreshes_total", "outcome" => "failed")
                    .increment(1);
                tracing::warn!(installation.id = %id, error = %err, "token refresh failed");
                return Err(TokenError::Unavailable(err.to_string()));
            }
        };
        let now = self.clock.now_ms();
        let access_token = Secret::from(response.access_token);
        let fresh = TokenSet {
            access_token: access_token.clone(),
            // Keep whatever HubSpot returns; fall back to the one we had.
            refresh_token: response
                .refresh_token
                .map(Secret::from)
                .unwrap_or(tokens.refresh_token),
            expires_at: now + response.expires_in * 1000,
            client_id: app.client_id.clone(),
        };
        let mut portal = installation.portal.clone();
        if let (Some(portal), Some(scopes)) = (portal.as_mut(), response.scopes) {
            portal.granted_scopes = scopes;
        }
        let state = AuthState {
            status: InstallationStatus::Authenticated,
            portal,
            last_error: None,
            tokens: Some(fresh.clone()),
        };
        if self
            .store
            .save_auth_state(id, &state, now, Some(installation.auth_version))
            .await?
        {
            tracing::info!(installation.id = %id, "refreshed the HubSpot access token");
            metrics::counter!("spokes_token_refreshes_total", "outcome" => "refreshed")
                .increment(1);
            return Ok(access_token);
        }
        metrics::counter!("spokes_token_refreshes_total", "outcome" => "lost_race").increment(1);
        self.discard_lost_refresh(id, &app, &fresh).await?;
        // Whatever won (a reconnect, a disconnect) decides what the caller gets.
        match self.fresh_stored(id).await? {
            Some(token) => Ok(token),
            None => {
                let current = self
                    .store
                    .get_installation(id)
                    .await?
                    .ok_or(TokenError::NotConnected)?;
                check_status(&current)?;
                Err(TokenError::NotConnected)
            }
        }
    }

    /// The auth state changed while the refresh was at HubSpot: the tokens it got must not be
    /// stored, and HubSpot should not keep them valid either (unless they are the very tokens
    /// the winner stored: HubSpot often returns the same refresh token).
    async fn discard_lost_refresh(
        &self,
        id: &str,
        app: &AppCredentials,
        fresh: &TokenSet,
    ) -> Result<(), TokenError> {
        let stored = self.store.get_tokens(id).await?;
        let in_use = stored.is_some_and(|t| {
            spokes_core::token::constant_time_eq(
                t.refresh_token.expose_secret().as_bytes(),
                fresh.refresh_token.expose_secret().as_bytes(),
            )
        });
        tracing::warn!(installation.id = %id, "the connection changed while its token was refreshed; discarding the refreshed tokens");
        if !in_use
            && let Err(err) = self
                .oauth
                .revoke(app, fresh.refresh_token.expose_secret())
                .await
        {
            tracing::warn!(installation.id = %id, error = %err, "could not revoke the discarded refresh token");
        }
        Ok(())
    }

    /// Marks the installation `needs_reauth`, forgets its unusable tokens and tells the partner.
    async fn needs_reauth(
        &self,
        installation: &Installation,
        code: &str,
        message: &str,
    ) -> Result<TokenError, StoreError> {
        let now = self.clock.now_ms();
        let state = AuthState {
            status: InstallationStatus::NeedsReauth,
            portal: installation.portal.clone(),
            last_error: Some(LastError {
                code: code.into(),
                message: message.into(),
                at: now,
            }),
            tokens: None,
        };
        let saved = self
            .store
            .save_auth_state(
                &installation.id,
                &state,
                now,
                Some(installation.auth_version),
            )
            .await?;
        if !saved {
            // A disconnect or reconnect came first; its state stands.
            return Ok(TokenError::NotConnected);
        }
        tracing::warn!(installation.id = %installation.id, account.id = %installation.account_id, code, "installation needs the customer to reconnect");
        self.events
            .publish(
                EventKind::NeedsReauth,
                json!({
                    "account_id": installation.account_id,
                    "installation_id": installation.id,
                    "status": "needs_reauth",
                    "error": {"code": code, "message": message},
                }),
            )
            .await;
        Ok(TokenError::NeedsReauth(message.into()))
    }

    /// Revokes the refresh token at HubSpot (best effort when HubSpot is down: the tokens are
    /// forgotten either way) and returns the installation to `unauthenticated`. When a refresh
    /// stores new tokens meanwhile, those are revoked too before the state is written.
    pub async fn disconnect(&self, installation: &Installation) -> Result<(), TokenError> {
        let state = AuthState {
            status: InstallationStatus::Unauthenticated,
            portal: None,
            last_error: None,
            tokens: None,
        };
        for _ in 0..DISCONNECT_TRIES {
            let Some(current) = self.store.get_installation(&installation.id).await? else {
                return Ok(());
            };
            self.revoke_stored(&current).await?;
            if self
                .store
                .save_auth_state(
                    &current.id,
                    &state,
                    self.clock.now_ms(),
                    Some(current.auth_version),
                )
                .await?
            {
                return Ok(());
            }
        }
        // Still changing: disconnect wins regardless; a refresh that lands later loses its CAS.
        self.store
            .save_auth_state(&installation.id, &state, self.clock.now_ms(), None)
            .await?;
        Ok(())
    }

    async fn revoke_stored(&self, installation: &Installation) -> Result<(), TokenError> {
        let Some(tokens) = self.store.get_tokens(&installation.id).await? else {
            return Ok(());
        };
        match self.store.get_connector_setup(CONNECTOR_ID).await? {
            Some(setup) if setup.client_id == tokens.client_id => {
                let app = AppCredentials {
                    client_id: setup.client_id,
                    client_secret: setup.client_secret,
                };
                if let Err(err) = self
                    .oauth
                    .revoke(&app, tokens.refresh_token.expose_secret())
                    .await
                {
                    tracing::warn!(installation.id = %installation.id, error = %err, "could not revoke the refresh token at HubSpot");
                }
            }
            _ => {
                tracing::warn!(installation.id = %installation.id, "the app that issued the tokens is no longer set up; forgetting them without revoking")
            }
        }
        Ok(())
    }
}

fn check_status(installation: &Installation) -> Result<(), TokenError> {
    match installation.status {
        InstallationStatus::Authenticated => Ok(()),
        InstallationStatus::Unauthenticated => Err(TokenError::NotConnected),
        InstallationStatus::NeedsReauth => Err(TokenError::NeedsReauth(
            installation
                .last_error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "the connection to HubSpot was lost".into()),
        )),
    }
}
