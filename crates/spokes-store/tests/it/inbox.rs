use spokes_core::NewJob;

use crate::support::{Harness, T0};

fn event(id: u64) -> (String, NewJob) {
    (
        format!("hubspot:{id}"),
        NewJob {
            id: format!("job_{id}"),
            kind: "hubspot.webhook_event".to_owned(),
            payload: format!(r#"{{"eventId":{id}}}"#),
            dedupe_key: None,
            run_at: T0,
            max_attempts: 5,
            created_at: T0,
        },
    )
}

#[tokio::test]
async fn webhook_events_are_queued_once_each_until_swept() {
    let h = Harness::new().await;
    let store = &h.store;
    assert_eq!(
        store
            .accept_webhook_events(&[event(1), event(2)], T0)
            .await
            .unwrap(),
        2
    );
    // A redelivery of 2 with a new event 3: only 3 is queued.
    assert_eq!(
        store
            .accept_webhook_events(&[event(2), event(3)], T0 + 10)
            .await
            .unwrap(),
        1
    );
    let queued = store.list_jobs("hubspot.webhook_event", 10).await.unwrap();
    let mut ids: Vec<&str> = queued.iter().map(|j| j.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["job_1", "job_2", "job_3"]);
    // The same event twice in one delivery is queued once.
    assert_eq!(
        store
            .accept_webhook_events(&[event(4), event(4)], T0 + 20)
            .await
            .unwrap(),
        1
    );

    assert_eq!(store.sweep_webhook_events(T0 + 10).await.unwrap(), 2);
    // Forgotten events (older than the sweep) would be taken as new again; kept ones are not.
    assert_eq!(
        store
            .accept_webhook_events(&[event(3)], T0 + 30)
            .await
            .unwrap(),
        0
    );
}
