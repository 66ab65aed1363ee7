use spokes_core::ApiKey;
use spokes_store::StoreError;

use crate::support::{Harness, T0};

fn key(id: &str, hash: &str, account_id: Option<&str>, created_at: i64) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        name: format!("key {id}"),
        key_hash: hash.to_owned(),
        account_id: account_id.map(str::to_owned),
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
