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
//!
//! A ring holds one or more master keys: the first (active) one seals, all of them open. Key
//! ids, fingerprints and derived secrets come from HKDF-SHA256 of the key; values sealed and
//! fingerprints stored before HKDF (labelled SHA-256) are still recognised.
//!
//! A ring loaded from the key file follows that file while the process runs, so a running
//! server learns a key added by `spokes keys rotate-master` without a restart: before sealing
//! it compares the file's stamp (one `stat`) with the version it loaded and reloads on a
//! change; opening a value under a key id it does not know re-reads the file once and retries.
//! Keys it loaded once stay in memory (open-only) after the file drops them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

pub use crate::keyfile::KeyFileLock;
use crate::keyfile::{self, KeyBytes, Stamp};
use crate::{StoreError, StoreResult};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of a key id in a sealed value's header (hex characters, both derivations).
pub const KEY_ID_LEN: usize = 8;

/// HKDF salt: fixed, it only separates Spokes' derivations from any other use of the key.
const HKDF_SALT: &[u8] = b"spokes master key";
const KEY_ID_INFO: &[u8] = b"spokes key id";
const FINGERPRINT_INFO: &[u8] = b"spokes key fingerprint";
/// Followed by the purpose, e.g. `console-sessions`.
const DERIVE_INFO: &[u8] = b"spokes derived secret: ";

/// Labels of the derivations before HKDF (labelled SHA-256); still recognised.
const LEGACY_KEY_ID_LABEL: &[u8] = b"spokes master key id v1\0";
const LEGACY_FINGERPRINT_LABEL: &[u8] = b"spokes master key fingerprint v1\0";

/// The master key(s) that seal and open secrets. Cheap to clone (clones share the keys and
/// follow the key file together); never prints a key.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    /// Never empty; the first key is the active one.
    keys: RwLock<Arc<Vec<Arc<SealKey>>>>,
    /// Set when the ring was loaded from a key file it follows.
    file: Option<KeyFile>,
}

struct KeyFile {
    path: PathBuf,
    /// The version of the file the keys were last read from.
    stamp: Mutex<Option<Stamp>>,
}

struct SealKey {
    id: String,
    /// The key id under the labelled SHA-256 derivation (values sealed before HKDF).
    legacy_id: String,
    fingerprint: String,
    legacy_fingerprint: String,
    cipher: Aes256Gcm,
    hkdf: Hkdf<Sha256>,
}

impl SealKey {
    fn new(bytes: &KeyBytes) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), bytes);
        let mut id = [0u8; KEY_ID_LEN / 2];
        let mut fingerprint = [0u8; 32];
        // Output lengths far below HKDF's limit (255 × 32 bytes): expansion cannot fail.
        let _ = hkdf.expand(KEY_ID_INFO, &mut id);
        let _ = hkdf.expand(FINGERPRINT_INFO, &mut fingerprint);
        Self {
            id: hex::encode(id),
            legacy_id: legacy_key_id(bytes),
            fingerprint: hex::encode(fingerprint),
            legacy_fingerprint: legacy_fingerprint(bytes),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*bytes)),
            hkdf,
        }
    }

    fn answers_to(&self, key_id: &[u8]) -> bool {
        key_id == self.id.as_bytes() || key_id == self.legacy_id.as_bytes()
    }
}

/// The key id of the labelled SHA-256 derivation, before HKDF.
pub(crate) fn legacy_key_id(bytes: &KeyBytes) -> String {
    let hash = Sha256::new()
        .chain_update(LEGACY_KEY_ID_LABEL)
        .chain_update(bytes)
        .finalize();
    hex::encode(&hash[..KEY_ID_LEN / 2])
}

/// The fingerprint of the labelled SHA-256 derivation, before HKDF.
pub(crate) fn legacy_fingerprint(bytes: &KeyBytes) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(LEGACY_FINGERPRINT_LABEL)
            .chain_update(bytes)
            .finalize(),
    )
}

/// The key id recorded in a sealed value's header, if the value is well formed.
pub fn sealed_key_id(sealed: &[u8]) -> Option<&str> {
    let (&version, rest) = sealed.split_first()?;
    let (&id_len, rest) = rest.split_first()?;
    let id = rest.get(..usize::from(id_len))?;
    (version == FORMAT_VERSION)
        .then(|| std::str::from_utf8(id).ok())
        .flatten()
}

impl KeyRing {
    fn with_keys(keys: &[KeyBytes], file: Option<KeyFile>) -> Self {
        let keys = keys.iter().map(|k| Arc::new(SealKey::new(k))).collect();
        Self {
            inner: Arc::new(Inner {
                keys: RwLock::new(Arc::new(keys)),
                file,
            }),
        }
    }

    /// A key ring whose only (and active) key is `bytes`.
    pub fn from_key(bytes: [u8; 32]) -> Self {
        Self::with_keys(&[bytes], None)
    }

    /// A key ring of `keys`, the first one active. `InvalidMasterKey` when empty.
    pub fn from_keys(keys: &[[u8; 32]]) -> StoreResult<Self> {
        if keys.is_empty() {
            return Err(StoreError::InvalidMasterKey("no key given".to_owned()));
        }
        Ok(Self::with_keys(keys, None))
    }

    /// A key ring with a fresh random key (tests, `--sandbox` with a throwaway data dir).
    pub fn generate() -> StoreResult<Self> {
        Ok(Self::from_key(random_key()?))
    }

    /// Parses `SPOKES_MASTER_KEY`: one or more keys separated by commas (or newlines), the
    /// active one first, each 64 hex characters or base64 (standard or URL-safe, padded or not)
    /// of 32 bytes. Surrounding whitespace is ignored. The error never repeats the value.
    pub fn from_encoded(encoded: &str) -> StoreResult<Self> {
        let keys = keyfile::parse_list(encoded).map_err(|why| {
            StoreError::InvalidMasterKey(format!(
                "{why}; a master key is 64 hex characters or the base64 of 32 random bytes \
                 (generate one with `openssl rand -hex 32`), several are separated by commas, \
                 the active one first"
            ))
        })?;
        Ok(Self::with_keys(&keys, None))
    }

    /// Reads the key file at `path`, or creates it with a new random key (mode 0600) when it
    /// does not exist. Returns the key ring, which follows the file, and whether the file was
    /// created. Creation is atomic, so two processes starting together agree on one key.
    pub fn load_or_create_file(path: &Path) -> StoreResult<(Self, bool)> {
        match Self::from_file(path) {
            Ok(ring) => return Ok((ring, false)),
            Err(StoreError::KeyFile { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let created = keyfile::create(path, &random_key()?)?;
        Ok((Self::from_file(path)?, created))
    }

    /// Reads the key file at `path` (one key per line, the active one first); the ring follows
    /// the file while the process runs.
    pub fn from_file(path: &Path) -> StoreResult<Self> {
        let (keys, stamp) = keyfile::read(path)?;
        let file = KeyFile {
            path: path.to_path_buf(),
            stamp: Mutex::new(Some(stamp)),
        };
        Ok(Self::with_keys(&keys, Some(file)))
    }

    /// The key file this ring follows, if it was loaded from one.
    pub fn key_file(&self) -> Option<&Path> {
        self.inner.file.as_ref().map(|f| f.path.as_path())
    }

    fn keys(&self) -> Arc<Vec<Arc<SealKey>>> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn active(&self) -> Arc<SealKey> {
        // `keys` is never empty (every constructor and reload checks).
        self.keys()[0].clone()
    }

    /// The short id of the active key, recorded in every value it seals.
    pub fn key_id(&self) -> String {
        self.active().id.clone()
    }

    /// The ids of all keys, the active one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys().iter().map(|k| k.id.clone()).collect()
    }

    /// Whether a key of the ring answers to `key_id` (its id, or its id before HKDF).
    pub fn knows_key_id(&self, key_id: &str) -> bool {
        self.keys().iter().any(|k| k.answers_to(key_id.as_bytes()))
    }

    /// HKDF-SHA256 of the active key, hex. Identifies the key without revealing it; stored in
    /// the database so a wrong key stops startup.
    pub fn fingerprint(&self) -> String {
        self.active().fingerprint.clone()
    }

    /// The fingerprint of the ring's key whose fingerprint, current or from before HKDF,
    /// `stored` is; `None` when no key of the ring has it.
    pub fn recognise_fingerprint(&self, stored: &str) -> Option<String> {
        self.keys()
            .iter()
            .find(|k| k.fingerprint == stored || k.legacy_fingerprint == stored)
            .map(|k| k.fingerprint.clone())
    }

    /// The id of the ring's key with fingerprint `fingerprint` (current or before HKDF).
    pub fn key_id_of_fingerprint(&self, fingerprint: &str) -> Option<String> {
        self.keys()
            .iter()
            .find(|k| k.fingerprint == fingerprint || k.legacy_fingerprint == fingerprint)
            .map(|k| k.id.clone())
    }

    /// A secret for `purpose` (e.g. signing console sessions) derived from the active key with
    /// HKDF-SHA256 (info = the purpose label), so no extra secret needs configuring; different
    /// purposes get unrelated values.
    pub fn derive_secret(&self, purpose: &str) -> spokes_core::Secret {
        let mut info = DERIVE_INFO.to_vec();
        info.extend_from_slice(purpose.as_bytes());
        let mut derived = [0u8; 32];
        let _ = self.active().hkdf.expand(&info, &mut derived);
        spokes_core::Secret::from(hex::encode(derived))
    }

    /// Seals `plaintext` for the place named by `context` (`table/column/row id`) with the
    /// active key, after picking up a changed key file.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> StoreResult<Vec<u8>> {
        self.reload(false);
        let key = self.active();
        seal_with(&key, &key.id, context, plaintext)
    }

    /// Opens a value sealed by [`KeyRing::seal`] with the same `context`, with whichever key
    /// of the ring sealed it.
    pub fn open(&self, context: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        match open_with(&self.keys(), context, sealed) {
            // A key added to the file since it was read (a rotation under way).
            Err(Unopened::UnknownKey) if self.reload(true) => {
                open_with(&self.keys(), context, sealed).map_err(|e| e.into_error(context))
            }
            result => result.map_err(|e| e.into_error(context)),
        }
    }

    /// Re-reads the key file: always with `force`, else only when its stamp changed since the
    /// last read. True when the keys were reloaded. A key file that cannot be read keeps the
    /// keys in memory (and is reported once per version of the file).
    fn reload(&self, force: bool) -> bool {
        let Some(file) = &self.inner.file else {
            return false;
        };
        let mut stamp = file.stamp.lock().unwrap_or_else(|p| p.into_inner());
        if !force && keyfile::stamp(&file.path) == *stamp {
            return false;
        }
        match keyfile::read(&file.path) {
            Ok((keys, new_stamp)) => {
                *stamp = Some(new_stamp);
                self.adopt(&keys);
                true
            }
            Err(e) => {
                if keyfile::stamp(&file.path) != *stamp {
                    tracing::warn!(error = %e, "cannot reload the master key file; keeping the keys loaded before");
                }
                *stamp = keyfile::stamp(&file.path);
                false
            }
        }
    }

    /// Makes `file_keys` the ring (the first one active), keeping earlier keys open-only.
    fn adopt(&self, file_keys: &[KeyBytes]) {
        let mut slot = self.inner.keys.write().unwrap_or_else(|p| p.into_inner());
        let before = slot.clone();
        let mut next: Vec<Arc<SealKey>> = Vec::with_capacity(file_keys.len() + before.len());
        for bytes in file_keys {
            let key = SealKey::new(bytes);
            next.push(match before.iter().find(|k| k.id == key.id) {
                Some(known) => known.clone(),
                None => Arc::new(key),
            });
        }
        for key in before.iter() {
            if !next.iter().any(|k| k.id == key.id) {
                next.push(key.clone());
            }
        }
        if next[0].id != before[0].id {
            tracing::info!(key.id = %next[0].id, "the master key file changed: sealing with its first key");
        }
        *slot = Arc::new(next);
    }

    /// Takes the rotation lock next to the key file (`master.key.lock`). `KeyFile` error when
    /// another process holds it, `InvalidMasterKey` when the ring has no key file.
    pub fn lock_key_file(&self) -> StoreResult<KeyFileLock> {
        keyfile::lock(self.require_file()?)
    }

    /// Generates a new key and writes it at the front of the key file, before the keys the file
    /// holds, then reloads: the new key is active from here on. Returns its id.
    pub fn add_new_key_to_file(&self) -> StoreResult<String> {
        let path = self.require_file()?;
        let (mut keys, _) = keyfile::read(path)?;
        let new = random_key()?;
        keys.insert(0, new);
        keyfile::replace(path, &keys)?;
        self.reload(true);
        Ok(SealKey::new(&new).id)
    }

    /// Rewrites the key file with only its first key, which must be the ring's active key.
    /// Returns the ids of the keys it dropped (they stay in this ring's memory).
    pub fn retire_old_keys_in_file(&self) -> StoreResult<Vec<String>> {
        let path = self.require_file()?;
        let (keys, _) = keyfile::read(path)?;
        let first = SealKey::new(&keys[0]);
        if first.id != self.key_id() {
            return Err(StoreError::InvalidMasterKey(format!(
                "the first key of {} (id {}) is not the active key {}; the file changed \
                 during the rotation, so nothing was retired",
                path.display(),
                first.id,
                self.key_id()
            )));
        }
        let retired = keys[1..].iter().map(|k| SealKey::new(k).id).collect();
        keyfile::replace(path, &keys[..1])?;
        self.reload(true);
        Ok(retired)
    }

    /// The ids of the keys the key file holds now, its first (active) key first.
    pub fn key_file_ids(&self) -> StoreResult<Vec<String>> {
        let (keys, _) = keyfile::read(self.require_file()?)?;
        Ok(keys.iter().map(|k| SealKey::new(k).id).collect())
    }

    fn require_file(&self) -> StoreResult<&Path> {
        self.key_file().ok_or_else(|| {
            StoreError::InvalidMasterKey(
                "the master key does not come from a key file (SPOKES_MASTER_KEY or \
                 SPOKES_MASTER_KEY_FILE is set), so it cannot be rewritten"
                    .to_owned(),
            )
        })
    }
}

/// Why a value did not open, before the context is known to the message.
enum Unopened {
    Malformed(&'static str),
    UnknownKey,
    Authentication,
}

impl Unopened {
    fn into_error(self, context: &str) -> StoreError {
        let why = match self {
            Unopened::Malformed(why) => why,
            Unopened::UnknownKey => "it was sealed with a master key that is not configured",
            Unopened::Authentication => {
                "authentication failed (the value was altered or belongs to another row)"
            }
        };
        StoreError::Sealing(format!(
            "cannot open the sealed value in {}: {why}",
            place(context)
        ))
    }
}

fn seal_with(key: &SealKey, key_id: &str, context: &str, plaintext: &[u8]) -> StoreResult<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| StoreError::Sealing(format!("the random source failed: {e}")))?;

    let mut out = header(key_id);
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
        .map_err(|_| StoreError::Sealing(format!("cannot seal a value for {}", place(context))))?;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn open_with(keys: &[Arc<SealKey>], context: &str, sealed: &[u8]) -> Result<Vec<u8>, Unopened> {
    let (&version, rest) = sealed
        .split_first()
        .ok_or(Unopened::Malformed("it is empty"))?;
    if version != FORMAT_VERSION {
        return Err(Unopened::Malformed("unknown format version"));
    }
    let (&id_len, rest) = rest
        .split_first()
        .ok_or(Unopened::Malformed("it is truncated"))?;
    let id_len = usize::from(id_len);
    if rest.len() < id_len + NONCE_LEN + TAG_LEN {
        return Err(Unopened::Malformed("it is truncated"));
    }
    let (id, rest) = rest.split_at(id_len);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| Unopened::Malformed("bad nonce"))?;
    let aad = associated_data(&sealed[..2 + id_len], context);

    let mut candidates = keys.iter().filter(|k| k.answers_to(id)).peekable();
    if candidates.peek().is_none() {
        return Err(Unopened::UnknownKey);
    }
    // Ids are short, so two keys may share one: the tag tells which key it really is.
    candidates
        .find_map(|key| {
            key.cipher
                .decrypt(
                    &nonce.into(),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .ok()
        })
        .ok_or(Unopened::Authentication)
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids())
            .field("key_file", &self.key_file())
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

fn random_key() -> StoreResult<KeyBytes> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| StoreError::Sealing(format!("the random source failed: {e}")))?;
    Ok(key)
}

/// Seals the way Spokes did before HKDF (the legacy key id in the header), for tests of data
/// written by earlier versions.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn seal_legacy(key: &KeyBytes, context: &str, plaintext: &[u8]) -> Vec<u8> {
    seal_with(&SealKey::new(key), &legacy_key_id(key), context, plaintext)
        .unwrap_or_else(|e| panic!("legacy seal: {e}"))
}

#[cfg(test)]
mod tests;
