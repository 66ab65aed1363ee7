//! The SQL store, written once for both backends.
//!
//! Every query uses `$N` placeholders, which PostgreSQL takes natively and sqlx-sqlite maps to
//! the N-th bound argument. The queries are generic functions over a [`Backend`], one module
//! per area; [`SqlStore`] implements [`Store`] by calling them. The few backend-specific
//! statements (the migration lock, the event and job claims) are constants of each `Backend`. Values are
//! always bound, never formatted into SQL.

mod accounts;
mod auth;
mod cycles;
mod idempotency;
mod inbox;
mod installations;
pub(crate) mod jobs;
mod keys;
mod leases;
mod mcp_calls;
mod one_time;
pub(crate) mod outbox;
pub(crate) mod rotation;
pub(crate) mod startup;
mod utility;

use std::collections::BTreeMap;

use async_trait::async_trait;
use spokes_core::clock::UnixMillis;
use spokes_core::{
    Account, ApiKey, AuthLink, ConnectorSetup, ConsoleSession, CustomObjectCopy, Cycle,
    EnqueueOutcome, EntityRef, IdempotencyClaim, Incident, Installation, Job, LastError, McpCall,
    NewJob, OAuthState, OneTimeProblem, OutboxEvent, PreventerMark, StepState, StorageItem,
    StoragePut, StorageRef, SweepCounts, TemplateRecord, TokenSet, Transaction, TransactionFilter,
    TransactionStep,
};
use sqlx::Pool;

use crate::backend::{Backend, sql};
use crate::seal::KeyRing;
use crate::store::{ResealBatch, ResealCursor, TransactionWrite};
use crate::{AuthState, KeyAndInstallation, Store, StoreResult};

/// A [`Store`] on a pool of either backend.
pub(crate) struct SqlStore<DB: Backend> {
    pool: Pool<DB>,
    keys: KeyRing,
}

impl<DB: Backend> SqlStore<DB> {
    /// Wraps a migrated pool; records the key fingerprint on first use and refuses a ring
    /// without the recorded key afterwards.
    pub(crate) async fn new(pool: Pool<DB>, keys: KeyRing) -> StoreResult<Self> {
        if let Err(e) = startup::check_master_key(&pool, &keys).await {
            pool.close().await;
            return Err(e);
        }
        Ok(Self { pool, keys })
    }
}

#[async_trait]
impl<DB: Backend> Store for SqlStore<DB> {
    fn backend(&self) -> &'static str {
        DB::LABEL
    }

    async fn ping(&self) -> StoreResult<()> {
        // Reads a table, so a database that answers but lost its schema is not ready.
        sql::<DB>("SELECT COUNT(*) FROM meta")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- API keys and console sessions

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        keys::create_api_key(&self.pool, key).await
    }

    async fn find_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        keys::find_api_key_by_hash(&self.pool, key_hash).await
    }

    async fn load_call(
        &self,
        key_hash: &str,
        installation_id: &str,
    ) -> StoreResult<Option<KeyAndInstallation>> {
        installations::load_call(&self.pool, &self.keys, key_hash, installation_id).await
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        keys::list_api_keys(&self.pool).await
    }

    async fn revoke_api_key(&self, id: &str, at: UnixMillis) -> StoreResult<bool> {
        keys::revoke_api_key(&self.pool, id, at).await
    }

    async fn create_console_session(&self, session: &ConsoleSession) -> StoreResult<()> {
        keys::create_console_session(&self.pool, session).await
    }

    async fn find_console_session(
        &self,
        id_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<ConsoleSession>> {
        keys::find_console_session(&self.pool, id_hash, now).await
    }

    async fn delete_console_session(&self, id_hash: &str) -> StoreResult<bool> {
        keys::delete_console_session(&self.pool, id_hash).await
    }

    // --- accounts and connector setups

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        accounts::create_account(&self.pool, account).await
    }

    async fn get_account(&self, id: &str) -> StoreResult<Option<Account>> {
        accounts::get_account(&self.pool, id).await
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        accounts::list_accounts(&self.pool).await
    }

    async fn update_account(&self, account: &Account) -> StoreResult<bool> {
        accounts::update_account(&self.pool, account).await
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        accounts::delete_account(&self.pool, id).await
    }

    async fn put_connector_setup(&self, setup: &ConnectorSetup) -> StoreResult<()> {
        accounts::put_connector_setup(&self.pool, &self.keys, setup).await
    }

    async fn get_connector_setup(&self, connector: &str) -> StoreResult<Option<ConnectorSetup>> {
        accounts::get_connector_setup(&self.pool, &self.keys, connector).await
    }

    async fn put_custom_object_copy(&self, copy: &CustomObjectCopy) -> StoreResult<()> {
        accounts::put_custom_object_copy(&self.pool, copy).await
    }

    async fn list_custom_object_copies(
        &self,
        connector: &str,
    ) -> StoreResult<Vec<CustomObjectCopy>> {
        accounts::list_custom_object_copies(&self.pool, connector).await
    }

    async fn delete_custom_object_copy(
        &self,
        connector: &str,
        schema_name: &str,
    ) -> StoreResult<bool> {
        accounts::delete_custom_object_copy(&self.pool, connector, schema_name).await
    }

    // --- installations and their auth state

    async fn create_installation(&self, installation: &Installation) -> StoreResult<()> {
        installations::create_installation(&self.pool, installation).await
    }

    async fn get_installation(&self, id: &str) -> StoreResult<Option<Installation>> {
        installations::get_installation(&self.pool, id).await
    }

    async fn list_installations(&self, account_id: &str) -> StoreResult<Vec<Installation>> {
        installations::list_installations(&self.pool, account_id).await
    }

    async fn list_all_installations(&self) -> StoreResult<Vec<Installation>> {
        installations::list_all_installations(&self.pool).await
    }

    async fn installations_for_portal(&self, portal_id: i64) -> StoreResult<Vec<Installation>> {
        installations::installations_for_portal(&self.pool, portal_id).await
    }

    async fn save_auth_state(
        &self,
        id: &str,
        state: &AuthState,
        at: UnixMillis,
        expected_version: Option<i64>,
    ) -> StoreResult<bool> {
        auth::save_auth_state(&self.pool, &self.keys, id, state, at, expected_version).await
    }

    async fn set_last_error(
        &self,
        id: &str,
        last_error: Option<&LastError>,
        at: UnixMillis,
    ) -> StoreResult<bool> {
        auth::set_last_error(&self.pool, id, last_error, at).await
    }

    async fn set_installation_read_only(
        &self,
        id: &str,
        read_only: bool,
        updated_at: UnixMillis,
    ) -> StoreResult<bool> {
        installations::set_installation_read_only(&self.pool, id, read_only, updated_at).await
    }

    async fn delete_installation(&self, id: &str) -> StoreResult<bool> {
        installations::delete_installation(&self.pool, id).await
    }

    // --- tokens and the refresh lease

    async fn get_tokens(&self, installation_id: &str) -> StoreResult<Option<TokenSet>> {
        auth::get_tokens(&self.pool, &self.keys, installation_id).await
    }

    async fn try_acquire_refresh_lease(
        &self,
        installation_id: &str,
        owner: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> StoreResult<bool> {
        leases::try_acquire_refresh_lease(&self.pool, installation_id, owner, now, until).await
    }

    async fn release_refresh_lease(&self, installation_id: &str, owner: &str) -> StoreResult<()> {
        leases::release_refresh_lease(&self.pool, installation_id, owner).await
    }

    // --- auth links and OAuth states

    async fn create_auth_link(&self, link: &AuthLink) -> StoreResult<()> {
        one_time::create_auth_link(&self.pool, link).await
    }

    async fn find_auth_link(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<AuthLink, OneTimeProblem>> {
        one_time::find_auth_link(&self.pool, token_hash, now).await
    }

    async fn consume_auth_link(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<AuthLink, OneTimeProblem>> {
        one_time::consume_auth_link(&self.pool, token_hash, now).await
    }

    async fn create_oauth_state(&self, state: &OAuthState) -> StoreResult<()> {
        one_time::create_oauth_state(&self.pool, &self.keys, state).await
    }

    async fn consume_oauth_state(
        &self,
        state_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Result<OAuthState, OneTimeProblem>> {
        one_time::consume_oauth_state(&self.pool, &self.keys, state_hash, now).await
    }

    async fn claim_idempotency_key(
        &self,
        key_hash: &str,
        request_hash: &str,
        now: UnixMillis,
        lease_until: UnixMillis,
        expires_at: UnixMillis,
    ) -> StoreResult<IdempotencyClaim> {
        idempotency::claim(
            &self.pool,
            key_hash,
            request_hash,
            now,
            lease_until,
            expires_at,
        )
        .await
    }

    async fn finish_idempotency_key(&self, key_hash: &str, outcome: &str) -> StoreResult<()> {
        idempotency::finish(&self.pool, key_hash, outcome).await
    }

    async fn release_idempotency_key(&self, key_hash: &str) -> StoreResult<()> {
        idempotency::release(&self.pool, key_hash).await
    }

    async fn sweep_expired(&self, now: UnixMillis, keep_ms: i64) -> StoreResult<SweepCounts> {
        let mut counts = one_time::sweep_expired(&self.pool, now, keep_ms).await?;
        idempotency::sweep(&self.pool, now, &mut counts).await?;
        Ok(counts)
    }

    // --- the audit of MCP tool calls

    async fn record_mcp_calls(&self, calls: &[McpCall]) -> StoreResult<()> {
        mcp_calls::record(&self.pool, calls).await
    }

    async fn list_mcp_calls(
        &self,
        account_id: &str,
        installation_id: Option<&str>,
        before: Option<UnixMillis>,
        limit: u32,
    ) -> StoreResult<Vec<McpCall>> {
        mcp_calls::list(&self.pool, account_id, installation_id, before, limit).await
    }

    async fn sweep_mcp_calls(&self, older_than: UnixMillis) -> StoreResult<u64> {
        mcp_calls::sweep(&self.pool, older_than).await
    }

    // --- the durable job queue

    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<EnqueueOutcome> {
        jobs::enqueue(&self.pool, job).await
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        owner: &str,
        now: UnixMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        jobs::claim(&self.pool, kinds, owner, now, lease_ms, limit).await
    }

    async fn heartbeat_job(
        &self,
        id: &str,
        owner: &str,
        now: UnixMillis,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        jobs::heartbeat(&self.pool, id, owner, now, lease_ms).await
    }

    async fn complete_job(&self, id: &str, owner: &str, now: UnixMillis) -> StoreResult<bool> {
        jobs::complete(&self.pool, id, owner, now).await
    }

    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        now: UnixMillis,
        error: &str,
        retry_at: Option<UnixMillis>,
    ) -> StoreResult<bool> {
        jobs::fail(&self.pool, id, owner, now, error, retry_at).await
    }

    async fn release_job(&self, id: &str, owner: &str, run_at: UnixMillis) -> StoreResult<bool> {
        jobs::release(&self.pool, id, owner, run_at).await
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        jobs::get(&self.pool, id).await
    }

    async fn list_jobs(&self, kind: &str, limit: u32) -> StoreResult<Vec<Job>> {
        jobs::list(&self.pool, kind, limit).await
    }

    async fn sweep_jobs(&self, finished_before: UnixMillis) -> StoreResult<u64> {
        jobs::sweep(&self.pool, finished_before).await
    }

    async fn accept_webhook_events(
        &self,
        events: &[(String, NewJob)],
        now: UnixMillis,
    ) -> StoreResult<usize> {
        inbox::accept(&self.pool, events, now).await
    }

    async fn sweep_webhook_events(&self, received_before: UnixMillis) -> StoreResult<u64> {
        inbox::sweep(&self.pool, received_before).await
    }

    // --- templates, cycles and transactions

    async fn create_template(&self, template: &TemplateRecord) -> StoreResult<()> {
        cycles::create_template(&self.pool, template).await
    }

    async fn get_template(&self, id: &str) -> StoreResult<Option<TemplateRecord>> {
        cycles::get_template(&self.pool, id).await
    }

    async fn list_templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        cycles::list_templates(&self.pool).await
    }

    async fn update_template(&self, template: &TemplateRecord) -> StoreResult<bool> {
        cycles::update_template(&self.pool, template).await
    }

    async fn delete_template(&self, id: &str) -> StoreResult<bool> {
        cycles::delete_template(&self.pool, id).await
    }

    async fn create_cycle(&self, cycle: &Cycle) -> StoreResult<()> {
        cycles::create_cycle(&self.pool, cycle).await
    }

    async fn get_cycle(&self, id: &str) -> StoreResult<Option<Cycle>> {
        cycles::get_cycle(&self.pool, id).await
    }

    async fn list_cycles(&self, account_id: &str) -> StoreResult<Vec<Cycle>> {
        cycles::list_cycles(&self.pool, account_id).await
    }

    async fn active_cycles_of_installation(
        &self,
        installation_id: &str,
    ) -> StoreResult<Vec<Cycle>> {
        cycles::active_cycles_of_installation(&self.pool, installation_id).await
    }

    async fn update_cycle(&self, cycle: &Cycle, jobs: &[NewJob]) -> StoreResult<bool> {
        cycles::update_cycle(&self.pool, cycle, jobs).await
    }

    async fn delete_cycle(&self, id: &str) -> StoreResult<bool> {
        cycles::delete_cycle(&self.pool, id).await
    }

    async fn get_step_state(&self, cycle_id: &str, step_id: &str) -> StoreResult<StepState> {
        cycles::get_step_state(&self.pool, cycle_id, step_id).await
    }

    async fn queue_transactions(
        &self,
        transactions: &[(Transaction, NewJob)],
        state: Option<(&str, &str, &StepState)>,
        then: &[NewJob],
    ) -> StoreResult<Vec<String>> {
        cycles::queue_transactions(&self.pool, transactions, state, then).await
    }

    async fn get_transaction(&self, id: &str) -> StoreResult<Option<Transaction>> {
        cycles::get_transaction(&self.pool, id).await
    }

    async fn list_transactions(
        &self,
        cycle_id: &str,
        filter: &TransactionFilter,
    ) -> StoreResult<Vec<Transaction>> {
        cycles::list_transactions(&self.pool, cycle_id, filter).await
    }

    async fn save_transaction(&self, write: &TransactionWrite<'_>) -> StoreResult<bool> {
        cycles::save_transaction(&self.pool, write).await
    }

    async fn cancel_transactions(&self, cycle_id: &str, now: UnixMillis) -> StoreResult<u64> {
        cycles::cancel_transactions(&self.pool, cycle_id, now).await
    }

    async fn list_transaction_steps(
        &self,
        transaction_id: &str,
    ) -> StoreResult<Vec<TransactionStep>> {
        cycles::list_transaction_steps(&self.pool, transaction_id).await
    }

    async fn list_incidents(&self, cycle_id: &str, limit: u32) -> StoreResult<Vec<Incident>> {
        cycles::list_incidents(&self.pool, cycle_id, limit).await
    }

    async fn sweep_transactions(
        &self,
        finished_before: UnixMillis,
        errored_before: UnixMillis,
    ) -> StoreResult<u64> {
        cycles::sweep_transactions(&self.pool, finished_before, errored_before).await
    }

    // --- master key rotation

    async fn key_fingerprint(&self) -> StoreResult<Option<String>> {
        startup::stored_fingerprint(&self.pool).await
    }

    async fn count_sealed_by_key_id(&self) -> StoreResult<BTreeMap<String, u64>> {
        rotation::count_sealed_by_key_id(&self.pool).await
    }

    async fn reseal_batch(
        &self,
        from: Option<&ResealCursor>,
        limit: u32,
    ) -> StoreResult<ResealBatch> {
        rotation::reseal_batch(&self.pool, &self.keys, from, limit).await
    }

    async fn complete_key_rotation(&self) -> StoreResult<bool> {
        rotation::complete_key_rotation(&self.pool, &self.keys).await
    }

    // --- events outbox

    async fn enqueue_event(&self, event: &OutboxEvent) -> StoreResult<()> {
        outbox::enqueue_event(&self.pool, event).await
    }

    async fn claim_due_events(
        &self,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEvent>> {
        outbox::claim_due_events(&self.pool, now, lease_until, limit).await
    }

    async fn mark_event_delivered(&self, id: &str, at: UnixMillis) -> StoreResult<()> {
        outbox::mark_event_delivered(&self.pool, id, at).await
    }

    async fn reschedule_event(
        &self,
        id: &str,
        attempts: i64,
        next_attempt_at: Option<UnixMillis>,
        last_error: &str,
    ) -> StoreResult<()> {
        outbox::reschedule_event(&self.pool, id, attempts, next_attempt_at, last_error).await
    }

    // --- utility connectors

    async fn put_storage_item(
        &self,
        store: &StorageRef,
        key: &str,
        value: &str,
        max_items: u64,
        at: UnixMillis,
    ) -> StoreResult<StoragePut> {
        utility::put(&self.pool, store, key, value, max_items, at).await
    }

    async fn get_storage_item(&self, store: &StorageRef, key: &str) -> StoreResult<Option<String>> {
        utility::get(&self.pool, store, key).await
    }

    async fn delete_storage_item(&self, store: &StorageRef, key: &str) -> StoreResult<bool> {
        utility::delete(&self.pool, store, key).await
    }

    async fn list_storage_items(
        &self,
        store: &StorageRef,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StorageItem>> {
        utility::list(&self.pool, store, prefix, after, limit).await
    }

    async fn delete_cycle_storage(&self, account_id: &str, cycle_id: &str) -> StoreResult<u64> {
        utility::delete_cycle_storage(&self.pool, account_id, cycle_id).await
    }

    async fn put_preventer_mark(&self, mark: &PreventerMark) -> StoreResult<()> {
        utility::put_mark(&self.pool, mark).await
    }

    async fn check_preventer_mark(
        &self,
        account_id: &str,
        system: &str,
        record_id: &str,
        now: UnixMillis,
        consume: bool,
    ) -> StoreResult<bool> {
        utility::check_mark(&self.pool, account_id, system, record_id, now, consume).await
    }

    async fn sweep_preventer_marks(&self, now: UnixMillis) -> StoreResult<u64> {
        utility::sweep_marks(&self.pool, now).await
    }

    async fn put_cross_reference(
        &self,
        account_id: &str,
        left: &EntityRef,
        right: &EntityRef,
        at: UnixMillis,
    ) -> StoreResult<()> {
        utility::put_xref(&self.pool, account_id, left, right, at).await
    }

    async fn lookup_cross_references(
        &self,
        account_id: &str,
        entity: &EntityRef,
    ) -> StoreResult<Vec<EntityRef>> {
        utility::lookup_xref(&self.pool, account_id, entity).await
    }

    async fn delete_cross_references(
        &self,
        account_id: &str,
        entity: &EntityRef,
        other_system: Option<&str>,
    ) -> StoreResult<u64> {
        utility::delete_xref(&self.pool, account_id, entity, other_system).await
    }
}

pub(crate) fn now_ms() -> i64 {
    use spokes_core::Clock as _;
    spokes_core::SystemClock.now_ms()
}
