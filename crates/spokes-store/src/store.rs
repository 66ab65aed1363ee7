//! The one persistence interface. Every method is covered by the conformance suite
//! (`tests/it`) on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use spokes_core::clock::UnixMillis;
use spokes_core::{
    Account, ApiKey, AuthLink, ConnectorSetup, ConsoleSession, CustomObjectCopy, Cycle,
    EnqueueOutcome, EntityRef, IdempotencyClaim, Incident, Installation, InstallationStatus, Job,
    LastError, McpCall, NewJob, OAuthState, OneTimeProblem, OutboxEvent, PortalDetails,
    PreventerMark, StepState, StorageItem, StoragePut, StorageRef, SweepCounts, TemplateRecord,
    TokenSet, Transaction, TransactionFilter, TransactionStep,
};

use crate::StoreError;

pub type StoreResult<T> = Result<T, StoreError>;

/// The auth-related part of an installation that the OAuth callback and the refresher change
/// together, in one statement.
#[derive(Debug, Clone)]
pub struct AuthState {
    pub status: InstallationStatus,
    pub portal: Option<PortalDetails>,
    pub last_error: Option<LastError>,
    /// `None` forgets the tokens.
    pub tokens: Option<TokenSet>,
}

/// Where a pass of [`Store::reseal_batch`] continues: a sealed column and the last row done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealCursor {
    pub(crate) column: usize,
    pub(crate) after: String,
}

impl ResealCursor {
    /// The sealed column the pass is at, e.g. `installations.access_token_sealed`.
    pub fn place(&self) -> &'static str {
        crate::sql::rotation::place(self)
    }
}

/// What one [`Store::reseal_batch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealBatch {
    /// Values now sealed with the active key.
    pub resealed: u64,
    /// Values rewritten by someone else between reading and re-sealing, left as they are; a
    /// later pass looks at them again.
    pub skipped: u64,
    /// Where the next batch continues; `None` when this pass has visited every sealed column.
    pub next: Option<ResealCursor>,
}

/// A transaction's new state and what is written with it (see [`Store::save_transaction`]).
#[derive(Debug)]
pub struct TransactionWrite<'a> {
    pub transaction: &'a Transaction,
    /// The record of the step just run.
    pub step: Option<&'a TransactionStep>,
    pub incident: Option<&'a Incident>,
    /// An event for the partner (the error webhook), delivered through the outbox.
    pub event: Option<&'a OutboxEvent>,
    /// Pauses the transaction's cycle (an error policy's `pause`).
    pub pause_cycle: bool,
    /// A job to run the transaction again (a retry from the API).
    pub job: Option<&'a NewJob>,
}

impl<'a> TransactionWrite<'a> {
    /// The new state alone.
    pub fn state(transaction: &'a Transaction) -> Self {
        Self {
            transaction,
            step: None,
            incident: None,
            event: None,
            pause_cycle: false,
            job: None,
        }
    }
}

/// What [`Store::load_call`] read: a key (maybe revoked) and the installation it was asked
/// for, if it exists, with its tokens, if it has any.
#[derive(Debug)]
pub struct KeyAndInstallation {
    pub key: ApiKey,
    pub installation: Option<(Installation, Option<TokenSet>)>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`, for logs and `config check`.
    fn backend(&self) -> &'static str;

    /// One query on a Spokes table, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    // --- API keys
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    async fn find_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    /// The key with this hash and, read in the same query, installation `installation_id`
    /// with its tokens: everything a partner's call on an installation needs in one round
    /// trip (the method-call path). `None` when no key has this hash.
    async fn load_call(
        &self,
        key_hash: &str,
        installation_id: &str,
    ) -> StoreResult<Option<KeyAndInstallation>>;
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// False when no unrevoked key has that id. Ends the key's console sessions too.
    async fn revoke_api_key(&self, id: &str, at: UnixMillis) -> StoreResult<bool>;

    // --- console sessions
    async fn create_console_session(&self, session: &ConsoleSession) -> StoreResult<()>;
    /// The session when it exists, has not expired and its API key (if any) is not revoked.
    async fn find_console_session(
        &self,
        id_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<ConsoleSession>>;
    async fn delete_console_session(&self, id_hash: &str) -> StoreResult<bool>;

    // --- accounts
    /// `StoreError::Conflict` when the id is taken.
    async fn create_account(&self, account: &Account) -> StoreResult<()>;
    async fn get_account(&self, id: &str) -> StoreResult<Option<Account>>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    /// Writes name, timezone and updated_at; false when the account does not exist.
    async fn update_account(&self, account: &Account) -> StoreResult<bool>;
    /// Deletes the account with its installations, auth links, states, MCP calls and the data
    /// of its utility connectors (storage, preventer marks, cross references).
    async fn delete_account(&self, id: &str) -> StoreResult<bool>;

    // --- connector setup
    async fn put_connector_setup(&self, setup: &ConnectorSetup) -> StoreResult<()>;
    async fn get_connector_setup(&self, connector: &str) -> StoreResult<Option<ConnectorSetup>>;
    /// Creates the copy, or renames its category when the schema already has one.
    async fn put_custom_object_copy(&self, copy: &CustomObjectCopy) -> StoreResult<()>;
    /// The connector's copies, by schema name.
    async fn list_custom_object_copies(
        &self,
        connector: &str,
    ) -> StoreResult<Vec<CustomObjectCopy>>;
    /// False when the schema had no copy.
    async fn delete_custom_object_copy(
        &self,
        connector: &str,
        schema_name: &str,
    ) -> StoreResult<bool>;

    // --- installations
    async fn create_installation(&self, installation: &Installation) -> StoreResult<()>;
    async fn get_installation(&self, id: &str) -> StoreResult<Option<Installation>>;
    async fn list_installations(&self, account_id: &str) -> StoreResult<Vec<Installation>>;
    async fn list_all_installations(&self) -> StoreResult<Vec<Installation>>;
    /// Authenticated installations connected to this HubSpot portal.
    async fn installations_for_portal(&self, portal_id: i64) -> StoreResult<Vec<Installation>>;
    /// Sets status, portal details, last error and tokens (sealed) at once, sets
    /// `token_expires_at` from the tokens and bumps `auth_version`. With `expected_version`
    /// the write happens only while the stored version is still that one (compare-and-set).
    /// False when nothing was written: no such installation, or the version moved on.
    async fn save_auth_state(
        &self,
        id: &str,
        state: &AuthState,
        at: UnixMillis,
        expected_version: Option<i64>,
    ) -> StoreResult<bool>;
    /// Sets or clears only the last error, leaving status and tokens as they are (so a
    /// failure report never writes back tokens read earlier). False when no such installation.
    async fn set_last_error(
        &self,
        id: &str,
        last_error: Option<&LastError>,
        at: UnixMillis,
    ) -> StoreResult<bool>;
    /// Sets whether the installation refuses writes. False when no such installation.
    async fn set_installation_read_only(
        &self,
        id: &str,
        read_only: bool,
        updated_at: UnixMillis,
    ) -> StoreResult<bool>;
    async fn delete_installation(&self, id: &str) -> StoreResult<bool>;

    // --- tokens and the refresh lease
    async fn get_tokens(&self, installation_id: &str) -> StoreResult<Option<TokenSet>>;
    /// Takes the refresh lease when it is free or expired (`lease_until < now`).
    /// Returns true to exactly one of several racing callers, across processes.
    async fn try_acquire_refresh_lease(
        &self,
        installation_id: &str,
        owner: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> StoreResult<bool>;
    /// Frees the lease if `owner` still holds it.
    async fn release_refresh_lease(&self, installation_id: &str, owner: &str) -> StoreResult<()>;

    // --- auth links and OAuth states (one-time values, stored by hash)
    async fn create_auth_link(&self, link: &AuthLink) -> StoreResult<()>;
    /// The link when it is unused and unexpired, without using it up (the page a GET shows).
    async fn find_auth_link(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<AuthLink, OneTimeProblem>>;
    /// Marks the link used and returns it, or says why it cannot be used. Atomic: of two
    /// racing callers only one gets the link.
    async fn consume_auth_link(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<AuthLink, OneTimeProblem>>;
    async fn create_oauth_state(&self, state: &OAuthState) -> StoreResult<()>;
    async fn consume_oauth_state(
        &self,
        state_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<OAuthState, OneTimeProblem>>;

    // --- idempotency keys
    /// Claims `key_hash` for a call of `request_hash`, or says who has it and what it found.
    async fn claim_idempotency_key(
        &self,
        key_hash: &str,
        request_hash: &str,
        now: UnixMillis,
        lease_until: UnixMillis,
        expires_at: UnixMillis,
    ) -> StoreResult<IdempotencyClaim>;
    /// Stores the outcome of the call that claimed the key.
    async fn finish_idempotency_key(&self, key_hash: &str, outcome: &str) -> StoreResult<()>;
    /// Frees a claimed key whose call did nothing (so a retry may run it).
    async fn release_idempotency_key(&self, key_hash: &str) -> StoreResult<()>;

    /// Deletes auth links and OAuth states used or expired more than `keep_ms` ago (kept that
    /// long so a late click still hears "already used" or "expired"), and expired sessions.
    async fn sweep_expired(&self, now: UnixMillis, keep_ms: i64) -> StoreResult<SweepCounts>;

    // --- the audit of MCP tool calls
    /// `StoreError::NotFound` when the account does not exist.
    async fn record_mcp_call(&self, call: &McpCall) -> StoreResult<()> {
        self.record_mcp_calls(std::slice::from_ref(call)).await
    }
    /// Several calls in one transaction (all or none), as the audit writes them under load.
    async fn record_mcp_calls(&self, calls: &[McpCall]) -> StoreResult<()>;
    /// The account's calls, newest first, of one installation when given, made before
    /// `before` when given (a page's `next_before`); at most `limit`.
    async fn list_mcp_calls(
        &self,
        account_id: &str,
        installation_id: Option<&str>,
        before: Option<UnixMillis>,
        limit: u32,
    ) -> StoreResult<Vec<McpCall>>;
    /// Deletes calls made before `older_than`; how many.
    async fn sweep_mcp_calls(&self, older_than: UnixMillis) -> StoreResult<u64>;

    // --- the durable job queue (see `src/sql/jobs.rs`)
    /// Stores the job, queued, with no attempts; or, when an unfinished job (queued or
    /// running) has its dedupe key, stores nothing and names that job.
    /// `StoreError::Conflict` when a job with this id exists.
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<EnqueueOutcome>;
    /// Claims for `owner`, until `now + lease_ms`, up to `limit` due jobs of these kinds,
    /// earliest `run_at` first: queued ones with `run_at <= now`, and running ones whose lease
    /// expired (`lease_until < now`: any worker takes them over). Each claim counts an attempt.
    /// One statement: racing claimers, in any process, never get the same job. A running job
    /// whose lease expired on its last attempt is failed instead.
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        owner: &str,
        now: UnixMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Extends `owner`'s lease to `now + lease_ms`. False when the lease is lost: the job was
    /// taken over by another worker after its lease expired, or is no longer running.
    async fn heartbeat_job(
        &self,
        id: &str,
        owner: &str,
        now: UnixMillis,
        lease_ms: i64,
    ) -> StoreResult<bool>;
    /// Marks the job done. False (nothing changed) unless `owner` holds it running.
    async fn complete_job(&self, id: &str, owner: &str, now: UnixMillis) -> StoreResult<bool>;
    /// Records `error`; the job goes back to queued at `retry_at`, or, with no `retry_at` or
    /// no attempts left, is failed for good. False (nothing changed) unless `owner` holds it
    /// running.
    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        now: UnixMillis,
        error: &str,
        retry_at: Option<UnixMillis>,
    ) -> StoreResult<bool>;
    /// Gives the job back (graceful shutdown): queued at `run_at`, the attempt not counted.
    /// False (nothing changed) unless `owner` holds it running.
    async fn release_job(&self, id: &str, owner: &str, run_at: UnixMillis) -> StoreResult<bool>;
    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>>;
    /// The newest jobs of `kind` in any state, newest first; at most `limit`.
    async fn list_jobs(&self, kind: &str, limit: u32) -> StoreResult<Vec<Job>>;
    /// Deletes done and failed jobs that finished before `finished_before`; how many.
    async fn sweep_jobs(&self, finished_before: UnixMillis) -> StoreResult<u64>;

    // --- the webhook inbox
    /// Accepts webhook events, each `(event key, its job)`: an event key not seen before is
    /// recorded and its job queued, in one transaction with the others (all or none); a key
    /// seen before is skipped. How many were new.
    async fn accept_webhook_events(
        &self,
        events: &[(String, NewJob)],
        now: UnixMillis,
    ) -> StoreResult<usize>;
    /// Forgets events received before `received_before`; how many.
    async fn sweep_webhook_events(&self, received_before: UnixMillis) -> StoreResult<u64>;

    // --- templates, cycles and transactions (see `src/sql/cycles.rs`)
    /// `StoreError::Conflict` when the id is taken.
    async fn create_template(&self, template: &TemplateRecord) -> StoreResult<()>;
    async fn get_template(&self, id: &str) -> StoreResult<Option<TemplateRecord>>;
    /// Oldest first.
    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>>;
    /// Writes name, document and updated_at; false when the template does not exist.
    async fn update_template(&self, template: &TemplateRecord) -> StoreResult<bool>;
    async fn delete_template(&self, id: &str) -> StoreResult<bool>;
    /// Stores the cycle with its installations. `StoreError::NotFound` when the account does
    /// not exist.
    async fn create_cycle(&self, cycle: &Cycle) -> StoreResult<()>;
    async fn get_cycle(&self, id: &str) -> StoreResult<Option<Cycle>>;
    /// The account's cycles, oldest first.
    async fn list_cycles(&self, account_id: &str) -> StoreResult<Vec<Cycle>>;
    /// The active cycles that run with this installation.
    async fn active_cycles_of_installation(&self, installation_id: &str)
    -> StoreResult<Vec<Cycle>>;
    /// Writes the cycle's changeable columns (not its account, template or installations)
    /// and enqueues `jobs` in the same transaction. False when the cycle does not exist.
    async fn update_cycle(&self, cycle: &Cycle, jobs: &[NewJob]) -> StoreResult<bool>;
    /// Deletes the cycle with its transactions, states and incidents.
    async fn delete_cycle(&self, id: &str) -> StoreResult<bool>;
    /// A polling step's state; the default when it never ran.
    async fn get_step_state(&self, cycle_id: &str, step_id: &str) -> StoreResult<StepState>;
    /// Stores each transaction whose `item_key` the cycle has not had before, with its job;
    /// then `state` (cycle id, step id, state) and the `then` jobs; all in one transaction.
    /// The ids of the transactions stored.
    async fn queue_transactions(
        &self,
        transactions: &[(Transaction, NewJob)],
        state: Option<(&str, &str, &StepState)>,
        then: &[NewJob],
    ) -> StoreResult<Vec<String>>;
    async fn get_transaction(&self, id: &str) -> StoreResult<Option<Transaction>>;
    /// The cycle's transactions, newest first.
    async fn list_transactions(
        &self,
        cycle_id: &str,
        filter: &TransactionFilter,
    ) -> StoreResult<Vec<Transaction>>;
    /// Writes a transaction's new state with what came with it, in one transaction. False
    /// when the transaction no longer exists.
    async fn save_transaction(&self, write: &TransactionWrite<'_>) -> StoreResult<bool>;
    /// Ends the cycle's queued and waiting transactions as cancelled (a deactivation that
    /// does not finish them); how many.
    async fn cancel_transactions(&self, cycle_id: &str, now: UnixMillis) -> StoreResult<u64>;
    /// What each step of the transaction did, in order.
    async fn list_transaction_steps(
        &self,
        transaction_id: &str,
    ) -> StoreResult<Vec<TransactionStep>>;
    /// The cycle's incidents, newest first.
    async fn list_incidents(&self, cycle_id: &str, limit: u32) -> StoreResult<Vec<Incident>>;
    /// Deletes finished transactions: successful and cancelled ones finished before
    /// `finished_before`, failed and unknown ones before `errored_before`; how many.
    async fn sweep_transactions(
        &self,
        finished_before: UnixMillis,
        errored_before: UnixMillis,
    ) -> StoreResult<u64>;

    // --- master key rotation
    /// The master-key fingerprint recorded in `meta`: the key every value was sealed with when
    /// the last rotation completed (or when the database was created).
    async fn key_fingerprint(&self) -> StoreResult<Option<String>>;
    /// How many sealed values each key id seals, over every sealed column.
    async fn count_sealed_by_key_id(&self) -> StoreResult<BTreeMap<String, u64>>;
    /// Re-seals with the ring's active key, in one transaction, up to `limit` values sealed
    /// under another key id, from `from` on (`None`: the start of a pass). Each value keeps its
    /// context (table, column, row id); one rewritten concurrently is skipped.
    async fn reseal_batch(
        &self,
        from: Option<&ResealCursor>,
        limit: u32,
    ) -> StoreResult<ResealBatch>;
    /// Records the active key's fingerprint in `meta` if no value is sealed under another key
    /// id (checked in the same statement). False when some still are.
    async fn complete_key_rotation(&self) -> StoreResult<bool>;

    // --- events outbox
    async fn enqueue_event(&self, event: &OutboxEvent) -> StoreResult<()>;
    /// Undelivered events with `next_attempt_at <= now`, oldest first; each claimed one gets
    /// `next_attempt_at = lease_until` so another process does not send it at the same time.
    async fn claim_due_events(
        &self,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEvent>>;
    async fn mark_event_delivered(&self, id: &str, at: UnixMillis) -> StoreResult<()>;
    /// Records a failed attempt; `next_attempt_at = None` gives up on the event.
    async fn reschedule_event(
        &self,
        id: &str,
        attempts: i64,
        next_attempt_at: Option<UnixMillis>,
        last_error: &str,
    ) -> StoreResult<()>;

    // --- utility connectors (see `src/sql/utility.rs`)
    /// Writes `key` of the store: replaces its value, or adds it while the store holds fewer
    /// than `max_items` (else `StoragePut::LimitReached`, nothing written).
    /// `StoreError::NotFound` when the account does not exist.
    async fn put_storage_item(
        &self,
        store: &StorageRef,
        key: &str,
        value: &str,
        max_items: u64,
        at: UnixMillis,
    ) -> StoreResult<StoragePut>;
    async fn get_storage_item(&self, store: &StorageRef, key: &str) -> StoreResult<Option<String>>;
    /// False when the key was not there.
    async fn delete_storage_item(&self, store: &StorageRef, key: &str) -> StoreResult<bool>;
    /// At most `limit` items in key order (by code point), only keys starting with `prefix`
    /// when given, only keys after `after` when given (the last key of the previous page).
    async fn list_storage_items(
        &self,
        store: &StorageRef,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StorageItem>>;
    /// Deletes the stores of one cycle (when the cycle is deleted); how many items went.
    async fn delete_cycle_storage(&self, account_id: &str, cycle_id: &str) -> StoreResult<u64>;
    /// Records the cross-update preventer's mark, replacing one of the same record.
    /// `StoreError::NotFound` when the account does not exist.
    async fn put_preventer_mark(&self, mark: &PreventerMark) -> StoreResult<()>;
    /// Whether the record has a mark that has not expired at `now`. With `consume` the mark
    /// (expired or not) is deleted by the same statement: of racing checks only one sees it.
    async fn check_preventer_mark(
        &self,
        account_id: &str,
        system: &str,
        record_id: &str,
        now: UnixMillis,
        consume: bool,
    ) -> StoreResult<bool>;
    /// Deletes marks expired at `now`; how many.
    async fn sweep_preventer_marks(&self, now: UnixMillis) -> StoreResult<u64>;
    /// Links two records (either may be looked up), replacing the link each had to a record of
    /// the other's system: a record has at most one counterpart per system.
    /// `StoreError::NotFound` when the account does not exist.
    async fn put_cross_reference(
        &self,
        account_id: &str,
        left: &EntityRef,
        right: &EntityRef,
        at: UnixMillis,
    ) -> StoreResult<()>;
    /// The records linked to `entity`, ordered by system; empty when none.
    async fn lookup_cross_references(
        &self,
        account_id: &str,
        entity: &EntityRef,
    ) -> StoreResult<Vec<EntityRef>>;
    /// Unlinks `entity` from its record in `other_system`, or from all; how many links went.
    async fn delete_cross_references(
        &self,
        account_id: &str,
        entity: &EntityRef,
        other_system: Option<&str>,
    ) -> StoreResult<u64>;
}
