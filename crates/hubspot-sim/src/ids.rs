//! Random identifiers in HubSpot's shapes: correlation ids, client credentials,
//! authorization codes, access and refresh tokens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Fills a buffer with random bytes from the OS. Should the OS source fail, the
/// bytes are derived from a counter and the clock instead: the simulator must keep
/// answering, and its identifiers only need to be unique, not secret.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (block, chunk) in buf.chunks_mut(32).enumerate() {
            let digest = Sha256::new()
                .chain_update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes())
                .chain_update(nanos.to_le_bytes())
                .chain_update((block as u64).to_le_bytes())
                .finalize();
            chunk.copy_from_slice(&digest[..chunk.len()]);
        }
    }
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random version-4 UUID, e.g. `aeb5f871-7f07-4993-9211-075dc63e7cbf`.
pub fn random_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!(
        "{}-{}-{}-{}-{}",
        hex(&b[0..4]),
        hex(&b[4..6]),
        hex(&b[6..8]),
        hex(&b[8..10]),
        hex(&b[10..16])
    )
}

/// An access token: `CO` followed by 192 base64url characters (194 in all), in the
/// spirit of HubSpot's long protobuf-derived tokens (which stay under 300 characters).
pub fn access_token() -> String {
    format!("CO{}", URL_SAFE_NO_PAD.encode(random_bytes::<144>()))
}

/// A refresh token: `na1-` and four hex groups then twelve hex digits,
/// e.g. `na1-1f0e-4c2d-9a8b-7c6d-5e4f3a2b1c0d`.
pub fn refresh_token() -> String {
    let b = random_bytes::<14>();
    format!(
        "na1-{}-{}-{}-{}-{}",
        hex(&b[0..2]),
        hex(&b[2..4]),
        hex(&b[4..6]),
        hex(&b[6..8]),
        hex(&b[8..14])
    )
}

/// An authorization code: a UUID.
pub fn auth_code() -> String {
    random_uuid()
}

/// base64url without padding of SHA-256 of `verifier`: the PKCE S256 transform.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let id = random_uuid();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
        assert_ne!(random_uuid(), id);
    }

    #[test]
    fn token_shapes() {
        let at = access_token();
        assert!(at.starts_with("CO"));
        assert_eq!(at.len(), 194);
        assert!(at.len() <= 300);
        let rt = refresh_token();
        assert!(rt.starts_with("na1-"));
        let groups: Vec<usize> = rt.split('-').map(str::len).collect();
        assert_eq!(groups, vec![3, 4, 4, 4, 4, 12]);
    }

    #[test]
    fn s256_matches_rfc7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
