//! The worker that runs the durable job queue's jobs (spokes-store's README, "Job queue"):
//! it claims due jobs of the kinds it has handlers for, runs them concurrently, heartbeats each
//! running job so its lease holds, and records the outcome: done, queued again after a wait,
//! or failed. A handler that panics is retried like a transient error. On shutdown it stops
//! claiming, gives running jobs a grace period, then releases what is still running so another
//! process takes it at once.
//!
//! Handlers are run again for the same job after a transient error, a panic, a lost lease or a
//! crash: their effects must be idempotent (or reconciled, see issue 9 "The engine").

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use spokes_core::clock::UnixMillis;
use spokes_core::token::random_bytes;
use spokes_core::{Clock, Job};
use spokes_store::{Store, StoreResult};
use tokio::sync::{Notify, watch};
use tokio::task::{AbortHandle, JoinError, JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument as _;

/// Runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The kind of job this handler runs, e.g. `cycle.poll`.
    fn kind(&self) -> &'static str;

    /// Runs one job. The message of an error becomes the job's `last_error`: never put a
    /// secret in it.
    async fn run(&self, job: &Job) -> Result<Progress, JobError>;
}

/// How far a job got when its run ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Done,
    /// The job waits (a delay, a retry it counts itself) and runs again at this time; the
    /// run does not count as a failed attempt.
    ContinueAt(UnixMillis),
}

/// Why a job's run failed, and whether it is worth another attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt while the job has attempts left: at `retry_at` when the handler
    /// knows when (e.g. a `Retry-After`), else after the worker's backoff step.
    #[error("{message}")]
    Transient {
        message: String,
        retry_at: Option<UnixMillis>,
    },
    /// Another attempt would fail the same way: the job fails now.
    #[error("{message}")]
    Permanent { message: String },
}

/// The database failing is worth another attempt.
impl From<spokes_store::StoreError> for JobError {
    fn from(err: spokes_store::StoreError) -> Self {
        Self::transient(format!("the store failed: {err}"))
    }
}

impl JobError {
    /// A transient error, retried after the worker's backoff step.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_at: None,
        }
    }

    /// A transient error, retried at `retry_at` (not before).
    pub fn retry_at(message: impl Into<String>, retry_at: UnixMillis) -> Self {
        Self::Transient {
            message: message.into(),
            retry_at: Some(retry_at),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }
}

/// The waits before retrying a job that failed transiently, by failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBackoff {
    waits: Vec<Duration>,
}

impl RetryBackoff {
    /// `waits[n - 1]` follows the `n`-th failed attempt; the last step repeats beyond the list.
    pub fn new(waits: Vec<Duration>) -> Self {
        Self { waits }
    }

    /// The wait after the failed `attempt` (1-based); zero when there are no steps.
    pub fn wait(&self, attempt: i64) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0);
        self.waits
            .get(index)
            .or(self.waits.last())
            .copied()
            .unwrap_or(Duration::ZERO)
    }
}

impl Default for RetryBackoff {
    /// The error policy's default schedule (issue 9): 5 min, 35 min, 1 h 35, 4 h 35, 10 h 35.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self::new(vec![
            minutes(5),
            minutes(35),
            minutes(95),
            minutes(275),
            minutes(635),
        ])
    }
}

/// How a [`Worker`] claims and runs jobs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claim holds without a heartbeat: after it, another worker takes the job over.
    pub lease: Duration,
    /// How often a running job's lease is extended; `None` for a third of the lease, so two
    /// heartbeats may fail before the lease runs out.
    pub heartbeat: Option<Duration>,
    /// Jobs claimed at once, and run concurrently, by one worker.
    pub batch_size: u32,
    pub retry: RetryBackoff,
    /// On shutdown, how long running jobs may still finish before they are released.
    pub grace: Duration,
    /// The longest idle wait between claims: jobs enqueued by other processes, or enqueued
    /// without poking [`Worker::waker`], are found this late.
    pub poll_interval: Duration,
    /// Done and failed jobs are deleted this long after they finished.
    pub retention: Duration,
    /// How often [`Worker::run`] deletes finished jobs past the retention.
    pub sweep_interval: Duration,
}

impl WorkerConfig {
    pub fn heartbeat_every(&self) -> Duration {
        self.heartbeat
            .unwrap_or(self.lease / 3)
            .max(Duration::from_millis(1))
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            heartbeat: None,
            batch_size: 16,
            retry: RetryBackoff::default(),
            grace: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
            retention: Duration::from_secs(7 * 24 * 3600),
            sweep_interval: Duration::from_secs(3600),
        }
    }
}

/// What one [`Worker::run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerTick {
    pub claimed: usize,
    pub done: usize,
    /// Failed transiently (or panicked) and queued again.
    pub retried: usize,
    /// Queued again by their handler, to run later ([`Progress::ContinueAt`]).
    pub continued: usize,
    /// Failed for good: a permanent error, or the last attempt.
    pub failed: usize,
    /// The outcome was not recorded: the lease was taken over, or the store failed. The job
    /// runs again once its lease expires.
    pub lost: usize,
}

impl WorkerTick {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => self.done += 1,
            Outcome::Continued => self.continued += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Lost => self.lost += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Continued,
    Retried,
    Failed,
    Lost,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Continued => "continued",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
            Outcome::Lost => "lost",
        }
    }
}

/// How a handler's run ended, as the supervisor saw it.
enum Ran {
    Finished(Result<Result<Progress, JobError>, JoinError>),
    LeaseLost,
}

/// `last_error` is for people reading the job: long messages are cut.
const MAX_ERROR_CHARS: usize = 2000;

/// Runs the queue's jobs of the kinds it has handlers for. See the module docs.
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    kinds: Vec<&'static str>,
    owner: String,
    config: WorkerConfig,
    wake: Arc<Notify>,
    /// Jobs whose handler is running: id → kind, for release on shutdown.
    running: Mutex<HashMap<String, &'static str>>,
    /// The clock time of the latest successful heartbeat.
    heartbeat: watch::Sender<UnixMillis>,
    /// The earliest retry this worker scheduled, so an idle worker wakes for it.
    next_retry: Mutex<Option<UnixMillis>>,
}

impl Worker {
    /// Panics (at startup) when two handlers have the same kind or the batch size is zero.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handlers: Vec<Arc<dyn JobHandler>>,
        config: WorkerConfig,
    ) -> Self {
        assert!(config.batch_size > 0, "the job worker's batch size is zero");
        let mut by_kind = HashMap::new();
        let mut kinds = Vec::new();
        for handler in handlers {
            let kind = handler.kind();
            assert!(
                by_kind.insert(kind, handler).is_none(),
                "two job handlers for the kind {kind}"
            );
            kinds.push(kind);
        }
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                handlers: by_kind,
                kinds,
                owner: default_owner(),
                config,
                wake: Arc::new(Notify::new()),
                running: Mutex::new(HashMap::new()),
                heartbeat: watch::Sender::new(0),
                next_retry: Mutex::new(None),
            }),
        }
    }

    /// This worker's lease owner: `host-pid-random`, unique per worker.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    pub fn kinds(&self) -> &[&'static str] {
        &self.inner.kinds
    }

    /// Uses `wake` as the worker's waker, so that whoever enqueues (a server's routes) can hold
    /// it before the worker exists.
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.wake = wake,
            // Only a worker whose inner state is shared already (never, before `run`).
            None => tracing::warn!("the worker's waker was not replaced: the worker is shared"),
        }
        self
    }

    /// Poke it (`notify_one`) after enqueueing a job that is due now: an idle [`Worker::run`]
    /// claims at once instead of at its next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// The clock time of this worker's latest successful heartbeat (0 before the first): for
    /// health checks, and for tests to wait on instead of sleeping.
    pub fn last_heartbeat(&self) -> watch::Receiver<UnixMillis> {
        self.inner.heartbeat.subscribe()
    }

    /// Claims the jobs due now (up to the batch size), runs them concurrently, and returns
    /// when all have finished and their outcomes are recorded. Dropping the future abandons
    /// its jobs to the expiry of their leases.
    pub async fn run_due(&self) -> StoreResult<WorkerTick> {
        let jobs = self.inner.claim(self.inner.config.batch_size).await?;
        let mut tick = WorkerTick {
            claimed: jobs.len(),
            ..WorkerTick::default()
        };
        let mut tasks = JoinSet::new();
        for job in jobs {
            tasks.spawn(Inner::run_job(self.inner.clone(), job));
        }
        while let Some(joined) = tasks.join_next().await {
            // A supervisor that panicked recorded nothing: the lease will expire.
            tick.add(joined.unwrap_or(Outcome::Lost));
        }
        Ok(tick)
    }

    /// Deletes done and failed jobs that finished longer than the retention ago.
    pub async fn sweep_finished(&self) -> StoreResult<u64> {
        self.inner.sweep_finished().await
    }

    /// Runs until `shutdown` completes: claims due jobs into free slots of the batch, then
    /// waits for a slot, a poke of the waker, the next retry it scheduled or the poll
    /// interval. On shutdown it claims nothing more, waits up to the grace period for running
    /// jobs, and releases the rest.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let inner = self.inner;
        let batch = inner.config.batch_size as usize;
        let mut tasks = JoinSet::new();
        let mut next_sweep = Instant::now();
        tokio::pin!(shutdown);
        tracing::info!(worker.owner = %inner.owner, kinds = ?inner.kinds, "job worker started");
        loop {
            if Instant::now() >= next_sweep {
                if let Err(err) = inner.sweep_finished().await {
                    tracing::warn!(error = %err, "could not delete finished jobs; trying again later");
                }
                next_sweep = Instant::now() + inner.config.sweep_interval;
            }
            let free = batch.saturating_sub(tasks.len());
            if free > 0 {
                match inner.claim(u32::try_from(free).unwrap_or(u32::MAX)).await {
                    Ok(jobs) => {
                        for job in jobs {
                            tasks.spawn(Inner::run_job(inner.clone(), job));
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "could not claim jobs; trying again later")
                    }
                }
            }
            let idle = inner.idle_wait();
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                    // Claim once for every slot that is free by now.
                    while tasks.try_join_next().is_some() {}
                }
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
            }
        }
        inner.shut_down(tasks).await;
    }
}

impl Inner {
    async fn claim(&self, limit: u32) -> StoreResult<Vec<Job>> {
        self.store
            .claim_jobs(
                &self.kinds,
                &self.owner,
                self.clock.now_ms(),
                millis(self.config.lease),
                limit,
            )
            .await
    }

    async fn sweep_finished(&self) -> StoreResult<u64> {
        let cutoff = self
            .clock
            .now_ms()
            .saturating_sub(millis(self.config.retention));
        let swept = self.store.sweep_jobs(cutoff).await?;
        if swept > 0 {
            tracing::info!(jobs = swept, "deleted finished jobs past their retention");
        }
        Ok(swept)
    }

    /// Runs one claimed job: the handler in a task of its own (so a panic is a `JoinError`,
    /// not a lost job), heartbeats while it runs, then the outcome recorded.
    async fn run_job(inner: Arc<Inner>, job: Job) -> Outcome {
        let span = tracing::info_span!(
            "job",
            job.id = %job.id,
            job.kind = %job.kind,
            job.attempt = job.attempts
        );
        async move {
            let started = Instant::now();
            let Some(handler) = inner.handlers.get(job.kind.as_str()).cloned() else {
                // Claims name only our kinds; give it back rather than fail it.
                let released = inner.store.release_job(&job.id, &inner.owner, inner.clock.now_ms());
                if let Err(err) = released.await {
                    tracing::warn!(error = %err, "could not release a job of an unknown kind");
                }
                return Outcome::Lost;
            };
            let kind = handler.kind();
            let job = Arc::new(job);
            let task = tokio::spawn({
                let job = job.clone();
                async move { handler.run(&job).await }.in_current_span()
            });
            // Dropped with this future, even when it is aborted: the handler stops with it.
            let _running = RunningGuard::new(&inner, &job.id, kind, task.abort_handle());
            let outcome = match inner.supervise(&job, task).await {
                Ran::Finished(result) => inner.record(&job, result).await,
                Ran::LeaseLost => Outcome::Lost,
            };
            metrics::counter!("spokes_job_runs_total", "kind" => kind, "outcome" => outcome.as_str())
                .increment(1);
            metrics::histogram!("spokes_job_run_duration_seconds", "kind" => kind)
                .record(started.elapsed().as_secs_f64());
            outcome
        }
        .instrument(span)
        .await
    }

    /// Waits for the handler, extending the lease every heartbeat interval. A lease taken
    /// over by another worker stops the handler: that worker runs the job now.
    async fn supervise(&self, job: &Job, mut task: JoinHandle<Result<Progress, JobError>>) -> Ran {
        let every = self.config.heartbeat_every();
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                joined = &mut task => return Ran::Finished(joined),
                _ = ticks.tick() => {
                    let now = self.clock.now_ms();
                    let lease = millis(self.config.lease);
                    match self.store.heartbeat_job(&job.id, &self.owner, now, lease).await {
                        Ok(true) => self.heartbeat.send_modify(|last| *last = (*last).max(now)),
                        Ok(false) => {
                            tracing::warn!("the job's lease was taken over by another worker; stopping its handler");
                            task.abort();
                            return Ran::LeaseLost;
                        }
                        Err(err) => tracing::warn!(
                            error = %err,
                            "could not extend the job's lease; trying again at the next heartbeat"
                        ),
                    }
                }
            }
        }
    }

    async fn record(
        &self,
        job: &Job,
        result: Result<Result<Progress, JobError>, JoinError>,
    ) -> Outcome {
        let now = self.clock.now_ms();
        let (error, retry_at) = match result {
            Ok(Ok(Progress::ContinueAt(at))) => {
                return match self.store.release_job(&job.id, &self.owner, at).await {
                    Ok(true) => {
                        tracing::debug!(run_at = at, "job continues later");
                        self.wake_at(at);
                        Outcome::Continued
                    }
                    Ok(false) => self.lost(None),
                    Err(err) => self.lost(Some(&err)),
                };
            }
            Ok(Ok(Progress::Done)) => {
                return match self.store.complete_job(&job.id, &self.owner, now).await {
                    Ok(true) => {
                        tracing::debug!("job done");
                        Outcome::Done
                    }
                    Ok(false) => self.lost(None),
                    Err(err) => self.lost(Some(&err)),
                };
            }
            Ok(Err(JobError::Permanent { message })) => (message, None),
            Ok(Err(JobError::Transient { message, retry_at })) => {
                let wait = millis(self.config.retry.wait(job.attempts));
                (message, Some(retry_at.unwrap_or(now.saturating_add(wait))))
            }
            Err(join) => {
                // The panic message may hold anything: it went to the log through the panic
                // hook, not into last_error.
                let what = if join.is_panic() {
                    "the job's handler panicked"
                } else {
                    "the job's handler was cancelled"
                };
                let wait = millis(self.config.retry.wait(job.attempts));
                (what.to_owned(), Some(now.saturating_add(wait)))
            }
        };
        let error = truncate(&error);
        let retry_at = retry_at.filter(|_| job.attempts < job.max_attempts);
        match self
            .store
            .fail_job(&job.id, &self.owner, now, error, retry_at)
            .await
        {
            Ok(true) => match retry_at {
                Some(at) => {
                    tracing::warn!(error, retry_at = at, "job failed; it will be retried");
                    self.wake_at(at);
                    Outcome::Retried
                }
                None => {
                    tracing::warn!(error, "job failed for good");
                    Outcome::Failed
                }
            },
            Ok(false) => self.lost(None),
            Err(err) => self.lost(Some(&err)),
        }
    }

    fn lost(&self, err: Option<&spokes_store::StoreError>) -> Outcome {
        match err {
            None => tracing::warn!(
                "the job's outcome was not recorded: another worker took over its lease"
            ),
            Some(err) => tracing::error!(
                error = %err,
                "could not record the job's outcome; it runs again when its lease expires"
            ),
        }
        Outcome::Lost
    }

    /// Makes an idle worker wake at `at` for a job it queued again.
    fn wake_at(&self, at: UnixMillis) {
        let mut next = lock(&self.next_retry);
        *next = Some(next.map_or(at, |n| n.min(at)));
    }

    /// How long an idle worker waits: the poll interval, or less for a retry it scheduled.
    fn idle_wait(&self) -> Duration {
        let poll = self.config.poll_interval;
        let mut next = lock(&self.next_retry);
        let Some(at) = *next else { return poll };
        let now = self.clock.now_ms();
        if at <= now {
            *next = None;
            return Duration::ZERO;
        }
        poll.min(Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
    }

    async fn shut_down(&self, mut tasks: JoinSet<Outcome>) {
        tracing::info!(
            running = tasks.len(),
            grace_ms = millis(self.config.grace),
            "job worker stopping: claiming nothing more, waiting for running jobs"
        );
        let deadline = tokio::time::sleep(self.config.grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                joined = tasks.join_next() => if joined.is_none() { break },
            }
        }
        // Noted before the supervisors are aborted: their guards forget the jobs.
        let unfinished: Vec<(String, &'static str)> = lock(&self.running)
            .iter()
            .map(|(id, kind)| (id.clone(), *kind))
            .collect();
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        let now = self.clock.now_ms();
        for (id, kind) in unfinished {
            match self.store.release_job(&id, &self.owner, now).await {
                Ok(true) => {
                    tracing::info!(job.id = %id, job.kind = kind, "released a running job at shutdown");
                    metrics::counter!("spokes_job_runs_total", "kind" => kind, "outcome" => "released")
                        .increment(1);
                }
                // It finished in the meantime, or its lease was taken over.
                Ok(false) => {}
                Err(err) => tracing::warn!(
                    job.id = %id,
                    error = %err,
                    "could not release a running job; another worker takes it when its lease expires"
                ),
            }
        }
        tracing::info!("job worker stopped");
    }
}

/// Keeps a job in the worker's running set while its supervisor lives; on drop, forgets it
/// and stops its handler (a no-op once the handler has finished).
struct RunningGuard<'a> {
    inner: &'a Inner,
    id: String,
    handler: AbortHandle,
}

impl<'a> RunningGuard<'a> {
    fn new(inner: &'a Inner, id: &str, kind: &'static str, handler: AbortHandle) -> Self {
        lock(&inner.running).insert(id.to_owned(), kind);
        Self {
            inner,
            id: id.to_owned(),
            handler,
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.handler.abort();
        lock(&self.inner.running).remove(&self.id);
    }
}

/// A poisoned lock only means another job's supervisor panicked; the map is still sound.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn truncate(message: &str) -> &str {
    match message.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => &message[..end],
        None => message,
    }
}

/// `host-pid-random`: unique per worker, and says which machine and process holds a lease.
fn default_owner() -> String {
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| {
            name.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                .take(40)
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        hex::encode(random_bytes(4))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backoff_is_the_error_policy_schedule() {
        let backoff = RetryBackoff::default();
        let minutes = |attempt| backoff.wait(attempt).as_secs() / 60;
        assert_eq!(
            (1..=7).map(minutes).collect::<Vec<_>>(),
            [5, 35, 95, 275, 635, 635, 635]
        );
        assert_eq!(minutes(0), 5);
        assert_eq!(RetryBackoff::new(Vec::new()).wait(3), Duration::ZERO);
    }

    #[test]
    fn the_heartbeat_is_a_third_of_the_lease_unless_set() {
        let config = WorkerConfig::default();
        assert_eq!(config.heartbeat_every(), Duration::from_secs(20));
        let set = WorkerConfig {
            heartbeat: Some(Duration::from_millis(10)),
            ..config
        };
        assert_eq!(set.heartbeat_every(), Duration::from_millis(10));
    }

    #[test]
    fn owners_differ_and_errors_are_cut() {
        let (a, b) = (default_owner(), default_owner());
        assert_ne!(a, b);
        assert!(a.contains(&format!("-{}-", std::process::id())));
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        assert_eq!(truncate(&long).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
