//! Re-sealing every value under a new master key (`spokes keys rotate-master`): batches, a
//! resumed pass after a crash, and completing the rotation.

use std::collections::BTreeMap;
use std::sync::Arc;

use spokes_core::{ConnectorSetup, ExposeSecret, InstallationStatus, OAuthState, Secret};
use spokes_store::testing::seal_legacy;
use spokes_store::{AuthState, KeyRing, ResealCursor, Store, StoreError, connect};

use crate::support::{Harness, T0, installation, tokens};

const INSTALLATIONS: usize = 6;
const STATES: usize = 3;
/// The connector's client secret, two tokens per installation, one verifier per state.
const VALUES: u64 = 1 + 2 * INSTALLATIONS as u64 + STATES as u64;

fn key(byte: u8) -> [u8; 32] {
    let mut key: [u8; 32] = spokes_core::token::random_bytes(32).try_into().unwrap();
    key[0] = byte;
    key
}

/// One of each sealed value under the harness's key; one refresh token sealed the way versions
/// before HKDF did (the legacy key id), as an upgraded database holds it.
async fn fill(h: &Harness, old: [u8; 32]) {
    h.seed().await;
    h.store
        .put_connector_setup(&ConnectorSetup {
            connector: "hubspot".to_owned(),
            client_id: "client-1".to_owned(),
            client_secret: Secret::from("client-secret"),
            properties: BTreeMap::new(),
            updated_at: T0,
        })
        .await
        .unwrap();
    for i in 1..=INSTALLATIONS {
        let id = format!("inst_{i}");
        if i > 1 {
            h.store
                .create_installation(&installation(&id, "acme"))
                .await
                .unwrap();
        }
        let state = AuthState {
            status: InstallationStatus::Authenticated,
            portal: None,
            last_error: None,
            tokens: Some(tokens(&format!("access-{i}"), &format!("refresh-{i}"), T0)),
        };
        assert!(
            h.store
                .save_auth_state(&id, &state, T0, None)
                .await
                .unwrap()
        );
    }
    for i in 1..=STATES {
        h.store
            .create_oauth_state(&OAuthState {
                state_hash: format!("state-{i}"),
                installation_id: "inst_1".to_owned(),
                code_verifier: Secret::from(format!("verifier-{i}")),
                return_url: None,
                created_at: T0,
                expires_at: T0 + 600_000,
            })
            .await
            .unwrap();
    }
    let raw = h.raw().await;
    raw.exec_bytes(
        "UPDATE installations SET refresh_token_sealed = $1 WHERE id = $2",
        Some(seal_legacy(
            old,
            "installations/refresh_token/inst_3",
            b"refresh-3",
        )),
        "inst_3",
    )
    .await;
    raw.close().await;
}

/// Every value opens through `store` with its plaintext.
async fn assert_all_open(store: &Arc<dyn Store>) {
    let setup = store.get_connector_setup("hubspot").await.unwrap().unwrap();
    assert_eq!(setup.client_secret.expose_secret(), "client-secret");
    for i in 1..=INSTALLATIONS {
        let got = store
            .get_tokens(&format!("inst_{i}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.access_token.expose_secret(), format!("access-{i}"));
        assert_eq!(got.refresh_token.expose_secret(), format!("refresh-{i}"));
    }
}

/// Runs batches from `from` to the end of the pass; (re-sealed, skipped, batches).
async fn pass(
    store: &Arc<dyn Store>,
    mut from: Option<ResealCursor>,
    limit: u32,
) -> (u64, u64, u32) {
    let (mut resealed, mut skipped, mut batches) = (0, 0, 0);
    loop {
        let batch = store.reseal_batch(from.as_ref(), limit).await.unwrap();
        resealed += batch.resealed;
        skipped += batch.skipped;
        batches += 1;
        assert!(batch.resealed <= u64::from(limit));
        match batch.next {
            Some(next) => from = Some(next),
            None => return (resealed, skipped, batches),
        }
    }
}

async fn snapshot(h: &Harness) -> Vec<Option<Vec<u8>>> {
    let raw = h.raw().await;
    let mut values = vec![
        raw.bytes(
            "SELECT client_secret_sealed FROM connector_setups WHERE connector = $1",
            "hubspot",
        )
        .await,
    ];
    for i in 1..=INSTALLATIONS {
        let id = format!("inst_{i}");
        values.push(
            raw.bytes(
                "SELECT access_token_sealed FROM installations WHERE id = $1",
                &id,
            )
            .await,
        );
        values.push(
            raw.bytes(
                "SELECT refresh_token_sealed FROM installations WHERE id = $1",
                &id,
            )
            .await,
        );
    }
    for i in 1..=STATES {
        values.push(
            raw.bytes(
                "SELECT code_verifier_sealed FROM oauth_states WHERE state_hash = $1",
                &format!("state-{i}"),
            )
            .await,
        );
    }
    raw.close().await;
    values
}

#[tokio::test]
async fn reseal_batches_resume_after_a_crash_and_complete_the_rotation() {
    let (old, new) = (key(1), key(2));
    let h = Harness::with_keys(KeyRing::from_key(old)).await;
    fill(&h, old).await;
    let old_ring = KeyRing::from_key(old);
    let new_ring = KeyRing::from_key(new);
    let legacy_id = {
        let sealed = snapshot(&h).await[2 * 3].clone().unwrap();
        String::from_utf8(sealed[2..10].to_vec()).unwrap()
    };
    assert_ne!(legacy_id, old_ring.key_id());
    assert_eq!(
        h.store.count_sealed_by_key_id().await.unwrap(),
        BTreeMap::from([(old_ring.key_id(), VALUES - 1), (legacy_id.clone(), 1)])
    );

    // The rotating process: the new key first, the old one after.
    let rotating = KeyRing::from_keys(&[new, old]).unwrap();
    let first = connect(&h.url, rotating.clone()).await.unwrap();
    assert_eq!(
        first.key_fingerprint().await.unwrap(),
        Some(old_ring.fingerprint())
    );
    let batch = first.reseal_batch(None, 5).await.unwrap();
    assert_eq!((batch.resealed, batch.skipped), (5, 0));
    assert_eq!(
        batch.next.as_ref().map(ResealCursor::place),
        Some("installations.access_token_sealed")
    );
    // Until every value is under the new key, the rotation cannot complete.
    assert!(!first.complete_key_rotation().await.unwrap());
    drop(first); // the process crashes

    // Restarted, it starts a new pass: the values already re-sealed are not touched again.
    let after_crash = snapshot(&h).await;
    let second = connect(&h.url, rotating.clone()).await.unwrap();
    assert_eq!(
        second.key_fingerprint().await.unwrap(),
        Some(old_ring.fingerprint())
    );
    let (resealed, skipped, batches) = pass(&second, None, 5).await;
    assert_eq!((resealed, skipped), (VALUES - 5, 0));
    assert!(batches >= 3, "{batches}");
    let done = snapshot(&h).await;
    let kept = after_crash
        .iter()
        .zip(&done)
        .filter(|(before, after)| before == after)
        .count();
    assert_eq!(kept, 5, "only the values under the old key were rewritten");
    assert_eq!(
        second.count_sealed_by_key_id().await.unwrap(),
        BTreeMap::from([(new_ring.key_id(), VALUES)])
    );
    // A further pass finds nothing to do and changes nothing.
    assert_eq!(pass(&second, None, 100).await.0, 0);
    assert_eq!(snapshot(&h).await, done);
    assert_all_open(&second).await;

    assert!(second.complete_key_rotation().await.unwrap());
    assert_eq!(
        second.key_fingerprint().await.unwrap(),
        Some(new_ring.fingerprint())
    );

    // The old key can go: the new one alone opens everything, the old one alone is refused.
    let new_only = connect(&h.url, new_ring.clone()).await.unwrap();
    assert_all_open(&new_only).await;
    let verifier = new_only
        .consume_oauth_state("state-2", T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(verifier.code_verifier.expose_secret(), "verifier-2");
    let err = connect(&h.url, old_ring)
        .await
        .err()
        .expect("old key refused");
    assert!(matches!(err, StoreError::WrongMasterKey { .. }), "{err:?}");
}

#[tokio::test]
async fn a_value_written_under_the_old_key_during_the_rotation_blocks_completion() {
    let (old, new) = (key(1), key(2));
    let h = Harness::with_keys(KeyRing::from_key(old)).await;
    fill(&h, old).await;
    let rotating = connect(&h.url, KeyRing::from_keys(&[new, old]).unwrap())
        .await
        .unwrap();
    assert_eq!(pass(&rotating, None, 100).await.0, VALUES);

    // A server that has not noticed the new key yet writes a token with the old one.
    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: None,
        last_error: None,
        tokens: Some(tokens("access-late", "refresh-late", T0)),
    };
    assert!(
        h.store
            .save_auth_state("inst_2", &state, T0 + 1, None)
            .await
            .unwrap()
    );
    assert!(!rotating.complete_key_rotation().await.unwrap());
    // The final re-check pass picks it up.
    assert_eq!(pass(&rotating, None, 100).await.0, 2);
    assert!(rotating.complete_key_rotation().await.unwrap());
    let tokens = rotating.get_tokens("inst_2").await.unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "access-late");
    // Re-sealing did not count as an auth-state write.
    let inst = rotating.get_installation("inst_2").await.unwrap().unwrap();
    assert_eq!(inst.auth_version, 2);
}

#[tokio::test]
async fn a_value_that_no_key_opens_stops_the_rotation_clearly() {
    let (old, new) = (key(1), key(2));
    let h = Harness::with_keys(KeyRing::from_key(old)).await;
    fill(&h, old).await;
    // Rotating without the old key in the ring cannot open the values.
    let raw = h.raw().await;
    raw.exec_bytes(
        "UPDATE installations SET access_token_sealed = $1 WHERE id = $2",
        Some(
            KeyRing::from_key(key(3))
                .seal("installations/access_token/inst_1", b"x")
                .unwrap(),
        ),
        "inst_1",
    )
    .await;
    raw.close().await;
    let rotating = connect(&h.url, KeyRing::from_keys(&[new, old]).unwrap())
        .await
        .unwrap();
    let err = pass_err(&rotating).await;
    assert!(matches!(err, StoreError::Sealing(_)), "{err:?}");
    assert!(
        err.to_string().contains("installations/access_token"),
        "{err}"
    );
}

async fn pass_err(store: &Arc<dyn Store>) -> StoreError {
    let mut from = None;
    loop {
        match store.reseal_batch(from.as_ref(), 100).await {
            Ok(batch) => match batch.next {
                Some(next) => from = Some(next),
                None => panic!("the pass succeeded"),
            },
            Err(e) => return e,
        }
    }
}
