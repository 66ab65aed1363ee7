//! One generic client that executes any catalogue method from its definition: validates the
//! input, builds the HubSpot request, follows pages, retries what is safe to retry and
//! normalises HubSpot's errors. No method has call code of its own unless HubSpot's shape
//! forces it (`deal_products`).

mod deal_products;
mod error;
mod input;
mod pages;
mod properties;
mod proxy;
mod settle;
mod window;

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{Map, Value};

use crate::catalogue::{
    Body, Composite, Data, Family, Location, MethodDef, Pager, Paging, Shape, SinceOrder, Verb,
};
use crate::config::HubSpotConfig;
use crate::limiter::{After429, PortalKey, RateHeaders, RateLimiter};

pub use error::MethodError;
pub use input::{MethodInput, PagingInput};
pub use pages::{Pages, Records};
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

/// The waits between attempts of one HubSpot request (method calls and the proxy alike).
fn request_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_times(ATTEMPTS - 1)
        .with_jitter()
}

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
    /// Another verb than the method's (a lookup made on a create's behalf).
    verb: Option<reqwest::Method>,
}

/// One HTTP answer from HubSpot, or why none arrived.
enum Answer<T> {
    Ok(T),
    Failed(MethodError),
}

/// What a successful answer's body is read as: a JSON tree (`Value`), or a page whose records
/// pass through as HubSpot wrote them ([`pages::RawPage`]); `Default` is an empty body, or a
/// lookup that found nothing.
trait Answered: serde::de::DeserializeOwned + Default {}

impl<T: serde::de::DeserializeOwned + Default> Answered for T {}

/// A request that could not be completed; `maybe_acted` when HubSpot may have received it.
struct Transport {
    maybe_acted: bool,
    /// A short label for metrics: `timeout`, `connect`, `reset`, `body`.
    kind: &'static str,
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
    /// With `paging.all` it collects the walk of [`ApiClient::pages`]; a caller that streams
    /// the records walks it itself with [`ApiClient::next_page`].
    pub async fn execute(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<MethodOutput, MethodError> {
        let since = self.prepare(method, input, caller).await?;
        let result = match method.paging {
            _ if method.composite == Some(Composite::DealProducts) => {
                self.deal_products(method, input, caller).await
            }
            Paging::Cursor | Paging::Window { .. } if input.paging.all => {
                let pages = Pages::start(method, input, since)?;
                self.collect_pages(method, input, pages, caller)
                    .await
                    .map(|records| MethodOutput {
                        data: Value::Array(records),
                        next: None,
                    })
            }
            Paging::Window { .. } => {
                let mut pages = Pages::start(method, input, since)?;
                self.next_page(method, input, &mut pages, caller)
                    .await
                    .map(|records| MethodOutput {
                        data: Value::Array(records.map(Records::into_values).unwrap_or_default()),
                        next: pages.cursor(),
                    })
            }
            _ => {
                // One answer as HubSpot gives it (a page keeps its shape: `Data::First`).
                let outgoing = self.request(method, input, input.paging.after.as_deref());
                let sent = match self.send(method, &outgoing, caller).await {
                    Err(lost) if lost.code == "outcome_unknown" => {
                        self.settle_lost_create(method, input, &outgoing, caller, lost)
                            .await
                    }
                    other => other,
                };
                sent.map(|page| split_page(method, page, since))
            }
        };
        if method.writes && method.path.family == Family::Properties {
            // The portal's properties just changed (or may have): the next write of a record
            // must know them at once, not a minute later.
            if let Some(object_type) = method.path.rest.split('/').nth(1) {
                self.properties.forget(caller.installation_id, object_type);
            }
        }
        result
    }

    /// What `method` would send for `input` (verb, URL and JSON body), after every check
    /// [`ApiClient::execute`] makes first; nothing is sent. Agents are shown it before a
    /// write is confirmed.
    pub async fn preview(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<Value, MethodError> {
        self.prepare(method, input, caller).await?;
        let outgoing = self.request(method, input, input.paging.after.as_deref());
        Ok(serde_json::json!({
            "method": method.verb.as_str(),
            "url": outgoing.url,
            "body": outgoing.body,
        }))
    }

    /// The checks before anything is sent (the fields of a write against the portal's
    /// properties too); the `since` of a method that filters by it, as Unix milliseconds.
    async fn prepare(
        &self,
        method: &MethodDef,
        input: &MethodInput,
        caller: Caller<'_>,
    ) -> Result<Option<i64>, MethodError> {
        input::check(method, input)?;
        match &method.body {
            Body::Properties { object_type, .. }
            | Body::Upsert {
                object_type,
                batch: false,
                ..
            } => {
                let known = self.properties.get(self, object_type, caller).await;
                input::check_fields(method, &input.fields, known.as_deref())?;
            }
            Body::Upsert {
                object_type,
                batch: true,
                ..
            } => {
                let known = self.properties.get(self, object_type, caller).await;
                for fields in input::batch_fields(input) {
                    input::check_fields(method, fields, known.as_deref())?;
                }
            }
            _ => {}
        }
        since_of(method, input)
    }

    /// One request, retried when that is safe: reads on any transient failure, writes only
    /// when HubSpot cannot have acted (the connection was refused, or a 429).
    async fn send<T: Answered>(
        &self,
        method: &MethodDef,
        outgoing: &Outgoing,
        caller: Caller<'_>,
    ) -> Result<T, MethodError> {
        let attempt = || async {
            match self.send_once(method, outgoing, caller).await {
                Ok(Answer::Ok(value)) => Ok(value),
                Ok(Answer::Failed(error)) => Err(Retry::Answered(error)),
                Err(transport) => Err(Retry::Transport(transport)),
            }
        };
        let result = attempt
            .retry(request_backoff())
            .when(|retry| retry.is_safe(method))
            .notify(|retry, wait| {
                metrics::counter!(
                    "spokes_hubspot_retries_total",
                    "method" => method.id.clone(),
                    "reason" => retry.label(),
                )
                .increment(1);
                tracing::info!(method = %method.id, reason = %retry.reason(), wait_ms = wait.as_millis() as u64, "retrying a HubSpot call");
            })
            .await;
        match result {
            Ok(value) => Ok(value),
            Err(Retry::Answered(error)) if method.absent_is_null && error.code == "not_found" => {
                Ok(T::default())
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

    async fn send_once<T: Answered>(
        &self,
        method: &MethodDef,
        outgoing: &Outgoing,
        caller: Caller<'_>,
    ) -> Result<Answer<T>, Transport> {
        let budget = method.budget();
        let key = caller.budget_key();
        let waited = self.limiter.acquire(&key, budget).await;
        metrics::histogram!("spokes_hubspot_limiter_wait_seconds").record(waited.as_secs_f64());
        if !waited.is_zero() {
            tracing::debug!(method = %method.id, portal.id = caller.portal_id, wait_ms = waited.as_millis() as u64, "waited for the portal's rate-limit budget");
        }
        let sent_at = tokio::time::Instant::now();
        let mut request = self
            .http
            .request(
                outgoing
                    .verb
                    .clone()
                    .unwrap_or_else(|| http_method(method.verb)),
                &outgoing.url,
            )
            .bearer_auth(caller.access_token);
        if let Some(body) = &outgoing.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| Transport {
            // A refused connection never reached HubSpot; anything later might have.
            maybe_acted: !e.is_connect(),
            kind: if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect"
            } else {
                "reset"
            },
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
            kind: "reset",
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
            return Ok(Answer::Ok(T::default()));
        }
        serde_json::from_slice::<T>(&bytes)
            .ok()
            .map(Answer::Ok)
            .ok_or_else(|| Transport {
                maybe_acted: true,
                kind: "body",
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
            if method.is_local(&param.name) {
                continue;
            }
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
        let shape = &method.shape;
        if !shape.equals.is_empty() {
            body.insert(
                "filterGroups".into(),
                serde_json::json!([{ "filters": equals_filters(method, input) }]),
            );
        }
        for (name, value) in shape.constants {
            body.insert((*name).into(), (*value).into());
        }
        if method.paging == Paging::Cursor {
            let limit = input
                .paging
                .limit
                .unwrap_or(shape.max_page)
                .clamp(1, shape.max_page);
            let (after_name, limit_name) = match shape.pager {
                Pager::After => ("after", "limit"),
                Pager::Offset { offset, limit, .. } => (offset, limit),
            };
            if method.body == Body::Params {
                body.insert(limit_name.into(), limit.into());
                if let Some(after) = after {
                    // Offsets are numbers in a JSON body.
                    let value = match (shape.pager, after.parse::<u64>()) {
                        (Pager::Offset { .. }, Ok(n)) => Value::from(n),
                        _ => Value::from(after),
                    };
                    body.insert(after_name.into(), value);
                }
            } else {
                query.push((limit_name.into(), limit.to_string()));
                if let Some(after) = after {
                    query.push((after_name.into(), after.to_string()));
                }
            }
        }
        let body = match &method.body {
            Body::None => None,
            Body::Properties { .. } => Some(serde_json::json!({ "properties": input.fields })),
            Body::Params => Some(Value::Object(body)),
            Body::Value(name) => Some(input.parameters.get(name).cloned().unwrap_or(Value::Null)),
            Body::Upsert {
                id_property,
                batch: false,
                ..
            } => Some(serde_json::json!({"inputs": [{
                "id": input.parameters.get(id_property).cloned().unwrap_or(Value::Null),
                "idProperty": id_property,
                "properties": input.fields,
            }]})),
            Body::Upsert {
                id_property,
                batch: true,
                ..
            } => {
                let inputs: Vec<Value> = input.parameters["inputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| {
                        serde_json::json!({
                            "id": item[id_property.as_str()].clone(),
                            "idProperty": id_property,
                            "properties": item["properties"].clone(),
                        })
                    })
                    .collect();
                Some(serde_json::json!({ "inputs": inputs }))
            }
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
        Outgoing {
            url,
            body,
            verb: None,
        }
    }
}

/// An id or a cursor as text: HubSpot gives association ids and some cursors as numbers,
/// record ids as strings.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
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

    /// The reason as a metrics label (few distinct values).
    fn label(&self) -> &'static str {
        match self {
            Self::Answered(e) => e.code,
            Self::Transport(t) => t.kind,
        }
    }

    fn reason(&self) -> String {
        match self {
            Self::Answered(e) => e.code.to_string(),
            Self::Transport(t) => t.message.clone(),
        }
    }
}

/// `data` and the next cursor of HubSpot's answer, by the method's shape: a paged answer's
/// records (kept, cut at `since`) and its next position; other answers as they are, or the
/// field or first record the shape names.
fn split_page(method: &MethodDef, answer: Value, since: Option<i64>) -> MethodOutput {
    let shape = &method.shape;
    if method.paging != Paging::Cursor {
        let data = match shape.data {
            Data::AsIs => {
                let mut answer = answer;
                if shape.keep.is_some()
                    && let Some(Value::Array(records)) = answer.get_mut(shape.records)
                {
                    records.retain(|r| kept(shape, r));
                }
                answer
            }
            Data::Field => answer.get(shape.records).cloned().unwrap_or(Value::Null),
            Data::First => first_record(shape, &answer),
        };
        return MethodOutput { data, next: None };
    }
    let mut next = match shape.pager {
        Pager::After => id_text(&answer["paging"]["next"]["after"]),
        Pager::Offset { next, has_more, .. } => answer[has_more]
            .as_bool()
            .unwrap_or(false)
            .then(|| id_text(&answer[next]))
            .flatten(),
    };
    let mut records = match answer {
        Value::Object(mut map) => match map.remove(shape.records) {
            Some(Value::Array(records)) => records,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    records.retain(|r| kept(shape, r));
    if let (Some(rule), Some(since)) = (shape.since, since) {
        let recent = |r: &Value| window::parse_since(&r[rule.field]).is_some_and(|at| at >= since);
        if rule.order == SinceOrder::NewestFirst
            && let Some(older) = records.iter().position(|r| !recent(r))
        {
            // Everything from here on is older: no further page.
            records.truncate(older);
            next = None;
        }
        records.retain(recent);
    }
    let data = match shape.data {
        Data::First => records.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(records),
    };
    MethodOutput { data, next }
}

fn kept(shape: &Shape, record: &Value) -> bool {
    shape
        .keep
        .is_none_or(|(field, value)| record[field].as_bool() == Some(value))
}

fn first_record(shape: &Shape, answer: &Value) -> Value {
    answer[shape.records]
        .as_array()
        .and_then(|records| records.iter().find(|r| kept(shape, r)))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The `since` of a method that filters by it, as Unix milliseconds.
fn since_of(method: &MethodDef, input: &MethodInput) -> Result<Option<i64>, MethodError> {
    if method.shape.since.is_none() {
        return Ok(None);
    }
    match input.parameters.get("since") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => window::parse_since(value).map(Some).ok_or_else(|| {
            MethodError::invalid_parameters(
                method,
                vec!["parameter `since` must be an RFC 3339 time or Unix milliseconds".into()],
            )
        }),
    }
}

/// The search filters `property EQ value` of the method's `equals`, from its parameters.
fn equals_filters(method: &MethodDef, input: &MethodInput) -> Vec<Value> {
    method
        .shape
        .equals
        .iter()
        .filter_map(|(property, param)| {
            let value = input.parameters.get(*param)?;
            Some(serde_json::json!({
                "propertyName": property, "operator": "EQ", "value": scalar_text(value)
            }))
        })
        .collect()
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
