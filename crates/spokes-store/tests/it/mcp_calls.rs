use spokes_core::McpCall;
use spokes_store::StoreError;

use crate::support::{Harness, T0, account, installation};

fn call(id: &str, installation_id: &str, created_at: i64) -> McpCall {
    McpCall {
        id: id.to_owned(),
        account_id: "acme".to_owned(),
        key_id: Some("key_1".to_owned()),
        installation_id: installation_id.to_owned(),
        tool: "contacts_create".to_owned(),
        outcome: "ok".to_owned(),
        correlation_id: None,
        arguments: r#"{"fields":{"email":"a@example.com"}}"#.to_owned(),
        duration_ms: 120,
        created_at,
    }
}

fn ids(calls: &[McpCall]) -> Vec<&str> {
    calls.iter().map(|c| c.id.as_str()).collect()
}

#[tokio::test]
async fn recorded_calls_list_newest_first_by_installation_and_before() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store
        .create_installation(&installation("inst_2", "acme"))
        .await
        .unwrap();
    let mut stdio = call("mcp_3", "inst_2", T0 + 3);
    stdio.key_id = None;
    stdio.outcome = "rate_limited".to_owned();
    stdio.correlation_id = Some("corr-1".to_owned());
    for c in [
        call("mcp_1", "inst_1", T0 + 1),
        call("mcp_2", "inst_1", T0 + 2),
        stdio.clone(),
        // The same time as mcp_3: ties keep a stable order (by id, newest first).
        call("mcp_4", "inst_1", T0 + 3),
    ] {
        store.record_mcp_call(&c).await.unwrap();
    }

    let all = store.list_mcp_calls("acme", None, None, 50).await.unwrap();
    assert_eq!(ids(&all), ["mcp_4", "mcp_3", "mcp_2", "mcp_1"]);
    assert_eq!(all[1], stdio, "every field is kept");

    let first = store
        .list_mcp_calls("acme", Some("inst_1"), None, 50)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["mcp_4", "mcp_2", "mcp_1"]);
    // `before` excludes its own millisecond; `limit` cuts the newest.
    let older = store
        .list_mcp_calls("acme", None, Some(T0 + 3), 50)
        .await
        .unwrap();
    assert_eq!(ids(&older), ["mcp_2", "mcp_1"]);
    let page = store.list_mcp_calls("acme", None, None, 2).await.unwrap();
    assert_eq!(ids(&page), ["mcp_4", "mcp_3"]);
    let page = store
        .list_mcp_calls("acme", Some("inst_2"), Some(T0 + 3), 2)
        .await
        .unwrap();
    assert!(page.is_empty());
    assert!(
        store
            .list_mcp_calls("nobody", None, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_call_needs_its_account_and_a_new_id() {
    let h = Harness::new().await;
    h.seed().await;
    h.store
        .record_mcp_call(&call("mcp_1", "inst_1", T0))
        .await
        .unwrap();
    let err = h
        .store
        .record_mcp_call(&call("mcp_1", "inst_1", T0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let mut elsewhere = call("mcp_2", "inst_9", T0);
    elsewhere.account_id = "nobody".to_owned();
    let err = h.store.record_mcp_call(&elsewhere).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_batch_of_calls_is_recorded_all_or_none() {
    let h = Harness::new().await;
    h.seed().await;
    let batch = [call("mcp_1", "inst_1", T0), call("mcp_2", "inst_1", T0 + 1)];
    h.store.record_mcp_calls(&batch).await.unwrap();
    let mut orphan = call("mcp_4", "inst_9", T0 + 3);
    orphan.account_id = "nobody".to_owned();
    let err = h
        .store
        .record_mcp_calls(&[call("mcp_3", "inst_1", T0 + 2), orphan])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let all = h
        .store
        .list_mcp_calls("acme", None, None, 50)
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        ["mcp_2", "mcp_1"],
        "the failed batch left nothing"
    );
}

#[tokio::test]
async fn calls_outlive_their_installation_but_not_their_account() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    store.create_account(&account("beta")).await.unwrap();
    store
        .create_installation(&installation("inst_b", "beta"))
        .await
        .unwrap();
    store
        .record_mcp_call(&call("mcp_1", "inst_1", T0))
        .await
        .unwrap();
    let mut other = call("mcp_b", "inst_b", T0);
    other.account_id = "beta".to_owned();
    store.record_mcp_call(&other).await.unwrap();

    assert!(store.delete_installation("inst_1").await.unwrap());
    let kept = store.list_mcp_calls("acme", None, None, 50).await.unwrap();
    assert_eq!(ids(&kept), ["mcp_1"], "the audit outlives the installation");

    assert!(store.delete_account("acme").await.unwrap());
    assert!(
        store
            .list_mcp_calls("acme", None, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    // A new account with the same id does not inherit them; other accounts keep theirs.
    store.create_account(&account("acme")).await.unwrap();
    assert!(
        store
            .list_mcp_calls("acme", None, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    let beta = store.list_mcp_calls("beta", None, None, 50).await.unwrap();
    assert_eq!(beta, vec![other]);
}

#[tokio::test]
async fn the_sweep_deletes_calls_older_than_the_cut() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    for (id, at) in [("mcp_1", T0), ("mcp_2", T0 + 10), ("mcp_3", T0 + 20)] {
        store
            .record_mcp_call(&call(id, "inst_1", at))
            .await
            .unwrap();
    }
    // Strictly older: the call at the cut stays.
    assert_eq!(store.sweep_mcp_calls(T0 + 10).await.unwrap(), 1);
    assert_eq!(store.sweep_mcp_calls(T0 + 10).await.unwrap(), 0);
    let left = store.list_mcp_calls("acme", None, None, 50).await.unwrap();
    assert_eq!(ids(&left), ["mcp_3", "mcp_2"]);
    assert_eq!(store.sweep_mcp_calls(T0 + 21).await.unwrap(), 2);
}
