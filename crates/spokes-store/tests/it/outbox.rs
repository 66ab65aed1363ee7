use std::collections::BTreeSet;

use spokes_core::OutboxEvent;
use spokes_store::StoreError;

use crate::support::{Harness, T0};

const LEASE: i64 = 60_000;

fn event(id: &str, created_at: i64, next_attempt_at: i64) -> OutboxEvent {
    OutboxEvent {
        id: id.to_owned(),
        event_type: "installation.connected".to_owned(),
        payload: format!(r#"{{"id":"{id}"}}"#),
        attempts: 0,
        next_attempt_at,
        created_at,
    }
}

fn ids(events: &[OutboxEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn claims_due_events_oldest_first_and_leases_them() {
    let h = Harness::new().await;
    let store = &h.store;
    // Enqueued out of order on purpose.
    store.enqueue_event(&event("e3", T0 + 3, T0)).await.unwrap();
    store.enqueue_event(&event("e1", T0 + 1, T0)).await.unwrap();
    store
        .enqueue_event(&event("e2", T0 + 2, T0 + 10))
        .await
        .unwrap();
    let err = store.enqueue_event(&event("e1", T0, T0)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let now = T0 + 5;
    let claimed = store.claim_due_events(now, now + LEASE, 10).await.unwrap();
    assert_eq!(ids(&claimed), ["e1", "e3"]);
    let mut expected = event("e1", T0 + 1, now + LEASE);
    assert_eq!(claimed[0], expected);
    assert!(claimed.iter().all(|e| e.next_attempt_at == now + LEASE));
    // Leased: not claimed again while the lease runs.
    assert!(
        store
            .claim_due_events(now, now + LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let claimed = store
        .claim_due_events(T0 + 10, T0 + 10 + LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["e2"]);

    store.mark_event_delivered("e1", T0 + 20).await.unwrap();
    store
        .reschedule_event("e3", 1, Some(T0 + 100), "HTTP 500 from the events_url")
        .await
        .unwrap();
    // e1 delivered: never again. e3 rescheduled, e2's lease ran out: both due.
    let later = T0 + 10 + LEASE + 1;
    let claimed = store
        .claim_due_events(later, later + LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["e2", "e3"]);
    assert_eq!(claimed[1].attempts, 1);

    // Giving up: never claimed again.
    store
        .reschedule_event("e2", 5, None, "gave up")
        .await
        .unwrap();
    store
        .reschedule_event("e3", 2, Some(later), "again")
        .await
        .unwrap();
    let much_later = later + 10 * LEASE;
    let claimed = store
        .claim_due_events(much_later, much_later + LEASE, 10)
        .await
        .unwrap();
    expected = event("e3", T0 + 3, much_later + LEASE);
    expected.attempts = 2;
    assert_eq!(claimed, vec![expected]);

    // Unknown ids are ignored.
    store.mark_event_delivered("nope", T0).await.unwrap();
    store.reschedule_event("nope", 1, None, "x").await.unwrap();
}

#[tokio::test]
async fn claim_respects_the_limit() {
    let h = Harness::new().await;
    for i in 0..5 {
        h.store
            .enqueue_event(&event(&format!("e{i}"), T0 + i, T0))
            .await
            .unwrap();
    }
    let first = h.store.claim_due_events(T0, T0 + LEASE, 2).await.unwrap();
    assert_eq!(ids(&first), ["e0", "e1"]);
    let second = h.store.claim_due_events(T0, T0 + LEASE, 2).await.unwrap();
    assert_eq!(ids(&second), ["e2", "e3"]);
    assert!(
        h.store
            .claim_due_events(T0, T0 + LEASE, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let rest = h.store.claim_due_events(T0, T0 + LEASE, 100).await.unwrap();
    assert_eq!(ids(&rest), ["e4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_an_event() {
    let h = Harness::new().await;
    let other = h.second_store().await;
    for i in 0..40 {
        h.store
            .enqueue_event(&event(&format!("e{i:02}"), T0 + i, T0))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let store = if worker % 2 == 0 {
            h.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due_events(T0 + 100, T0 + LEASE, 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|e| e.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 40, "claimed {all:?}");
    assert_eq!(unique.len(), 40);
}
