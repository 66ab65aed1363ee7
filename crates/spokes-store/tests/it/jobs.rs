use std::collections::BTreeMap;

use spokes_core::{EnqueueOutcome, Job, JobState, NewJob};
use spokes_store::StoreError;

use crate::support::{Harness, T0};

const LEASE: i64 = 30_000;

fn new_job(id: &str, kind: &str, run_at: i64) -> NewJob {
    NewJob {
        id: id.to_owned(),
        kind: kind.to_owned(),
        payload: format!(r#"{{"item":"{id}"}}"#),
        dedupe_key: None,
        run_at,
        max_attempts: 3,
        created_at: T0,
    }
}

fn keyed(id: &str, key: &str) -> NewJob {
    NewJob {
        dedupe_key: Some(key.to_owned()),
        ..new_job(id, "poll", T0)
    }
}

fn ids(jobs: &[Job]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

fn enqueued(id: &str) -> EnqueueOutcome {
    EnqueueOutcome::Enqueued(id.to_owned())
}

fn duplicate(id: &str) -> EnqueueOutcome {
    EnqueueOutcome::Duplicate(id.to_owned())
}

#[tokio::test]
async fn a_dedupe_key_is_held_by_one_unfinished_job() {
    let h = Harness::new().await;
    let store = &h.store;
    assert_eq!(
        store.enqueue_job(&keyed("j1", "k")).await.unwrap(),
        enqueued("j1")
    );
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        duplicate("j1")
    );
    // The same job again is a duplicate of itself.
    assert_eq!(
        store.enqueue_job(&keyed("j1", "k")).await.unwrap(),
        duplicate("j1")
    );
    // Another key, or none, is stored; a taken id is refused.
    assert_eq!(
        store.enqueue_job(&keyed("j3", "k2")).await.unwrap(),
        enqueued("j3")
    );
    let plain = new_job("j4", "poll", T0);
    assert_eq!(store.enqueue_job(&plain).await.unwrap(), enqueued("j4"));
    let err = store.enqueue_job(&plain).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store.enqueue_job(&keyed("j4", "k5")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let stored = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        Job {
            id: "j1".to_owned(),
            kind: "poll".to_owned(),
            payload: r#"{"item":"j1"}"#.to_owned(),
            dedupe_key: Some("k".to_owned()),
            state: JobState::Queued,
            run_at: T0,
            attempts: 0,
            max_attempts: 3,
            lease_owner: None,
            lease_until: None,
            heartbeat_at: None,
            last_error: None,
            created_at: T0,
            finished_at: None,
        }
    );
    assert!(store.get_job("nope").await.unwrap().is_none());

    // Running still holds the key; done frees it.
    let claimed = store
        .claim_jobs(&["poll"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["j1"]);
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        duplicate("j1")
    );
    assert!(store.complete_job("j1", "w1", T0 + 1).await.unwrap());
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        enqueued("j2")
    );
    // Failed frees it too.
    let claimed = store
        .claim_jobs(&["poll"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["j2"]);
    assert!(
        store
            .fail_job("j2", "w1", T0 + 2, "bad input", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.enqueue_job(&keyed("j5", "k")).await.unwrap(),
        enqueued("j5")
    );
}

#[tokio::test]
async fn claims_due_jobs_of_the_asked_kinds_earliest_first_up_to_the_limit() {
    let h = Harness::new().await;
    let store = &h.store;
    // Enqueued out of order on purpose.
    for (id, kind, run_at) in [
        ("a3", "step", T0 + 3),
        ("a1", "step", T0 + 1),
        ("b1", "poll", T0 + 1),
        ("a2", "step", T0 + 2),
        ("a9", "step", T0 + 9),
        ("c1", "webhook", T0),
    ] {
        store.enqueue_job(&new_job(id, kind, run_at)).await.unwrap();
    }
    let now = T0 + 5;
    assert!(
        store
            .claim_jobs(&[], "w1", now, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_jobs(&["step"], "w1", now, LEASE, 0)
            .await
            .unwrap()
            .is_empty()
    );

    let first = store
        .claim_jobs(&["step"], "w1", now, LEASE, 2)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["a1", "a2"]);
    for job in &first {
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.lease_owner.as_deref(), Some("w1"));
        assert_eq!(job.lease_until, Some(now + LEASE));
        assert_eq!(job.heartbeat_at, Some(now));
    }
    assert_eq!(store.get_job("a1").await.unwrap().unwrap(), first[0]);
    // a9 is not due yet; a1 and a2 are leased.
    let rest = store
        .claim_jobs(&["step"], "w2", now, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ["a3"]);
    assert!(
        store
            .claim_jobs(&["step"], "w2", now, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Several kinds at once; a kind nobody asks for stays queued.
    let both = store
        .claim_jobs(&["poll", "webhook", "step"], "w3", T0 + 9, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&both), ["c1", "b1", "a9"]);
    assert!(
        store
            .claim_jobs(&["other"], "w3", T0 + 9, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_owner_can_change_nothing() {
    let h = Harness::new().await;
    let store = &h.store;
    let other = h.second_store().await;
    store.enqueue_job(&new_job("j1", "step", T0)).await.unwrap();
    assert_eq!(
        ids(&store
            .claim_jobs(&["step"], "w1", T0, LEASE, 5)
            .await
            .unwrap()),
        ["j1"]
    );

    // Up to and including lease_until the lease holds.
    let at_end = T0 + LEASE;
    assert!(
        other
            .claim_jobs(&["step"], "w2", at_end, LEASE, 5)
            .await
            .unwrap()
            .is_empty()
    );
    // Past it, another process takes the job over: a second attempt.
    let later = at_end + 1;
    let taken = other
        .claim_jobs(&["step"], "w2", later, LEASE, 5)
        .await
        .unwrap();
    assert_eq!(ids(&taken), ["j1"]);
    assert_eq!(taken[0].attempts, 2);
    assert_eq!(taken[0].lease_owner.as_deref(), Some("w2"));
    assert_eq!(taken[0].lease_until, Some(later + LEASE));

    // The old owner is refused everything.
    assert!(!store.heartbeat_job("j1", "w1", later, LEASE).await.unwrap());
    assert!(!store.complete_job("j1", "w1", later).await.unwrap());
    assert!(
        !store
            .fail_job("j1", "w1", later, "x", Some(later))
            .await
            .unwrap()
    );
    assert!(!store.release_job("j1", "w1", later).await.unwrap());
    assert_eq!(store.get_job("j1").await.unwrap().unwrap(), taken[0]);

    assert!(other.complete_job("j1", "w2", later + 5).await.unwrap());
    let done = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.finished_at, Some(later + 5));
    assert_eq!(done.lease_until, None);
    assert_eq!(done.lease_owner.as_deref(), Some("w2"));
    // Finished: never claimed again, and no second completion.
    let much_later = later + 10 * LEASE;
    assert!(
        store
            .claim_jobs(&["step"], "w3", much_later, LEASE, 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!other.complete_job("j1", "w2", much_later).await.unwrap());
    // Unknown jobs change nothing.
    assert!(!store.complete_job("nope", "w1", T0).await.unwrap());
    assert!(!store.heartbeat_job("nope", "w1", T0, LEASE).await.unwrap());
}

#[tokio::test]
async fn a_heartbeat_extends_the_lease() {
    let h = Harness::new().await;
    let store = &h.store;
    store.enqueue_job(&new_job("j1", "step", T0)).await.unwrap();
    store
        .claim_jobs(&["step"], "w1", T0, LEASE, 1)
        .await
        .unwrap();

    let beat = T0 + LEASE - 1;
    assert!(store.heartbeat_job("j1", "w1", beat, LEASE).await.unwrap());
    // Someone else's heartbeat is refused and changes nothing.
    assert!(
        !store
            .heartbeat_job("j1", "w2", beat + 1, 10 * LEASE)
            .await
            .unwrap()
    );
    let job = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(job.heartbeat_at, Some(beat));
    assert_eq!(job.lease_until, Some(beat + LEASE));
    assert_eq!(job.attempts, 1);

    // Past the first lease's end the job is still w1's.
    assert!(
        store
            .claim_jobs(&["step"], "w2", T0 + LEASE + 1, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    // Past the extended end it is not.
    let taken = store
        .claim_jobs(&["step"], "w2", beat + LEASE + 1, LEASE, 1)
        .await
        .unwrap();
    assert_eq!(ids(&taken), ["j1"]);
    assert!(
        !store
            .heartbeat_job("j1", "w1", beat + LEASE + 2, LEASE)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_failed_attempt_is_retried_until_the_attempts_run_out() {
    let h = Harness::new().await;
    let store = &h.store;
    store
        .enqueue_job(&NewJob {
            max_attempts: 2,
            dedupe_key: Some("k".to_owned()),
            ..new_job("j1", "step", T0)
        })
        .await
        .unwrap();
    store
        .claim_jobs(&["step"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    // Only the owner may fail it.
    assert!(
        !store
            .fail_job("j1", "w2", T0 + 1, "no", Some(T0))
            .await
            .unwrap()
    );
    assert!(
        store
            .fail_job("j1", "w1", T0 + 1, "HubSpot answered 503", Some(T0 + 100))
            .await
            .unwrap()
    );
    let job = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.run_at, T0 + 100);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("HubSpot answered 503"));
    assert_eq!(
        (job.lease_owner, job.lease_until, job.finished_at),
        (None, None, None)
    );
    // Still holds its dedupe key while waiting for the retry.
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        duplicate("j1")
    );

    assert!(
        store
            .claim_jobs(&["step"], "w1", T0 + 99, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_jobs(&["step"], "w2", T0 + 100, LEASE, 1)
        .await
        .unwrap();
    assert_eq!(ids(&again), ["j1"]);
    assert_eq!(again[0].attempts, 2);
    // The last attempt: a retry time does not bring it back.
    assert!(
        store
            .fail_job(
                "j1",
                "w2",
                T0 + 101,
                "HubSpot answered 503 again",
                Some(T0 + 200)
            )
            .await
            .unwrap()
    );
    let job = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.finished_at, Some(T0 + 101));
    assert_eq!(job.run_at, T0 + 100);
    assert_eq!(
        job.last_error.as_deref(),
        Some("HubSpot answered 503 again")
    );
    assert_eq!(job.lease_until, None);
    assert!(
        store
            .claim_jobs(&["step"], "w1", T0 + 10 * LEASE, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .fail_job("j1", "w2", T0 + 102, "again", Some(T0))
            .await
            .unwrap()
    );
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        enqueued("j2")
    );

    // No retry time: failed at once, attempts left or not.
    store
        .enqueue_job(&new_job("j3", "other", T0))
        .await
        .unwrap();
    store
        .claim_jobs(&["other"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    assert!(
        store
            .fail_job("j3", "w1", T0 + 5, "invalid template", None)
            .await
            .unwrap()
    );
    let job = store.get_job("j3").await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts, job.finished_at),
        (JobState::Failed, 1, Some(T0 + 5))
    );
}

#[tokio::test]
async fn a_lease_that_expires_on_the_last_attempt_fails_the_job() {
    let h = Harness::new().await;
    let store = &h.store;
    store
        .enqueue_job(&NewJob {
            max_attempts: 1,
            dedupe_key: Some("k".to_owned()),
            ..new_job("j1", "step", T0)
        })
        .await
        .unwrap();
    store
        .claim_jobs(&["step"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    // The worker died: the next claim, of any kind, fails the job rather than run it again.
    let later = T0 + LEASE + 1;
    assert!(
        store
            .claim_jobs(&["other"], "w2", later, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let job = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.finished_at, Some(later));
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.unwrap().contains("lease expired"));
    assert!(!store.complete_job("j1", "w1", later).await.unwrap());
    assert_eq!(
        store.enqueue_job(&keyed("j2", "k")).await.unwrap(),
        enqueued("j2")
    );
}

#[tokio::test]
async fn a_released_job_is_queued_again_without_counting_the_attempt() {
    let h = Harness::new().await;
    let store = &h.store;
    store.enqueue_job(&new_job("j1", "step", T0)).await.unwrap();
    store
        .claim_jobs(&["step"], "w1", T0, LEASE, 1)
        .await
        .unwrap();
    assert!(!store.release_job("j1", "w2", T0 + 1).await.unwrap());
    assert!(store.release_job("j1", "w1", T0 + 10).await.unwrap());
    let job = store.get_job("j1").await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Queued);
    assert_eq!((job.attempts, job.run_at), (0, T0 + 10));
    assert_eq!((job.lease_owner, job.lease_until), (None, None));
    // Released: w1 can no longer finish it.
    assert!(!store.complete_job("j1", "w1", T0 + 2).await.unwrap());

    assert!(
        store
            .claim_jobs(&["step"], "w2", T0 + 9, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_jobs(&["step"], "w2", T0 + 10, LEASE, 1)
        .await
        .unwrap();
    assert_eq!(ids(&again), ["j1"]);
    assert_eq!(again[0].attempts, 1);
}

#[tokio::test]
async fn the_sweep_deletes_jobs_finished_before_the_cutoff() {
    let h = Harness::new().await;
    let store = &h.store;
    for id in ["done_old", "failed_old", "done_new", "running", "queued"] {
        store.enqueue_job(&new_job(id, "step", T0)).await.unwrap();
    }
    store
        .claim_jobs(&["step"], "w1", T0, LEASE, 4)
        .await
        .unwrap();
    assert!(store.complete_job("done_old", "w1", T0 + 1).await.unwrap());
    assert!(
        store
            .fail_job("failed_old", "w1", T0 + 2, "x", None)
            .await
            .unwrap()
    );
    assert!(store.complete_job("done_new", "w1", T0 + 10).await.unwrap());

    assert_eq!(store.sweep_jobs(T0 + 10).await.unwrap(), 2);
    assert!(store.get_job("done_old").await.unwrap().is_none());
    assert!(store.get_job("failed_old").await.unwrap().is_none());
    for id in ["done_new", "running", "queued"] {
        assert!(store.get_job(id).await.unwrap().is_some(), "{id}");
    }
    // Unfinished jobs are never swept, however old.
    assert_eq!(store.sweep_jobs(T0 + 100 * LEASE).await.unwrap(), 1);
    assert!(store.get_job("running").await.unwrap().is_some());
    assert!(store.get_job("queued").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_every_job_exactly_once() {
    const JOBS: usize = 200;
    let h = Harness::new().await;
    let other = h.second_store().await;
    for i in 0..JOBS {
        h.store
            .enqueue_job(&new_job(&format!("j{i:03}"), "step", T0 + i as i64))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let store = if worker % 2 == 0 {
            h.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let owner = format!("w{worker}");
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_jobs(&["step"], &owner, T0 + JOBS as i64, LEASE, 7)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return (owner, mine);
                }
                assert!(batch.len() <= 7);
                for job in batch {
                    assert_eq!(job.attempts, 1);
                    assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
                    assert!(
                        store
                            .complete_job(&job.id, &owner, T0 + 1_000)
                            .await
                            .unwrap()
                    );
                    mine.push(job.id);
                }
            }
        }));
    }
    let mut claimed_by: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    for task in tasks {
        let (owner, mine) = task.await.unwrap();
        total += mine.len();
        for id in mine {
            if let Some(first) = claimed_by.insert(id.clone(), owner.clone()) {
                panic!("{id} claimed by {first} and {owner}");
            }
        }
    }
    assert_eq!(total, JOBS);
    assert_eq!(claimed_by.len(), JOBS);
    for id in claimed_by.keys() {
        let job = h.store.get_job(id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Done, 1), "{id}");
    }
}
