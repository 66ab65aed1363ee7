//! The one execution path of a catalogue method, shared by the partner API and (later) the
//! agents' tools and the cycles: the scope gate, a fresh token, the generic client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spokes_core::{Clock, ExposeSecret, Installation, InstallationStatus, Secret, TokenSet};
use spokes_hubspot::catalogue::MethodDef;
use spokes_hubspot::client::{Caller, Pages, ProxyAnswer, Records};
use spokes_hubspot::limiter::RateLimiter;
use spokes_hubspot::{ApiClient, HubSpotConfig, MethodError, MethodInput, MethodOutput, scopes};
use spokes_store::Store;

use crate::tokens::{TokenError, TokenManager};

pub struct Methods {
    tokens: Arc<TokenManager>,
    client: ApiClient,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Methods {
    pub fn new(
        tokens: Arc<TokenManager>,
        config: HubSpotConfig,
        limiter: Arc<dyn RateLimiter>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            client: ApiClient::new(config, limiter),
            store,
            clock,
        }
    }

    /// Runs `method` on the installation's portal; a write with an `idempotency_key` runs
    /// at most once per key. `stored` are the installation's tokens when they were read
    /// with it (else they are read here).
    pub async fn call(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
        method: &MethodDef,
        input: &MethodInput,
        idempotency_key: Option<&str>,
    ) -> Result<MethodOutput, MethodError> {
        match idempotency_key {
            Some(key) if method.writes => {
                self.call_once(installation, stored, method, input, key)
                    .await
            }
            _ => self.run(installation, stored, method, input).await,
        }
    }

    /// The call itself: the scope gate, a fresh token, the generic client.
    pub(crate) async fn run(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
        method: &MethodDef,
        input: &MethodInput,
    ) -> Result<MethodOutput, MethodError> {
        let started = Instant::now();
        let result = async {
            let token = self.gated_token(installation, stored, method).await?;
            self.client
                .execute(method, input, caller(installation, &token))
                .await
        }
        .await;
        record(&installation.id, method, started, result.as_ref().err());
        result
    }

    /// The HubSpot request `method` would send for `input` (see [`ApiClient::preview`]),
    /// after the scope gate; nothing is sent (the portal's properties may be read to check
    /// the fields).
    pub async fn preview(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
        method: &MethodDef,
        input: &MethodInput,
    ) -> Result<serde_json::Value, MethodError> {
        let token = self.gated_token(installation, stored, method).await?;
        self.client
            .preview(method, input, caller(installation, &token))
            .await
    }

    /// The scope gate, then a fresh access token.
    async fn gated_token(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
        method: &MethodDef,
    ) -> Result<Secret, MethodError> {
        gate(installation, method)?;
        self.tokens
            .access_token_with(installation, stored)
            .await
            .map_err(token_error)
    }

    /// Every record of a paged `method` from `paging.after` on (`paging.all` implied), one
    /// HubSpot page at a time: the next page is fetched only when the consumer asks for it.
    /// The scope gate, the token, the checks of the input and the first page come before
    /// this answers, so an error before the first record is an `Err` here; a later one is
    /// the last item of the stream.
    pub async fn call_stream(
        self: &Arc<Self>,
        installation: Installation,
        stored: Option<&TokenSet>,
        method: &'static MethodDef,
        input: MethodInput,
    ) -> Result<MethodStream, MethodError> {
        let started = Instant::now();
        let opened = async {
            let token = self.gated_token(&installation, stored, method).await?;
            let pages = self
                .client
                .pages(method, &input, caller(&installation, &token))
                .await?;
            Ok::<_, MethodError>((token, pages))
        }
        .await;
        let (token, pages) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                record(&installation.id, method, started, Some(&error));
                return Err(error);
            }
        };
        let mut walk = Walk {
            methods: self.clone(),
            installation,
            method,
            input,
            pages,
            token,
            token_at: Instant::now(),
        };
        // Up to the first record (or the end), so that an early error answers as usual.
        let first = loop {
            let result;
            (walk, result) = walk.fetch().await;
            match result {
                Ok(Some(page)) if page.is_empty() => continue,
                Ok(page) => break page,
                Err(error) => {
                    record(&walk.installation.id, method, started, Some(&error));
                    return Err(error);
                }
            }
        };
        let mut stream = MethodStream {
            installation_id: walk.installation.id.clone(),
            method,
            first,
            state: Walker::Idle(Box::new(walk)),
            started,
            finished: false,
        };
        if stream.first.is_none() || stream.done() {
            stream.finish(None);
        }
        Ok(stream)
    }
}

/// A token older than this is asked for again before the next page (the token manager
/// refreshes it when near expiry), so a long stream outlives one access token.
const STREAM_TOKEN_AGE: Duration = Duration::from_secs(60);

/// The records of [`Methods::call_stream`], page by page. When the consumer takes a page,
/// the next one is requested (one page ahead, never more), so HubSpot's latency overlaps
/// the consumer's work while memory stays at two pages. Metrics and the log see the stream
/// once, as one call, when it ends (or is dropped: outcome `cancelled`).
pub struct MethodStream {
    installation_id: String,
    method: &'static MethodDef,
    /// The first non-empty page, fetched by `call_stream`.
    first: Option<Records>,
    state: Walker,
    started: Instant,
    finished: bool,
}

/// Where the walk is: waiting for the consumer, fetching the next page, or over.
enum Walker {
    Idle(Box<Walk>),
    Ahead(tokio::task::JoinHandle<(Box<Walk>, PageResult)>),
    Over,
}

type PageResult = Result<Option<Records>, MethodError>;

/// What a page request needs, owned, so that it can run ahead in a task of its own.
struct Walk {
    methods: Arc<Methods>,
    installation: Installation,
    method: &'static MethodDef,
    input: MethodInput,
    pages: Pages,
    token: Secret,
    token_at: Instant,
}

impl Walk {
    /// The next page from HubSpot (`None` after the last), and the walk back.
    async fn fetch(mut self) -> (Self, PageResult) {
        let result = self.fetch_page().await;
        (self, result)
    }

    async fn fetch_page(&mut self) -> PageResult {
        if self.pages.done() {
            return Ok(None);
        }
        if self.token_at.elapsed() > STREAM_TOKEN_AGE {
            self.token = self
                .methods
                .tokens
                .access_token(&self.installation)
                .await
                .map_err(token_error)?;
            self.token_at = Instant::now();
        }
        let caller = caller(&self.installation, &self.token);
        self.methods
            .client
            .next_page(self.method, &self.input, &mut self.pages, caller)
            .await
    }
}

impl MethodStream {
    /// The next page's records (never empty), `None` after the last; after an `Err` the
    /// stream ends.
    pub async fn next_page(&mut self) -> Option<Result<Records, MethodError>> {
        if let Some(first) = self.first.take() {
            self.run_ahead();
            return Some(Ok(first));
        }
        loop {
            let (walk, result) = match std::mem::replace(&mut self.state, Walker::Over) {
                Walker::Over => return None,
                Walker::Idle(walk) => {
                    let (walk, result) = walk.fetch().await;
                    (Box::new(walk), result)
                }
                Walker::Ahead(task) => match task.await {
                    Ok(fetched) => fetched,
                    Err(error) => {
                        tracing::error!(method = %self.method.id, error = %error, "a page request of a method stream failed");
                        let error = MethodError::new(
                            500,
                            "internal",
                            "something went wrong inside Spokes; the server log has the details",
                        );
                        self.finish(Some(&error));
                        return Some(Err(error));
                    }
                },
            };
            match result {
                Ok(Some(page)) => {
                    self.state = Walker::Idle(walk);
                    if self.done() {
                        self.finish(None);
                    }
                    if page.is_empty() {
                        continue;
                    }
                    self.run_ahead();
                    return Some(Ok(page));
                }
                Ok(None) => {
                    self.finish(None);
                    return None;
                }
                Err(error) => {
                    self.finish(Some(&error));
                    return Some(Err(error));
                }
            }
        }
    }

    /// Whether HubSpot has no page left.
    fn done(&self) -> bool {
        match &self.state {
            Walker::Idle(walk) => walk.pages.done(),
            Walker::Ahead(_) => false,
            Walker::Over => true,
        }
    }

    /// Requests the next page while the consumer works on this one.
    fn run_ahead(&mut self) {
        if self.done() {
            self.state = Walker::Over;
            return;
        }
        if let Walker::Idle(walk) = std::mem::replace(&mut self.state, Walker::Over) {
            self.state = Walker::Ahead(tokio::spawn(async move {
                let (walk, result) = walk.fetch().await;
                (Box::new(walk), result)
            }));
        }
    }

    fn finish(&mut self, error: Option<&MethodError>) {
        if !self.finished {
            self.finished = true;
            record(&self.installation_id, self.method, self.started, error);
        }
    }
}

impl Drop for MethodStream {
    fn drop(&mut self) {
        if let Walker::Ahead(task) = &self.state {
            task.abort();
        }
        if !self.finished {
            self.finished = true;
            tracing::info!(installation.id = %self.installation_id, method = %self.method.id, "method stream ended before its last record (the caller went away)");
            metrics::counter!("spokes_hubspot_calls_total", "method" => self.method.id.clone(), "outcome" => "cancelled").increment(1);
            metrics::histogram!("spokes_hubspot_call_duration_seconds", "method" => self.method.id.clone())
                .record(self.started.elapsed().as_secs_f64());
        }
    }
}

/// The scope gate: the installation's granted scopes against the method's scope sets.
fn gate(installation: &Installation, method: &MethodDef) -> Result<(), MethodError> {
    if installation.status == InstallationStatus::Authenticated {
        let granted = installation.granted_scopes();
        if !scopes::satisfies(granted, &method.scopes) {
            return Err(MethodError::missing_scopes(
                method,
                &method.scopes,
                &seat_hint(method, granted),
            ));
        }
    }
    Ok(())
}

fn caller<'a>(installation: &'a Installation, token: &'a Secret) -> Caller<'a> {
    Caller {
        access_token: token.expose_secret(),
        portal_id: installation.portal.as_ref().map_or(0, |p| p.portal_id),
        installation_id: &installation.id,
    }
}

/// A finished call in the metrics (and a failed one in the log).
fn record(
    installation_id: &str,
    method: &MethodDef,
    started: Instant,
    error: Option<&MethodError>,
) {
    let outcome = match error {
        None => "ok",
        Some(error) => {
            tracing::info!(installation.id = %installation_id, method = %method.id, code = error.code, http.status = error.status, "method call failed");
            error.code
        }
    };
    metrics::counter!("spokes_hubspot_calls_total", "method" => method.id.clone(), "outcome" => outcome).increment(1);
    metrics::histogram!("spokes_hubspot_call_duration_seconds", "method" => method.id.clone())
        .record(started.elapsed().as_secs_f64());
}

impl Methods {
    /// Sends any HubSpot API request with the installation's token and the portal's budget.
    pub async fn proxy(
        &self,
        installation: &Installation,
        stored: Option<&TokenSet>,
        verb: reqwest::Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: bytes::Bytes,
    ) -> Result<ProxyAnswer, MethodError> {
        let token = self
            .tokens
            .access_token_with(installation, stored)
            .await
            .map_err(token_error)?;
        self.client
            .proxy(
                verb,
                path_and_query,
                content_type,
                body,
                caller(installation, &token),
            )
            .await
    }
}

/// HubSpot's consent drops `e-commerce` for a user without a paid Sales Hub seat.
fn seat_hint(method: &MethodDef, granted: &[String]) -> String {
    let needs_commerce = method
        .scopes
        .iter()
        .any(|set| set.iter().any(|s| s == "e-commerce"));
    if needs_commerce && !granted.iter().any(|g| g == "e-commerce") {
        " HubSpot grants `e-commerce` only when the user who connects has a paid Sales Hub seat: if it was requested and is still missing, that user needs a seat.".into()
    } else {
        String::new()
    }
}

fn token_error(err: TokenError) -> MethodError {
    let message = err.to_string();
    match err {
        TokenError::NotConnected => MethodError::new(409, "not_connected", message),
        TokenError::NeedsReauth(_) => MethodError::new(409, "needs_reauth", message),
        TokenError::SetupMissing => MethodError::new(409, "setup_missing", message),
        TokenError::Unavailable(_) => MethodError::unavailable(message),
        TokenError::Store(store) => {
            tracing::error!(error = %store, "could not read the installation's tokens");
            MethodError::new(
                500,
                "internal",
                "something went wrong inside Spokes; the server log has the details",
            )
        }
    }
}
