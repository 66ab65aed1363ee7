//! The durable job queue: jobs with a lease, a heartbeat, attempts, a run-at time and an
//! optional dedupe key, claimed by workers in one statement and finished only by the worker
//! holding the lease.
//!
//! - **Claim**: one `UPDATE … WHERE id IN (due jobs … LIMIT n) RETURNING …` per backend
//!   (`Backend::CLAIM_JOBS`; PostgreSQL locks the due rows `FOR UPDATE SKIP LOCKED`, SQLite has
//!   a single writer). Due: queued with `run_at <= now`, or running with `lease_until < now` —
//!   a lease that expired is taken over by whoever claims next. Each claim counts an attempt.
//!   A running job whose lease expired on its last attempt is failed (by the claim's first
//!   statement) instead of being run once more.
//! - **State changes** (`heartbeat`, `complete`, `fail`, `release`) match `id`, `state =
//!   'running'` and `lease_owner`, so a worker whose lease was taken over changes nothing and
//!   learns so (`false`). No transaction is held while a job runs.
//! - **Enqueue in the caller's transaction**: [`enqueue`] takes an [`On`], so a store method
//!   that writes the data a job is about can enqueue the job in the same transaction:
//!
//!   ```ignore
//!   let mut tx = pool.begin().await?;
//!   sql::<DB>("INSERT INTO … ").bind(…).execute(&mut tx).await?;
//!   jobs::enqueue(&mut tx, &job).await?; // stored if and only if the insert commits
//!   tx.commit().await?;
//!   ```
//!
//!   A duplicate (dedupe key taken) does not fail the transaction.

use spokes_core::clock::UnixMillis;
use spokes_core::{EnqueueOutcome, Job, NewJob};
use sqlx::Pool;

use crate::backend::{Backend, On, sql};
use crate::rows::{self, RowExt as _};
use crate::{StoreError, StoreResult};

/// The columns of a job, also for `RETURNING` in the backends' claim statements.
macro_rules! job_columns {
    () => {
        "id, kind, payload, dedupe_key, state, run_at, attempts, max_attempts, lease_owner, \
         lease_until, heartbeat_at, last_error, created_at, finished_at"
    };
}

/// The `WHERE` condition of a claimable job (`$2` = now). A job out of attempts is not
/// claimable: [`claim`] fails it first.
macro_rules! job_due {
    () => {
        "((state = 'queued' AND run_at <= $2) \
         OR (state = 'running' AND lease_until < $2 AND attempts < max_attempts))"
    };
}

/// The `SET` list of a claim (`$2` = now, `$3` = owner, `$4` = lease_until).
macro_rules! job_claimed {
    () => {
        "state = 'running', attempts = attempts + 1, lease_owner = $3, lease_until = $4, \
         heartbeat_at = $2"
    };
}

pub(crate) use {job_claimed, job_columns, job_due};

/// The `last_error` of a job whose lease expired on its last attempt.
const LEASE_EXPIRED_ON_LAST_ATTEMPT: &str =
    "the lease expired during the last attempt: its worker stopped or stalled";

/// How often [`enqueue`] tries again when the job holding its dedupe key finishes between
/// the insert and the look-up.
const ENQUEUE_TRIES: usize = 3;

/// Stores `job` unless an unfinished job has its dedupe key. Runs on a pool or inside the
/// caller's transaction (`&mut tx`): then the job exists exactly when that transaction
/// commits.
pub(crate) async fn enqueue<'e, DB: Backend>(
    on: impl Into<On<'e, DB>>,
    job: &NewJob,
) -> StoreResult<EnqueueOutcome> {
    let mut on = on.into();
    for _ in 0..ENQUEUE_TRIES {
        // The conflict target names only the dedupe index: a taken id is still an error.
        let inserted = sql::<DB>(concat!(
            "INSERT INTO jobs (",
            job_columns!(),
            ") VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, NULL, NULL, NULL, NULL, $7, NULL) \
             ON CONFLICT (dedupe_key) WHERE state IN ('queued', 'running') DO NOTHING"
        ))
        .bind(&job.id)
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(&job.dedupe_key)
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind(job.created_at)
        .execute(on.reborrow())
        .await
        .map_err(|e| {
            rows::insert_error(
                e,
                || format!("a job with id {} exists", job.id),
                String::new,
            )
        })?;
        if inserted == 1 {
            return Ok(EnqueueOutcome::Enqueued(job.id.clone()));
        }
        let Some(key) = &job.dedupe_key else {
            // Without a key only the id can conflict, and that is an error above.
            return Err(StoreError::Conflict(format!(
                "job {} was not stored",
                job.id
            )));
        };
        let holder = sql::<DB>(
            "SELECT id FROM jobs WHERE dedupe_key = $1 AND state IN ('queued', 'running')",
        )
        .bind(key)
        .fetch_optional(on.reborrow())
        .await?;
        if let Some(row) = holder {
            return Ok(EnqueueOutcome::Duplicate(row.text("id")?));
        }
        // The holder finished in between: the key is free now.
    }
    Err(StoreError::Conflict(format!(
        "the dedupe key of job {} was taken and freed {ENQUEUE_TRIES} times while enqueueing; \
         try again",
        job.id
    )))
}

pub(crate) async fn claim<DB: Backend>(
    pool: &Pool<DB>,
    kinds: &[&str],
    owner: &str,
    now: UnixMillis,
    lease_ms: i64,
    limit: u32,
) -> StoreResult<Vec<Job>> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // One transaction: one turn of SQLite's write lock for both statements.
    let mut tx = pool.begin().await?;
    // A job whose worker died on its last attempt is not run again: it failed.
    sql::<DB>(
        "UPDATE jobs SET state = 'failed', finished_at = $1, lease_until = NULL, \
         last_error = $2 \
         WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts",
    )
    .bind(now)
    .bind(LEASE_EXPIRED_ON_LAST_ATTEMPT)
    .execute(&mut tx)
    .await?;
    let kinds = serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut jobs = sql::<DB>(DB::CLAIM_JOBS)
        .bind(kinds)
        .bind(now)
        .bind(owner)
        .bind(now.saturating_add(lease_ms))
        .bind(i64::from(limit))
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(rows::job)
        .collect::<StoreResult<Vec<_>>>()?;
    tx.commit().await?;
    // RETURNING does not keep the subquery's order.
    jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(jobs)
}

pub(crate) async fn heartbeat<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    owner: &str,
    now: UnixMillis,
    lease_ms: i64,
) -> StoreResult<bool> {
    let changed = sql::<DB>(
        "UPDATE jobs SET heartbeat_at = $3, lease_until = $4 \
         WHERE id = $1 AND state = 'running' AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(now)
    .bind(now.saturating_add(lease_ms))
    .execute(pool)
    .await?;
    Ok(changed == 1)
}

pub(crate) async fn complete<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    owner: &str,
    now: UnixMillis,
) -> StoreResult<bool> {
    let changed = sql::<DB>(
        "UPDATE jobs SET state = 'done', finished_at = $3, lease_until = NULL \
         WHERE id = $1 AND state = 'running' AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(changed == 1)
}

pub(crate) async fn fail<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    owner: &str,
    now: UnixMillis,
    error: &str,
    retry_at: Option<UnixMillis>,
) -> StoreResult<bool> {
    // Back to queued at retry_at while attempts are left; otherwise failed for good. The SET
    // expressions read the row as it was before the statement.
    let changed = sql::<DB>(
        "UPDATE jobs SET \
         state = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts \
             THEN 'queued' ELSE 'failed' END, \
         run_at = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts THEN $5 ELSE run_at END, \
         finished_at = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts \
             THEN NULL ELSE $3 END, \
         lease_owner = CASE WHEN $5 IS NOT NULL AND attempts < max_attempts \
             THEN NULL ELSE lease_owner END, \
         lease_until = NULL, last_error = $4 \
         WHERE id = $1 AND state = 'running' AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(now)
    .bind(error)
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(changed == 1)
}

pub(crate) async fn release<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    owner: &str,
    run_at: UnixMillis,
) -> StoreResult<bool> {
    let changed = sql::<DB>(
        "UPDATE jobs SET state = 'queued', run_at = $3, attempts = attempts - 1, \
         lease_owner = NULL, lease_until = NULL \
         WHERE id = $1 AND state = 'running' AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(run_at)
    .execute(pool)
    .await?;
    Ok(changed == 1)
}

pub(crate) async fn get<DB: Backend>(pool: &Pool<DB>, id: &str) -> StoreResult<Option<Job>> {
    sql::<DB>(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::job)
    .transpose()
}

/// The newest jobs of `kind`, newest first.
pub(crate) async fn list<DB: Backend>(
    pool: &Pool<DB>,
    kind: &str,
    limit: u32,
) -> StoreResult<Vec<Job>> {
    sql::<DB>(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE kind = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(kind)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(rows::job)
    .collect()
}

pub(crate) async fn sweep<DB: Backend>(
    pool: &Pool<DB>,
    finished_before: UnixMillis,
) -> StoreResult<u64> {
    Ok(
        sql::<DB>("DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < $1")
            .bind(finished_before)
            .execute(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use spokes_core::JobState;

    use super::*;
    use crate::testing::{TempDir, test_database_url};

    fn job(id: &str, dedupe_key: Option<&str>) -> NewJob {
        NewJob {
            id: id.to_owned(),
            kind: "cycle.step".to_owned(),
            payload: "{}".to_owned(),
            dedupe_key: dedupe_key.map(str::to_owned),
            run_at: 1,
            max_attempts: 3,
            created_at: 1,
        }
    }

    /// Enqueues inside a transaction next to another write: rolled back, neither is there;
    /// committed, both are.
    async fn enqueue_follows_the_transaction<DB: Backend>(pool: Pool<DB>) {
        crate::sql::startup::run_migrations(&pool).await.unwrap();
        for commit in [false, true] {
            let mut tx = pool.begin().await.unwrap();
            sql::<DB>("INSERT INTO meta (name, value) VALUES ('job_test', 'x')")
                .execute(&mut tx)
                .await
                .unwrap();
            let outcome = enqueue(&mut tx, &job("job_tx", Some("k"))).await.unwrap();
            assert_eq!(outcome, EnqueueOutcome::Enqueued("job_tx".to_owned()));
            // Inside the transaction the key is taken already.
            let again = enqueue(&mut tx, &job("job_tx_2", Some("k"))).await.unwrap();
            assert_eq!(again, EnqueueOutcome::Duplicate("job_tx".to_owned()));
            if commit {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
            let stored = get(&pool, "job_tx").await.unwrap();
            assert_eq!(stored.is_some(), commit);
            let marker = sql::<DB>("SELECT value FROM meta WHERE name = 'job_test'")
                .fetch_optional(&pool)
                .await
                .unwrap();
            assert_eq!(marker.is_some(), commit);
            assert!(get(&pool, "job_tx_2").await.unwrap().is_none());
        }
        let stored = get(&pool, "job_tx").await.unwrap().unwrap();
        assert_eq!(stored.state, JobState::Queued);
        pool.close().await;
    }

    #[tokio::test]
    async fn enqueue_in_the_callers_transaction() {
        let dir = TempDir::new("spokes-store-jobs");
        let url = test_database_url(dir.path()).await;
        match crate::parse_url(&url).unwrap() {
            crate::Target::Sqlite(options) => {
                let pool = crate::sql::startup::open_pool::<sqlx::Sqlite>(options)
                    .await
                    .unwrap();
                enqueue_follows_the_transaction(pool).await;
            }
            crate::Target::Postgres(options) => {
                let pool = crate::sql::startup::open_pool::<sqlx::Postgres>(options)
                    .await
                    .unwrap();
                enqueue_follows_the_transaction(pool).await;
            }
        }
    }
}
