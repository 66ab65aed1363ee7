//! Shared fixtures: a fresh store per test on a manual clock, and job handlers that count,
//! fail, panic or wait for the test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use spokes_core::{Clock as _, Job, ManualClock, NewJob};
use spokes_engine::{JobError, JobHandler, Progress, Worker, WorkerConfig};
use spokes_store::testing::{TempDir, test_database_url, test_key_ring};
use spokes_store::{KeyRing, Store, connect};
use tokio::sync::{Semaphore, mpsc};

pub const T0: i64 = 1_800_000_000_000;
pub const KIND: &str = "test.job";

/// One test's database, an open store and the clock every worker of the test reads.
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    url: String,
    keys: KeyRing,
    _dir: TempDir,
}

impl Harness {
    pub async fn new() -> Self {
        let dir = TempDir::new("spokes-engine-it");
        let url = test_database_url(dir.path()).await;
        let keys = test_key_ring();
        let store = connect(&url, keys.clone()).await.expect("connect");
        Self {
            store,
            clock: ManualClock::new(T0),
            url,
            keys,
            _dir: dir,
        }
    }

    /// A separately connected store on the same database: another process.
    pub async fn second_store(&self) -> Arc<dyn Store> {
        connect(&self.url, self.keys.clone())
            .await
            .expect("second connect")
    }

    pub fn worker(&self, handler: Arc<dyn JobHandler>, config: WorkerConfig) -> Worker {
        self.worker_on(self.store.clone(), handler, config)
    }

    pub fn worker_on(
        &self,
        store: Arc<dyn Store>,
        handler: Arc<dyn JobHandler>,
        config: WorkerConfig,
    ) -> Worker {
        Worker::new(store, Arc::new(self.clock.clone()), vec![handler], config)
    }

    pub async fn enqueue(&self, id: &str, max_attempts: i64) {
        self.store
            .enqueue_job(&NewJob {
                id: id.to_owned(),
                kind: KIND.to_owned(),
                payload: "{}".to_owned(),
                dedupe_key: None,
                run_at: self.clock.now_ms(),
                max_attempts,
                created_at: self.clock.now_ms(),
            })
            .await
            .unwrap();
    }

    pub async fn job(&self, id: &str) -> Job {
        self.store.get_job(id).await.unwrap().expect("the job")
    }
}

/// A small batch, and a heartbeat much shorter than any test's wait on a channel.
pub fn config() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(60),
        heartbeat: Some(Duration::from_millis(10)),
        batch_size: 4,
        grace: Duration::from_millis(200),
        ..WorkerConfig::default()
    }
}

/// Counts the runs of each job and answers from `behave(run number of that job)`, which may
/// panic.
pub struct Counting {
    pub runs: Arc<Mutex<HashMap<String, u32>>>,
    behave: fn(u32) -> Result<Progress, JobError>,
}

impl Counting {
    pub fn new(behave: fn(u32) -> Result<Progress, JobError>) -> Arc<Self> {
        Arc::new(Self {
            runs: Arc::default(),
            behave,
        })
    }

    pub fn sharing(other: &Counting) -> Arc<Self> {
        Arc::new(Self {
            runs: other.runs.clone(),
            behave: other.behave,
        })
    }

    pub fn runs_of(&self, id: &str) -> u32 {
        self.runs.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}

#[async_trait]
impl JobHandler for Counting {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &Job) -> Result<Progress, JobError> {
        let run = {
            let mut runs = self.runs.lock().unwrap();
            let run = runs.entry(job.id.clone()).or_default();
            *run += 1;
            *run
        };
        (self.behave)(run)
    }
}

/// Tells the test each job it starts, then waits until the test adds a permit to `gate`
/// (never, when the test adds none).
pub struct Gated {
    started: mpsc::UnboundedSender<String>,
    pub gate: Arc<Semaphore>,
}

impl Gated {
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<String>) {
        let (started, receiver) = mpsc::unbounded_channel();
        let handler = Arc::new(Self {
            started,
            gate: Arc::new(Semaphore::new(0)),
        });
        (handler, receiver)
    }
}

#[async_trait]
impl JobHandler for Gated {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &Job) -> Result<Progress, JobError> {
        let _ = self.started.send(job.id.clone());
        self.gate
            .acquire()
            .await
            .map_err(|_| JobError::permanent("the gate was closed"))?
            .forget();
        Ok(Progress::Done)
    }
}

/// Fails a test that would otherwise hang: a wait on an event, never a sleep for readiness.
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
