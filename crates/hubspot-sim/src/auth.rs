//! Bearer authentication and scope checks for HubSpot API endpoints.
//!
//! An API handler calls [`authenticate`] with the request headers, then
//! [`Caller::require`] with the scopes the endpoint needs, and adds
//! [`Caller::rate_limit_headers`] to its success response:
//!
//! ```ignore
//! let caller = auth::authenticate(&sim, &headers)?;
//! caller.require(Scopes::AnyOf(&["crm.objects.contacts.read"]))?;
//! Ok((caller.rate_limit_headers(), Json(body)))
//! ```

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::errors::ApiError;
use crate::portals::{self, Portal};
use crate::state::{AccessTokenRecord, RateLimitInfo, Sim, now_ms};

/// The scopes an endpoint needs.
#[derive(Debug, Clone, Copy)]
pub enum Scopes<'a> {
    /// Any one of these (HubSpot's `security` alternatives).
    AnyOf(&'a [&'a str]),
    /// Every one of these.
    AllOf(&'a [&'a str]),
}

/// An authenticated API caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: AccessTokenRecord,
    pub portal: &'static Portal,
    pub rate_limit: RateLimitInfo,
}

impl Caller {
    /// Fails with 403 MISSING_SCOPES unless the token holds the scopes.
    pub fn require(&self, scopes: Scopes<'_>) -> Result<(), ApiError> {
        match scopes {
            Scopes::AnyOf(any) if any.iter().any(|s| self.token.has_scope(s)) => Ok(()),
            Scopes::AnyOf(any) => Err(ApiError::missing_scopes(any, false)),
            Scopes::AllOf(all) if all.iter().all(|s| self.token.has_scope(s)) => Ok(()),
            Scopes::AllOf(all) => Err(ApiError::missing_scopes(all, true)),
        }
    }

    /// `X-HubSpot-RateLimit-Max`, `-Remaining` and `-Interval-Milliseconds` (OAuth
    /// calls get no daily headers).
    pub fn rate_limit_headers(&self) -> [(HeaderName, HeaderValue); 3] {
        let r = self.rate_limit;
        [
            (
                HeaderName::from_static("x-hubspot-ratelimit-max"),
                HeaderValue::from(r.max),
            ),
            (
                HeaderName::from_static("x-hubspot-ratelimit-remaining"),
                HeaderValue::from(r.remaining),
            ),
            (
                HeaderName::from_static("x-hubspot-ratelimit-interval-milliseconds"),
                HeaderValue::from(r.interval_ms),
            ),
        ]
    }
}

/// The bearer token of `Authorization: Bearer <token>`, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Authenticates an API call by its bearer access token. Counts the call in the counters
/// (the rate-limit windows are counted by the `limits` middleware).
///
/// * no bearer token → 401 INVALID_AUTHENTICATION "Authentication credentials not found…"
/// * unknown or revoked token → 401 INVALID_AUTHENTICATION
/// * expired token → 401 EXPIRED_AUTHENTICATION "…expired N unit(s) ago."
pub fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    sim.with(|s| s.counters.api_requests += 1);
    let token = bearer(headers).ok_or_else(ApiError::credentials_not_found)?;
    let record = sim
        .access_token(token)
        .ok_or_else(ApiError::invalid_token)?;
    let now = now_ms();
    if record.is_expired(now) {
        return Err(ApiError::expired_token((now - record.expires_at_ms) / 1000));
    }
    let portal = portals::find(record.portal_id).ok_or_else(ApiError::invalid_token)?;
    // The `limits` middleware has already counted (and admitted) this call.
    let rate_limit = sim.with(|s| s.rate_limit_info(record.app_id, record.portal_id));
    Ok(Caller {
        token: record,
        portal,
        rate_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn parses_bearer_header() {
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
