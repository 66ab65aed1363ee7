//! `http.request`: one HTTP request to a partner's or customer's API, through the SSRF guard
//! (see `guard.rs`). Redirects are answered, never followed. Error messages name the host
//! only: a URL's path or query, and the headers, may hold credentials.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::{Host, Url};

use super::guard::{Guard, GuardedResolver, PrivateAddress};
use super::{Params, UtilityConfig, UtilityError};

/// The response headers answered to the cycle: enough to follow a redirect, page, cache or
/// back off, without echoing cookies.
const ANSWERED_HEADERS: &[&str] = &[
    "content-type",
    "location",
    "link",
    "etag",
    "last-modified",
    "retry-after",
];

/// Request headers a cycle may not set: the client sets them from the URL and body.
const REFUSED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
];

/// The client and guard of `http.request`.
pub(crate) struct HttpUtility {
    client: reqwest::Client,
    guard: Arc<Guard>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl HttpUtility {
    pub fn new(config: &UtilityConfig) -> Self {
        let guard = Arc::new(Guard::new(
            &config.http_allowed_hosts,
            &config.http_allow_private,
        ));
        let client = spokes_core::http::client_builder(config.http_timeout)
            // A proxy would resolve the target itself, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .build()
            // Only fails when the TLS backend cannot initialise: a startup invariant.
            .expect("the HTTP client of the utility connectors could not be built");
        Self {
            client,
            guard,
            timeout: config.http_timeout,
            max_response_bytes: config.http_max_response_bytes,
        }
    }

    pub async fn request(&self, params: &Params<'_>) -> Result<Value, UtilityError> {
        let method = method(params.str("method")?)?;
        let mut url = target_url(params.str("url")?)?;
        let host = self.check_host(&url)?;
        if let Some(query) = params.opt_object("query")? {
            append_query(&mut url, query)?;
        }
        let mut request = self
            .client
            .request(method, url)
            .headers(headers(params.opt_object("headers")?)?);
        if let Some(body) = params.opt("body").filter(|b| !b.is_null()) {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.send_error(&host, &e))?;
        self.answer(&host, response).await
    }

    /// The URL's host when the allow-list admits it and, for a literal IP, the guard too.
    fn check_host(&self, url: &Url) -> Result<String, UtilityError> {
        let (name, literal) = match url.host() {
            Some(Host::Domain(name)) => (name.to_owned(), None),
            Some(Host::Ipv4(ip)) => (ip.to_string(), Some(ip.into())),
            Some(Host::Ipv6(ip)) => (ip.to_string(), Some(ip.into())),
            None => return Err(UtilityError::invalid("`url` has no host")),
        };
        if !self.guard.host_allowed(&name) {
            return Err(UtilityError::new(
                "host_not_allowed",
                format!("{name} is not on the allowed hosts of the HTTP utility"),
                false,
            ));
        }
        // The resolver is not asked for a literal address: check it here.
        if let Some(ip) = literal {
            self.guard
                .check_addr(&name, ip)
                .map_err(|e| private_address(&e))?;
        }
        Ok(name)
    }

    fn send_error(&self, host: &str, error: &reqwest::Error) -> UtilityError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(private) = e.downcast_ref::<PrivateAddress>() {
                return private_address(private);
            }
            source = e.source();
        }
        if error.is_timeout() {
            return network_error(format!(
                "the request to {host} timed out after {}s",
                self.timeout.as_secs_f32()
            ));
        }
        if error.is_builder() {
            return UtilityError::invalid(format!("the request cannot be built: {}", root(error)));
        }
        network_error(format!("the request to {host} failed: {}", root(error)))
    }

    async fn answer(
        &self,
        host: &str,
        mut response: reqwest::Response,
    ) -> Result<Value, UtilityError> {
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            return Err(UtilityError::new(
                "http_error",
                format!("{host} answered HTTP {status}"),
                transient,
            ));
        }
        let too_large = || {
            UtilityError::new(
                "response_too_large",
                format!(
                    "the response of {host} is larger than {} bytes",
                    self.max_response_bytes
                ),
                false,
            )
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_response_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            network_error(format!(
                "reading the response of {host} failed: {}",
                root(&e)
            ))
        })? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let mut headers = Map::new();
        for name in ANSWERED_HEADERS {
            if let Some(value) = response.headers().get(*name) {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                headers.insert((*name).to_owned(), Value::String(value));
            }
        }
        let body = decode_body(response.headers().get("content-type"), &body);
        Ok(json!({"status": status.as_u16(), "headers": headers, "body": body}))
    }
}

fn method(name: &str) -> Result<Method, UtilityError> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => {
            return Err(UtilityError::invalid(format!(
                "`method` must be GET, POST, PUT, PATCH or DELETE, not {name:?}"
            )));
        }
    })
}

fn target_url(text: &str) -> Result<Url, UtilityError> {
    let url = Url::parse(text).map_err(|e| UtilityError::invalid(format!("`url`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UtilityError::invalid("`url` must be an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UtilityError::invalid(
            "`url` may not hold credentials: send them in `headers`",
        ));
    }
    Ok(url)
}

fn append_query(url: &mut Url, query: &Map<String, Value>) -> Result<(), UtilityError> {
    let mut pairs = url.query_pairs_mut();
    for (name, value) in query {
        let values = match value {
            Value::Array(items) => items.as_slice(),
            one => std::slice::from_ref(one),
        };
        for value in values {
            match value {
                Value::Null => {}
                Value::String(s) => {
                    pairs.append_pair(name, s);
                }
                Value::Number(_) | Value::Bool(_) => {
                    pairs.append_pair(name, &value.to_string());
                }
                Value::Array(_) | Value::Object(_) => {
                    return Err(UtilityError::invalid(format!(
                        "`query.{name}` must be a string, number or boolean, or a list of them"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn headers(given: Option<&Map<String, Value>>) -> Result<HeaderMap, UtilityError> {
    let mut headers = HeaderMap::new();
    for (name, value) in given.into_iter().flatten() {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            UtilityError::invalid(format!("`headers`: {name:?} is not a header name"))
        })?;
        if REFUSED_HEADERS.contains(&header.as_str()) {
            return Err(UtilityError::invalid(format!(
                "`headers`: {name} is set by the client"
            )));
        }
        let Value::String(text) = value else {
            return Err(UtilityError::invalid(format!(
                "`headers.{name}` must be a string"
            )));
        };
        // The value may be a credential: it is not repeated in the error.
        let mut value = HeaderValue::from_str(text).map_err(|_| {
            UtilityError::invalid(format!("`headers.{name}` is not a valid header value"))
        })?;
        value.set_sensitive(true);
        headers.append(header, value);
    }
    Ok(headers)
}

/// JSON when the response says so and parses, else text (invalid UTF-8 replaced); `null` when
/// empty.
fn decode_body(content_type: Option<&HeaderValue>, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let is_json = content_type
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
    if is_json && let Ok(value) = serde_json::from_slice(body) {
        return value;
    }
    Value::String(String::from_utf8_lossy(body).into_owned())
}

fn private_address(refused: &PrivateAddress) -> UtilityError {
    UtilityError::new(
        "private_address",
        format!("{refused}; add it to http_allow_private to allow it"),
        false,
    )
}

fn network_error(message: String) -> UtilityError {
    UtilityError::new("network_error", message, true)
}

/// The innermost cause, which names no URL (reqwest's own message does).
fn root(error: &reqwest::Error) -> String {
    let mut innermost = None;
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        innermost = Some(next);
        cause = next.source();
    }
    match innermost {
        Some(cause) => cause.to_string(),
        None if error.is_connect() => "could not connect".to_owned(),
        None if error.is_body() || error.is_decode() => "the body could not be read".to_owned(),
        None => "the request failed".to_owned(),
    }
}
