use spokes_core::ExposeSecret;
use spokes_core::{
    AuthLink, ConsoleSession, IdempotencyClaim, OAuthState, OneTimeProblem, Secret, SweepCounts,
};
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

#[tokio::test]
async fn find_auth_link_peeks_without_using_the_link() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_auth_link(&link("l1")).await.unwrap();

    // Looking twice leaves it usable.
    assert_eq!(
        store.find_auth_link("l1", T0 + 1).await.unwrap(),
        Ok(link("l1"))
    );
    assert_eq!(
        store.find_auth_link("l1", T0 + 2).await.unwrap(),
        Ok(link("l1"))
    );
    assert_eq!(
        store.find_auth_link("l1", T0 + TTL).await.unwrap(),
        Err(OneTimeProblem::Expired)
    );
    assert_eq!(
        store.find_auth_link("nope", T0).await.unwrap(),
        Err(OneTimeProblem::Unknown)
    );
    assert_eq!(
        store.consume_auth_link("l1", T0 + 3).await.unwrap(),
        Ok(link("l1"))
    );
    // Used up: it says so (even at a time it would also be expired).
    assert_eq!(
        store.find_auth_link("l1", T0 + 4).await.unwrap(),
        Err(OneTimeProblem::AlreadyUsed)
    );
    assert_eq!(
        store.find_auth_link("l1", T0 + TTL + 1).await.unwrap(),
        Err(OneTimeProblem::AlreadyUsed)
    );
}

#[tokio::test]
async fn sweep_deletes_old_one_time_values_and_expired_sessions_only() {
    const KEEP: i64 = 3_600_000;
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    // Links: unused and valid; used long ago; expired long ago; used recently; expired recently.
    let expires = |hash: &str, expires_at: i64| {
        let mut l = link(hash);
        l.expires_at = expires_at;
        l
    };
    let now = T0 + 10 * KEEP;
    for l in [
        expires("live", now + TTL),
        expires("used-old", now + TTL),
        expires("expired-old", now - KEEP - 1),
        expires("used-recent", now + TTL),
        expires("expired-recent", now - KEEP + 1),
    ] {
        store.create_auth_link(&l).await.unwrap();
    }
    store
        .consume_auth_link("used-old", now - KEEP - 5)
        .await
        .unwrap()
        .unwrap();
    store
        .consume_auth_link("used-recent", now - 5)
        .await
        .unwrap()
        .unwrap();

    let s = |hash: &str, expires_at: i64| {
        let mut st = state(hash);
        st.expires_at = expires_at;
        st
    };
    for st in [
        s("s-live", now + TTL),
        s("s-used-old", now + TTL),
        s("s-expired-old", now - KEEP - 1),
    ] {
        store.create_oauth_state(&st).await.unwrap();
    }
    store
        .consume_oauth_state("s-used-old", now - KEEP - 5)
        .await
        .unwrap()
        .unwrap();

    for (id, expires_at) in [
        ("sess-live", now + 1),
        ("sess-expired", now),
        ("sess-old", T0),
    ] {
        store
            .create_console_session(&ConsoleSession {
                id_hash: id.to_owned(),
                key_id: None,
                created_at: T0,
                expires_at,
            })
            .await
            .unwrap();
    }

    let swept = store.sweep_expired(now, KEEP).await.unwrap();
    assert_eq!(
        swept,
        SweepCounts {
            auth_links: 2,
            oauth_states: 2,
            console_sessions: 2,
            idempotency_keys: 0,
        }
    );
    // What is kept still answers as before.
    assert_eq!(
        store.find_auth_link("live", now).await.unwrap(),
        Ok(expires("live", now + TTL))
    );
    assert_eq!(
        store.find_auth_link("used-recent", now).await.unwrap(),
        Err(OneTimeProblem::AlreadyUsed)
    );
    assert_eq!(
        store.find_auth_link("expired-recent", now).await.unwrap(),
        Err(OneTimeProblem::Expired)
    );
    for gone in ["used-old", "expired-old"] {
        assert_eq!(
            store.find_auth_link(gone, now).await.unwrap(),
            Err(OneTimeProblem::Unknown),
            "{gone}"
        );
    }
    assert!(
        store
            .consume_oauth_state("s-live", now)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        store
            .consume_oauth_state("s-used-old", now)
            .await
            .unwrap()
            .unwrap_err(),
        OneTimeProblem::Unknown
    );
    assert!(
        store
            .find_console_session("sess-live", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(!store.delete_console_session("sess-expired").await.unwrap());
    assert!(!store.delete_console_session("sess-old").await.unwrap());

    // Nothing left to sweep.
    assert_eq!(store.sweep_expired(now, KEEP).await.unwrap().total(), 0);
}

#[tokio::test]
async fn idempotency_keys_are_claimed_once_and_keep_the_first_outcome() {
    let h = Harness::new().await;
    let store = &h.store;
    let (lease, expiry) = (T0 + 60_000, T0 + 86_400_000);
    assert_eq!(
        store
            .claim_idempotency_key("k1", "req", T0, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    // While it runs, the same request waits; another request with the key is refused.
    assert_eq!(
        store
            .claim_idempotency_key("k1", "req", T0 + 1, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::Running { stale: false }
    );
    assert_eq!(
        store
            .claim_idempotency_key("k1", "other", T0 + 1, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::OtherRequest
    );
    assert_eq!(
        store
            .claim_idempotency_key("k1", "req", lease + 1, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::Running { stale: true }
    );
    store
        .finish_idempotency_key("k1", "{\"ok\":true}")
        .await
        .unwrap();
    // Released only while it has no outcome.
    store.release_idempotency_key("k1").await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("k1", "req", T0 + 2, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::Done("{\"ok\":true}".into())
    );

    // A released key is free again, and so is an expired one.
    store
        .claim_idempotency_key("k2", "req", T0, lease, expiry)
        .await
        .unwrap();
    store.release_idempotency_key("k2").await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("k2", "req", T0, lease, expiry)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key("k1", "other", expiry, expiry + 60_000, expiry + 86_400_000)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    let swept = store.sweep_expired(expiry + 86_400_000, 0).await.unwrap();
    assert_eq!(swept.idempotency_keys, 2);

    // Racing claimers: exactly one wins.
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let store = store.clone();
        racers.spawn(async move {
            store
                .claim_idempotency_key("race", "req", T0, lease, expiry)
                .await
                .unwrap()
        });
    }
    let claims = racers.join_all().await;
    assert_eq!(
        claims
            .iter()
            .filter(|c| **c == IdempotencyClaim::Claimed)
            .count(),
        1,
        "{claims:?}"
    );
}
