//! The job worker on a real store: outcomes and retries, panics, two workers sharing a queue,
//! heartbeats keeping a slow job's lease, graceful shutdown, the waker and the sweep.

use std::time::Duration;

use spokes_core::{Clock as _, JobState};
use spokes_engine::{JobError, Progress, WorkerConfig, WorkerTick};

use crate::support::{Counting, Gated, Harness, KIND, T0, config, within};

const MINUTE: i64 = 60_000;

fn tick(claimed: usize, done: usize, retried: usize, failed: usize) -> WorkerTick {
    WorkerTick {
        claimed,
        done,
        retried,
        failed,
        lost: 0,
        continued: 0,
    }
}

#[tokio::test]
async fn a_job_that_succeeds_is_done() {
    let h = Harness::new().await;
    let handler = Counting::new(|_| Ok(Progress::Done));
    let worker = h.worker(handler.clone(), config());
    h.enqueue("j1", 3).await;

    assert_eq!(worker.run_due().await.unwrap(), tick(1, 1, 0, 0));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.finished_at, Some(h.clock.now_ms()));
    assert_eq!(job.lease_owner.as_deref(), Some(worker.owner()));
    assert_eq!(handler.runs_of("j1"), 1);
    // Nothing is left to claim.
    assert_eq!(worker.run_due().await.unwrap(), WorkerTick::default());
}

#[tokio::test]
async fn a_transient_error_is_retried_on_the_backoff_until_the_attempts_run_out() {
    let h = Harness::new().await;
    let handler = Counting::new(|run| Err(JobError::transient(format!("HubSpot 503 (run {run})"))));
    let worker = h.worker(handler.clone(), config());
    h.enqueue("j1", 3).await;

    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 1, 0));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.run_at, h.clock.now_ms() + 5 * MINUTE);
    assert_eq!(job.last_error.as_deref(), Some("HubSpot 503 (run 1)"));
    assert_eq!(job.lease_owner, None);

    // Not before its time.
    h.clock.advance_secs(5 * 60 - 1);
    assert_eq!(worker.run_due().await.unwrap(), WorkerTick::default());
    h.clock.advance_secs(1);
    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 1, 0));
    let job = h.job("j1").await;
    assert_eq!(job.run_at, h.clock.now_ms() + 35 * MINUTE);
    assert_eq!(job.attempts, 2);

    // The third attempt is the last: failed for good.
    h.clock.advance_secs(35 * 60);
    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 0, 1));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("HubSpot 503 (run 3)"));
    assert_eq!(job.finished_at, Some(h.clock.now_ms()));
    assert_eq!(handler.runs_of("j1"), 3);
    h.clock.advance_secs(24 * 3600);
    assert_eq!(worker.run_due().await.unwrap(), WorkerTick::default());
}

#[tokio::test]
async fn a_transient_error_may_name_its_retry_time() {
    let h = Harness::new().await;
    let handler = Counting::new(|_| Err(JobError::retry_at("rate limited", T0 + 10_000)));
    let worker = h.worker(handler, config());
    h.enqueue("j1", 3).await;

    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 1, 0));
    assert_eq!(h.job("j1").await.run_at, T0 + 10_000);
}

#[tokio::test]
async fn a_permanent_error_fails_the_job_at_once() {
    let h = Harness::new().await;
    let handler = Counting::new(|_| Err(JobError::permanent("the template was deleted")));
    let worker = h.worker(handler.clone(), config());
    h.enqueue("j1", 5).await;

    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 0, 1));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("the template was deleted"));
    h.clock.advance_secs(24 * 3600);
    assert_eq!(worker.run_due().await.unwrap(), WorkerTick::default());
    assert_eq!(handler.runs_of("j1"), 1);
}

#[tokio::test]
async fn a_handler_that_panics_is_retried_not_lost() {
    let h = Harness::new().await;
    let handler = Counting::new(|run| {
        assert!(
            run > 1,
            "the handler panics on its first run (expected by the test)"
        );
        Ok(Progress::Done)
    });
    let worker = h.worker(handler.clone(), config());
    h.enqueue("j1", 3).await;

    assert_eq!(worker.run_due().await.unwrap(), tick(1, 0, 1, 0));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.run_at, h.clock.now_ms() + 5 * MINUTE);
    assert_eq!(
        job.last_error.as_deref(),
        Some("the job's handler panicked")
    );

    h.clock.advance_secs(5 * 60);
    assert_eq!(worker.run_due().await.unwrap(), tick(1, 1, 0, 0));
    assert_eq!(h.job("j1").await.state, JobState::Done);
    assert_eq!(handler.runs_of("j1"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_each_of_a_hundred_jobs_exactly_once() {
    let h = Harness::new().await;
    let first = Counting::new(|_| Ok(Progress::Done));
    let second = Counting::sharing(&first);
    let a = h.worker(first.clone(), config());
    let b = h.worker_on(h.second_store().await, second, config());
    assert_ne!(a.owner(), b.owner());
    for n in 0..100 {
        h.enqueue(&format!("j{n:03}"), 3).await;
    }

    async fn drain(worker: spokes_engine::Worker) -> usize {
        let mut done = 0;
        loop {
            let tick = worker.run_due().await.unwrap();
            assert_eq!(tick.done, tick.claimed, "{tick:?}");
            if tick.claimed == 0 {
                return done;
            }
            done += tick.done;
        }
    }
    let (a, b) = tokio::join!(tokio::spawn(drain(a)), tokio::spawn(drain(b)));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 100, "a ran {a}, b ran {b}");

    let runs = first.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 100);
    assert!(runs.values().all(|&n| n == 1), "{runs:?}");
    for n in 0..100 {
        assert_eq!(h.job(&format!("j{n:03}")).await.state, JobState::Done);
    }
}

#[tokio::test]
async fn a_slow_job_keeps_its_lease_by_heartbeating() {
    let h = Harness::new().await;
    let (slow, mut started) = Gated::new();
    let a = h.worker(slow.clone(), config());
    let b = h.worker(Counting::new(|_| Ok(Progress::Done)), config());
    let mut heartbeats = a.last_heartbeat();
    h.enqueue("j1", 3).await;

    let running = tokio::spawn(async move { a.run_due().await });
    assert_eq!(
        within("the job to start", started.recv()).await.unwrap(),
        "j1"
    );

    // Past the lease the claim took: only a heartbeat since keeps the job from b.
    h.clock.advance_secs(61);
    let now = h.clock.now_ms();
    within("a heartbeat", heartbeats.wait_for(|&last| last >= now))
        .await
        .unwrap();
    assert_eq!(b.run_due().await.unwrap(), WorkerTick::default());
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Running);
    assert!(job.lease_until.unwrap() >= now + 60_000);
    assert!(job.heartbeat_at.unwrap() >= now);

    slow.gate.add_permits(1);
    let ran = within("the job to finish", running).await.unwrap().unwrap();
    assert_eq!(ran, tick(1, 1, 0, 0));
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 1);
}

#[tokio::test]
async fn at_shutdown_a_job_still_running_after_the_grace_period_is_released() {
    let h = Harness::new().await;
    let (gated, mut started) = Gated::new();
    let worker = h.worker(
        gated.clone(),
        WorkerConfig {
            grace: Duration::from_millis(500),
            ..config()
        },
    );
    h.enqueue("j2", 3).await;
    h.enqueue("j1", 3).await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let mut ids = vec![
        within("a job to start", started.recv()).await.unwrap(),
        within("a job to start", started.recv()).await.unwrap(),
    ];
    ids.sort();
    assert_eq!(ids, ["j1", "j2"]);

    // One job finishes within the grace period; the other never does.
    stop.send(()).unwrap();
    gated.gate.add_permits(1);
    within("the worker to stop", running).await.unwrap();

    // Both wait on one gate: either may be the one that finished.
    let (finished, stuck) = {
        let (x, y) = (h.job("j1").await, h.job("j2").await);
        if x.state == JobState::Done {
            (x, y)
        } else {
            (y, x)
        }
    };
    assert_eq!(finished.state, JobState::Done);
    assert_eq!(stuck.state, JobState::Queued, "{stuck:?}");
    assert_eq!(stuck.attempts, 0, "a released claim does not count");
    assert_eq!(stuck.lease_owner, None);
    assert!(stuck.run_at <= h.clock.now_ms());

    // Another worker takes it at once, without the clock moving.
    let other = Counting::new(|_| Ok(Progress::Done));
    let b = h.worker(other.clone(), config());
    assert_eq!(b.run_due().await.unwrap(), tick(1, 1, 0, 0));
    assert_eq!(h.job(&stuck.id).await.state, JobState::Done);
    assert_eq!(other.runs_of(&stuck.id), 1);
}

#[tokio::test]
async fn the_waker_makes_an_idle_worker_claim_at_once() {
    let h = Harness::new().await;
    let (gated, mut started) = Gated::new();
    gated.gate.add_permits(1);
    // Without the waker the job would wait for the next poll, an hour away.
    let worker = h.worker(
        gated,
        WorkerConfig {
            poll_interval: Duration::from_secs(3600),
            ..config()
        },
    );
    let waker = worker.waker();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));

    h.enqueue("j1", 3).await;
    waker.notify_one();
    assert_eq!(
        within("the job to start", started.recv()).await.unwrap(),
        "j1"
    );
    stop.send(()).unwrap();
    within("the worker to stop", running).await.unwrap();
    assert_eq!(h.job("j1").await.state, JobState::Done);
}

#[tokio::test]
async fn finished_jobs_are_swept_after_the_retention() {
    let h = Harness::new().await;
    let worker = h.worker(Counting::new(|_| Ok(Progress::Done)), config());
    h.enqueue("done", 3).await;
    assert_eq!(worker.run_due().await.unwrap(), tick(1, 1, 0, 0));
    h.enqueue("queued", 3).await;
    let queued = h.job("queued").await;
    assert_eq!(queued.state, JobState::Queued);

    h.clock.advance_secs(7 * 24 * 3600);
    assert_eq!(worker.sweep_finished().await.unwrap(), 0);
    h.clock.advance_secs(1);
    assert_eq!(worker.sweep_finished().await.unwrap(), 1);
    assert!(h.store.get_job("done").await.unwrap().is_none());
    assert!(h.store.get_job("queued").await.unwrap().is_some());
}

#[tokio::test]
async fn a_worker_claims_only_the_kinds_it_has_handlers_for() {
    let h = Harness::new().await;
    let worker = h.worker(Counting::new(|_| Ok(Progress::Done)), config());
    assert_eq!(worker.kinds(), [KIND]);
    h.store
        .enqueue_job(&spokes_core::NewJob {
            id: "other".to_owned(),
            kind: "other.kind".to_owned(),
            payload: "{}".to_owned(),
            dedupe_key: None,
            run_at: T0,
            max_attempts: 3,
            created_at: T0,
        })
        .await
        .unwrap();
    assert_eq!(worker.run_due().await.unwrap(), WorkerTick::default());
    assert_eq!(h.job("other").await.state, JobState::Queued);
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_over_records_nothing() {
    let h = Harness::new().await;
    let (slow, mut started) = Gated::new();
    // No heartbeat within the test: the claim's lease is all a has.
    let a = h.worker(
        slow.clone(),
        WorkerConfig {
            heartbeat: Some(Duration::from_secs(3600)),
            ..config()
        },
    );
    let b = h.worker(Counting::new(|_| Ok(Progress::Done)), config());
    h.enqueue("j1", 3).await;

    let running = tokio::spawn(async move { a.run_due().await });
    within("the job to start", started.recv()).await.unwrap();
    h.clock.advance_secs(61);
    assert_eq!(b.run_due().await.unwrap(), tick(1, 1, 0, 0));

    // a's handler finishes late: the job is b's, done once.
    slow.gate.add_permits(1);
    let ran = within("the job to finish", running).await.unwrap().unwrap();
    assert_eq!(
        ran,
        WorkerTick {
            claimed: 1,
            lost: 1,
            ..WorkerTick::default()
        }
    );
    let job = h.job("j1").await;
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 2);
    assert_eq!(job.lease_owner.as_deref(), Some(b.owner()));
}
