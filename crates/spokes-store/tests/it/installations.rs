use spokes_core::ExposeSecret;
use spokes_core::{ApiKey, Installation, InstallationStatus, LastError};
use spokes_store::{AuthState, StoreError};

use crate::support::{Harness, T0, account, installation, portal, tokens};

#[tokio::test]
async fn create_get_list() {
    let h = Harness::new().await;
    let store = &h.store;
    let (_, first) = h.seed().await;
    let mut second = installation("inst_2", "acme");
    second.created_at = T0 + 1;
    second.status = InstallationStatus::Authenticated;
    second.portal = Some(portal(123));
    second.last_error = Some(LastError {
        code: "refresh_failed".to_owned(),
        message: "HubSpot said no".to_owned(),
        at: T0,
    });
    second.token_expires_at = Some(T0 + 1_800_000);
    store.create_installation(&second).await.unwrap();
    store.create_account(&account("beta")).await.unwrap();
    let mut third = installation("inst_3", "beta");
    third.created_at = T0 + 2;
    store.create_installation(&third).await.unwrap();

    assert_eq!(
        store.get_installation("inst_1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.get_installation("inst_2").await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.get_installation("nope").await.unwrap(), None);
    assert_eq!(
        store.list_installations("acme").await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert!(store.list_installations("nobody").await.unwrap().is_empty());
    assert_eq!(
        store.list_all_installations().await.unwrap(),
        vec![first, second.clone(), third]
    );
    assert_eq!(
        store.installations_for_portal(123).await.unwrap(),
        vec![second]
    );
}

#[tokio::test]
async fn duplicate_id_conflicts_and_unknown_account_is_not_found() {
    let h = Harness::new().await;
    h.seed().await;
    let err = h
        .store
        .create_installation(&installation("inst_1", "acme"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = h
        .store
        .create_installation(&installation("inst_9", "nobody"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn save_auth_state_writes_everything_at_once() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;

    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal(777)),
        last_error: None,
        tokens: Some(tokens("access-1", "refresh-1", T0 + 1_800_000)),
    };
    assert!(
        store
            .save_auth_state("inst_1", &state, T0 + 10, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .save_auth_state("nope", &state, T0 + 10, None)
            .await
            .unwrap()
    );

    let saved = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!(saved.status, InstallationStatus::Authenticated);
    assert_eq!(saved.portal, Some(portal(777)));
    assert_eq!(saved.last_error, None);
    assert_eq!(saved.token_expires_at, Some(T0 + 1_800_000));
    assert_eq!(saved.updated_at, T0 + 10);
    assert_eq!(saved.created_at, T0);
    assert_eq!(saved.properties, installation("inst_1", "acme").properties);

    let stored = store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "access-1");
    assert_eq!(stored.refresh_token.expose_secret(), "refresh-1");
    assert_eq!(stored.expires_at, T0 + 1_800_000);
    assert_eq!(stored.client_id, "client-123");
    assert_eq!(store.get_tokens("nope").await.unwrap().map(|_| ()), None);

    assert_eq!(store.installations_for_portal(777).await.unwrap().len(), 1);
    assert!(
        store
            .installations_for_portal(778)
            .await
            .unwrap()
            .is_empty()
    );

    // Needs reauth: the tokens are forgotten, the error is kept, and the installation no
    // longer counts as connected to its portal.
    let error = LastError {
        code: "invalid_grant".to_owned(),
        message: "The refresh token was revoked".to_owned(),
        at: T0 + 20,
    };
    let state = AuthState {
        status: InstallationStatus::NeedsReauth,
        portal: Some(portal(777)),
        last_error: Some(error.clone()),
        tokens: None,
    };
    assert!(
        store
            .save_auth_state("inst_1", &state, T0 + 20, None)
            .await
            .unwrap()
    );
    let saved = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!(saved.status, InstallationStatus::NeedsReauth);
    assert_eq!(saved.last_error, Some(error));
    assert_eq!(saved.token_expires_at, None);
    assert!(store.get_tokens("inst_1").await.unwrap().is_none());
    assert!(
        store
            .installations_for_portal(777)
            .await
            .unwrap()
            .is_empty()
    );

    // Reconnected to another portal.
    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal(888)),
        last_error: None,
        tokens: Some(tokens("access-2", "refresh-2", T0 + 3_600_000)),
    };
    assert!(
        store
            .save_auth_state("inst_1", &state, T0 + 30, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .installations_for_portal(777)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.installations_for_portal(888).await.unwrap().len(), 1);
    let stored = store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "access-2");
}

#[tokio::test]
async fn delete_installation() {
    let h = Harness::new().await;
    h.seed().await;
    assert!(h.store.delete_installation("inst_1").await.unwrap());
    assert!(!h.store.delete_installation("inst_1").await.unwrap());
    assert_eq!(h.store.get_installation("inst_1").await.unwrap(), None);
    assert!(h.store.get_account("acme").await.unwrap().is_some());
}

fn connected(access: &str, at: i64) -> AuthState {
    AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal(777)),
        last_error: None,
        tokens: Some(tokens(access, &format!("refresh-{access}"), at + 1_800_000)),
    }
}

#[tokio::test]
async fn save_auth_state_is_a_compare_and_set_on_auth_version() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let version = |store: &std::sync::Arc<dyn spokes_store::Store>| {
        let store = store.clone();
        async move {
            store
                .get_installation("inst_1")
                .await
                .unwrap()
                .unwrap()
                .auth_version
        }
    };
    assert_eq!(version(store).await, 0);

    // The expected version matches: written, and the version moves on.
    assert!(
        store
            .save_auth_state("inst_1", &connected("a1", T0), T0 + 1, Some(0))
            .await
            .unwrap()
    );
    assert_eq!(version(store).await, 1);

    // A stale version (a refresh that started before the write above): nothing is written.
    assert!(
        !store
            .save_auth_state("inst_1", &connected("stale", T0), T0 + 2, Some(0))
            .await
            .unwrap()
    );
    let saved = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!((saved.auth_version, saved.updated_at), (1, T0 + 1));
    let stored = store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "a1");

    // The current version again works; None writes whatever the version.
    assert!(
        store
            .save_auth_state("inst_1", &connected("a2", T0), T0 + 3, Some(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .save_auth_state("inst_1", &connected("a3", T0), T0 + 4, None)
            .await
            .unwrap()
    );
    assert_eq!(version(store).await, 3);
    let stored = store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "a3");

    // Forgetting the tokens bumps it too; an unknown installation is never written.
    let forget = AuthState {
        status: InstallationStatus::Unauthenticated,
        portal: None,
        last_error: None,
        tokens: None,
    };
    assert!(
        store
            .save_auth_state("inst_1", &forget, T0 + 5, Some(3))
            .await
            .unwrap()
    );
    assert_eq!(version(store).await, 4);
    assert!(
        !store
            .save_auth_state("nope", &forget, T0 + 5, Some(0))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn set_last_error_leaves_status_tokens_and_version_alone() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    assert!(
        store
            .save_auth_state("inst_1", &connected("a1", T0), T0 + 1, None)
            .await
            .unwrap()
    );
    let before = store.get_installation("inst_1").await.unwrap().unwrap();

    let error = LastError {
        code: "hubspot_unavailable".to_owned(),
        message: "HubSpot answered 503".to_owned(),
        at: T0 + 2,
    };
    assert!(
        store
            .set_last_error("inst_1", Some(&error), T0 + 2)
            .await
            .unwrap()
    );
    let after = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!(after.last_error, Some(error));
    assert_eq!(after.updated_at, T0 + 2);
    assert_eq!(after.status, before.status);
    assert_eq!(after.portal, before.portal);
    assert_eq!(after.token_expires_at, before.token_expires_at);
    assert_eq!(after.auth_version, before.auth_version);
    let stored = store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "a1");
    assert_eq!(stored.refresh_token.expose_secret(), "refresh-a1");

    // Cleared again; unknown installations say so.
    assert!(store.set_last_error("inst_1", None, T0 + 3).await.unwrap());
    let cleared = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!(cleared.last_error, None);
    assert!(store.get_tokens("inst_1").await.unwrap().is_some());
    assert!(!store.set_last_error("nope", None, T0 + 3).await.unwrap());
}

#[tokio::test]
async fn load_call_reads_the_key_and_the_installation_with_its_tokens_at_once() {
    let h = Harness::new().await;
    let store = &h.store;
    let (_, first) = h.seed().await;
    let key = ApiKey {
        id: "key_1".to_owned(),
        name: "partner".to_owned(),
        key_hash: "hash-1".to_owned(),
        account_id: Some("acme".to_owned()),
        // Not the defaults, so the test shows load_call reads them.
        read_only: true,
        confirm_writes: false,
        created_at: T0,
        revoked_at: None,
    };
    store.create_api_key(&key).await.unwrap();

    assert!(
        store
            .load_call("no-such-hash", "inst_1")
            .await
            .unwrap()
            .is_none()
    );
    let found = store.load_call("hash-1", "nope").await.unwrap().unwrap();
    assert_eq!(found.key, key);
    assert!(found.installation.is_none());
    let found = store.load_call("hash-1", "inst_1").await.unwrap().unwrap();
    let (installation, stored) = found.installation.unwrap();
    assert_eq!(installation, first);
    assert!(stored.is_none(), "not connected yet");

    assert!(
        store
            .save_auth_state("inst_1", &connected("access-1", T0), T0 + 10, None)
            .await
            .unwrap()
    );
    let found = store.load_call("hash-1", "inst_1").await.unwrap().unwrap();
    let (installation, stored) = found.installation.unwrap();
    assert_eq!(
        installation,
        store.get_installation("inst_1").await.unwrap().unwrap()
    );
    let stored = stored.unwrap();
    assert_eq!(stored.access_token.expose_secret(), "access-1");
    assert_eq!(stored.refresh_token.expose_secret(), "refresh-access-1");
    assert_eq!(stored.expires_at, T0 + 1_800_000);

    assert!(
        store
            .set_installation_read_only("inst_1", true, T0 + 15)
            .await
            .unwrap()
    );
    let found = store.load_call("hash-1", "inst_1").await.unwrap().unwrap();
    assert!(found.installation.unwrap().0.read_only);

    assert!(store.revoke_api_key("key_1", T0 + 20).await.unwrap());
    let found = store.load_call("hash-1", "inst_1").await.unwrap().unwrap();
    assert_eq!(found.key.revoked_at, Some(T0 + 20));
}

#[tokio::test]
async fn set_installation_read_only_changes_only_the_flag() {
    let h = Harness::new().await;
    let store = &h.store;
    let (_, first) = h.seed().await;
    assert!(!first.read_only);
    assert!(
        store
            .save_auth_state("inst_1", &connected("a1", T0), T0 + 1, None)
            .await
            .unwrap()
    );
    let before = store.get_installation("inst_1").await.unwrap().unwrap();

    assert!(
        store
            .set_installation_read_only("inst_1", true, T0 + 2)
            .await
            .unwrap()
    );
    let after = store.get_installation("inst_1").await.unwrap().unwrap();
    assert_eq!(
        after,
        Installation {
            read_only: true,
            updated_at: T0 + 2,
            ..before.clone()
        }
    );
    assert!(store.list_installations("acme").await.unwrap()[0].read_only);
    assert!(store.get_tokens("inst_1").await.unwrap().is_some());

    // Back to writable; unknown installations say so.
    assert!(
        store
            .set_installation_read_only("inst_1", false, T0 + 3)
            .await
            .unwrap()
    );
    assert!(
        !store
            .get_installation("inst_1")
            .await
            .unwrap()
            .unwrap()
            .read_only
    );
    assert!(
        !store
            .set_installation_read_only("nope", true, T0 + 3)
            .await
            .unwrap()
    );

    // Created read-only.
    let mut locked = installation("inst_2", "acme");
    locked.read_only = true;
    store.create_installation(&locked).await.unwrap();
    assert_eq!(
        store.get_installation("inst_2").await.unwrap(),
        Some(locked)
    );
}
