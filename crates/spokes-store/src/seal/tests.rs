use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use spokes_core::ExposeSecret;

use super::*;
use crate::testing::TempDir;

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

fn hkdf_hex(key: &KeyBytes, info: &[u8], len: usize) -> String {
    let mut out = vec![0u8; len];
    Hkdf::<Sha256>::new(Some(b"spokes master key"), key)
        .expand(info, &mut out)
        .unwrap();
    hex::encode(out)
}

#[test]
fn key_id_fingerprint_and_derived_secrets_are_hkdf_sha256() {
    let key = [7u8; 32];
    let ring = KeyRing::from_key(key);
    assert_eq!(ring.key_id(), hkdf_hex(&key, b"spokes key id", 4));
    assert_eq!(
        ring.fingerprint(),
        hkdf_hex(&key, b"spokes key fingerprint", 32)
    );
    assert_eq!(
        ring.derive_secret("console-sessions").expose_secret(),
        hkdf_hex(&key, b"spokes derived secret: console-sessions", 32)
    );
    // Not the labelled SHA-256 of before.
    assert_ne!(ring.key_id(), legacy_key_id(&key));
    assert_ne!(ring.fingerprint(), legacy_fingerprint(&key));
}

#[test]
fn values_sealed_before_hkdf_still_open() {
    let key = [7u8; 32];
    let sealed = seal_legacy(&key, CONTEXT, b"old token");
    // The header carries the labelled SHA-256 key id of earlier versions.
    assert_eq!(sealed_key_id(&sealed), Some(legacy_key_id(&key).as_str()));
    let legacy_id = Sha256::new()
        .chain_update(b"spokes master key id v1\0")
        .chain_update(key)
        .finalize();
    assert_eq!(legacy_key_id(&key), hex::encode(&legacy_id[..4]));

    let keys = KeyRing::from_key(key);
    assert_eq!(keys.open(CONTEXT, &sealed).unwrap(), b"old token");
    assert!(keys.knows_key_id(&legacy_key_id(&key)));
    assert!(ring(8).open(CONTEXT, &sealed).is_err());
    // Tampering still shows.
    let mut tampered = sealed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(keys.open(CONTEXT, &tampered).is_err());

    // The stored fingerprint of before is recognised as this key's.
    let legacy = hex::encode(
        Sha256::new()
            .chain_update(b"spokes master key fingerprint v1\0")
            .chain_update(key)
            .finalize(),
    );
    assert_eq!(
        keys.recognise_fingerprint(&legacy),
        Some(keys.fingerprint())
    );
    assert_eq!(
        keys.recognise_fingerprint(&keys.fingerprint()),
        Some(keys.fingerprint())
    );
    assert_eq!(keys.recognise_fingerprint(&ring(8).fingerprint()), None);
}

#[test]
fn a_ring_seals_with_its_first_key_and_opens_with_all() {
    let (new, old) = ([2u8; 32], [1u8; 32]);
    let under_old = KeyRing::from_key(old).seal(CONTEXT, b"old").unwrap();
    let legacy_old = seal_legacy(&old, CONTEXT, b"older");
    let ring = KeyRing::from_keys(&[new, old]).unwrap();
    assert_eq!(ring.key_id(), KeyRing::from_key(new).key_id());
    assert_eq!(
        ring.key_ids(),
        vec![ring.key_id(), KeyRing::from_key(old).key_id()]
    );
    assert_eq!(ring.fingerprint(), KeyRing::from_key(new).fingerprint());

    let under_new = ring.seal(CONTEXT, b"new").unwrap();
    assert_eq!(sealed_key_id(&under_new), Some(ring.key_id().as_str()));
    assert_eq!(ring.open(CONTEXT, &under_new).unwrap(), b"new");
    assert_eq!(ring.open(CONTEXT, &under_old).unwrap(), b"old");
    assert_eq!(ring.open(CONTEXT, &legacy_old).unwrap(), b"older");
    assert!(KeyRing::from_key(old).open(CONTEXT, &under_new).is_err());
    // Either key's fingerprint is recognised.
    for key in [new, old] {
        let fp = KeyRing::from_key(key).fingerprint();
        assert_eq!(ring.recognise_fingerprint(&fp), Some(fp.clone()));
        assert_eq!(
            ring.key_id_of_fingerprint(&fp),
            Some(KeyRing::from_key(key).key_id())
        );
    }

    let env =
        KeyRing::from_encoded(&format!("{}, {}", hex::encode(new), hex::encode(old))).unwrap();
    assert_eq!(env.key_ids(), ring.key_ids());
    assert!(KeyRing::from_keys(&[]).is_err());
}

#[test]
fn a_ring_from_the_key_file_follows_the_file() {
    let dir = TempDir::new("spokes-seal");
    let path = dir.path().join("master.key");
    let (server, created) = KeyRing::load_or_create_file(&path).unwrap();
    assert!(created);
    let old_id = server.key_id();
    let before = server.seal(CONTEXT, b"before").unwrap();

    // Another process (`rotate-master`) adds a key at the front of the file.
    let rotator = KeyRing::from_file(&path).unwrap();
    let new_id = rotator.add_new_key_to_file().unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(rotator.key_id(), new_id);
    assert_eq!(
        rotator.key_file_ids().unwrap(),
        vec![new_id.clone(), old_id.clone()]
    );
    let resealed = rotator.seal(CONTEXT, b"resealed").unwrap();

    // The server opens a value under the key it has not read yet: it re-reads the file.
    assert_eq!(server.open(CONTEXT, &resealed).unwrap(), b"resealed");
    assert_eq!(server.key_id(), new_id);
    assert_eq!(server.open(CONTEXT, &before).unwrap(), b"before");

    // A second server notices the changed file before it seals, without opening anything.
    let (other, _) = KeyRing::load_or_create_file(&path).unwrap();
    keyfile::replace(&path, &[[9u8; 32], [8u8; 32]]).unwrap();
    let sealed = other.seal(CONTEXT, b"x").unwrap();
    assert_eq!(
        sealed_key_id(&sealed),
        Some(KeyRing::from_key([9u8; 32]).key_id().as_str())
    );
    // Keys the file no longer holds stay in memory, open-only.
    assert_eq!(other.open(CONTEXT, &resealed).unwrap(), b"resealed");
    assert!(other.key_ids().contains(&new_id));

    // Retiring leaves only the active key in the file.
    keyfile::replace(&path, &[keyfile::read(&path).unwrap().0[0], [1u8; 32]]).unwrap();
    let retired = other.retire_old_keys_in_file().unwrap();
    assert_eq!(retired, vec![KeyRing::from_key([1u8; 32]).key_id()]);
    assert_eq!(
        other.key_file_ids().unwrap(),
        vec![KeyRing::from_key([9u8; 32]).key_id()]
    );

    // A broken file keeps the keys in memory.
    fs::write(&path, "garbage\n").unwrap();
    assert_eq!(other.open(CONTEXT, &sealed).unwrap(), b"x");
    assert_eq!(
        sealed_key_id(&other.seal(CONTEXT, b"y").unwrap()),
        sealed_key_id(&sealed)
    );
}

#[test]
fn rings_without_a_key_file_cannot_rewrite_one() {
    let ring = ring(7);
    assert!(ring.key_file().is_none());
    for err in [
        ring.add_new_key_to_file().unwrap_err(),
        ring.retire_old_keys_in_file().unwrap_err(),
        ring.lock_key_file().err().unwrap(),
    ] {
        assert!(err.to_string().contains("SPOKES_MASTER_KEY"), "{err}");
    }
}

#[test]
fn sealed_key_id_reads_the_header() {
    let ring = ring(7);
    let sealed = ring.seal(CONTEXT, b"v").unwrap();
    assert_eq!(sealed_key_id(&sealed), Some(ring.key_id().as_str()));
    assert_eq!(sealed_key_id(&[]), None);
    assert_eq!(sealed_key_id(&[1, 8, b'a']), None);
    assert_eq!(sealed_key_id(&[2, 0]), None);
}
