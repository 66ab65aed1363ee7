//! HubSpot's webhook request signatures (v1, v2, v3).
//!
//! * v1: `hex(sha256(client_secret + body))`, header `X-HubSpot-Signature` with
//!   `X-HubSpot-Signature-Version: v1`. The sender puts it on every delivery by default.
//! * v2: `hex(sha256(client_secret + METHOD + URI + body))`, carried in the same
//!   `X-HubSpot-Signature` header with `X-HubSpot-Signature-Version: v2` (HubSpot uses it
//!   on workflow webhooks and CRM cards). The sender sends it instead of v1 when the
//!   webhook config says `"signature_version": "v2"`; the URI is the target URL as sent.
//! * v3: `base64(hmac_sha256(client_secret, METHOD + URI + body + timestamp))`, headers
//!   `X-HubSpot-Signature-v3` and `X-HubSpot-Request-Timestamp` (milliseconds). The sender
//!   puts it on every delivery.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Header carrying the v1 (or v2) signature.
pub const SIGNATURE_HEADER: &str = "X-HubSpot-Signature";
/// Header naming the version of [`SIGNATURE_HEADER`].
pub const SIGNATURE_VERSION_HEADER: &str = "X-HubSpot-Signature-Version";
/// Header carrying the v3 signature.
pub const SIGNATURE_V3_HEADER: &str = "X-HubSpot-Signature-v3";
/// Header carrying the v3 timestamp (milliseconds since the epoch).
pub const TIMESTAMP_HEADER: &str = "X-HubSpot-Request-Timestamp";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// v1: lowercase hex of SHA-256 of `client_secret` followed by the raw body.
pub fn v1(client_secret: &str, body: &[u8]) -> String {
    hex(&Sha256::new()
        .chain_update(client_secret.as_bytes())
        .chain_update(body)
        .finalize())
}

/// v2: lowercase hex of SHA-256 of `client_secret + method + uri + body`, the URI as
/// requested (scheme, host, path and query in their original order).
pub fn v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    hex(&Sha256::new()
        .chain_update(client_secret.as_bytes())
        .chain_update(method.as_bytes())
        .chain_update(uri.as_bytes())
        .chain_update(body)
        .finalize())
}

/// v3: standard base64 of HMAC-SHA256 keyed with `client_secret` over
/// `method + uri + body + timestamp` (the timestamp in decimal milliseconds). The URI is
/// taken through [`v3_uri`] first.
pub fn v3(client_secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(method.as_bytes());
    mac.update(v3_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The escapes HubSpot's v3 documentation says to decode in the URI before hashing.
const V3_DECODED: [(&str, &str); 12] = [
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// The URI as hashed for v3: the escapes in HubSpot's list (`%3A`, `%2F`, `%3F`, `%40`,
/// `%21`, `%24`, `%27`, `%28`, `%29`, `%2A`, `%2C`, `%3B`, either case) are decoded;
/// everything else is left as is.
pub fn v3_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let candidate = rest.get(pos..pos + 3).unwrap_or("");
        match V3_DECODED
            .iter()
            .find(|(escape, _)| escape.eq_ignore_ascii_case(candidate))
        {
            Some((_, plain)) => {
                out.push_str(plain);
                rest = &rest[pos + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors from shared/reference/hubspot-api.md §5.6.
    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const OFFICIAL_EXAMPLE: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const SMALL_BODY: &str = "{'example_field':'example_value'}";
    const URI: &str = "https://www.example.com/webhook_uri";

    #[test]
    fn v1_vectors() {
        assert_eq!(
            v1(SECRET, OFFICIAL_EXAMPLE.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
        assert_eq!(
            v1(SECRET, SMALL_BODY.as_bytes()),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
    }

    #[test]
    fn v2_vectors() {
        assert_eq!(
            v2(SECRET, "GET", URI, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            v2(SECRET, "POST", URI, SMALL_BODY.as_bytes()),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
    }

    #[test]
    fn v3_vector() {
        assert_eq!(
            v3(
                SECRET,
                "POST",
                URI,
                SMALL_BODY.as_bytes(),
                1_693_657_560_000
            ),
            "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
        );
    }

    #[test]
    fn v3_uri_decodes_only_listed_escapes() {
        assert_eq!(
            v3_uri("https://x.example/a%3Ab%2fc?q=%40%20%zz%"),
            "https://x.example/a:b/c?q=@%20%zz%"
        );
        assert_eq!(v3_uri(URI), URI);
    }
}
