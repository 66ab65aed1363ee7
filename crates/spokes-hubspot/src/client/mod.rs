//! One generic client that executes any catalogue method from its definition: validates the
//! input, builds the HubSpot request, follows pages, retries what is safe to retry and
//! normalises HubSpot's errors. No method has call code of its own.

mod error;
mod input;
mod properties;
mod proxy;
mod window;

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{Map, Value};

use crate::catalogue::{Body, Location, MethodDef, Paging, Verb};
use crate::config::HubSpotConfig;
use crate::limiter::{After429, PortalKey, RateHeaders, RateLimiter};

pub use error::MethodError;
pub use input::{MethodInput, PagingInput};
use properties::PropertyCache;
pub use proxy::ProxyAnswer;

/// What a method answered: `data` and, for a page of a paged method, the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodOutput {
    pub data: Value,
    pub next: Option<String>,
}

/// Whose call it is: the access token, the portal whose rate-limit budget it spends, and the
/// installation the portal's properties are cached for.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub access_token: &'a str,
    pub portal_id: i64,
    pub installation_id: &'a str,
}

impl Caller<'_> {
    /// A deployment has one HubSpot app, so the portal alone names the budget.
    fn budget_key(&self) -> PortalKey {
        PortalKey::new(crate::connector::CONNECTOR_ID, self.portal_id)
    }
}

/// HubSpot's largest page for list and search requests.
const MAX_PAGE: u32 = 100;
/// Attempts of one request whose retry is safe.
const ATTEMPTS: usize = 3;

pub struct ApiClient {
    config: HubSpotConfig,
    http: reqwest::Client,
    properties: PropertyCache,
    limiter: Arc<dyn RateLimiter>,
}

/// A request ready to send: the full URL and the JSON body, if any.
struct Outgoing {
    url: String,
    body: Option<Value>,
}

/// One HTTP answer from HubSpot, or why none arrived.
enum Answer {
    Ok(Value),
    Failed(MethodError),
}

/// A request that could not be completed; `maybe_acted` when HubSpot may have received it.
struct Transport {
    maybe_acted: bool,
    message: String,
}

impl ApiClient {
    pub fn new(config: HubSpotConfig, limiter: Arc<dyn RateLimiter>) -> Self {
        let http = crate::http::build_client(config.request_timeout());
        Self {
            config,
            http,
            properties: PropertyCache::default(),
            limiter,
        }
    }

    /// Runs `method` for `caller`. Every check on the input happens before anything is sent.
    pub async fn execute(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<MethodOutput, MethodError> {
        input::check(method, input)?;
        if let Body::Properties { object_type, .. } = &method.body {
            let known = self.properties.get(self, object_type, caller).await;
            input::check_fields(method, &input.fields, known.as_deref())?;
        }
        match method.paging {
            Paging::Window { date_property } => {
                return self.window(method, input, date_property, caller).await;
            }
            Paging::Cursor if input.paging.all => {
                return self.all_pages(method, input, caller).await;
            }
            _ => {}
        }
        let outgoing = self.request(method, input, input.paging.after.as_deref());
        let page = self.send(method, &outgoing, caller).await?;
        Ok(split_page(method, page))
    }

    async fn all_pages(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<MethodOutput, MethodError> {
        let mut records = Vec::new();
        let mut after = input.paging.after.clone();
        loop {
            let outgoing = self.request(method, input, after.as_deref());
            let page = split_page(method, self.send(method, &outgoing, caller).await?);
            if let Value::Array(results) = page.data {
                records.extend(results);
            }
            match page.next {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => break,
            }
        }
        Ok(MethodOutput {
            data: Value::Array(records),
            next: None,
        })
    }

    /// One request, retried when that is safe: reads on any transient failure, writes only
    /// when HubSpot cannot have acted (the connection was refused, or a 429).
    async fn send(
        &self,
        method: &MethodDef,
        outgoing: &Outgoing,
        caller: Caller<'_>,
    ) -> Result<Value, MethodError> {
        let attempt = || async {
            match self.send_once(method, outgoing, caller).await {
                Ok(Answer::Ok(value)) => Ok(value),
                Ok(Answer::Failed(error)) => Err(Retry::Answered(error)),
                Err(transport) => Err(Retry::Transport(transport)),
            }
        };
        let result = attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(ATTEMPTS - 1)
                    .with_jitter(),
            )
            .when(|retry| retry.is_safe(method))
            .notify(|retry, wait| {
                tracing::info!(method = %method.id, reason = %retry.reason(), wait_ms = wait.as_millis() as u64, "retrying a HubSpot call");
            })
            .await;
        match result {
            Ok(value) => Ok(value),
            Err(Retry::Answered(error)) if method.absent_is_null && error.code == "not_found" => {
                Ok(Value::Null)
            }
            Err(Retry::Answered(error)) => Err(error),
            Err(Retry::Transport(t)) if method.writes && t.maybe_acted => {
                Err(MethodError::outcome_unknown(method, &t.message))
            }
            Err(Retry::Transport(t)) => Err(MethodError::unavailable(format!(
                "HubSpot could not be reached for `{}` ({}); try again shortly",
                method.id, t.message
            ))),
        }
    }

    async fn send_once(
        &self,
        method: &MethodDef,
        outgoing: &Outgoing,
        caller: Caller<'_>,
    ) -> Result<Answer, Transport> {
        let budget = method.budget();
        let key = caller.budget_key();
        let waited = self.limiter.acquire(&key, budget).await;
        if !waited.is_zero() {
            tracing::debug!(method = %method.id, portal.id = caller.portal_id, wait_ms = waited.as_millis() as u64, "waited for the portal's rate-limit budget");
        }
        let sent_at = tokio::time::Instant::now();
        let mut request = self
            .http
            .request(http_method(method.verb), &outgoing.url)
            .bearer_auth(caller.access_token);
        if let Some(body) = &outgoing.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| Transport {
            // A refused connection never reached HubSpot; anything later might have.
            maybe_acted: !e.is_connect(),
            message: if e.is_timeout() {
                "HubSpot did not answer in time".into()
            } else if e.is_connect() {
                "the connection to HubSpot failed".into()
            } else {
                "the connection to HubSpot broke".into()
            },
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.limiter
            .observe(&key, budget, sent_at, &RateHeaders::parse(&headers));
        let bytes = response.bytes().await.map_err(|_| Transport {
            maybe_acted: true,
            message: "HubSpot's answer broke off".into(),
        })?;
        if status == 429 {
            return Ok(Answer::Failed(
                match self.limiter.rate_limited(&key, budget, &headers, &bytes) {
                    // The limiter now holds the budget back; the retry waits in `acquire`.
                    After429::RetryAfter(_) => MethodError::from_hubspot(method, status, &bytes),
                    After429::GiveUp { reset_at } => MethodError::daily_limit(method, reset_at),
                },
            ));
        }
        if !(200..300).contains(&status) {
            tracing::debug!(method = %method.id, http.status = status, "HubSpot refused a call");
            return Ok(Answer::Failed(MethodError::from_hubspot(
                method, status, &bytes,
            )));
        }
        if bytes.is_empty() {
            return Ok(Answer::Ok(Value::Null));
        }
        serde_json::from_slice(&bytes)
            .map(Answer::Ok)
            .map_err(|_| Transport {
                maybe_acted: true,
                message: "HubSpot answered with a body that is not JSON".into(),
            })
    }

    /// The URL and JSON body of `method` for `input`, on the page after `after`.
    fn request(&self, method: &MethodDef, input: &MethodInput, after: Option<&str>) -> Outgoing {
        let mut path = self.config.method_path(&method.path);
        let mut query: Vec<(String, String)> = Vec::new();
        let mut body = Map::new();
        for param in &method.params {
            let Some(value) = input.parameters.get(&param.name) else {
                continue;
            };
            match param.location {
                Location::Path => {
                    let segment = crate::oauth::percent_encode(&scalar_text(value));
                    path = path.replace(&format!("{{{}}}", param.name), &segment);
                }
                Location::Query => query.push((param.name.clone(), scalar_text(value))),
                Location::Body => {
                    body.insert(param.name.clone(), value.clone());
                }
            }
        }
        if method.paging == Paging::Cursor {
            let limit = input.paging.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
            if method.body == Body::Params {
                body.insert("limit".into(), limit.into());
                if let Some(after) = after {
                    body.insert("after".into(), after.into());
                }
            } else {
                query.push(("limit".into(), limit.to_string()));
                if let Some(after) = after {
                    query.push(("after".into(), after.to_string()));
                }
            }
        }
        let body = match &method.body {
            Body::None => None,
            Body::Properties { .. } => Some(serde_json::json!({ "properties": input.fields })),
            Body::Params => Some(Value::Object(body)),
        };
        let mut url = self.config.api(&path);
        if !query.is_empty() {
            let encoded: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::oauth::percent_encode(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encoded.join("&"));
        }
        Outgoing { url, body }
    }
}

/// Why an attempt failed, and whether another one is safe.
enum Retry {
    Answered(MethodError),
    Transport(Transport),
}

impl Retry {
    fn is_safe(&self, method: &MethodDef) -> bool {
        match self {
            // A 429 was refused before HubSpot acted (the daily limit is not retried: it lasts
            // until tomorrow); 5xx may have acted on a write.
            Self::Answered(e) if e.code == "rate_limited" => e.details.is_null(),
            Self::Answered(e) => e.code == "hubspot_unavailable" && !method.writes,
            Self::Transport(t) => !method.writes || !t.maybe_acted,
        }
    }

    fn reason(&self) -> String {
        match self {
            Self::Answered(e) => e.code.to_string(),
            Self::Transport(t) => t.message.clone(),
        }
    }
}

/// A paged answer's records and next cursor; other answers as they are.
fn split_page(method: &MethodDef, answer: Value) -> MethodOutput {
    if method.paging != Paging::Cursor {
        return MethodOutput {
            data: answer,
            next: None,
        };
    }
    let next = answer["paging"]["next"]["after"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            answer["paging"]["next"]["after"]
                .as_i64()
                .map(|n| n.to_string())
        });
    let data = match answer {
        Value::Object(mut map) => map.remove("results").unwrap_or(Value::Array(Vec::new())),
        other => other,
    };
    MethodOutput { data, next }
}

/// A parameter value as it goes into a path or a query: strings as they are, lists joined
/// with commas.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn http_method(verb: Verb) -> reqwest::Method {
    match verb {
        Verb::Get => reqwest::Method::GET,
        Verb::Post => reqwest::Method::POST,
        Verb::Patch => reqwest::Method::PATCH,
        Verb::Put => reqwest::Method::PUT,
        Verb::Delete => reqwest::Method::DELETE,
    }
}
