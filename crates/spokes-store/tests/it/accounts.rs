use spokes_core::{AuthLink, CustomObjectCopy, OAuthState, Secret};
use spokes_store::StoreError;

use crate::support::{Harness, T0, account, installation};

#[tokio::test]
async fn create_get_list_update() {
    let h = Harness::new().await;
    let store = &h.store;
    let mut b = account("beta");
    b.created_at = T0 + 10;
    b.timezone = None;
    let a = account("acme");
    store.create_account(&b).await.unwrap();
    store.create_account(&a).await.unwrap();

    assert_eq!(store.get_account("acme").await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_account("beta").await.unwrap(), Some(b.clone()));
    assert_eq!(store.get_account("gamma").await.unwrap(), None);
    assert_eq!(
        store.list_accounts().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    let mut changed = a.clone();
    changed.name = "Acme Corp".to_owned();
    changed.timezone = None;
    changed.updated_at = T0 + 99;
    // created_at is not written by an update.
    changed.created_at = 5;
    assert!(store.update_account(&changed).await.unwrap());
    let stored = store.get_account("acme").await.unwrap().unwrap();
    assert_eq!(stored.name, "Acme Corp");
    assert_eq!(stored.timezone, None);
    assert_eq!(stored.updated_at, T0 + 99);
    assert_eq!(stored.created_at, T0);

    assert!(!store.update_account(&account("gamma")).await.unwrap());
}

#[tokio::test]
async fn duplicate_account_id_is_a_conflict() {
    let h = Harness::new().await;
    h.store.create_account(&account("acme")).await.unwrap();
    let err = h.store.create_account(&account("acme")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("acme"), "{err}");
}

#[tokio::test]
async fn delete_cascades_to_installations_links_and_states() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_account(&account("other")).await.unwrap();
    store
        .create_installation(&installation("inst_other", "other"))
        .await
        .unwrap();
    store
        .create_auth_link(&AuthLink {
            token_hash: "link-1".to_owned(),
            installation_id: "inst_1".to_owned(),
            return_url: None,
            created_at: T0,
            expires_at: T0 + 600_000,
        })
        .await
        .unwrap();
    store
        .create_oauth_state(&OAuthState {
            state_hash: "state-1".to_owned(),
            installation_id: "inst_1".to_owned(),
            code_verifier: Secret::from("verifier"),
            return_url: None,
            created_at: T0,
            expires_at: T0 + 600_000,
        })
        .await
        .unwrap();

    assert!(store.delete_account("acme").await.unwrap());
    assert!(!store.delete_account("acme").await.unwrap());
    assert_eq!(store.get_account("acme").await.unwrap(), None);
    assert_eq!(store.get_installation("inst_1").await.unwrap(), None);
    assert!(store.list_installations("acme").await.unwrap().is_empty());
    // The link and the state went with the installation: they are now unknown.
    assert_eq!(
        store
            .consume_auth_link("link-1", T0)
            .await
            .unwrap()
            .unwrap_err(),
        spokes_core::OneTimeProblem::Unknown
    );
    assert_eq!(
        store
            .consume_oauth_state("state-1", T0)
            .await
            .unwrap()
            .unwrap_err(),
        spokes_core::OneTimeProblem::Unknown
    );
    // Other accounts are untouched.
    assert!(
        store
            .get_installation("inst_other")
            .await
            .unwrap()
            .is_some()
    );
    let raw = h.raw().await;
    assert_eq!(raw.scalar_i64("SELECT COUNT(*) FROM auth_links").await, 0);
    assert_eq!(raw.scalar_i64("SELECT COUNT(*) FROM oauth_states").await, 0);
    raw.close().await;
}

#[tokio::test]
async fn custom_object_copies_are_put_renamed_listed_and_deleted() {
    let h = Harness::new().await;
    let store = &h.store;
    let copy = |schema_name: &str, category: &str| CustomObjectCopy {
        connector: "hubspot".to_owned(),
        schema_name: schema_name.to_owned(),
        category: category.to_owned(),
        created_at: T0,
    };
    assert!(
        store
            .list_custom_object_copies("hubspot")
            .await
            .unwrap()
            .is_empty()
    );
    store
        .put_custom_object_copy(&copy("pets", "Pets"))
        .await
        .unwrap();
    store
        .put_custom_object_copy(&copy("cars", "Cars"))
        .await
        .unwrap();
    store
        .put_custom_object_copy(&CustomObjectCopy {
            created_at: T0 + 5,
            ..copy("cars", "Our cars")
        })
        .await
        .unwrap();
    assert_eq!(
        store.list_custom_object_copies("hubspot").await.unwrap(),
        vec![copy("cars", "Our cars"), copy("pets", "Pets")],
        "by schema name; a second put renames and keeps the first creation time"
    );
    assert!(
        store
            .list_custom_object_copies("other")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .delete_custom_object_copy("hubspot", "cars")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_custom_object_copy("hubspot", "cars")
            .await
            .unwrap()
    );
    assert_eq!(
        store.list_custom_object_copies("hubspot").await.unwrap(),
        vec![copy("pets", "Pets")]
    );
}
