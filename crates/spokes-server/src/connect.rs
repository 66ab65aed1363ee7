//! Completing a consent: exchange the code, learn which portal and user it is, apply the seed's
//! account-selection rules, and store the result.

use serde_json::{Value, json};
use spokes_core::ExposeSecret;
use spokes_core::{
    Installation, InstallationStatus, LastError, OAuthState, PortalDetails, Secret, TokenSet,
};
use spokes_engine::EventKind;
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_hubspot::oauth::AppCredentials;
use spokes_store::AuthState;

use crate::AppState;
use crate::browser::CallbackParams;

/// Why a consent did not connect the portal; `code` is stable, `description` is for people.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub description: String,
}

fn fail(code: &'static str, description: impl Into<String>) -> Failure {
    Failure {
        code,
        description: description.into(),
    }
}

/// Logs what failed inside Spokes and tells the person only that it did.
fn internal(err: &dyn std::fmt::Display, what: &str) -> Failure {
    tracing::error!(error = %err, "{what}");
    fail(
        "internal",
        "Spokes could not finish because of an internal error. Please try again.",
    )
}

/// Runs the callback's work and records its outcome on the installation, with an event.
pub async fn complete(
    state: &AppState,
    oauth_state: &OAuthState,
    params: &CallbackParams,
) -> Result<(), Failure> {
    let installation = match state
        .store
        .get_installation(&oauth_state.installation_id)
        .await
    {
        Ok(Some(installation)) => installation,
        Ok(None) => {
            return Err(fail(
                "installation_deleted",
                "The connection was deleted while you were signing in to HubSpot.",
            ));
        }
        Err(err) => {
            return Err(internal(
                &err,
                "could not load the installation of a consent",
            ));
        }
    };
    let result = match authorize(state, &installation, oauth_state, params).await {
        Ok((portal, tokens)) => save_connected(state, &installation, portal, tokens).await,
        Err(failure) => Err(failure),
    };
    if let Err(failure) = &result {
        record_failure(state, &installation, failure).await;
    }
    result
}

async fn authorize(
    state: &AppState,
    installation: &Installation,
    oauth_state: &OAuthState,
    params: &CallbackParams,
) -> Result<(PortalDetails, TokenSet), Failure> {
    if let Some(error) = params.error.as_deref() {
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
                    params
                        .error_description
                        .as_deref()
                        .unwrap_or("no description")
                ),
            )
        });
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            fail(
                "invalid_request",
                "HubSpot did not send an authorization code. Start again.",
            )
        })?;
    let setup = match state.store.get_connector_setup(CONNECTOR_ID).await {
        Ok(Some(setup)) => setup,
        Ok(None) => {
            return Err(fail(
                "setup_missing",
                "The HubSpot app is no longer set up in Spokes.",
            ));
        }
        Err(err) => {
            return Err(internal(&err, "could not load the connector setup"));
        }
    };
    let app = AppCredentials {
        client_id: setup.client_id.clone(),
        client_secret: setup.client_secret.clone(),
    };
    let oauth = state.oauth();
    let response = oauth
        .exchange_code(
            &app,
            code,
            &state.config.callback_url(),
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
    let now = state.clock.now_ms();
    let tokens = TokenSet {
        access_token: Secret::from(response.access_token.clone()),
        refresh_token: Secret::from(refresh_token),
        expires_at: now + response.expires_in * 1000,
        client_id: app.client_id.clone(),
    };
    // The token response has hub and scopes but never the user's email or hub domain.
    let info = oauth
        .token_info(&app, tokens.access_token.expose_secret())
        .await
        .map_err(|err| tracing::warn!(error = %err, "token introspection failed; continuing with the token response"))
        .unwrap_or_default();
    let details: Value = oauth
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
    let account_type = details["accountType"]
        .as_str()
        .unwrap_or("STANDARD")
        .to_string();
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
    let refuse = |failure: Failure| async {
        // A refused portal keeps no grant: revoke it at HubSpot and forget the tokens.
        if let Err(err) = oauth
            .revoke(&app, tokens.refresh_token.expose_secret())
            .await
        {
            tracing::warn!(error = %err, "could not revoke the refused grant");
        }
        failure
    };
    match account_type.as_str() {
        "APP_DEVELOPER" => {
            return Err(refuse(fail(
                "developer_account",
                format!(
                    "You chose a HubSpot developer account (hub id {portal_id}); apps cannot be connected to developer accounts. \
                     Connect again and, on the \"Choose an Account\" screen, choose your main HubSpot account: the one with Products attached."
                ),
            ))
            .await);
        }
        "DEVELOPER_TEST" | "SANDBOX" if state.config.refuse_test_accounts => {
            return Err(refuse(fail(
                "test_account",
                format!(
                    "You chose a HubSpot {account_type} account (hub id {portal_id}), which holds test data only. \
                     Connect again and choose your main HubSpot account: the one with Products attached."
                ),
            ))
            .await);
        }
        "DEVELOPER_TEST" | "SANDBOX" => portal.warnings.push(format!(
            "portal {portal_id} is a {account_type} account, which holds test data only; reconnect with the main account for real data"
        )),
        _ => {}
    }
    let elsewhere: Vec<String> = match state.store.installations_for_portal(portal_id).await {
        Ok(found) => found
            .into_iter()
            .filter(|i| i.account_id != installation.account_id)
            .map(|i| i.account_id)
            .collect(),
        Err(err) => {
            tracing::error!(error = %err, "could not look for other connections of the portal");
            Vec::new()
        }
    };
    if !elsewhere.is_empty() {
        if state.config.refuse_shared_portals {
            return Err(refuse(fail(
                "portal_in_use",
                format!("HubSpot account {portal_id} is already connected for another customer. Connect a different HubSpot account."),
            ))
            .await);
        }
        portal.warnings.push(format!(
            "portal {portal_id} is also connected in account(s) {}",
            elsewhere.join(", ")
        ));
    }
    Ok((portal, tokens))
}

async fn save_connected(
    state: &AppState,
    installation: &Installation,
    portal: PortalDetails,
    tokens: TokenSet,
) -> Result<(), Failure> {
    let portal_id = portal.portal_id;
    let account_type = portal.account_type.clone();
    let auth = AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal),
        last_error: None,
        tokens: Some(tokens),
    };
    if let Err(err) = state
        .store
        .save_auth_state(&installation.id, &auth, state.clock.now_ms(), None)
        .await
    {
        return Err(internal(&err, "could not save a connected installation"));
    }
    tracing::info!(installation.id = %installation.id, account.id = %installation.account_id, portal.id = portal_id, "HubSpot portal connected");
    state
        .events
        .publish(
            EventKind::Authenticated,
            json!({
                "account_id": installation.account_id,
                "installation_id": installation.id,
                "status": "authenticated",
                "portal_id": portal_id,
                "account_type": account_type,
            }),
        )
        .await;
    Ok(())
}

/// Keeps whatever connection the installation had and records why this consent failed.
async fn record_failure(state: &AppState, installation: &Installation, failure: &Failure) {
    let now = state.clock.now_ms();
    let tokens = match state.store.get_tokens(&installation.id).await {
        Ok(tokens) => tokens,
        Err(err) => {
            tracing::error!(error = %err, "could not read tokens while recording a failure");
            return;
        }
    };
    let auth = AuthState {
        status: installation.status,
        portal: installation.portal.clone(),
        last_error: Some(LastError {
            code: failure.code.into(),
            message: failure.description.clone(),
            at: now,
        }),
        tokens,
    };
    if let Err(err) = state
        .store
        .save_auth_state(&installation.id, &auth, now, None)
        .await
    {
        tracing::error!(error = %err, "could not record a consent failure");
    }
    tracing::warn!(installation.id = %installation.id, account.id = %installation.account_id, code = failure.code, "consent failed");
    state
        .events
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
