//! The pass-through: any HubSpot API path with the installation's token, the portal's rate
//! limit and retries, answered as HubSpot answered. Only paths on the configured API host:
//! no other host, no `..`, no redirect followed (the client follows none).

use backon::Retryable;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName};

use super::{ApiClient, Caller, MethodError};
use crate::limiter::{After429, Budget, RateHeaders};

/// HubSpot's answer, passed on.
pub struct ProxyAnswer {
    pub status: u16,
    /// `Content-Type`, the rate-limit headers and the correlation id.
    pub headers: Vec<(HeaderName, reqwest::header::HeaderValue)>,
    pub body: bytes::Bytes,
}

/// Checks a partner-given path (with its query) and returns it, or says what is wrong.
pub fn checked_path(path_and_query: &str) -> Result<&str, MethodError> {
    let refuse = |why: &str| {
        MethodError::new(
            400,
            "invalid_parameters",
            format!("the proxy only reaches HubSpot's API: {why}"),
        )
    };
    let (path, _query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(refuse("the path must start with a single `/`"));
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if decoded.contains('\\') || decoded.split('/').any(|s| s == ".." || s == ".") {
        return Err(refuse("`.` and `..` segments are not allowed"));
    }
    if path_and_query
        .chars()
        .any(|c| c.is_control() || c == '#' || c == ' ')
    {
        return Err(refuse("the path has characters a URL path cannot hold"));
    }
    if path.starts_with("/_sim") || path.starts_with("/oauth") {
        return Err(refuse("OAuth and admin paths are not API calls"));
    }
    Ok(path_and_query)
}

/// The headers of HubSpot's answer the caller gets back.
fn passed_on(name: &HeaderName) -> bool {
    name == CONTENT_TYPE
        || name.as_str().starts_with("x-hubspot-ratelimit")
        || name.as_str() == "x-hubspot-correlation-id"
        || name.as_str() == "retry-after"
}

impl ApiClient {
    pub async fn proxy(
        &self,
        verb: reqwest::Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: bytes::Bytes,
        caller: Caller<'_>,
    ) -> Result<ProxyAnswer, MethodError> {
        let path = checked_path(path_and_query)?;
        let url = self.config.api(path);
        let api_host = reqwest::Url::parse(&self.config.api_url).ok().map(|u| {
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port_or_known_default(),
            )
        });
        let target = reqwest::Url::parse(&url).ok().map(|u| {
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port_or_known_default(),
            )
        });
        if api_host.is_none() || api_host != target {
            return Err(MethodError::new(
                400,
                "invalid_parameters",
                "the proxy only reaches HubSpot's API host",
            ));
        }
        let budget = if verb == reqwest::Method::POST
            && path
                .split('?')
                .next()
                .is_some_and(|p| p.ends_with("/search"))
        {
            Budget::Search
        } else {
            Budget::Standard
        };
        // Safe to send again: reads and idempotent verbs; others only when HubSpot cannot have
        // acted (the connection was refused, or a 429).
        let idempotent = matches!(
            verb,
            reqwest::Method::GET
                | reqwest::Method::HEAD
                | reqwest::Method::PUT
                | reqwest::Method::DELETE
        );
        let key = caller.budget_key();
        let attempt = || async {
            let waited = self.limiter.acquire(&key, budget).await;
            metrics::histogram!("spokes_hubspot_limiter_wait_seconds").record(waited.as_secs_f64());
            let sent_at = tokio::time::Instant::now();
            let mut request = self
                .http
                .request(verb.clone(), &url)
                .bearer_auth(caller.access_token)
                .body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header(CONTENT_TYPE, content_type);
            }
            let response = request.send().await.map_err(|e| Attempt::Transport {
                refused: e.is_connect(),
            })?;
            let status = response.status().as_u16();
            let headers: HeaderMap = response.headers().clone();
            self.limiter
                .observe(&key, budget, sent_at, &RateHeaders::parse(&headers));
            let bytes = response
                .bytes()
                .await
                .map_err(|_| Attempt::Transport { refused: false })?;
            let answer = ProxyAnswer {
                status,
                headers: headers
                    .iter()
                    .filter(|(name, _)| passed_on(name))
                    .map(|(n, v)| (n.clone(), v.clone()))
                    .collect(),
                body: bytes,
            };
            if status == 429 {
                return match self
                    .limiter
                    .rate_limited(&key, budget, &headers, &answer.body)
                {
                    After429::RetryAfter(_) => Err(Attempt::Limited(answer)),
                    After429::GiveUp { .. } => Ok(answer),
                };
            }
            if status >= 500 {
                return Err(Attempt::Failed(answer));
            }
            Ok(answer)
        };
        let result = attempt
            .retry(super::request_backoff())
            .when(|a| match a {
                Attempt::Limited(_) => true,
                Attempt::Failed(_) => idempotent,
                Attempt::Transport { refused } => idempotent || *refused,
            })
            .notify(|a, _| {
                let reason = match a {
                    Attempt::Limited(_) => "rate_limited",
                    Attempt::Failed(_) => "hubspot_unavailable",
                    Attempt::Transport { refused: true } => "connect",
                    Attempt::Transport { refused: false } => "reset",
                };
                metrics::counter!("spokes_hubspot_retries_total", "method" => "proxy", "reason" => reason)
                    .increment(1);
            })
            .await;
        match result {
            Ok(answer) | Err(Attempt::Limited(answer)) | Err(Attempt::Failed(answer)) => Ok(answer),
            Err(Attempt::Transport { refused: true }) => Err(MethodError::unavailable(
                "HubSpot could not be reached; try again shortly",
            )),
            Err(Attempt::Transport { refused: false }) => {
                let mut error = MethodError::new(
                    502,
                    "outcome_unknown",
                    "the connection to HubSpot broke after the request was sent, so Spokes cannot tell whether HubSpot acted",
                );
                error.may_have_acted = true;
                Err(error)
            }
        }
    }
}

enum Attempt {
    Limited(ProxyAnswer),
    Failed(ProxyAnswer),
    Transport { refused: bool },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_api_are_refused() {
        for good in [
            "/crm/v3/objects/contacts?limit=5",
            "/account-info/2026-03/details",
        ] {
            assert!(checked_path(good).is_ok(), "{good}");
        }
        for bad in [
            "crm/v3/objects",
            "//evil.example/x",
            "/crm/../oauth/v1/token",
            "/crm/%2e%2e/oauth",
            "/crm/.%2E/x",
            "/a\\b",
            "/x#frag",
            "/oauth/v1/refresh-tokens/abc",
            "/_sim/config",
        ] {
            assert!(checked_path(bad).is_err(), "{bad}");
        }
    }
}
