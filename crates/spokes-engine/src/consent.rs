//! Completing a consent: exchange the code, learn which portal and user it is, apply the seed's
//! account-selection rules (developer, test and shared portals), and store the result.
//!
//! The server only parses HubSpot's redirect into a [`ConsentAnswer`] and renders the
//! [`ConsentOutcome`]; every rule lives here.

use std::sync::Arc;

use serde_json::{Value, json};
use spokes_core::{
    Clock, ExposeSecret, Installation, InstallationStatus, LastError, OAuthState, PortalDetails,
    Secret, TokenSet,
};
use spokes_hubspot::OAuthClient;
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_hubspot::oauth::AppCredentials;
use spokes_store::{AuthState, Store};

use crate::events::{EventKind, Events};

/// What HubSpot sent back to the callback.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsentAnswer<'a> {
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
}

/// The partner's account-selection settings.
#[derive(Debug, Clone)]
pub struct ConsentPolicy {
    /// The redirect URL the authorization code was issued for.
    pub callback_url: String,
    /// Refuse `DEVELOPER_TEST` and `SANDBOX` portals instead of accepting them with a warning.
    pub refuse_test_accounts: bool,
    /// Refuse a portal already connected in another account instead of warning.
    pub refuse_shared_portals: bool,
}

/// Why a consent did not connect the portal; `code` is stable, `description` is for people.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentFailure {
    pub code: &'static str,
    pub description: String,
}

/// How a consent ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsentOutcome {
    Connected { portal: PortalDetails },
    Failed(ConsentFailure),
}

impl ConsentOutcome {
    pub fn failure(&self) -> Option<&ConsentFailure> {
        match self {
            Self::Connected { .. } => None,
            Self::Failed(failure) => Some(failure),
        }
    }
}

fn fail(code: &'static str, description: impl Into<String>) -> ConsentFailure {
    ConsentFailure {
        code,
        description: description.into(),
    }
}

/// Logs what failed inside Spokes and tells the person only that it did.
fn internal(err: &dyn std::fmt::Display, what: &str) -> ConsentFailure {
    tracing::error!(error = %err, "{what}");
    fail(
        "internal",
        "Spokes could not finish because of an internal error. Please try again.",
    )
}

/// The guidance of the seed guide, for every refusal of a portal that is not the main account.
const CHOOSE_MAIN_ACCOUNT: &str = "Connect again and, on the \"Choose an Account\" screen, choose your main HubSpot account: the one with Products attached.";

/// Decides consents; cheap to share.
pub struct Consent {
    store: Arc<dyn Store>,
    oauth: OAuthClient,
    clock: Arc<dyn Clock>,
    events: Events,
    policy: ConsentPolicy,
}

impl Consent {
    pub fn new(
        store: Arc<dyn Store>,
        oauth: OAuthClient,
        clock: Arc<dyn Clock>,
        events: Events,
        policy: ConsentPolicy,
    ) -> Self {
        Self {
            store,
            oauth,
            clock,
            events,
            policy,
        }
    }

    /// Runs the callback's work for a consumed OAuth state and records the outcome on the
    /// installation, with an event for the partner.
    pub async fn complete_consent(
        &self,
        oauth_state: &OAuthState,
        answer: ConsentAnswer<'_>,
    ) -> ConsentOutcome {
        let installation = match self
            .store
            .get_installation(&oauth_state.installation_id)
            .await
        {
            Ok(Some(installation)) => installation,
            Ok(None) => return ConsentOutcome::Failed(installation_deleted()),
            Err(err) => {
                return ConsentOutcome::Failed(internal(
                    &err,
                    "could not load the installation of a consent",
                ));
            }
        };
        let result = match self.authorize(&installation, oauth_state, answer).await {
            Ok((portal, tokens)) => self.save_connected(&installation, portal, tokens).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(portal) => ConsentOutcome::Connected { portal },
            Err(failure) => {
                self.record_failure(&installation, &failure).await;
                ConsentOutcome::Failed(failure)
            }
        }
    }

    async fn authorize(
        &self,
        installation: &Installation,
        oauth_state: &OAuthState,
        answer: ConsentAnswer<'_>,
    ) -> Result<(PortalDetails, TokenSet), ConsentFailure> {
        if let Some(error) = answer.error {
            return Err(if error == "access_denied" {
                fail(
                    "access_denied",
                    "The HubSpot consent was cancelled, so nothing was connected. Start again and allow access to connect HubSpot.",
                )
            } else {
                fail(
                    "hubspot_error",
                    format!(
                        "HubSpot did not authorise the connection ({error}: {}).",
                        answer.error_description.unwrap_or("no description")
                    ),
                )
            });
        }
        let code = answer.code.filter(|c| !c.is_empty()).ok_or_else(|| {
            fail(
                "invalid_request",
                "HubSpot did not send an authorization code. Start again.",
            )
        })?;
        let setup = match self.store.get_connector_setup(CONNECTOR_ID).await {
            Ok(Some(setup)) => setup,
            Ok(None) => {
                return Err(fail(
                    "setup_missing",
                    "The HubSpot app is no longer set up in Spokes.",
                ));
            }
            Err(err) => return Err(internal(&err, "could not load the connector setup")),
        };
        let app = AppCredentials {
            client_id: setup.client_id.clone(),
            client_secret: setup.client_secret.clone(),
        };
        let response = self
            .oauth
            .exchange_code(
                &app,
                code,
                &self.policy.callback_url,
                oauth_state.code_verifier.expose_secret(),
            )
            .await
            .map_err(|err| {
                tracing::warn!(installation.id = %installation.id, error = %err, "code exchange failed");
                fail("token_exchange_failed", format!("HubSpot did not accept the sign-in: {err}. Start again."))
            })?;
        let refresh_token = response.refresh_token.clone().ok_or_else(|| {
            fail(
                "token_exchange_failed",
                "HubSpot did not return a refresh token.",
            )
        })?;
        let now = self.clock.now_ms();
        let tokens = TokenSet {
            access_token: Secret::from(response.access_token.clone()),
            refresh_token: Secret::from(refresh_token),
            expires_at: now + response.expires_in * 1000,
            client_id: app.client_id.clone(),
        };
        // The token response has hub and scopes but never the user's email or hub domain.
        let info = self
            .oauth
            .token_info(&app, tokens.access_token.expose_secret())
            .await
            .map_err(|err| tracing::warn!(error = %err, "token introspection failed; continuing with the token response"))
            .unwrap_or_default();
        let details: Value = self
            .oauth
            .account_details(tokens.access_token.expose_secret())
            .await
            .map_err(|err| {
                fail(
                    "account_details_failed",
                    format!(
                        "Spokes could not read the HubSpot account's details: {}",
                        err.message
                    ),
                )
            })?;
        let portal_id = details["portalId"]
            .as_i64()
            .or(response.hub_id)
            .or(info.hub_id)
            .ok_or_else(|| {
                fail(
                    "account_details_failed",
                    "HubSpot did not say which account was connected.",
                )
            })?;
        // Missing means unknown, never STANDARD: a developer account must not slip through.
        let account_type = details["accountType"].as_str().unwrap_or("").to_string();
        let mut portal = PortalDetails {
            portal_id,
            account_type: account_type.clone(),
            ui_domain: details["uiDomain"].as_str().map(str::to_string),
            hub_domain: info.hub_domain,
            user: info.user,
            user_id: response.user_id.or(info.user_id),
            granted_scopes: response.scopes.clone().unwrap_or(info.scopes),
            warnings: Vec::new(),
        };
        let refusal = match self.account_rules(installation, &mut portal).await {
            Ok(()) => return Ok((portal, tokens)),
            Err(refusal) => refusal,
        };
        // A refused portal keeps no grant: revoke it at HubSpot and forget the tokens.
        if let Err(err) = self
            .oauth
            .revoke(&app, tokens.refresh_token.expose_secret())
            .await
        {
            tracing::warn!(error = %err, "could not revoke the refused grant");
        }
        Err(refusal)
    }

    /// The seed's account-selection rules: `Err` refuses the portal, warnings are added to it.
    async fn account_rules(
        &self,
        installation: &Installation,
        portal: &mut PortalDetails,
    ) -> Result<(), ConsentFailure> {
        let portal_id = portal.portal_id;
        let account_type = portal.account_type.clone();
        match account_type.as_str() {
            "STANDARD" => {}
            "APP_DEVELOPER" => {
                return Err(fail(
                    "developer_account",
                    format!(
                        "You chose a HubSpot developer account (hub id {portal_id}); apps cannot be connected to developer accounts. {CHOOSE_MAIN_ACCOUNT}"
                    ),
                ));
            }
            "DEVELOPER_TEST" | "SANDBOX" if self.policy.refuse_test_accounts => {
                return Err(fail(
                    "test_account",
                    format!(
                        "You chose a HubSpot {account_type} account (hub id {portal_id}), which holds test data only. {CHOOSE_MAIN_ACCOUNT}"
                    ),
                ));
            }
            "DEVELOPER_TEST" | "SANDBOX" => portal.warnings.push(format!(
                "portal {portal_id} is a {account_type} account, which holds test data only; reconnect with the main account for real data"
            )),
            other => {
                tracing::warn!(installation.id = %installation.id, portal.id = portal_id, account_type = other, "HubSpot sent no known account type; refusing the portal");
                return Err(fail(
                    "account_type_unknown",
                    format!(
                        "HubSpot did not say what kind of account hub id {portal_id} is, so Spokes cannot tell whether it is your main account. {CHOOSE_MAIN_ACCOUNT}"
                    ),
                ));
            }
        }
        let elsewhere: Vec<String> = match self.store.installations_for_portal(portal_id).await {
            Ok(found) => found
                .into_iter()
                .filter(|i| i.account_id != installation.account_id)
                .map(|i| format!("{}/{}", i.account_id, i.id))
                .collect(),
            Err(err) => {
                tracing::error!(error = %err, "could not look for other connections of the portal");
                Vec::new()
            }
        };
        if elsewhere.is_empty() {
            return Ok(());
        }
        // The other accounts are other customers: their ids go to the log, never to this one.
        tracing::warn!(
            installation.id = %installation.id,
            account.id = %installation.account_id,
            portal.id = portal_id,
            also_in = %elsewhere.join(", "),
            "portal is connected in other accounts too"
        );
        if self.policy.refuse_shared_portals {
            return Err(fail(
                "portal_in_use",
                format!(
                    "HubSpot account {portal_id} is already connected for another customer. Connect a different HubSpot account."
                ),
            ));
        }
        portal.warnings.push(format!(
            "portal {portal_id} is also connected in another account"
        ));
        Ok(())
    }

    async fn save_connected(
        &self,
        installation: &Installation,
        portal: PortalDetails,
        tokens: TokenSet,
    ) -> Result<PortalDetails, ConsentFailure> {
        let auth = AuthState {
            status: InstallationStatus::Authenticated,
            portal: Some(portal.clone()),
            last_error: None,
            tokens: Some(tokens),
        };
        // Unconditional: a new consent replaces whatever the installation had, and bumping the
        // version makes a refresh still in flight with the old grant discard its result.
        match self
            .store
            .save_auth_state(&installation.id, &auth, self.clock.now_ms(), None)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(installation_deleted()),
            Err(err) => return Err(internal(&err, "could not save a connected installation")),
        }
        tracing::info!(installation.id = %installation.id, account.id = %installation.account_id, portal.id = portal.portal_id, "HubSpot portal connected");
        self.events
            .publish(
                EventKind::Authenticated,
                json!({
                    "account_id": installation.account_id,
                    "installation_id": installation.id,
                    "status": "authenticated",
                    "portal_id": portal.portal_id,
                    "account_type": portal.account_type,
                }),
            )
            .await;
        Ok(portal)
    }

    /// Keeps whatever connection the installation had and records why this consent failed.
    async fn record_failure(&self, installation: &Installation, failure: &ConsentFailure) {
        let now = self.clock.now_ms();
        let last_error = LastError {
            code: failure.code.into(),
            message: failure.description.clone(),
            at: now,
        };
        if let Err(err) = self
            .store
            .set_last_error(&installation.id, Some(&last_error), now)
            .await
        {
            tracing::error!(error = %err, "could not record a consent failure");
        }
        tracing::warn!(installation.id = %installation.id, account.id = %installation.account_id, code = failure.code, "consent failed");
        self.events
            .publish(
                EventKind::Failed,
                json!({
                    "account_id": installation.account_id,
                    "installation_id": installation.id,
                    "status": installation.status.as_str(),
                    "error": {"code": failure.code, "message": failure.description},
                }),
            )
            .await;
    }
}

fn installation_deleted() -> ConsentFailure {
    fail(
        "installation_deleted",
        "The connection was deleted while you were signing in to HubSpot.",
    )
}
