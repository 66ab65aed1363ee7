use spokes_core::ExposeSecret;
use spokes_core::{InstallationStatus, LastError};
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
