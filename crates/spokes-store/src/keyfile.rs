//! The master key file and the encodings of master keys.
//!
//! The file holds one hex key per line, the active (newest) key first; blank lines and lines
//! starting with `#` are ignored. It is created atomically with mode 0600 (a temporary file
//! hard-linked into place, so two processes starting together agree on one key) and replaced
//! atomically (a temporary file renamed over it), so a reader never sees half a file.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::{StoreError, StoreResult};

/// A 256-bit master key.
pub(crate) type KeyBytes = [u8; 32];

/// What identifies one version of the key file: a replaced file has a new inode, an edited one
/// a new length or modification time. Comparing stamps costs one `stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

fn key_file_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    |source| StoreError::KeyFile {
        path: path.to_path_buf(),
        source,
    }
}

/// The stamp of the file now, `None` when it cannot be read.
pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    fs::metadata(path).ok().map(|meta| Stamp::of(&meta))
}

/// Reads the keys of the file, active first, and the stamp of the version read.
pub(crate) fn read(path: &Path) -> StoreResult<(Vec<KeyBytes>, Stamp)> {
    let mut file = fs::File::open(path).map_err(key_file_error(path))?;
    // Stamped from the open handle: the stamp belongs to exactly the contents read.
    let meta = file.metadata().map_err(key_file_error(path))?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(key_file_error(path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the master key file is readable by other users; run `chmod 600` on it"
        );
    }
    let keys = parse_list(&text).map_err(|why| {
        StoreError::InvalidMasterKey(format!(
            "the key file {} is malformed ({why}); it must hold 64 hex characters per line, \
             the active key first. Restore the original file from a backup; moving it away \
             makes Spokes generate a new key, and secrets sealed with the old key can then not \
             be opened",
            path.display()
        ))
    })?;
    Ok((keys, Stamp::of(&meta)))
}

/// Creates the file with `key` unless it exists. True when this call created it.
pub(crate) fn create(path: &Path, key: &KeyBytes) -> StoreResult<bool> {
    let contents = encode_file(std::slice::from_ref(key));
    let tmp = temp_path(path)?;
    write_private_file(&tmp, contents.as_bytes()).map_err(key_file_error(path))?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent_dir(path);
            Ok(true)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        // Some file systems have no hard links: fall back to an exclusive create.
        Err(_) => match write_private_file(path, contents.as_bytes()) {
            Ok(()) => {
                sync_parent_dir(path);
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(key_file_error(path)(e)),
        },
    }
}

/// Replaces the file with `keys` (active first): written to a temporary file with mode 0600,
/// synced, then renamed over the old one.
pub(crate) fn replace(path: &Path, keys: &[KeyBytes]) -> StoreResult<()> {
    let tmp = temp_path(path)?;
    let written = write_private_file(&tmp, encode_file(keys).as_bytes())
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(key_file_error(path))?;
    sync_parent_dir(path);
    Ok(())
}

/// An exclusive lock next to the key file (`master.key.lock`), held while a rotation rewrites
/// it. The operating system releases it when the process ends, even on a crash.
#[derive(Debug)]
pub struct KeyFileLock {
    _file: fs::File,
}

pub(crate) fn lock(path: &Path) -> StoreResult<KeyFileLock> {
    let lock_path = sibling(path, ".lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(key_file_error(&lock_path))?;
    match file.try_lock() {
        Ok(()) => Ok(KeyFileLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::KeyFile {
            path: lock_path,
            source: std::io::Error::new(
                ErrorKind::WouldBlock,
                "another `spokes keys rotate-master` holds the lock; wait for it to finish",
            ),
        }),
        Err(fs::TryLockError::Error(e)) => Err(key_file_error(&lock_path)(e)),
    }
}

fn encode_file(keys: &[KeyBytes]) -> String {
    keys.iter()
        .map(|k| format!("{}\n", hex::encode(k)))
        .collect()
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.key".to_owned());
    path.with_file_name(format!("{name}{suffix}"))
}

fn temp_path(path: &Path) -> StoreResult<PathBuf> {
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| StoreError::Sealing(format!("random: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.key".to_owned());
    Ok(path.with_file_name(format!(".{name}.tmp-{}", hex::encode(suffix))))
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

/// Decodes keys separated by newlines or commas (the file, `SPOKES_MASTER_KEY`), active first.
/// Blank entries and lines starting with `#` are skipped. The error says why, never what.
pub(crate) fn parse_list(text: &str) -> Result<Vec<KeyBytes>, String> {
    let mut keys = Vec::new();
    let entries = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty());
    for (i, entry) in entries.enumerate() {
        let key = decode_key(entry).map_err(|why| format!("key {}: {why}", i + 1))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err("no key in it".to_owned());
    }
    Ok(keys)
}

/// Decodes 64 hex characters or base64 of 32 bytes; the error says why, never what.
pub(crate) fn decode_key(encoded: &str) -> Result<KeyBytes, String> {
    let text = encoded.trim();
    if text.is_empty() {
        return Err("the key is empty".to_owned());
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        hex::decode_to_slice(text, &mut key).map_err(|_| "it is not valid hex".to_owned())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_newlines_and_commas_and_skip_comments() {
        let (a, b) = (hex::encode([1u8; 32]), hex::encode([2u8; 32]));
        let keys = parse_list(&format!("# newest first\n{a}\n\n {b} ,{a}\n")).unwrap();
        assert_eq!(keys, vec![[1u8; 32], [2u8; 32]]);
        assert_eq!(parse_list(&format!("{b},{a}")).unwrap()[0], [2u8; 32]);
        assert!(parse_list("\n# only a comment\n").is_err());
        let err = parse_list(&format!("{a}\nzz{b}")).unwrap_err();
        assert!(err.starts_with("key 2:") && !err.contains(&b), "{err}");
    }

    #[test]
    fn replace_is_atomic_private_and_changes_the_stamp() {
        let dir = crate::testing::TempDir::new("spokes-keyfile");
        let path = dir.path().join("master.key");
        assert!(create(&path, &[1u8; 32]).unwrap());
        assert!(!create(&path, &[2u8; 32]).unwrap());
        let (keys, first) = read(&path).unwrap();
        assert_eq!(keys, vec![[1u8; 32]]);
        assert_eq!(stamp(&path), Some(first));

        replace(&path, &[[3u8; 32], [1u8; 32]]).unwrap();
        let (keys, second) = read(&path).unwrap();
        assert_eq!(keys, vec![[3u8; 32], [1u8; 32]]);
        assert_ne!(first, second);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
    }

    #[test]
    fn one_rotation_lock_at_a_time() {
        let dir = crate::testing::TempDir::new("spokes-keyfile");
        let path = dir.path().join("master.key");
        let held = lock(&path).unwrap();
        let err = lock(&path).unwrap_err();
        assert!(err.to_string().contains("another"), "{err}");
        drop(held);
        lock(&path).unwrap();
    }
}
