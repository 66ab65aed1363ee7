//! HubSpot's OAuth 2.0: the install URL, code exchange, refresh, token metadata and revocation.
//! Date-versioned endpoints by default (`/oauth/2026-03/...`, everything in the form body);
//! the legacy v1 endpoints remain a setting.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use spokes_core::ExposeSecret;
use spokes_core::Secret;

use crate::config::{HubSpotConfig, OAuthApiVersion};
use crate::http::{self, ApiError};

/// The partner's HubSpot app.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// HubSpot's token response. `hub_id`, `user_id` and `scopes` are present since 2025.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub hub_id: Option<i64>,
    pub user_id: Option<i64>,
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("hub_id", &self.hub_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Metadata of an access token (introspection or the v1 access-token endpoint).
#[derive(Debug, Deserialize, Default)]
pub struct TokenInfo {
    #[serde(default)]
    pub active: Option<bool>,
    pub hub_id: Option<i64>,
    pub hub_domain: Option<String>,
    pub user: Option<String>,
    pub user_id: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// HubSpot refused the grant for good (bad or revoked refresh token, used code, wrong client).
    #[error("HubSpot refused the grant ({status}): {message}")]
    Rejected {
        /// HubSpot's legacy `status` (e.g. `BAD_REFRESH_TOKEN`) or the RFC 6749 `error`.
        status: String,
        message: String,
    },
    /// No answer or a server error: try again later.
    #[error("HubSpot is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint's own rate limit: wait `retry_after` (when HubSpot said) and try
    /// again. Never a reason to give up on the connection.
    #[error("HubSpot's token endpoint is rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// Anything else HubSpot answered that we cannot use.
    #[error("unexpected answer from HubSpot: {0}")]
    Unexpected(String),
}

impl OAuthError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::RateLimited { .. })
    }

    /// How long HubSpot asked to wait before the next attempt, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    fn from_api(err: ApiError) -> Self {
        if err.is_transient() {
            Self::Unavailable(err.message)
        } else {
            Self::Unexpected(format!("HTTP {}: {}", err.status, err.message))
        }
    }
}

/// What goes on the consent URL.
pub struct AuthorizeParams<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub optional_scopes: &'a [String],
    pub state: &'a str,
    pub code_challenge: &'a str,
}

#[derive(Clone)]
pub struct OAuthClient {
    config: HubSpotConfig,
    http: reqwest::Client,
}

impl OAuthClient {
    pub fn new(config: HubSpotConfig) -> Self {
        let http = http::build_client(config.request_timeout());
        Self { config, http }
    }

    pub fn config(&self) -> &HubSpotConfig {
        &self.config
    }

    /// `{app_url}/oauth/authorize?...` with space-separated scopes encoded as `%20`.
    pub fn authorize_url(&self, p: &AuthorizeParams<'_>) -> String {
        let mut query = vec![
            ("client_id", p.client_id.to_string()),
            ("redirect_uri", p.redirect_uri.to_string()),
            ("scope", p.scopes.join(" ")),
        ];
        if !p.optional_scopes.is_empty() {
            query.push(("optional_scope", p.optional_scopes.join(" ")));
        }
        query.push(("state", p.state.to_string()));
        query.push(("code_challenge", p.code_challenge.to_string()));
        query.push(("code_challenge_method", "S256".to_string()));
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        format!(
            "{}/oauth/authorize?{}",
            self.config.app_url.trim_end_matches('/'),
            encoded.join("&")
        )
    }

    fn oauth_path(&self, suffix: &str) -> String {
        self.config.api(&format!(
            "/oauth/{}/{suffix}",
            self.config.oauth_version.path_segment()
        ))
    }

    pub async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("code", code),
            ("code_verifier", code_verifier),
        ])
        .await
    }

    pub async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose_secret()),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenResponse, OAuthError> {
        let body = self.post_form(&self.oauth_path("token"), form).await?;
        serde_json::from_value(body)
            .map_err(|_| OAuthError::Unexpected("the token response lacks required fields".into()))
    }

    /// Hub, user and scopes of an access token.
    pub async fn token_info(
        &self,
        app: &AppCredentials,
        access_token: &str,
    ) -> Result<TokenInfo, OAuthError> {
        let body = match self.config.oauth_version {
            OAuthApiVersion::V1 => {
                let url = self.config.api(&format!(
                    "/oauth/v1/access-tokens/{}",
                    percent_encode(access_token)
                ));
                let response = self.http.get(url).send().await.map_err(transport)?;
                read_json(response).await?
            }
            _ => {
                self.post_form(
                    &self.oauth_path("token/introspect"),
                    &[
                        ("client_id", &app.client_id),
                        ("client_secret", app.client_secret.expose_secret()),
                        ("token", access_token),
                        ("token_type_hint", "access_token"),
                    ],
                )
                .await?
            }
        };
        serde_json::from_value(body).map_err(|_| {
            OAuthError::Unexpected("the token metadata has an unexpected shape".into())
        })
    }

    /// Revokes a refresh token at HubSpot. An already unknown token counts as revoked.
    pub async fn revoke(
        &self,
        app: &AppCredentials,
        refresh_token: &str,
    ) -> Result<(), OAuthError> {
        let response = match self.config.oauth_version {
            OAuthApiVersion::V1 => {
                let url = self.config.api(&format!(
                    "/oauth/v1/refresh-tokens/{}",
                    percent_encode(refresh_token)
                ));
                self.http.delete(url).send().await
            }
            _ => {
                self.http
                    .post(self.oauth_path("token/revoke"))
                    .form(&[
                        ("client_id", app.client_id.as_str()),
                        ("client_secret", app.client_secret.expose_secret()),
                        ("token", refresh_token),
                        ("token_type_hint", "refresh_token"),
                    ])
                    .send()
                    .await
            }
        }
        .map_err(transport)?;
        let status = response.status().as_u16();
        if response.status().is_success() || status == 404 {
            return Ok(());
        }
        let body = response.bytes().await.map_err(transport)?;
        match classify_error(status, &body) {
            OAuthError::Rejected { .. } => Ok(()),
            other => Err(other),
        }
    }

    /// `GET /account-info/{version}/details`.
    pub async fn account_details(&self, access_token: &str) -> Result<Value, ApiError> {
        let url = self.config.api(&format!(
            "/account-info/{}/details",
            self.config.account_info_version
        ));
        http::get_json(&self.http, &url, access_token).await
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<Value, OAuthError> {
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(transport)?;
        read_json(response).await
    }
}

fn transport(err: reqwest::Error) -> OAuthError {
    OAuthError::from_api(ApiError::transport(&err))
}

async fn read_json(response: reqwest::Response) -> Result<Value, OAuthError> {
    let status = response.status().as_u16();
    if status == 429 {
        return Err(OAuthError::RateLimited {
            retry_after: crate::limiter::retry_after(response.headers()),
        });
    }
    let body = response.bytes().await.map_err(transport)?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|_| {
            OAuthError::Unexpected("HubSpot answered with a body that is not JSON".into())
        });
    }
    Err(classify_error(status, &body))
}

/// HubSpot's token errors carry the legacy `status`/`message` and, since OAuth v3, the RFC 6749
/// `error`/`error_description`. A 400 that names a bad grant, code or client is final.
fn classify_error(status: u16, body: &[u8]) -> OAuthError {
    let api = ApiError::from_body(status, body);
    if api.is_transient() {
        return OAuthError::Unavailable(format!("HTTP {status}: {}", api.message));
    }
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |name: &str| parsed.get(name).and_then(Value::as_str).map(str::to_string);
    let code = text("status")
        .filter(|s| s != "error")
        .or_else(|| text("error"));
    match code {
        Some(code) if status == 400 || status == 401 => OAuthError::Rejected {
            status: code,
            message: text("message")
                .or_else(|| text("error_description"))
                .unwrap_or_else(|| api.message.clone()),
        },
        _ => OAuthError::Unexpected(format!("HTTP {status}: {}", api.message)),
    }
}

/// RFC 3986 unreserved characters pass; everything else is `%XX` (so a space is `%20`).
const UNRESERVED_ONLY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn percent_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED_ONLY).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_encodes_spaces_as_percent_20() {
        let client = OAuthClient::new(HubSpotConfig::pointing_at("http://127.0.0.1:9"));
        let url = client.authorize_url(&AuthorizeParams {
            client_id: "cid",
            redirect_uri: "http://localhost/connector/callback",
            scopes: &["contacts".into(), "timeline".into()],
            optional_scopes: &["scope1".into(), "scope2".into()],
            state: "st",
            code_challenge: "ch",
        });
        assert_eq!(
            url,
            "http://127.0.0.1:9/oauth/authorize?client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%2Fconnector%2Fcallback\
             &scope=contacts%20timeline&optional_scope=scope1%20scope2&state=st&code_challenge=ch&code_challenge_method=S256"
        );
    }

    #[test]
    fn classifies_token_errors() {
        let body = br#"{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN","message":"refresh token is invalid, expired or revoked"}"#;
        match classify_error(400, body) {
            OAuthError::Rejected { status, .. } => assert_eq!(status, "BAD_REFRESH_TOKEN"),
            other => panic!("{other:?}"),
        }
        assert!(classify_error(503, b"").is_transient());
        assert!(classify_error(429, b"{}").is_transient());
        assert!(matches!(
            classify_error(403, b"{}"),
            OAuthError::Unexpected(_)
        ));
    }
}
