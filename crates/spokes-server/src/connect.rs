//! The callback's hand-over to the engine, which decides the consent.

use spokes_core::OAuthState;
use spokes_engine::consent::ConsentAnswer;

use crate::AppState;
use crate::browser::CallbackParams;

/// Why a consent did not connect the portal; `code` is stable, `description` is for people.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub description: String,
}

/// Completes the consent of a consumed OAuth state.
pub async fn complete(
    state: &AppState,
    oauth_state: &OAuthState,
    params: &CallbackParams,
) -> Result<(), Failure> {
    let answer = ConsentAnswer {
        code: params.code.as_deref(),
        error: params.error.as_deref(),
        error_description: params.error_description.as_deref(),
    };
    match state.consent.complete_consent(oauth_state, answer).await {
        spokes_engine::ConsentOutcome::Connected { .. } => Ok(()),
        spokes_engine::ConsentOutcome::Failed(failure) => Err(Failure {
            code: failure.code,
            description: failure.description,
        }),
    }
}
