//! Checking that a webhook request really comes from HubSpot: its v3 signature (v1 or v2 only
//! when no v3 signature is present). Pure: no I/O, and the current time is an argument.
//!
//! What HubSpot signs (docs "Validating requests from HubSpot",
//! developers.hubspot.com/docs/api/webhooks/validating-requests, legacy apps; the same text for
//! apps on the developer platform under …/build-apps/authentication/request-validation;
//! summarised in `shared/reference/hubspot-api.md` §5.6 and §10.3):
//!
//! * **v3** — headers `X-HubSpot-Signature-v3` and `X-HubSpot-Request-Timestamp` (Unix
//!   milliseconds): `base64(HMAC-SHA256(key = client secret, method + URI + body + timestamp))`,
//!   the string UTF-8, the timestamp exactly as the header carries it. "Reject the request if
//!   the timestamp is older than 5 minutes" (also changelog "Introducing version 3 of webhook
//!   signatures"). "In the request URI, decode any of the URL-encoded characters listed in the
//!   table below": `%3A :`, `%2F /`, `%3F ?`, `%40 @`, `%21 !`, `%24 $`, `%27 '`, `%28 (`,
//!   `%29 )`, `%2A *`, `%2C ,`, `%3B ;` — every other escape stays as it is ([`v3_uri`]).
//! * **v2** — `X-HubSpot-Signature-Version: v2`, `X-HubSpot-Signature =
//!   hex(SHA-256(client secret + method + URI + body))`; "the URI used to build the source
//!   string must exactly match the original request, including the protocol", query parameters
//!   in their original order. No decoding.
//! * **v1** — `X-HubSpot-Signature-Version: v1`, `X-HubSpot-Signature =
//!   hex(SHA-256(client secret + body))`.
//!
//! The URI is the full public URL HubSpot called — scheme, host, path and query as HubSpot
//! sent them (Spokes' `public_url` + path + query, see [`public_uri`]) — not the address the
//! server sees behind a proxy.
//!
//! v1 and v2 carry no timestamp: a captured request verifies forever, and anyone able to strip
//! the v3 headers from one can replay it as v1. They are accepted only because some HubSpot
//! deliveries carry nothing else (§10.3); de-duplicating events by `eventId` is what stops
//! those replays.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `X-HubSpot-Signature`: the v1 or v2 signature (lowercase hex).
pub const SIGNATURE_HEADER: &str = "X-HubSpot-Signature";
/// `X-HubSpot-Signature-Version`: `v1` or `v2`, the version of [`SIGNATURE_HEADER`].
pub const SIGNATURE_VERSION_HEADER: &str = "X-HubSpot-Signature-Version";
/// `X-HubSpot-Signature-v3`: the v3 signature (standard base64).
pub const SIGNATURE_V3_HEADER: &str = "X-HubSpot-Signature-v3";
/// `X-HubSpot-Request-Timestamp`: when HubSpot signed a v3 request, in Unix milliseconds.
pub const TIMESTAMP_HEADER: &str = "X-HubSpot-Request-Timestamp";

/// How old a v3 timestamp may be: HubSpot's "older than 5 minutes" is refused; exactly 5
/// minutes is not older, so it passes (HubSpot's Node client rejects `now - ts > 300000`).
pub const MAX_AGE_MS: i64 = 5 * 60 * 1000;
/// How far ahead of our clock a v3 timestamp may be. HubSpot names no figure; a timestamp
/// from the future only means the two clocks disagree, and allowing the same 5 minutes as
/// [`MAX_AGE_MS`] keeps a server whose clock lags a little from refusing every delivery.
/// Anything further ahead is refused.
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// A signature scheme of HubSpot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureVersion {
    V1,
    V2,
    V3,
}

impl SignatureVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }
}

impl std::fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a webhook request is refused. No message carries the client secret or the signature
/// Spokes expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Neither `X-HubSpot-Signature-v3` nor `X-HubSpot-Signature` is present.
    #[error(
        "the request carries no HubSpot signature (neither X-HubSpot-Signature-v3 nor \
         X-HubSpot-Signature): only HubSpot may call this URL"
    )]
    Unsigned,
    /// A header the signature needs is absent (for instance a v3 signature without its
    /// timestamp, or a v1/v2 signature without its version).
    #[error("the request is missing the {0} header that its HubSpot signature needs")]
    MissingHeader(&'static str),
    /// `X-HubSpot-Signature-Version` is neither `v1` nor `v2` (and no v3 signature is present).
    #[error(
        "unknown HubSpot signature version {0:?} in X-HubSpot-Signature-Version \
         (expected v1 or v2 when no X-HubSpot-Signature-v3 is present)"
    )]
    UnknownVersion(String),
    /// `X-HubSpot-Request-Timestamp` is not a whole number of milliseconds.
    #[error("X-HubSpot-Request-Timestamp is not a whole number of Unix milliseconds")]
    MalformedTimestamp,
    /// A correctly signed v3 request whose timestamp is more than [`MAX_AGE_MS`] old: a replay,
    /// a delivery held up on the way, or a server clock running ahead.
    #[error(
        "the request was signed {age_ms} ms ago, more than the 5 minutes HubSpot allows: \
         refused as stale (a replay, or this server's clock is ahead; check NTP)"
    )]
    StaleTimestamp { age_ms: i64 },
    /// A correctly signed v3 request whose timestamp is more than [`MAX_FUTURE_SKEW_MS`] ahead.
    #[error(
        "the request's timestamp is {ahead_ms} ms in the future, more than the 5 minutes of \
         clock skew allowed: refused (this server's clock is behind; check NTP)"
    )]
    FutureTimestamp { ahead_ms: i64 },
    /// The signature header is not the encoding its version uses (base64 for v3, 64 hex
    /// digits for v1/v2).
    #[error("the {0} signature header is malformed (not a SHA-256 value in the expected encoding)")]
    MalformedSignature(SignatureVersion),
    /// The signature does not match the request.
    #[error(
        "the {0} signature does not match the request: the body or URI was altered, the \
         request is not from HubSpot, or the client secret configured for this HubSpot app \
         (or the public URL HubSpot calls) is wrong"
    )]
    BadSignature(SignatureVersion),
}

/// The signature headers of a request, as received (`None` when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// `X-HubSpot-Signature-Version`.
    pub version: Option<&'a str>,
    /// `X-HubSpot-Signature`.
    pub signature: Option<&'a str>,
    /// `X-HubSpot-Signature-v3`.
    pub signature_v3: Option<&'a str>,
    /// `X-HubSpot-Request-Timestamp`.
    pub timestamp: Option<&'a str>,
}

impl<'a> SignatureHeaders<'a> {
    /// Reads the four headers through `get`, which is called with the names above and must
    /// look them up case-insensitively (as `http::HeaderMap` does); a value that is not text
    /// can be answered as `None`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            version: get(SIGNATURE_VERSION_HEADER),
            signature: get(SIGNATURE_HEADER),
            signature_v3: get(SIGNATURE_V3_HEADER),
            timestamp: get(TIMESTAMP_HEADER),
        }
    }
}

/// An incoming webhook request, as HubSpot sent it.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The HTTP method as sent (`POST`).
    pub method: &'a str,
    /// The full public URI HubSpot called: scheme, host, path and query, escapes untouched
    /// (see [`public_uri`]).
    pub uri: &'a str,
    /// The raw body bytes, before any parsing.
    pub body: &'a [u8],
    pub headers: SignatureHeaders<'a>,
}

/// Checks that `request` was signed by HubSpot with `client_secret` (the HubSpot app's client
/// secret), `now_ms` being the current time in Unix milliseconds. Answers the version that
/// verified.
///
/// v3 is used whenever either v3 header is present (both are then required, and the v1/v2
/// headers are ignored); v1 or v2, as `X-HubSpot-Signature-Version` says, only without them.
/// For v3 the signature is checked before the timestamp, so a stale or future refusal means
/// HubSpot really signed the request at that time.
pub fn verify_request(
    client_secret: &str,
    request: &WebhookRequest<'_>,
    now_ms: i64,
) -> Result<SignatureVersion, SignatureError> {
    let h = &request.headers;
    if h.signature_v3.is_some() || h.timestamp.is_some() {
        let signature = h
            .signature_v3
            .ok_or(SignatureError::MissingHeader(SIGNATURE_V3_HEADER))?;
        let timestamp = h
            .timestamp
            .ok_or(SignatureError::MissingHeader(TIMESTAMP_HEADER))?;
        verify_v3(client_secret, request, signature, timestamp, now_ms)?;
        return Ok(SignatureVersion::V3);
    }
    let Some(signature) = h.signature else {
        return Err(SignatureError::Unsigned);
    };
    let version = h
        .version
        .ok_or(SignatureError::MissingHeader(SIGNATURE_VERSION_HEADER))?;
    let (version, digest) = if version.eq_ignore_ascii_case("v1") {
        (SignatureVersion::V1, v1_digest(client_secret, request.body))
    } else if version.eq_ignore_ascii_case("v2") {
        (
            SignatureVersion::V2,
            v2_digest(client_secret, request.method, request.uri, request.body),
        )
    } else if version.eq_ignore_ascii_case("v3") {
        // Says v3 but carries no v3 signature.
        return Err(SignatureError::MissingHeader(SIGNATURE_V3_HEADER));
    } else {
        return Err(SignatureError::UnknownVersion(
            version.chars().take(32).collect(),
        ));
    };
    let received: [u8; 32] = hex::decode(signature.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SignatureError::MalformedSignature(version))?;
    if bool::from(digest.ct_eq(&received)) {
        Ok(version)
    } else {
        Err(SignatureError::BadSignature(version))
    }
}

fn verify_v3(
    client_secret: &str,
    request: &WebhookRequest<'_>,
    signature: &str,
    timestamp: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let signed_at = parse_timestamp(timestamp)?;
    let received = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::MalformedSignature(SignatureVersion::V3))?;
    v3_mac(
        client_secret,
        request.method,
        request.uri,
        request.body,
        timestamp,
    )?
    .verify_slice(&received)
    .map_err(|_| SignatureError::BadSignature(SignatureVersion::V3))?;
    let age_ms = now_ms.saturating_sub(signed_at);
    if age_ms > MAX_AGE_MS {
        return Err(SignatureError::StaleTimestamp { age_ms });
    }
    let ahead_ms = signed_at.saturating_sub(now_ms);
    if ahead_ms > MAX_FUTURE_SKEW_MS {
        return Err(SignatureError::FutureTimestamp { ahead_ms });
    }
    Ok(())
}

/// Digits only (no sign, no spaces): the MAC covers the header's text, so the number read must
/// be the one signed.
fn parse_timestamp(timestamp: &str) -> Result<i64, SignatureError> {
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedTimestamp);
    }
    timestamp
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)
}

/// The HMAC for v3, fed `method + v3_uri(uri) + body + timestamp`.
fn v3_mac(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
) -> Result<Hmac<Sha256>, SignatureError> {
    // HMAC takes keys of any length (longer ones are hashed), so this never fails.
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .map_err(|_| SignatureError::BadSignature(SignatureVersion::V3))?;
    mac.update(method.as_bytes());
    mac.update(v3_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    Ok(mac)
}

fn v1_digest(client_secret: &str, body: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(client_secret.as_bytes())
        .chain_update(body)
        .finalize()
        .into()
}

fn v2_digest(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(client_secret.as_bytes())
        .chain_update(method.as_bytes())
        .chain_update(uri.as_bytes())
        .chain_update(body)
        .finalize()
        .into()
}

/// The URI as v3 hashes it: the twelve escapes in HubSpot's table (`%3A %2F %3F %40 %21 %24
/// %27 %28 %29 %2A %2C %3B`) become their characters, in one pass, so `%253A` stays `%253A`;
/// every other escape (`%20`, `%26`, `%3D`, …) is left as sent. Hex digits match in either
/// case: RFC 3986 §2.1 makes `%3a` and `%3A` the same octet.
pub fn v3_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.get(..2).and_then(decoded_reserved) {
            Some(c) => {
                out.push(c);
                rest = &after[2..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character for two hex digits when they are in HubSpot's v3 table.
fn decoded_reserved(hex_digits: &str) -> Option<char> {
    let byte = u8::from_str_radix(hex_digits, 16).ok()?;
    // `from_str_radix` accepts a sign; the table has none.
    if !hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = char::from(byte);
    ":/?@!$'()*,;".contains(c).then_some(c)
}

/// The URI HubSpot calls for a request that reached Spokes at `path` (and `query`): Spokes'
/// configured `public_url` (scheme, host, any path prefix; a trailing `/` is dropped) + the
/// path + `?query` when there is one, escapes untouched. Behind a proxy the server's own view
/// of scheme and host is wrong; `public_url` is what the partner gave HubSpot.
pub fn public_uri(public_url: &str, path: &str, query: Option<&str>) -> String {
    let base = public_url.trim_end_matches('/');
    let mut uri = String::with_capacity(base.len() + path.len() + 1 + query.map_or(0, str::len));
    uri.push_str(base);
    if !path.starts_with('/') {
        uri.push('/');
    }
    uri.push_str(path);
    if let Some(query) = query {
        uri.push('?');
        uri.push_str(query);
    }
    uri
}

#[cfg(test)]
mod tests;
