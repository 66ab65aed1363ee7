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
mod tests {
    use super::*;

    // HubSpot's published example secret, URI and bodies.
    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    /// docs faq/v1-request-validation and validating-requests (v1 example).
    const DOCS_BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    /// HubSpot's client libraries' test body (py-client tests/spec/utils/test_signature.py,
    /// ruby-client spec/helpers/signature_spec.rb): single quotes, as they have it.
    const SDK_BODY: &str = "{'example_field':'example_value'}";

    /// Our own v3 signer, for requests the tests need signed at a chosen time.
    fn sign_v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
        let mac = v3_mac(secret, method, uri, body, timestamp).unwrap();
        STANDARD.encode(mac.finalize().into_bytes())
    }

    fn v1_request<'a>(body: &'a [u8], signature: &'a str) -> WebhookRequest<'a> {
        WebhookRequest {
            method: "POST",
            uri: URI,
            body,
            headers: SignatureHeaders {
                version: Some("v1"),
                signature: Some(signature),
                ..Default::default()
            },
        }
    }

    fn v2_request<'a>(
        method: &'a str,
        uri: &'a str,
        body: &'a [u8],
        signature: &'a str,
    ) -> WebhookRequest<'a> {
        WebhookRequest {
            method,
            uri,
            body,
            headers: SignatureHeaders {
                version: Some("v2"),
                signature: Some(signature),
                ..Default::default()
            },
        }
    }

    fn v3_request<'a>(
        uri: &'a str,
        body: &'a [u8],
        signature: &'a str,
        timestamp: &'a str,
    ) -> WebhookRequest<'a> {
        WebhookRequest {
            method: "POST",
            uri,
            body,
            headers: SignatureHeaders {
                signature_v3: Some(signature),
                timestamp: Some(timestamp),
                ..Default::default()
            },
        }
    }

    // --- Published vectors ---------------------------------------------------------------

    /// HubSpot docs, "Validate requests using the v1 request signature" (and
    /// faq/v1-request-validation): secret `yyyy…`, the contact.creation body.
    #[test]
    fn v1_docs_example() {
        let expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
        let request = v1_request(DOCS_BODY.as_bytes(), expected);
        assert_eq!(
            verify_request(SECRET, &request, 0),
            Ok(SignatureVersion::V1)
        );
    }

    /// py-client tests/spec/utils/test_signature.py `test_get_signature__v1` (also the ruby
    /// client's `v1_hash`).
    #[test]
    fn v1_sdk_example() {
        let expected = "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750";
        let request = v1_request(SDK_BODY.as_bytes(), expected);
        assert_eq!(
            verify_request(SECRET, &request, 0),
            Ok(SignatureVersion::V1)
        );
    }

    /// HubSpot docs, v2 "Example for a GET request" (faq/v2-request-validation): no body.
    #[test]
    fn v2_docs_get_example() {
        let expected = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
        let request = v2_request("GET", URI, b"", expected);
        assert_eq!(
            verify_request(SECRET, &request, 0),
            Ok(SignatureVersion::V2)
        );
    }

    /// py-client `test_get_signature__v2` (also the ruby client's `v2_hash`): POST, SDK body.
    #[test]
    fn v2_sdk_post_example() {
        let expected = "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383";
        let request = v2_request("POST", URI, SDK_BODY.as_bytes(), expected);
        assert_eq!(
            verify_request(SECRET, &request, 0),
            Ok(SignatureVersion::V2)
        );
    }

    /// py-client `test_get_signature__v3` (current version; hubspot-api.md §5.6): POST, the
    /// SDK body, timestamp `1693657560000`.
    #[test]
    fn v3_sdk_example() {
        let expected = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        let ts = "1693657560000";
        let request = v3_request(URI, SDK_BODY.as_bytes(), expected, ts);
        assert_eq!(
            verify_request(SECRET, &request, 1_693_657_560_000 + 1_000),
            Ok(SignatureVersion::V3)
        );
    }

    /// ruby-client spec/helpers/signature_spec.rb `v3_hash` (and the py-client's earlier
    /// version of the same test): timestamp `15000000`, verified "at" that time.
    #[test]
    fn v3_ruby_sdk_example() {
        let expected = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
        let request = v3_request(URI, SDK_BODY.as_bytes(), expected, "15000000");
        assert_eq!(
            verify_request(SECRET, &request, 15_000_000),
            Ok(SignatureVersion::V3)
        );
    }

    /// No published v3 vector has escapes in its URI, so this one was derived independently
    /// with Python's standard library, applying HubSpot's table by hand (`%3A`→`:`,
    /// `%2F`→`/`, `%40`→`@`, `%2c`→`,`; `%20` and `%3D` kept):
    ///
    /// ```text
    /// import hmac, hashlib, base64
    /// msg = "POST" + "https://hooks.example.com/api/partnerwebhook/a:b/c?to=x@y.z&list=1,2&q=a%20b%3Dc" \
    ///     + '[{"eventId":7}]' + "1700000000000"
    /// base64.b64encode(hmac.new(b"s3cr3t", msg.encode(), hashlib.sha256).digest())
    /// ```
    #[test]
    fn v3_uri_decoding_vector() {
        let sent = "https://hooks.example.com/api/partnerwebhook/a%3Ab%2Fc?to=x%40y.z&list=1%2c2&q=a%20b%3Dc";
        let expected = "Oozcf2gMr+GBzsoQdqODCm4GckAgtEvx3DxeinLOfbc=";
        let request = v3_request(sent, br#"[{"eventId":7}]"#, expected, "1700000000000");
        assert_eq!(
            verify_request("s3cr3t", &request, 1_700_000_000_000),
            Ok(SignatureVersion::V3)
        );
        // Hashing the URI as sent (undecoded) does not give HubSpot's signature.
        let undecoded = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cr3t").unwrap();
            mac.update(b"POST");
            mac.update(sent.as_bytes());
            mac.update(br#"[{"eventId":7}]"#);
            mac.update(b"1700000000000");
            STANDARD.encode(mac.finalize().into_bytes())
        };
        assert_ne!(undecoded, expected);
    }

    #[test]
    fn v3_uri_decodes_only_the_table() {
        assert_eq!(
            v3_uri("https://x.example/a%3Ab%2fc%3F%40%21%24%27%28%29%2A%2C%3B"),
            "https://x.example/a:b/c?@!$'()*,;"
        );
        // Not in the table, or not an escape at all: left as sent; no double decoding.
        assert_eq!(
            v3_uri("https://x.example/p?q=%20%26%3D%253A%zz%+3%"),
            "https://x.example/p?q=%20%26%3D%253A%zz%+3%"
        );
        assert_eq!(v3_uri(URI), URI);
        assert_eq!(v3_uri("https://x.example/é%3A"), "https://x.example/é:");
    }

    #[test]
    fn public_uri_joins_public_url_path_and_query() {
        assert_eq!(
            public_uri(
                "https://spokes.example.com/",
                "/api/partnerwebhook/7",
                Some("a=1")
            ),
            "https://spokes.example.com/api/partnerwebhook/7?a=1"
        );
        assert_eq!(
            public_uri("https://example.com/spokes", "api/partnerwebhook/7", None),
            "https://example.com/spokes/api/partnerwebhook/7"
        );
    }

    // --- Refusals -------------------------------------------------------------------------

    const NOW: i64 = 1_700_000_000_000;
    const BODY: &[u8] =
        br#"[{"eventId":1,"portalId":62515,"subscriptionType":"contact.creation"}]"#;
    const HOOK: &str = "https://spokes.example.com/api/partnerwebhook/42";

    #[test]
    fn v3_tampered_body_is_refused() {
        let ts = NOW.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let tampered = br#"[{"eventId":1,"portalId":62516,"subscriptionType":"contact.creation"}]"#;
        let request = v3_request(HOOK, tampered, &sig, &ts);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
    }

    #[test]
    fn v3_tampered_uri_is_refused() {
        let ts = NOW.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        for uri in [
            "https://spokes.example.com/api/partnerwebhook/43",
            "http://spokes.example.com/api/partnerwebhook/42",
            "https://spokes.example.com/api/partnerwebhook/42/",
            "https://spokes.example.com/api/partnerwebhook/42?x=1",
        ] {
            let request = v3_request(uri, BODY, &sig, &ts);
            assert_eq!(
                verify_request(SECRET, &request, NOW),
                Err(SignatureError::BadSignature(SignatureVersion::V3)),
                "{uri}"
            );
        }
    }

    #[test]
    fn v3_tampered_method_or_timestamp_is_refused() {
        let ts = NOW.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let mut request = v3_request(HOOK, BODY, &sig, &ts);
        request.method = "PUT";
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
        let later = (NOW + 1).to_string();
        let request = v3_request(HOOK, BODY, &sig, &later);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
    }

    #[test]
    fn wrong_secret_is_refused_for_every_version() {
        let ts = NOW.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let request = v3_request(HOOK, BODY, &sig, &ts);
        assert_eq!(
            verify_request("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
        let v1 = hex::encode(v1_digest(SECRET, BODY));
        assert_eq!(
            verify_request("other", &v1_request(BODY, &v1), NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V1))
        );
        let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
        assert_eq!(
            verify_request("other", &v2_request("POST", HOOK, BODY, &v2), NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V2))
        );
    }

    #[test]
    fn v1_and_v2_tampering_is_refused() {
        let v1 = hex::encode(v1_digest(SECRET, BODY));
        assert_eq!(
            verify_request(SECRET, &v1_request(b"[]", &v1), NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V1))
        );
        let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
        let moved = "https://spokes.example.com/api/partnerwebhook/43";
        assert_eq!(
            verify_request(SECRET, &v2_request("POST", moved, BODY, &v2), NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V2))
        );
        // Uppercase hex is the same value.
        let upper = v1.to_uppercase();
        assert_eq!(
            verify_request(SECRET, &v1_request(BODY, &upper), NOW),
            Ok(SignatureVersion::V1)
        );
    }

    #[test]
    fn v3_timestamp_exactly_five_minutes_old_passes_one_ms_more_is_stale() {
        let signed_at = NOW - MAX_AGE_MS;
        let ts = signed_at.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let request = v3_request(HOOK, BODY, &sig, &ts);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Ok(SignatureVersion::V3)
        );
        let err = verify_request(SECRET, &request, NOW + 1).unwrap_err();
        assert_eq!(err, SignatureError::StaleTimestamp { age_ms: 300_001 });
        assert!(err.to_string().contains("5 minutes"), "{err}");
        // An hour-old capture is refused the same way.
        assert_eq!(
            verify_request(SECRET, &request, signed_at + 3_600_000),
            Err(SignatureError::StaleTimestamp { age_ms: 3_600_000 })
        );
    }

    #[test]
    fn v3_timestamp_far_in_the_future_is_refused() {
        let ahead = NOW + MAX_FUTURE_SKEW_MS;
        let ts = ahead.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let request = v3_request(HOOK, BODY, &sig, &ts);
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Ok(SignatureVersion::V3)
        );
        assert_eq!(
            verify_request(SECRET, &request, NOW - 1),
            Err(SignatureError::FutureTimestamp { ahead_ms: 300_001 })
        );
        let year_ahead = (NOW + 365 * 86_400_000).to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &year_ahead);
        let request = v3_request(HOOK, BODY, &sig, &year_ahead);
        assert!(matches!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::FutureTimestamp { .. })
        ));
    }

    #[test]
    fn v3_is_checked_before_the_clock_so_forgeries_read_as_bad_signatures() {
        let ts = (NOW - 3_600_000).to_string();
        let request = v3_request(
            HOOK,
            BODY,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            &ts,
        );
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
    }

    #[test]
    fn v3_is_preferred_over_v1_when_both_are_present() {
        fn both<'a>(v1: &'a str, v3: &'a str, ts: &'a str) -> SignatureHeaders<'a> {
            SignatureHeaders {
                version: Some("v1"),
                signature: Some(v1),
                signature_v3: Some(v3),
                timestamp: Some(ts),
            }
        }
        let ts = NOW.to_string();
        let good_v3 = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        let bad_v3 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let good_v1 = hex::encode(v1_digest(SECRET, BODY));
        let request = |v3| WebhookRequest {
            method: "POST",
            uri: HOOK,
            body: BODY,
            headers: both(&good_v1, v3, &ts),
        };

        assert_eq!(
            verify_request(SECRET, &request(&good_v3), NOW),
            Ok(SignatureVersion::V3)
        );
        // A valid v1 does not rescue a bad v3 ...
        assert_eq!(
            verify_request(SECRET, &request(bad_v3), NOW),
            Err(SignatureError::BadSignature(SignatureVersion::V3))
        );
        // ... nor a stale one (v1 has no timestamp to be stale).
        assert_eq!(
            verify_request(SECRET, &request(&good_v3), NOW + MAX_AGE_MS + 1),
            Err(SignatureError::StaleTimestamp {
                age_ms: MAX_AGE_MS + 1
            })
        );
    }

    #[test]
    fn v1_and_v2_are_accepted_only_without_v3_headers() {
        let v1 = hex::encode(v1_digest(SECRET, BODY));
        let v2 = hex::encode(v2_digest(SECRET, "POST", HOOK, BODY));
        assert_eq!(
            verify_request(SECRET, &v1_request(BODY, &v1), NOW),
            Ok(SignatureVersion::V1)
        );
        assert_eq!(
            verify_request(SECRET, &v2_request("POST", HOOK, BODY, &v2), NOW),
            Ok(SignatureVersion::V2)
        );
        // A v3 header of either kind, alone, means v3 — which then lacks its other half;
        // the valid v1/v2 signature is not consulted.
        for (sig, version) in [(&v1, "v1"), (&v2, "v2")] {
            let mut request = v2_request("POST", HOOK, BODY, sig);
            request.headers.version = Some(version);
            request.headers.timestamp = Some("1700000000000");
            assert_eq!(
                verify_request(SECRET, &request, NOW),
                Err(SignatureError::MissingHeader(SIGNATURE_V3_HEADER))
            );
            request.headers.timestamp = None;
            request.headers.signature_v3 = Some("AAAA");
            assert_eq!(
                verify_request(SECRET, &request, NOW),
                Err(SignatureError::MissingHeader(TIMESTAMP_HEADER))
            );
        }
    }

    #[test]
    fn missing_unknown_and_malformed_headers_are_named() {
        let unsigned = WebhookRequest {
            method: "POST",
            uri: HOOK,
            body: BODY,
            headers: SignatureHeaders::default(),
        };
        assert_eq!(
            verify_request(SECRET, &unsigned, NOW),
            Err(SignatureError::Unsigned)
        );

        let v1 = hex::encode(v1_digest(SECRET, BODY));
        let mut request = v1_request(BODY, &v1);
        request.headers.version = None;
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MissingHeader(SIGNATURE_VERSION_HEADER))
        );
        request.headers.version = Some("v9");
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::UnknownVersion("v9".into()))
        );
        request.headers.version = Some("v3");
        assert_eq!(
            verify_request(SECRET, &request, NOW),
            Err(SignatureError::MissingHeader(SIGNATURE_V3_HEADER))
        );
        request.headers.version = Some("v1");
        for bad in ["", "not-hex", &v1[..62], &format!("{v1}00")] {
            request.headers.signature = Some(bad);
            assert_eq!(
                verify_request(SECRET, &request, NOW),
                Err(SignatureError::MalformedSignature(SignatureVersion::V1)),
                "{bad:?}"
            );
        }

        let ts = NOW.to_string();
        let sig = sign_v3(SECRET, "POST", HOOK, BODY, &ts);
        for bad_ts in [
            "",
            "-1",
            "+1700000000000",
            " 1700000000000",
            "1.7e12",
            "99999999999999999999",
        ] {
            let request = v3_request(HOOK, BODY, &sig, bad_ts);
            assert_eq!(
                verify_request(SECRET, &request, NOW),
                Err(SignatureError::MalformedTimestamp),
                "{bad_ts:?}"
            );
        }
        for bad_sig in ["not base64!", "AAAA"] {
            let request = v3_request(HOOK, BODY, bad_sig, &ts);
            let err = verify_request(SECRET, &request, NOW).unwrap_err();
            assert!(
                matches!(
                    err,
                    SignatureError::MalformedSignature(SignatureVersion::V3)
                        | SignatureError::BadSignature(SignatureVersion::V3)
                ),
                "{bad_sig:?}: {err:?}"
            );
        }
    }

    #[test]
    fn messages_never_carry_the_secret_or_the_expected_signature() {
        let secret = "super-secret-client-secret-value";
        let ts = NOW.to_string();
        let expected_v3 = sign_v3(secret, "POST", HOOK, BODY, &ts);
        let expected_v1 = hex::encode(v1_digest(secret, BODY));
        let wrong = sign_v3("other", "POST", HOOK, BODY, &ts);
        let errors = [
            verify_request(secret, &v3_request(HOOK, BODY, &wrong, &ts), NOW),
            verify_request(
                secret,
                &v1_request(BODY, &hex::encode(v1_digest("other", BODY))),
                NOW,
            ),
            verify_request(
                secret,
                &v3_request(HOOK, BODY, &expected_v3, &ts),
                NOW + 3_600_000,
            ),
        ];
        for result in errors {
            let message = result.unwrap_err().to_string();
            assert!(!message.contains(secret), "{message}");
            assert!(!message.contains(&expected_v3), "{message}");
            assert!(!message.contains(&expected_v1), "{message}");
        }
    }

    #[test]
    fn headers_from_a_lookup() {
        let pairs = [
            ("x-hubspot-signature-version", "v1"),
            ("x-hubspot-signature", "abc"),
            ("x-hubspot-signature-v3", "def"),
            ("x-hubspot-request-timestamp", "123"),
        ];
        let headers = SignatureHeaders::from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        });
        assert_eq!(
            headers,
            SignatureHeaders {
                version: Some("v1"),
                signature: Some("abc"),
                signature_v3: Some("def"),
                timestamp: Some("123"),
            }
        );
    }

    // --- Agreement with the simulator ------------------------------------------------------

    /// The simulator (which plays HubSpot) signs with its own, separate code; Spokes must
    /// verify what it sends, v3 with escapes in the URI included.
    #[test]
    fn verifies_what_the_simulator_signs() {
        use hubspot_sim::webhooks::signature as sim;

        let secret = "sim-app-client-secret";
        let uri = "https://spokes.example.com/api/partnerwebhook/h%3A1?tag=a%2Fb&q=x%20y";
        let ts = NOW - 42_000;

        let v3 = sim::v3(secret, "POST", uri, BODY, ts);
        let ts_text = ts.to_string();
        let request = WebhookRequest {
            method: "POST",
            uri,
            body: BODY,
            headers: SignatureHeaders {
                version: Some("v1"),
                signature: Some("ignored when v3 is present"),
                signature_v3: Some(&v3),
                timestamp: Some(&ts_text),
            },
        };
        assert_eq!(
            verify_request(secret, &request, NOW),
            Ok(SignatureVersion::V3)
        );

        let v1 = sim::v1(secret, BODY);
        assert_eq!(
            verify_request(secret, &v1_request(BODY, &v1), NOW),
            Ok(SignatureVersion::V1)
        );
        let v2 = sim::v2(secret, "POST", uri, BODY);
        assert_eq!(
            verify_request(secret, &v2_request("POST", uri, BODY, &v2), NOW),
            Ok(SignatureVersion::V2)
        );

        // And the two readings of HubSpot's URI table agree.
        assert_eq!(v3_uri(uri), sim::v3_uri(uri));
    }
}
