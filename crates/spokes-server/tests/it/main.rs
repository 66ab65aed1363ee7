//! End-to-end tests: a real spokes-server and a real hubspot-sim on 127.0.0.1:0, over HTTP.
//! The database is SQLite by default, PostgreSQL when SPOKES_TEST_DATABASE_URL is set.

mod api;
mod consent;
mod console;
mod cycles;
mod events;
mod hardening;
mod inbound;
mod mcp;
mod mcp_calls;
mod methods;
mod methods_crm;
mod methods_custom;
mod methods_errors;
mod methods_more;
mod methods_products;
mod methods_stream;
mod openapi;
mod read_only;
mod secrets;
mod tokens;

use spokes_core::ExposeSecret;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hubspot_sim::{SimConfig, SimServer};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use spokes_core::{ApiKey, ManualClock};
use spokes_engine::EventsConfig;
use spokes_server::{AppState, ServerConfig};
use spokes_store::Store;
use spokes_store::testing::{TempDir, test_database_url, test_key_ring};
use tokio::net::TcpListener;

/// Everything the server logged during the tests, to prove no secret reaches a log.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || LogBuffer(writer.clone()))
            .with_ansi(false)
            .init();
        buffer
    })
    .clone()
}

pub fn logged_text() -> String {
    String::from_utf8_lossy(&capture_logs().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// Stands between Spokes and the simulator's API; when `down`, answers 503 like a HubSpot
/// outage and counts the requests it refused. With `strip_account_type`, account details come
/// back without `accountType` (a HubSpot answer Spokes must not read as a main account).
/// `token_forms` keeps the bodies sent to the token endpoint (to learn the PKCE verifier).
pub struct Outage {
    pub down: Arc<std::sync::atomic::AtomicBool>,
    pub refused: Arc<std::sync::atomic::AtomicUsize>,
    pub strip_account_type: Arc<std::sync::atomic::AtomicBool>,
    pub token_forms: Arc<Mutex<Vec<String>>>,
}

async fn start_outage_switch(target: String) -> (String, Outage) {
    use std::sync::atomic::Ordering;
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let strip_account_type = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let token_forms = Arc::new(Mutex::new(Vec::new()));
    let http = spokes_core::http::build_client(Duration::from_secs(30));
    let (is_down, count, strip, forms) = (
        down.clone(),
        refused.clone(),
        strip_account_type.clone(),
        token_forms.clone(),
    );
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (http, target, is_down, count, strip, forms) = (
            http.clone(),
            target.clone(),
            is_down.clone(),
            count.clone(),
            strip.clone(),
            forms.clone(),
        );
        async move {
            if is_down.load(Ordering::SeqCst) {
                count.fetch_add(1, Ordering::SeqCst);
                return (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"status":"error","message":"Service unavailable"}"#.to_string(),
                );
            }
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            if path.starts_with("/oauth/") && path.ends_with("/token") {
                forms
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let mut forward = http
                .request(parts.method.clone(), format!("{target}{path}"))
                .body(body);
            for name in ["authorization", "content-type"] {
                if let Some(value) = parts.headers.get(name) {
                    forward = forward.header(name, value.as_bytes());
                }
            }
            let answer = forward.send().await.expect("simulator");
            let status =
                axum::http::StatusCode::from_u16(answer.status().as_u16()).expect("status");
            let mut text = answer.text().await.unwrap_or_default();
            if strip.load(Ordering::SeqCst) && path.contains("/account-info/") {
                let mut details: Value = serde_json::from_str(&text).expect("account details");
                details.as_object_mut().map(|d| d.remove("accountType"));
                text = details.to_string();
            }
            (status, text)
        }
    });
    let (listener, url) = bind().await;
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        url,
        Outage {
            down,
            refused,
            strip_account_type,
            token_forms,
        },
    )
}

#[derive(Default)]
pub struct Options {
    /// Private hosts or networks the cycles' HTTP request step may call.
    pub http_allow_private: Vec<String>,
    /// Route Spokes' API calls to HubSpot through an [`Outage`] switch.
    pub outage_switch: bool,
    pub refuse_test_accounts: bool,
    pub events: Option<EventsConfig>,
    pub allowed_return_origins: Vec<String>,
    /// How often the server sweeps expired values (default: every 10 minutes).
    pub sweep_interval: Option<Duration>,
    /// How long Spokes waits for HubSpot (default 30 s).
    pub request_timeout_secs: Option<u64>,
}

pub struct TestEnv {
    pub sim: SimServer,
    pub base: String,
    pub key: String,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub database_url: String,
    pub outage: Option<Outage>,
    keys: spokes_store::KeyRing,
    config: ServerConfig,
    _dir: TempDir,
}

pub async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        capture_logs();
        let dir = TempDir::new("spokes-e2e");
        let database_url = test_database_url(dir.path()).await;
        let keys = test_key_ring();
        let store = spokes_store::connect(&database_url, keys.clone())
            .await
            .expect("store");
        let (listener, base) = bind().await;
        let (sim_listener, _) = bind().await;
        let sim = hubspot_sim::start(
            sim_listener,
            SimConfig {
                sandbox_redirect_urls: vec![format!("{base}/connector/callback")],
                ..SimConfig::default()
            },
        )
        .await
        .expect("sim");
        let mut hubspot = spokes_hubspot::HubSpotConfig::pointing_at(&sim.base_url);
        if let Some(secs) = options.request_timeout_secs {
            hubspot.request_timeout_secs = secs;
        }
        let mut outage = None;
        if options.outage_switch {
            let (url, switch) = start_outage_switch(sim.base_url.clone()).await;
            hubspot.api_url = url;
            outage = Some(switch);
        }
        let config = ServerConfig {
            allowed_return_origins: options.allowed_return_origins,
            refuse_test_accounts: options.refuse_test_accounts,
            events: options.events,
            sweep_interval: options.sweep_interval.unwrap_or(Duration::from_secs(600)),
            utility: spokes_engine::UtilityConfig {
                http_allow_private: options.http_allow_private,
                ..Default::default()
            },
            // The clock is the test's: the worker looks for due jobs often in real time.
            worker: spokes_engine::WorkerConfig {
                poll_interval: Duration::from_millis(20),
                ..Default::default()
            },
            ..ServerConfig::local(
                base.clone(),
                hubspot,
                spokes_core::Secret::from("test-console-secret"),
            )
        };
        let clock = ManualClock::starting_now();
        let env = Self {
            sim,
            base,
            key: String::new(),
            store,
            clock,
            // No redirects followed: the tests play the browser step by step.
            http: spokes_core::http::build_client(Duration::from_secs(30)),
            database_url,
            outage,
            keys,
            config,
            _dir: dir,
        };
        env.spawn_server(listener, env.store.clone());
        let key = env.create_key(None).await;
        Self { key, ..env }
    }

    fn spawn_server(&self, listener: TcpListener, store: Arc<dyn Store>) {
        let state = AppState::new(self.config.clone(), store, Arc::new(self.clock.clone()));
        tokio::spawn(spokes_server::serve(
            listener,
            state,
            std::future::pending(),
        ));
    }

    /// Another server process on the same database and clock; returns its base URL.
    pub async fn second_instance(&self) -> String {
        let store = spokes_store::connect(&self.database_url, self.keys.clone())
            .await
            .expect("second store");
        let (listener, base) = bind().await;
        self.spawn_server(listener, store);
        base
    }

    pub async fn create_key(&self, account: Option<&str>) -> String {
        self.create_key_with(account, false, true).await
    }

    /// A key with the given rights: `read_only` may not write, `confirm_writes` false lets
    /// its agents write without a preview first.
    pub async fn create_key_with(
        &self,
        account: Option<&str>,
        read_only: bool,
        confirm_writes: bool,
    ) -> String {
        let (key, hash) = spokes_server::new_api_key();
        self.store
            .create_api_key(&ApiKey {
                id: spokes_core::token::new_id("key"),
                name: "test".into(),
                key_hash: hash,
                account_id: account.map(str::to_string),
                read_only,
                confirm_writes,
                created_at: 0,
                revoked_at: None,
            })
            .await
            .expect("key");
        key
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(&self.key, method, path)
    }

    pub fn request_as(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key)
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        read(
            self.request(method, path)
                .json(&body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        read(self.request(Method::GET, path).send().await.expect("send")).await
    }

    pub async fn sim_json(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, value) = read(request.send().await.expect("sim")).await;
        assert!(status.is_success(), "sim {path}: {status} {value}");
        value
    }

    pub async fn token_requests(&self, grant: &str) -> u64 {
        self.sim_json(Method::GET, "/_sim/counters", None).await["token_requests"][grant]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn portal_id(&self, name: &str) -> i64 {
        let portals = self.sim_json(Method::GET, "/_sim/portals", None).await;
        portals
            .as_array()
            .expect("portals")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["id"].as_i64())
            .unwrap_or_else(|| panic!("no portal {name}"))
    }

    /// Sets the connector up with the simulator's sandbox app.
    pub async fn setup_connector(&self, properties: Value) {
        let (status, body) = self
            .send_json(
                Method::PUT,
                "/v1/connectors/hubspot/setup",
                json!({
                    "client_id": self.sim.sandbox_app.client_id,
                    "client_secret": self.sim.sandbox_app.client_secret,
                    "properties": properties,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Creates account `id`, named after it.
    pub async fn create_account(&self, id: &str) {
        let (status, body) = self
            .send_json(Method::POST, "/v1/accounts", json!({"id": id, "name": id}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Creates the account (if needed) and a HubSpot installation; returns the installation id.
    pub async fn new_installation(&self, account: &str, properties: Value) -> String {
        let (status, _) = self
            .send_json(
                Method::POST,
                "/v1/accounts",
                json!({"id": account, "name": account}),
            )
            .await;
        assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT);
        let (status, body) = self
            .send_json(
                Method::POST,
                &format!("/v1/accounts/{account}/connectors"),
                json!({"connector": "hubspot", "properties": properties}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_string()
    }

    pub async fn auth_link(&self, account: &str, installation: &str, body: Value) -> String {
        let (status, link) = self
            .send_json(
                Method::POST,
                &format!("/v1/accounts/{account}/connectors/{installation}/auth-link"),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{link}");
        link["url"].as_str().expect("url").to_string()
    }

    /// What a GET of an auth link shows (it does not use the link up).
    pub async fn link_page(&self, link: &str) -> Response {
        self.http.get(link).send().await.expect("connect page")
    }

    /// Presses the link page's "Continue to HubSpot": POSTs its form as a browser would.
    pub async fn continue_link(&self, link: &str) -> Response {
        let page = self.link_page(link).await;
        assert_eq!(page.status(), StatusCode::OK, "the link page");
        let html = page.text().await.expect("html");
        assert!(html.contains("Continue to HubSpot"), "{html}");
        let action = attribute_after(&html, "<form method=\"post\" action=\"");
        let token = attribute_after(&html, "name=\"token\" value=\"");
        self.http
            .post(format!("{}{action}", self.base))
            .form(&[("token", token)])
            .send()
            .await
            .expect("continue")
    }

    /// Follows an auth link to HubSpot's consent page (GET the page, POST its form); returns
    /// the authorize URL.
    pub async fn open_link(&self, link: &str) -> String {
        redirect_target_with(self.continue_link(link).await, StatusCode::SEE_OTHER).await
    }

    /// What the customer's browser does on the consent page: choose a portal and decide.
    /// Returns the redirect target HubSpot sends the browser to.
    pub async fn consent(&self, authorize_url: &str, portal_id: i64, decision: &str) -> String {
        let page = self
            .http
            .get(authorize_url)
            .send()
            .await
            .expect("authorize");
        assert_eq!(page.status(), StatusCode::OK, "consent page");
        let url = url::Url::parse(authorize_url).expect("url");
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("portal_id".into(), portal_id.to_string()));
        form.push(("decision".into(), decision.into()));
        let response = self
            .http
            .post(format!("{}/oauth/authorize", self.sim.base_url))
            .form(&form)
            .send()
            .await
            .expect("decide");
        redirect_target(response).await
    }

    /// Auth link → consent page → decision; returns where HubSpot sends the browser back to.
    pub async fn consent_via_link(
        &self,
        account: &str,
        installation: &str,
        link_body: Value,
        portal: &str,
        decision: &str,
    ) -> String {
        let link = self.auth_link(account, installation, link_body).await;
        let authorize = self.open_link(&link).await;
        self.consent(&authorize, self.portal_id(portal).await, decision)
            .await
    }

    pub async fn tokens(&self, installation: &str) -> spokes_core::TokenSet {
        self.store
            .get_tokens(installation)
            .await
            .expect("read tokens")
            .expect("the installation has tokens")
    }

    /// Revokes the installation's refresh token at HubSpot behind Spokes' back.
    pub async fn revoke_at_hubspot(&self, installation: &str) {
        let tokens = self.tokens(installation).await;
        self.sim_json(
            Method::POST,
            "/_sim/tokens/revoke",
            Some(json!({"token": tokens.refresh_token.expose_secret()})),
        )
        .await;
    }

    /// The whole browser flow for one installation; returns the callback's response.
    pub async fn connect(
        &self,
        account: &str,
        installation: &str,
        portal: &str,
        decision: &str,
    ) -> Response {
        let callback = self
            .consent_via_link(account, installation, json!({}), portal, decision)
            .await;
        assert!(
            callback.starts_with(&format!("{}/connector/callback?", self.base)),
            "{callback}"
        );
        self.http.get(&callback).send().await.expect("callback")
    }

    pub async fn installation(&self, account: &str, installation: &str) -> Value {
        let (status, body) = self
            .get_json(&format!("/v1/accounts/{account}/connectors/{installation}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A connected `Acme Inc` installation in account `acme`.
    pub async fn connected(&self) -> String {
        self.setup_connector(json!({})).await;
        let id = self.new_installation("acme", json!({})).await;
        let response = self.connect("acme", &id, "Acme Inc", "allow").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            self.installation("acme", &id).await["status"],
            "authenticated"
        );
        id
    }

    pub async fn call(&self, base: &str, installation: &str, method: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!(
                "{base}/v1/accounts/acme/connectors/{installation}/methods/{method}"
            ))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("call");
        read(response).await
    }
}

impl TestEnv {
    /// `n` concurrent `account.get` calls spread over the given servers.
    pub async fn call_concurrently(
        &self,
        bases: &[String],
        installation: &str,
        n: usize,
    ) -> Vec<(StatusCode, Value)> {
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..n {
            let request = self
                .http
                .post(format!(
                    "{}/v1/accounts/acme/connectors/{installation}/methods/account.get",
                    bases[i % bases.len()]
                ))
                .bearer_auth(&self.key);
            calls.spawn(async move { read(request.send().await.expect("call")).await });
        }
        calls.join_all().await
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts a 302 and returns its target.
pub async fn redirect_target(response: Response) -> String {
    redirect_target_with(response, StatusCode::FOUND).await
}

/// Asserts a redirect with `expected` status and returns its target.
pub async fn redirect_target_with(response: Response, expected: StatusCode) -> String {
    let status = response.status();
    if status != expected {
        panic!(
            "expected a redirect, got {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    location(&response)
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location header")
        .to_string()
}

/// The value of the first attribute that follows `prefix` (which ends with its opening quote).
pub fn attribute_after(html: &str, prefix: &str) -> String {
    let at = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {html}"))
        + prefix.len();
    html[at..].split('"').next().expect("value").to_string()
}

pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}
