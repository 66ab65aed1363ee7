use spokes_core::{ExposeSecret, InstallationStatus};
use spokes_store::testing::{
    TempDir, legacy_fingerprint, schema_versions, seal_legacy, test_database_url, test_key_ring,
};
use spokes_store::{AuthState, KeyRing, StoreError, connect, latest_schema_version, migrate};

use crate::support::{Harness, T0, account, tokens};

#[tokio::test]
async fn reconnecting_with_another_master_key_is_refused() {
    let h = Harness::new().await;
    h.store.create_account(&account("acme")).await.unwrap();

    let err = connect(&h.url, test_key_ring())
        .await
        .err()
        .expect("must refuse");
    assert!(matches!(err, StoreError::WrongMasterKey { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("SPOKES_MASTER_KEY"), "{message}");
    assert!(message.contains("new, empty data directory"), "{message}");

    // The right key still works, and sees the data.
    let again = connect(&h.url, h.keys.clone()).await.unwrap();
    assert!(again.get_account("acme").await.unwrap().is_some());
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = TempDir::new("spokes-store-it");
    let url = test_database_url(dir.path()).await;
    let all = schema_versions();
    assert_eq!(all.last(), Some(&latest_schema_version()));
    assert_eq!(migrate(&url).await.unwrap(), all);
    assert_eq!(migrate(&url).await.unwrap(), Vec::<i64>::new());

    let keys = test_key_ring();
    let first = connect(&url, keys.clone()).await.unwrap();
    first.create_account(&account("acme")).await.unwrap();
    drop(first);
    let second = connect(&url, keys).await.unwrap();
    assert!(second.get_account("acme").await.unwrap().is_some());
    assert_eq!(migrate(&url).await.unwrap(), Vec::<i64>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_together_agree() {
    let dir = TempDir::new("spokes-store-it");
    let url = test_database_url(dir.path()).await;
    let keys = test_key_ring();
    let (a, b, c, m) = tokio::join!(
        connect(&url, keys.clone()),
        connect(&url, keys.clone()),
        connect(&url, keys.clone()),
        migrate(&url),
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    // Whoever migrates applies every version at once; the others find nothing to do.
    let applied = m.unwrap();
    let all = schema_versions();
    assert!(applied.is_empty() || applied == all, "{applied:?}");
    a.create_account(&account("acme")).await.unwrap();
    assert!(b.get_account("acme").await.unwrap().is_some());
    assert!(c.get_account("acme").await.unwrap().is_some());

    // Two different keys racing on a fresh database: exactly one wins.
    let dir2 = TempDir::new("spokes-store-it");
    let url2 = test_database_url(dir2.path()).await;
    let (x, y) = tokio::join!(
        connect(&url2, test_key_ring()),
        connect(&url2, test_key_ring())
    );
    let refused = [x.is_err(), y.is_err()];
    assert_eq!(refused.iter().filter(|r| **r).count(), 1, "{refused:?}");
}

#[tokio::test]
async fn backend_and_settings() {
    let h = Harness::new().await;
    let raw = h.raw().await;
    let migrations = raw
        .scalar_i64("SELECT COUNT(*) FROM schema_migrations")
        .await;
    assert_eq!(migrations, schema_versions().len() as i64);
    raw.close().await;
    if h.is_sqlite() {
        assert_eq!(h.store.backend(), "sqlite");
        let pool = sqlx::SqlitePool::connect(&h.url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        pool.close().await;
    } else {
        assert_eq!(h.store.backend(), "postgres");
    }
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    for url in ["mysql://root:hunter2@localhost/db", "spokes.db", ""] {
        let err = connect(url, test_key_ring()).await.err().expect(url);
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn data_sealed_before_hkdf_opens_and_its_fingerprint_is_upgraded() {
    let key: [u8; 32] = spokes_core::token::random_bytes(32).try_into().unwrap();
    let h = Harness::with_keys(KeyRing::from_key(key)).await;
    let (_, installation) = h.seed().await;
    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: None,
        last_error: None,
        tokens: Some(tokens("access-new", "refresh-new", T0)),
    };
    assert!(
        h.store
            .save_auth_state(&installation.id, &state, T0, None)
            .await
            .unwrap()
    );
    // What an earlier version left: a token sealed under the labelled SHA-256 key id, and
    // that derivation's fingerprint in meta.
    let raw = h.raw().await;
    let context = format!("installations/access_token/{}", installation.id);
    raw.exec_bytes(
        "UPDATE installations SET access_token_sealed = $1 WHERE id = $2",
        Some(seal_legacy(key, &context, b"access-old")),
        &installation.id,
    )
    .await;
    raw.exec_text(
        "UPDATE meta SET value = $1 WHERE name = 'key_fingerprint'",
        &legacy_fingerprint(key),
    )
    .await;

    // Another key is still refused against the legacy fingerprint.
    let err = connect(&h.url, test_key_ring())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::WrongMasterKey { .. }), "{err:?}");

    let store = connect(&h.url, KeyRing::from_key(key)).await.unwrap();
    let stored = raw
        .scalar_text("SELECT value FROM meta WHERE name = 'key_fingerprint'")
        .await;
    assert_eq!(stored, KeyRing::from_key(key).fingerprint());
    assert_ne!(stored, legacy_fingerprint(key));
    let tokens = store.get_tokens(&installation.id).await.unwrap().unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "access-old");
    assert_eq!(tokens.refresh_token.expose_secret(), "refresh-new");
    raw.close().await;
}
