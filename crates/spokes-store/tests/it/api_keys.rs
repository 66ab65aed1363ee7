use spokes_core::{ApiKey, ConsoleSession};
use spokes_store::StoreError;

use crate::support::{Harness, T0};

fn key(id: &str, hash: &str, account_id: Option<&str>, created_at: i64) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        name: format!("key {id}"),
        key_hash: hash.to_owned(),
        account_id: account_id.map(str::to_owned),
        read_only: false,
        confirm_writes: true,
        created_at,
        revoked_at: None,
    }
}

#[tokio::test]
async fn create_find_list_revoke() {
    let h = Harness::new().await;
    let store = &h.store;
    let a = key("key_a", "hash-a", None, T0);
    let b = key("key_b", "hash-b", Some("acme"), T0 + 1);
    store.create_api_key(&b).await.unwrap();
    store.create_api_key(&a).await.unwrap();

    assert_eq!(
        store.find_api_key_by_hash("hash-b").await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(store.find_api_key_by_hash("nope").await.unwrap(), None);
    assert_eq!(
        store.list_api_keys().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    assert!(store.revoke_api_key("key_a", T0 + 5).await.unwrap());
    // Already revoked, or unknown: false.
    assert!(!store.revoke_api_key("key_a", T0 + 6).await.unwrap());
    assert!(!store.revoke_api_key("key_zzz", T0 + 6).await.unwrap());

    // A revoked key is still found (the caller refuses it) and keeps its first revocation time.
    let found = store.find_api_key_by_hash("hash-a").await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(T0 + 5));
}

#[tokio::test]
async fn the_write_flags_are_kept() {
    let h = Harness::new().await;
    let store = &h.store;
    let mut agent = key("key_agent", "hash-agent", Some("acme"), T0);
    agent.read_only = true;
    agent.confirm_writes = false;
    store.create_api_key(&agent).await.unwrap();
    assert_eq!(
        store.find_api_key_by_hash("hash-agent").await.unwrap(),
        Some(agent.clone())
    );
    assert_eq!(store.list_api_keys().await.unwrap(), vec![agent]);

    // A key written before the flags existed (no values given) may write, after confirming.
    let raw = h.raw().await;
    raw.exec_text(
        "INSERT INTO api_keys (id, name, key_hash, account_id, created_at) \
         VALUES ($1, 'old', 'hash-old', NULL, 0)",
        "key_old",
    )
    .await;
    raw.close().await;
    let old = store
        .find_api_key_by_hash("hash-old")
        .await
        .unwrap()
        .unwrap();
    assert!(!old.read_only);
    assert!(old.confirm_writes);
}

#[tokio::test]
async fn duplicate_id_or_hash_is_a_conflict() {
    let h = Harness::new().await;
    h.store
        .create_api_key(&key("key_a", "hash-a", None, T0))
        .await
        .unwrap();
    for dup in [
        key("key_a", "hash-x", None, T0),
        key("key_x", "hash-a", None, T0),
    ] {
        let err = h.store.create_api_key(&dup).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    assert_eq!(h.store.list_api_keys().await.unwrap().len(), 1);
}

fn session(id_hash: &str, key_id: Option<&str>, expires_at: i64) -> ConsoleSession {
    ConsoleSession {
        id_hash: id_hash.to_owned(),
        key_id: key_id.map(str::to_owned),
        created_at: T0,
        expires_at,
    }
}

#[tokio::test]
async fn console_sessions_end_on_expiry_logout_and_key_revocation() {
    let h = Harness::new().await;
    let store = &h.store;
    store
        .create_api_key(&key("key_a", "hash-a", None, T0))
        .await
        .unwrap();
    store
        .create_api_key(&key("key_b", "hash-b", None, T0))
        .await
        .unwrap();
    let until = T0 + 8 * 3_600_000;
    for s in [
        session("s-a1", Some("key_a"), until),
        session("s-a2", Some("key_a"), until),
        session("s-b", Some("key_b"), until),
        session("s-admin", None, until),
    ] {
        store.create_console_session(&s).await.unwrap();
    }
    // Found while unexpired, with or without a key.
    assert_eq!(
        store.find_console_session("s-a1", T0 + 1).await.unwrap(),
        Some(session("s-a1", Some("key_a"), until))
    );
    assert_eq!(
        store.find_console_session("s-admin", T0 + 1).await.unwrap(),
        Some(session("s-admin", None, until))
    );
    assert_eq!(store.find_console_session("nope", T0).await.unwrap(), None);
    // Expired at `expires_at`.
    assert_eq!(
        store.find_console_session("s-b", until).await.unwrap(),
        None
    );
    assert!(
        store
            .find_console_session("s-b", until - 1)
            .await
            .unwrap()
            .is_some()
    );

    // Duplicate ids conflict; a session needs an existing key.
    let err = store
        .create_console_session(&session("s-a1", None, until))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .create_console_session(&session("s-x", Some("key_zzz"), until))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    // Revoking a key ends its sessions (and deletes their rows), not the others.
    assert!(store.revoke_api_key("key_a", T0 + 2).await.unwrap());
    assert_eq!(
        store.find_console_session("s-a1", T0 + 3).await.unwrap(),
        None
    );
    assert!(
        !store.delete_console_session("s-a2").await.unwrap(),
        "row deleted"
    );
    assert!(
        store
            .find_console_session("s-b", T0 + 3)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .find_console_session("s-admin", T0 + 3)
            .await
            .unwrap()
            .is_some()
    );

    // Logout.
    assert!(store.delete_console_session("s-b").await.unwrap());
    assert!(!store.delete_console_session("s-b").await.unwrap());
    assert_eq!(
        store.find_console_session("s-b", T0 + 3).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_session_of_a_key_revoked_elsewhere_is_refused() {
    let h = Harness::new().await;
    h.store
        .create_api_key(&key("key_a", "hash-a", None, T0))
        .await
        .unwrap();
    h.store
        .create_console_session(&session("s-a", Some("key_a"), T0 + 1_000))
        .await
        .unwrap();
    // Another process marks the key revoked without deleting the session (an older build).
    let raw = h.raw().await;
    raw.exec_text("UPDATE api_keys SET revoked_at = 1 WHERE id = $1", "key_a")
        .await;
    raw.close().await;
    assert_eq!(h.store.find_console_session("s-a", T0).await.unwrap(), None);
}

#[tokio::test]
async fn ping_answers() {
    let h = Harness::new().await;
    h.store.ping().await.unwrap();
    h.second_store().await.ping().await.unwrap();
}
