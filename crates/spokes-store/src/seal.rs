//! Sealing of secrets at rest: AES-256-GCM with a key ring.
//!
//! A sealed value is laid out as
//!
//! ```text
//! [version = 1][key id length][key id bytes][12-byte nonce][ciphertext + 16-byte tag]
//! ```
//!
//! The nonce is random per value. The associated data is the header (version and key id)
//! followed by a context string naming where the value lives, `table/column/row id` (for
//! example `installations/access_token/inst_…`), so a sealed value copied to another row or
//! column does not open.

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{StoreError, StoreResult};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_ID_LABEL: &[u8] = b"spokes master key id v1\0";
const FINGERPRINT_LABEL: &[u8] = b"spokes master key fingerprint v1\0";
const DERIVE_LABEL: &[u8] = b"spokes derived secret v1\0";

/// The master key(s) that seal and open secrets. Cheap to clone; never prints the key.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    /// Seals new values and opens them. Key rotation would add older, open-only keys here.
    active: SealKey,
}

struct SealKey {
    id: String,
    cipher: Aes256Gcm,
    fingerprint: String,
    /// A one-way function of the key that other secrets are derived from.
    derive_seed: [u8; 32],
}

impl KeyRing {
    /// A key ring whose only (and active) key is `bytes`.
    pub fn from_key(bytes: [u8; 32]) -> Self {
        let mut id_hash = Sha256::new();
        id_hash.update(KEY_ID_LABEL);
        id_hash.update(bytes);
        let id = hex::encode(&id_hash.finalize()[..4]);

        let mut fp_hash = Sha256::new();
        fp_hash.update(FINGERPRINT_LABEL);
        fp_hash.update(bytes);
        let fingerprint = hex::encode(fp_hash.finalize());

        let key = Key::<Aes256Gcm>::from(bytes);
        let cipher = Aes256Gcm::new(&key);
        Self {
            inner: Arc::new(Inner {
                active: SealKey {
                    id,
                    cipher,
                    fingerprint,
                    derive_seed: Sha256::new()
                        .chain_update(DERIVE_LABEL)
                        .chain_update(bytes)
                        .finalize()
                        .into(),
                },
            }),
        }
    }

    /// A key ring with a fresh random key (tests, `--sandbox` with a throwaway data dir).
    pub fn generate() -> StoreResult<Self> {
        Ok(Self::from_key(random_key()?))
    }

    /// Parses `SPOKES_MASTER_KEY`: 64 hex characters, or base64 (standard or URL-safe, padded
    /// or not) of 32 bytes. Surrounding whitespace is ignored. The error never repeats the value.
    pub fn from_encoded(encoded: &str) -> StoreResult<Self> {
        decode_key(encoded).map(Self::from_key).map_err(|why| {
            StoreError::InvalidMasterKey(format!(
                "{why}; a master key is 64 hex characters or the base64 of 32 random bytes \
                 (generate one with `openssl rand -hex 32`)"
            ))
        })
    }

    /// Reads the key file at `path`, or creates it with a new random key (mode 0600) when it
    /// does not exist. Returns the key ring and whether the file was created.
    ///
    /// Creation is atomic: the key is written to a temporary file that is then hard-linked to
    /// `path`, so two processes starting together agree on one key and never read a half-written
    /// file.
    pub fn load_or_create_file(path: &Path) -> StoreResult<(Self, bool)> {
        match Self::read_file(path) {
            Ok(ring) => return Ok((ring, false)),
            Err(StoreError::KeyFile { source, .. }) if source.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }

        let key = random_key()?;
        let contents = format!("{}\n", hex::encode(key));
        let key_file_error = |source| StoreError::KeyFile {
            path: path.to_path_buf(),
            source,
        };

        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).map_err(|e| StoreError::Sealing(format!("random: {e}")))?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "master.key".to_owned());
        let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", hex::encode(suffix)));

        write_private_file(&tmp, contents.as_bytes()).map_err(key_file_error)?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_parent_dir(path);
                Ok((Self::from_key(key), true))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((Self::read_file(path)?, false)),
            // Some file systems have no hard links: fall back to an exclusive create.
            Err(_) => match write_private_file(path, contents.as_bytes()) {
                Ok(()) => {
                    sync_parent_dir(path);
                    Ok((Self::from_key(key), true))
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    Ok((Self::read_file(path)?, false))
                }
                Err(e) => Err(key_file_error(e)),
            },
        }
    }

    fn read_file(path: &Path) -> StoreResult<Self> {
        let key_file_error = |source| StoreError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let text = fs::read_to_string(path).map_err(key_file_error)?;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the master key file is readable by other users; run `chmod 600` on it"
            );
        }
        decode_key(&text).map(Self::from_key).map_err(|why| {
            StoreError::InvalidMasterKey(format!(
                "the key file {} is malformed ({why}); it must hold 64 hex characters. Restore \
                 the original file from a backup; moving it away makes Spokes generate a new key, \
                 and secrets sealed with the old key can then not be opened",
                path.display()
            ))
        })
    }

    /// The short id of the active key, recorded in every sealed value.
    pub fn key_id(&self) -> &str {
        &self.inner.active.id
    }

    /// SHA-256 of a fixed label and the key, hex. Identifies the key without revealing it;
    /// stored in the database so a wrong key stops startup.
    pub fn fingerprint(&self) -> String {
        self.inner.active.fingerprint.clone()
    }

    /// The current fingerprint of the ring's key whose fingerprint `stored` is, if any.
    pub(crate) fn recognise_fingerprint(&self, stored: &str) -> Option<String> {
        (stored == self.inner.active.fingerprint).then(|| stored.to_owned())
    }

    /// A secret for `purpose` (e.g. signing console sessions) derived from the master key, so
    /// no extra secret needs configuring; different purposes get unrelated values.
    pub fn derive_secret(&self, purpose: &str) -> spokes_core::Secret {
        let derived = Sha256::new()
            .chain_update(self.inner.active.derive_seed)
            .chain_update(purpose.as_bytes())
            .finalize();
        spokes_core::Secret::from(hex::encode(derived))
    }

    /// Seals `plaintext` for the place named by `context` (`table/column/row id`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> StoreResult<Vec<u8>> {
        let key = &self.inner.active;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Sealing(format!("the random source failed: {e}")))?;

        let mut out = header(&key.id);
        let aad = associated_data(&out, context);
        let ciphertext = key
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                StoreError::Sealing(format!("cannot seal a value for {}", place(context)))
            })?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Opens a value sealed by [`KeyRing::seal`] with the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let fail = |why: &str| {
            StoreError::Sealing(format!(
                "cannot open the sealed value in {}: {why}",
                place(context)
            ))
        };
        let (&version, rest) = sealed.split_first().ok_or_else(|| fail("it is empty"))?;
        if version != FORMAT_VERSION {
            return Err(fail("unknown format version"));
        }
        let (&id_len, rest) = rest.split_first().ok_or_else(|| fail("it is truncated"))?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE_LEN + TAG_LEN {
            return Err(fail("it is truncated"));
        }
        let (id, rest) = rest.split_at(id_len);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);

        let key = &self.inner.active;
        if id != key.id.as_bytes() {
            return Err(fail(
                "it was sealed with a master key that is not configured",
            ));
        }
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| fail("bad nonce"))?;
        let aad = associated_data(&sealed[..2 + id_len], context);
        key.cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                fail("authentication failed (the value was altered or belongs to another row)")
            })
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active_key_id", &self.inner.active.id)
            .finish_non_exhaustive()
    }
}

fn header(key_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + key_id.len() + NONCE_LEN + 64);
    out.push(FORMAT_VERSION);
    // Key ids are 8 hex characters, far below 256.
    out.push(u8::try_from(key_id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(key_id.as_bytes());
    out
}

fn associated_data(header: &[u8], context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// `table/column` of a context, without the row id, for error messages.
fn place(context: &str) -> &str {
    match context.match_indices('/').nth(1) {
        Some((i, _)) => &context[..i],
        None => context,
    }
}

fn random_key() -> StoreResult<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| StoreError::Sealing(format!("the random source failed: {e}")))?;
    Ok(key)
}

/// Decodes 64 hex characters or base64 of 32 bytes; the error says why, never what.
fn decode_key(encoded: &str) -> Result<[u8; 32], String> {
    let text = encoded.trim();
    if text.is_empty() {
        return Err("the key is empty".to_owned());
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            key[i] = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        return Ok(key);
    }
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        if let Ok(bytes) = engine.decode(text) {
            return <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| format!("it decodes to {} bytes instead of 32", bytes.len()));
        }
    }
    Err(format!(
        "it is neither 64 hex characters nor base64 ({} characters)",
        text.len()
    ))
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn sync_parent_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(dir) = fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::ExposeSecret;

    const CONTEXT: &str = "installations/access_token/inst_1";

    fn ring(byte: u8) -> KeyRing {
        KeyRing::from_key([byte; 32])
    }

    #[test]
    fn round_trip() {
        let ring = ring(7);
        let sealed = ring.seal(CONTEXT, b"pat-na1-secret").unwrap();
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(usize::from(sealed[1]), ring.key_id().len());
        assert_eq!(
            &sealed[2..2 + ring.key_id().len()],
            ring.key_id().as_bytes()
        );
        assert_eq!(ring.open(CONTEXT, &sealed).unwrap(), b"pat-na1-secret");
        // Fresh nonce each time.
        assert_ne!(sealed, ring.seal(CONTEXT, b"pat-na1-secret").unwrap());
        assert!(
            !sealed
                .windows(b"pat-na1-secret".len())
                .any(|w| w == b"pat-na1-secret")
        );
    }

    #[test]
    fn wrong_context_fails() {
        let ring = ring(7);
        let sealed = ring.seal(CONTEXT, b"token").unwrap();
        for other in [
            "installations/access_token/inst_2",
            "installations/refresh_token/inst_1",
            "accounts/access_token/inst_1",
        ] {
            let err = ring.open(other, &sealed).unwrap_err();
            assert!(matches!(err, StoreError::Sealing(_)), "{err:?}");
        }
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = ring(7).seal(CONTEXT, b"token").unwrap();
        let err = ring(8).open(CONTEXT, &sealed).unwrap_err();
        assert!(matches!(err, StoreError::Sealing(_)));
        // Even when the key id is forged to look like the other key's.
        let mut forged = sealed.clone();
        let id = ring(8).key_id().as_bytes().to_vec();
        forged[2..2 + id.len()].copy_from_slice(&id);
        assert!(ring(8).open(CONTEXT, &forged).is_err());
    }

    #[test]
    fn tampered_bytes_fail() {
        let ring = ring(7);
        let sealed = ring.seal(CONTEXT, b"token").unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(ring.open(CONTEXT, &tampered).is_err(), "byte {i}");
        }
        assert!(ring.open(CONTEXT, &sealed[..sealed.len() - 1]).is_err());
        assert!(ring.open(CONTEXT, &[]).is_err());
    }

    #[test]
    fn errors_and_debug_do_not_leak() {
        let ring = ring(7);
        let sealed = ring.seal(CONTEXT, b"token").unwrap();
        let err = ring
            .open("installations/access_token/inst_2", &sealed)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("installations/access_token"), "{text}");
        assert!(
            !text.contains("inst_2") && !text.contains("token\""),
            "{text}"
        );
        let debug = format!("{ring:?}");
        assert!(!debug.contains(&hex::encode([7u8; 32])), "{debug}");
    }

    #[test]
    fn derived_secrets_depend_on_key_and_purpose() {
        let a = ring(7).derive_secret("console");
        assert_eq!(
            a.expose_secret(),
            ring(7).derive_secret("console").expose_secret()
        );
        assert_ne!(
            a.expose_secret(),
            ring(8).derive_secret("console").expose_secret()
        );
        assert_ne!(
            a.expose_secret(),
            ring(7).derive_secret("other").expose_secret()
        );
        assert_ne!(a.expose_secret(), hex::encode([7u8; 32]));
    }

    #[test]
    fn fingerprint_and_key_id_are_stable_and_not_the_key() {
        let a = ring(7);
        assert_eq!(a.fingerprint(), ring(7).fingerprint());
        assert_ne!(a.fingerprint(), ring(8).fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        assert_eq!(a.key_id().len(), 8);
        assert_ne!(a.fingerprint(), hex::encode([7u8; 32]));
        assert_ne!(a.fingerprint(), hex::encode(Sha256::digest([7u8; 32])));
    }

    #[test]
    fn decodes_hex_and_base64() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        let expected = KeyRing::from_key(key).fingerprint();
        for encoded in [
            hex::encode(key),
            hex::encode(key).to_uppercase(),
            format!("  {}\n", hex::encode(key)),
            STANDARD.encode(key),
            URL_SAFE_NO_PAD.encode(key),
        ] {
            assert_eq!(
                KeyRing::from_encoded(&encoded).unwrap().fingerprint(),
                expected
            );
        }
        for bad in [
            "",
            "abc",
            &hex::encode(&key[..31]),
            &STANDARD.encode([1u8; 16]),
        ] {
            let err = KeyRing::from_encoded(bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidMasterKey(_)), "{err:?}");
        }
        let secretish = format!("{}zz", hex::encode(key));
        let err = KeyRing::from_encoded(&secretish).unwrap_err().to_string();
        assert!(!err.contains(&secretish), "{err}");
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!(
            "spokes-seal-test-{}",
            hex::encode(&random_key().unwrap()[..6])
        ));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");

        let (first, created) = KeyRing::load_or_create_file(&path).unwrap();
        assert!(created);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (second, created) = KeyRing::load_or_create_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first.fingerprint(), second.fingerprint());
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);

        fs::write(&path, "not a key\n").unwrap();
        let err = KeyRing::load_or_create_file(&path).unwrap_err();
        assert!(matches!(err, StoreError::InvalidMasterKey(_)), "{err:?}");
        assert!(err.to_string().contains("master.key"), "{err}");

        fs::remove_dir_all(&dir).unwrap();
    }
}
