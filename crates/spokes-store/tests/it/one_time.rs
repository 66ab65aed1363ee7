use spokes_core::ExposeSecret;
use spokes_core::{AuthLink, OAuthState, OneTimeProblem, Secret};
use spokes_store::StoreError;

use crate::support::{Harness, T0};

const TTL: i64 = 600_000;

fn link(hash: &str) -> AuthLink {
    AuthLink {
        token_hash: hash.to_owned(),
        installation_id: "inst_1".to_owned(),
        return_url: Some("https://partner.example/done?x=1".to_owned()),
        created_at: T0,
        expires_at: T0 + TTL,
    }
}

fn state(hash: &str) -> OAuthState {
    OAuthState {
        state_hash: hash.to_owned(),
        installation_id: "inst_1".to_owned(),
        code_verifier: Secret::from(format!("verifier-for-{hash}")),
        return_url: None,
        created_at: T0,
        expires_at: T0 + TTL,
    }
}

#[tokio::test]
async fn auth_link_is_used_once_before_it_expires() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_auth_link(&link("l1")).await.unwrap();
    store.create_auth_link(&link("l2")).await.unwrap();

    assert_eq!(
        store.consume_auth_link("l1", T0 + 1).await.unwrap(),
        Ok(link("l1"))
    );
    assert_eq!(
        store.consume_auth_link("l1", T0 + 2).await.unwrap(),
        Err(OneTimeProblem::AlreadyUsed)
    );
    assert_eq!(
        store.consume_auth_link("l2", T0 + TTL).await.unwrap(),
        Err(OneTimeProblem::Expired)
    );
    // A refused attempt does not use the link up (seen here with an earlier clock).
    assert_eq!(
        store.consume_auth_link("l2", T0 + 1).await.unwrap(),
        Ok(link("l2"))
    );
    assert_eq!(
        store.consume_auth_link("nope", T0).await.unwrap(),
        Err(OneTimeProblem::Unknown)
    );
}

#[tokio::test]
async fn expired_link_is_reported_expired() {
    let h = Harness::new().await;
    h.seed().await;
    h.store.create_auth_link(&link("l1")).await.unwrap();
    assert_eq!(
        h.store.consume_auth_link("l1", T0 + TTL + 1).await.unwrap(),
        Err(OneTimeProblem::Expired)
    );
    assert_eq!(
        h.store.consume_auth_link("l1", T0 + TTL + 2).await.unwrap(),
        Err(OneTimeProblem::Expired)
    );
}

#[tokio::test]
async fn one_time_values_need_their_installation_and_a_unique_hash() {
    let h = Harness::new().await;
    h.seed().await;
    h.store.create_auth_link(&link("l1")).await.unwrap();
    let err = h.store.create_auth_link(&link("l1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let mut orphan = link("l2");
    orphan.installation_id = "nope".to_owned();
    let err = h.store.create_auth_link(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    h.store.create_oauth_state(&state("s1")).await.unwrap();
    let err = h.store.create_oauth_state(&state("s1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let mut orphan = state("s2");
    orphan.installation_id = "nope".to_owned();
    let err = h.store.create_oauth_state(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn oauth_state_is_used_once_and_returns_the_verifier() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_oauth_state(&state("s1")).await.unwrap();
    store.create_oauth_state(&state("s2")).await.unwrap();

    let got = store
        .consume_oauth_state("s1", T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.state_hash, "s1");
    assert_eq!(got.installation_id, "inst_1");
    assert_eq!(got.code_verifier.expose_secret(), "verifier-for-s1");
    assert_eq!(got.return_url, None);
    assert_eq!((got.created_at, got.expires_at), (T0, T0 + TTL));

    assert_eq!(
        store
            .consume_oauth_state("s1", T0 + 2)
            .await
            .unwrap()
            .unwrap_err(),
        OneTimeProblem::AlreadyUsed
    );
    assert_eq!(
        store
            .consume_oauth_state("s2", T0 + TTL + 1)
            .await
            .unwrap()
            .unwrap_err(),
        OneTimeProblem::Expired
    );
    assert_eq!(
        store
            .consume_oauth_state("nope", T0)
            .await
            .unwrap()
            .unwrap_err(),
        OneTimeProblem::Unknown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_consumers_get_each_value_once() {
    let h = Harness::new().await;
    h.seed().await;
    let other = h.second_store().await;
    h.store.create_auth_link(&link("l1")).await.unwrap();
    h.store.create_oauth_state(&state("s1")).await.unwrap();

    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 {
            h.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let link = store.consume_auth_link("l1", T0 + 1).await.unwrap();
            let state = store.consume_oauth_state("s1", T0 + 1).await.unwrap();
            (link, state.map(|s| s.state_hash))
        }));
    }
    let (mut links, mut states) = (0, 0);
    for task in tasks {
        let (link, state) = task.await.unwrap();
        match link {
            Ok(_) => links += 1,
            Err(problem) => assert_eq!(problem, OneTimeProblem::AlreadyUsed),
        }
        match state {
            Ok(_) => states += 1,
            Err(problem) => assert_eq!(problem, OneTimeProblem::AlreadyUsed),
        }
    }
    assert_eq!((links, states), (1, 1));
}
