//! A simulator on 127.0.0.1:0 and an HTTP client that does not follow redirects.

use std::collections::HashMap;

use hubspot_sim::{SimConfig, SimServer};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// The redirect URL registered on the sandbox app in tests.
pub const REDIRECT: &str = "http://127.0.0.1:9/connector/callback";
pub const ACME_INC: i64 = 24_682_001;
pub const ACME_DEVELOPER: i64 = 24_682_002;
pub const ACME_STARTER: i64 = 24_682_004;

pub struct TestSim {
    pub server: SimServer,
    pub http: Client,
}

pub async fn start() -> TestSim {
    start_with(SimConfig {
        sandbox_redirect_urls: vec![REDIRECT.to_owned()],
        ..SimConfig::default()
    })
    .await
}

pub async fn start_with(config: SimConfig) -> TestSim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = hubspot_sim::start(listener, config).await.unwrap();
    // reqwest is built without a TLS crypto provider; it insists on one even for http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestSim { server, http }
}

/// The query parameters of a URL.
pub fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A consent that is allowed for `portal`, with optional PKCE.
pub struct Consent<'a> {
    pub portal: i64,
    pub scope: &'a str,
    pub optional_scope: &'a str,
    pub code_challenge: Option<(&'a str, &'a str)>,
}

impl Default for Consent<'_> {
    fn default() -> Self {
        Self {
            portal: ACME_INC,
            scope: "crm.objects.contacts.read crm.objects.contacts.write",
            optional_scope: "",
            code_challenge: None,
        }
    }
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    pub fn client_id(&self) -> &str {
        &self.server.sandbox_app.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.server.sandbox_app.client_secret
    }

    /// GET an authorize URL; returns status and HTML.
    pub async fn authorize_page(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, String) {
        let resp = self
            .http
            .get(self.url(path))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// POST the consent form.
    pub async fn decide(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url("/oauth/authorize"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Runs the consent flow for the sandbox app and returns the code.
    pub async fn code(&self, c: &Consent<'_>) -> String {
        let portal = c.portal.to_string();
        let mut form = vec![
            ("client_id", self.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", c.scope),
            ("optional_scope", c.optional_scope),
            ("state", "st-1"),
            ("portal_id", portal.as_str()),
            ("decision", "allow"),
        ];
        if let Some((challenge, method)) = c.code_challenge {
            form.push(("code_challenge", challenge));
            form.push(("code_challenge_method", method));
        }
        let resp = self.decide(&form).await;
        assert_eq!(resp.status(), StatusCode::FOUND);
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        let q = query_of(&location);
        assert_eq!(q["state"], "st-1");
        q["code"].clone()
    }

    /// POSTs a form to a token-style endpoint; returns status and JSON body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    /// Exchanges a code at `/oauth/v3/token`.
    pub async fn exchange(&self, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id()),
            ("client_secret", self.client_secret()),
            ("redirect_uri", REDIRECT),
            ("code", code),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.post_form("/oauth/v3/token", &form).await
    }

    /// Consent + exchange; returns the token response.
    pub async fn tokens(&self, c: &Consent<'_>) -> Value {
        let code = self.code(c).await;
        let (status, body) = self.exchange(&code, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Refreshes at `path`.
    pub async fn refresh(&self, path: &str, refresh_token: &str) -> (StatusCode, Value) {
        self.post_form(
            path,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", self.client_id()),
                ("client_secret", self.client_secret()),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// GET with an optional bearer token; returns the whole response.
    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// GET returning status and JSON.
    pub async fn get_json(&self, path: &str, bearer: Option<&str>) -> (StatusCode, Value) {
        let resp = self.get(path, bearer).await;
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// POST JSON to a `/_sim` control.
    pub async fn sim_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }
}

/// Asserts the token endpoint's error body.
pub fn assert_oauth_error(status: StatusCode, body: &Value, expected_status: &str, error: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_uuid(&body["correlationId"]);
}

/// Asserts a uuid-shaped string.
pub fn assert_uuid(value: &Value) {
    let s = value.as_str().unwrap_or_default();
    let groups: Vec<usize> = s.split('-').map(str::len).collect();
    assert_eq!(groups, vec![8, 4, 4, 4, 12], "not a uuid: {value}");
}
