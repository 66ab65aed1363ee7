//! The SQL of the store, written once for both backends.
//!
//! Every query uses `$N` placeholders, which PostgreSQL takes natively and sqlx-sqlite maps to
//! the N-th bound argument. [`sql_store!`] expands the one implementation for a concrete sqlx
//! database type; the few backend-specific statements (the migration lock, the event claim)
//! come in as parameters. Values are always bound, never formatted into SQL.

macro_rules! api_key_columns {
    () => {
        "id, name, key_hash, account_id, created_at, revoked_at"
    };
}

macro_rules! account_columns {
    () => {
        "id, name, timezone, created_at, updated_at"
    };
}

macro_rules! installation_columns {
    () => {
        "id, account_id, connector, name, properties, status, portal, last_error, \
         token_expires_at, auth_version, created_at, updated_at"
    };
}

macro_rules! auth_link_columns {
    () => {
        "token_hash, installation_id, return_url, created_at, expires_at"
    };
}

macro_rules! oauth_state_columns {
    () => {
        "state_hash, installation_id, code_verifier_sealed, return_url, created_at, expires_at"
    };
}

/// The columns of an outbox event, for `RETURNING` in the backends' claim statements.
macro_rules! outbox_event_columns {
    () => {
        "id, event_type, payload, attempts, next_attempt_at, created_at"
    };
}

/// The `WHERE` condition of a due outbox event (`$1` = now).
macro_rules! outbox_event_due {
    () => {
        "delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1"
    };
}

pub(crate) use {
    account_columns, api_key_columns, auth_link_columns, installation_columns, oauth_state_columns,
    outbox_event_columns, outbox_event_due,
};

/// Defines `$store` over a pool of `$db` with its migration runner and its `impl Store`.
macro_rules! sql_store {
    (
        $(#[$attr:meta])*
        store: $store:ident,
        db: $db:ty,
        backend: $backend:literal,
        max_connections: $max_connections:expr,
        migrations: $migrations:expr,
        // Starts the migration transaction and takes the database-wide migration lock.
        begin_migration: $begin_migration:literal,
        lock_migration: $lock_migration:expr,
        // Binds: $1 = now, $2 = lease_until, $3 = limit.
        claim_events: $claim_events:expr $(,)?
    ) => {
        $(#[$attr])*
        pub(crate) struct $store {
            pool: sqlx::Pool<$db>,
            keys: $crate::seal::KeyRing,
        }

        impl $store {
            pub(crate) async fn open_pool(
                options: <<$db as sqlx::Database>::Connection as sqlx::Connection>::Options,
            ) -> $crate::StoreResult<sqlx::Pool<$db>> {
                Ok(sqlx::pool::PoolOptions::<$db>::new()
                    .max_connections($max_connections)
                    .connect_with(options)
                    .await?)
            }

            /// Applies pending migrations under a database-wide lock, in one transaction, and
            /// returns the versions applied. Safe when several processes start together.
            pub(crate) async fn run_migrations(
                pool: &sqlx::Pool<$db>,
            ) -> $crate::StoreResult<Vec<i64>> {
                use $crate::StoreError;
                use sqlx::Row as _;

                let migrations: &[$crate::migrations::Migration] = $migrations;
                let mut tx = pool.begin_with($begin_migration).await?;
                let lock: Option<&'static str> = $lock_migration;
                if let Some(lock) = lock {
                    sqlx::query(lock).execute(&mut *tx).await?;
                }
                sqlx::query($crate::migrations::CREATE_SCHEMA_MIGRATIONS)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("SELECT version FROM schema_migrations")
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<i64, _>("version"))
                    .collect::<Result<std::collections::BTreeSet<i64>, _>>()?;

                let now = $crate::sql::now_ms();
                let mut applied = Vec::new();
                for migration in migrations {
                    if done.contains(&migration.version) {
                        continue;
                    }
                    sqlx::raw_sql(migration.sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| {
                            StoreError::Migration(format!(
                                "{} migration {:04}_{} failed: {e}",
                                $backend, migration.version, migration.name
                            ))
                        })?;
                    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(migration.version)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    applied.push(migration.version);
                }
                tx.commit().await?;

                let known = migrations.last().map_or(0, |m| m.version);
                if let Some(&newest) = done.last()
                    && newest > known
                {
                    tracing::warn!(
                        schema.version = newest,
                        known.version = known,
                        "the database schema is newer than this Spokes build"
                    );
                }
                for version in &applied {
                    tracing::info!(backend = $backend, schema.version = version, "applied migration");
                }
                Ok(applied)
            }

            /// Wraps a migrated pool; records the key fingerprint on first use and refuses a
            /// different key afterwards.
            pub(crate) async fn new(
                pool: sqlx::Pool<$db>,
                keys: $crate::seal::KeyRing,
            ) -> $crate::StoreResult<Self> {
                use sqlx::Row as _;

                let current = keys.fingerprint();
                sqlx::query(
                    "INSERT INTO meta (name, value) VALUES ('key_fingerprint', $1) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&current)
                .execute(&pool)
                .await?;
                let stored: String = sqlx::query("SELECT value FROM meta WHERE name = 'key_fingerprint'")
                    .fetch_one(&pool)
                    .await?
                    .try_get("value")?;
                if stored != current {
                    pool.close().await;
                    return Err($crate::StoreError::WrongMasterKey {
                        stored: stored.chars().take(12).collect(),
                        current: current.chars().take(12).collect(),
                    });
                }
                Ok(Self { pool, keys })
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                // Reads a table, so a database that answers but lost its schema is not ready.
                sqlx::query("SELECT COUNT(*) FROM meta").execute(&self.pool).await?;
                Ok(())
            }

            // --- API keys

            async fn create_api_key(&self, key: &spokes_core::ApiKey) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO api_keys (",
                    $crate::sql::api_key_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&key.id)
                .bind(&key.name)
                .bind(&key.key_hash)
                .bind(&key.account_id)
                .bind(key.created_at)
                .bind(key.revoked_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || format!("an API key with id {} or the same hash exists", key.id),
                        String::new,
                    )
                })?;
                Ok(())
            }

            async fn find_api_key_by_hash(
                &self,
                key_hash: &str,
            ) -> $crate::StoreResult<Option<spokes_core::ApiKey>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::api_key_columns!(),
                    " FROM api_keys WHERE key_hash = $1"
                ))
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map($crate::rows::api_key)
                .transpose()
            }

            async fn list_api_keys(&self) -> $crate::StoreResult<Vec<spokes_core::ApiKey>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::api_key_columns!(),
                    " FROM api_keys ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map($crate::rows::api_key)
                .collect()
            }

            async fn revoke_api_key(
                &self,
                id: &str,
                at: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM console_sessions WHERE key_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            // --- console sessions

            async fn create_console_session(
                &self,
                session: &spokes_core::ConsoleSession,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&session.id_hash)
                .bind(&session.key_id)
                .bind(session.created_at)
                .bind(session.expires_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || "a console session with this id exists".to_owned(),
                        || "the API key of the session does not exist".to_owned(),
                    )
                })?;
                Ok(())
            }

            async fn find_console_session(
                &self,
                id_hash: &str,
                now: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<Option<spokes_core::ConsoleSession>> {
                // The key is checked on every request, so revoking it (from any process)
                // ends the session even if the revoking process did not delete it.
                sqlx::query(
                    "SELECT s.id_hash, s.key_id, s.created_at, s.expires_at \
                     FROM console_sessions s LEFT JOIN api_keys k ON k.id = s.key_id \
                     WHERE s.id_hash = $1 AND s.expires_at > $2 \
                     AND (s.key_id IS NULL OR (k.id IS NOT NULL AND k.revoked_at IS NULL))",
                )
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map($crate::rows::console_session)
                .transpose()
            }

            async fn delete_console_session(&self, id_hash: &str) -> $crate::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            // --- accounts

            async fn create_account(
                &self,
                account: &spokes_core::Account,
            ) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO accounts (",
                    $crate::sql::account_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(&account.id)
                .bind(&account.name)
                .bind(&account.timezone)
                .bind(account.created_at)
                .bind(account.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || format!("an account with id {:?} already exists", account.id),
                        String::new,
                    )
                })?;
                Ok(())
            }

            async fn get_account(
                &self,
                id: &str,
            ) -> $crate::StoreResult<Option<spokes_core::Account>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::account_columns!(),
                    " FROM accounts WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map($crate::rows::account)
                .transpose()
            }

            async fn list_accounts(&self) -> $crate::StoreResult<Vec<spokes_core::Account>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::account_columns!(),
                    " FROM accounts ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map($crate::rows::account)
                .collect()
            }

            async fn update_account(
                &self,
                account: &spokes_core::Account,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE accounts SET name = $2, timezone = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(&account.id)
                .bind(&account.name)
                .bind(&account.timezone)
                .bind(account.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_account(&self, id: &str) -> $crate::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM accounts WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            // --- connector setup

            async fn put_connector_setup(
                &self,
                setup: &spokes_core::ConnectorSetup,
            ) -> $crate::StoreResult<()> {
                let sealed = $crate::rows::seal_secret(
                    &self.keys,
                    &$crate::rows::client_secret_context(&setup.connector),
                    &setup.client_secret,
                )?;
                sqlx::query(
                    "INSERT INTO connector_setups \
                     (connector, client_id, client_secret_sealed, properties, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (connector) DO UPDATE SET \
                     client_id = excluded.client_id, \
                     client_secret_sealed = excluded.client_secret_sealed, \
                     properties = excluded.properties, \
                     updated_at = excluded.updated_at",
                )
                .bind(&setup.connector)
                .bind(&setup.client_id)
                .bind(sealed)
                .bind($crate::rows::properties_json(&setup.properties)?)
                .bind(setup.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_connector_setup(
                &self,
                connector: &str,
            ) -> $crate::StoreResult<Option<spokes_core::ConnectorSetup>> {
                sqlx::query(
                    "SELECT connector, client_id, client_secret_sealed, properties, updated_at \
                     FROM connector_setups WHERE connector = $1",
                )
                .bind(connector)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| $crate::rows::connector_setup(&row, &self.keys))
                .transpose()
            }

            // --- installations

            async fn create_installation(
                &self,
                installation: &spokes_core::Installation,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO installations (id, account_id, connector, name, properties, \
                     status, portal, portal_id, last_error, token_expires_at, auth_version, \
                     created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(&installation.id)
                .bind(&installation.account_id)
                .bind(&installation.connector)
                .bind(&installation.name)
                .bind($crate::rows::properties_json(&installation.properties)?)
                .bind(installation.status.as_str())
                .bind($crate::rows::portal_json(installation.portal.as_ref())?)
                .bind(installation.portal.as_ref().map(|p| p.portal_id))
                .bind($crate::rows::last_error_json(installation.last_error.as_ref())?)
                .bind(installation.token_expires_at)
                .bind(installation.auth_version)
                .bind(installation.created_at)
                .bind(installation.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || format!("an installation with id {} already exists", installation.id),
                        || format!("there is no account with id {:?}", installation.account_id),
                    )
                })?;
                Ok(())
            }

            async fn get_installation(
                &self,
                id: &str,
            ) -> $crate::StoreResult<Option<spokes_core::Installation>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::installation_columns!(),
                    " FROM installations WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map($crate::rows::installation)
                .transpose()
            }

            async fn list_installations(
                &self,
                account_id: &str,
            ) -> $crate::StoreResult<Vec<spokes_core::Installation>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::installation_columns!(),
                    " FROM installations WHERE account_id = $1 ORDER BY created_at, id"
                ))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map($crate::rows::installation)
                .collect()
            }

            async fn list_all_installations(
                &self,
            ) -> $crate::StoreResult<Vec<spokes_core::Installation>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::installation_columns!(),
                    " FROM installations ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map($crate::rows::installation)
                .collect()
            }

            async fn installations_for_portal(
                &self,
                portal_id: i64,
            ) -> $crate::StoreResult<Vec<spokes_core::Installation>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql::installation_columns!(),
                    " FROM installations WHERE portal_id = $1 AND status = 'authenticated' \
                     ORDER BY created_at, id"
                ))
                .bind(portal_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map($crate::rows::installation)
                .collect()
            }

            async fn save_auth_state(
                &self,
                id: &str,
                state: &$crate::AuthState,
                at: spokes_core::clock::UnixMillis,
                expected_version: Option<i64>,
            ) -> $crate::StoreResult<bool> {
                let (access, refresh, client_id, expires_at) = match &state.tokens {
                    Some(tokens) => (
                        Some($crate::rows::seal_secret(
                            &self.keys,
                            &$crate::rows::access_token_context(id),
                            &tokens.access_token,
                        )?),
                        Some($crate::rows::seal_secret(
                            &self.keys,
                            &$crate::rows::refresh_token_context(id),
                            &tokens.refresh_token,
                        )?),
                        Some(tokens.client_id.as_str()),
                        Some(tokens.expires_at),
                    ),
                    None => (None, None, None, None),
                };
                let done = sqlx::query(
                    "UPDATE installations SET status = $2, portal = $3, portal_id = $4, \
                     last_error = $5, access_token_sealed = $6, refresh_token_sealed = $7, \
                     token_client_id = $8, token_expires_at = $9, updated_at = $10, \
                     auth_version = auth_version + 1 \
                     WHERE id = $1 AND ($11 IS NULL OR auth_version = $11)",
                )
                .bind(id)
                .bind(state.status.as_str())
                .bind($crate::rows::portal_json(state.portal.as_ref())?)
                .bind(state.portal.as_ref().map(|p| p.portal_id))
                .bind($crate::rows::last_error_json(state.last_error.as_ref())?)
                .bind(access)
                .bind(refresh)
                .bind(client_id)
                .bind(expires_at)
                .bind(at)
                .bind(expected_version)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_last_error(
                &self,
                id: &str,
                last_error: Option<&spokes_core::LastError>,
                at: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE installations SET last_error = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(id)
                .bind($crate::rows::last_error_json(last_error)?)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_installation(&self, id: &str) -> $crate::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM installations WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            // --- tokens and the refresh lease

            async fn get_tokens(
                &self,
                installation_id: &str,
            ) -> $crate::StoreResult<Option<spokes_core::TokenSet>> {
                let row = sqlx::query(
                    "SELECT access_token_sealed, refresh_token_sealed, token_client_id, \
                     token_expires_at FROM installations WHERE id = $1",
                )
                .bind(installation_id)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => $crate::rows::tokens(&row, &self.keys, installation_id),
                    None => Ok(None),
                }
            }

            async fn try_acquire_refresh_lease(
                &self,
                installation_id: &str,
                owner: &str,
                now: spokes_core::clock::UnixMillis,
                until: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                // One statement: the row lock (PostgreSQL) or the write lock (SQLite) makes
                // racing callers see each other's lease, so exactly one matches.
                let done = sqlx::query(
                    "UPDATE installations SET refresh_lease_owner = $2, refresh_lease_until = $4 \
                     WHERE id = $1 AND (refresh_lease_until IS NULL OR refresh_lease_until < $3)",
                )
                .bind(installation_id)
                .bind(owner)
                .bind(now)
                .bind(until)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn renew_refresh_lease(
                &self,
                installation_id: &str,
                owner: &str,
                until: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE installations SET refresh_lease_until = $3 \
                     WHERE id = $1 AND refresh_lease_owner = $2",
                )
                .bind(installation_id)
                .bind(owner)
                .bind(until)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_refresh_lease(
                &self,
                installation_id: &str,
                owner: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "UPDATE installations SET refresh_lease_owner = NULL, \
                     refresh_lease_until = NULL WHERE id = $1 AND refresh_lease_owner = $2",
                )
                .bind(installation_id)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            // --- auth links and OAuth states

            async fn create_auth_link(
                &self,
                link: &spokes_core::AuthLink,
            ) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO auth_links (",
                    $crate::sql::auth_link_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(&link.token_hash)
                .bind(&link.installation_id)
                .bind(&link.return_url)
                .bind(link.created_at)
                .bind(link.expires_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || "an auth link with this token exists".to_owned(),
                        || format!("there is no installation with id {}", link.installation_id),
                    )
                })?;
                Ok(())
            }

            async fn find_auth_link(
                &self,
                token_hash: &str,
                now: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<Result<spokes_core::AuthLink, spokes_core::OneTimeProblem>>
            {
                let row = sqlx::query(concat!(
                    "SELECT used_at, ",
                    $crate::sql::auth_link_columns!(),
                    " FROM auth_links WHERE token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => {
                        use $crate::rows::RowExt as _;
                        let link = $crate::rows::auth_link(&row)?;
                        if row.opt_int("used_at")?.is_some() {
                            Ok(Err(spokes_core::OneTimeProblem::AlreadyUsed))
                        } else if link.expires_at <= now {
                            Ok(Err(spokes_core::OneTimeProblem::Expired))
                        } else {
                            Ok(Ok(link))
                        }
                    }
                    None => Ok(Err(spokes_core::OneTimeProblem::Unknown)),
                }
            }

            async fn consume_auth_link(
                &self,
                token_hash: &str,
                now: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<Result<spokes_core::AuthLink, spokes_core::OneTimeProblem>>
            {
                let claimed = sqlx::query(concat!(
                    "UPDATE auth_links SET used_at = $2 \
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
                    $crate::sql::auth_link_columns!()
                ))
                .bind(token_hash)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                if let Some(row) = claimed.first() {
                    return $crate::rows::auth_link(row).map(Ok);
                }
                let row = sqlx::query("SELECT used_at FROM auth_links WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                $crate::sql::one_time_problem(row.as_ref()).map(Err)
            }

            async fn create_oauth_state(
                &self,
                state: &spokes_core::OAuthState,
            ) -> $crate::StoreResult<()> {
                let sealed = $crate::rows::seal_secret(
                    &self.keys,
                    &$crate::rows::code_verifier_context(&state.state_hash),
                    &state.code_verifier,
                )?;
                sqlx::query(concat!(
                    "INSERT INTO oauth_states (",
                    $crate::sql::oauth_state_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&state.state_hash)
                .bind(&state.installation_id)
                .bind(sealed)
                .bind(&state.return_url)
                .bind(state.created_at)
                .bind(state.expires_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || "an OAuth state with this value exists".to_owned(),
                        || format!("there is no installation with id {}", state.installation_id),
                    )
                })?;
                Ok(())
            }

            async fn consume_oauth_state(
                &self,
                state_hash: &str,
                now: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<Result<spokes_core::OAuthState, spokes_core::OneTimeProblem>>
            {
                let claimed = sqlx::query(concat!(
                    "UPDATE oauth_states SET used_at = $2 \
                     WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING ",
                    $crate::sql::oauth_state_columns!()
                ))
                .bind(state_hash)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                if let Some(row) = claimed.first() {
                    return $crate::rows::oauth_state(row, &self.keys).map(Ok);
                }
                let row = sqlx::query("SELECT used_at FROM oauth_states WHERE state_hash = $1")
                    .bind(state_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                $crate::sql::one_time_problem(row.as_ref()).map(Err)
            }

            async fn sweep_expired(
                &self,
                now: spokes_core::clock::UnixMillis,
                keep_ms: i64,
            ) -> $crate::StoreResult<spokes_core::SweepCounts> {
                let before = now - keep_ms.max(0);
                let mut deleted = [0u64; 2];
                for (count, table) in deleted.iter_mut().zip([
                    "DELETE FROM auth_links WHERE expires_at < $1 OR used_at < $1",
                    "DELETE FROM oauth_states WHERE expires_at < $1 OR used_at < $1",
                ]) {
                    *count = sqlx::query(table)
                        .bind(before)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                }
                let sessions = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(spokes_core::SweepCounts {
                    auth_links: deleted[0],
                    oauth_states: deleted[1],
                    console_sessions: sessions,
                })
            }

            // --- events outbox

            async fn enqueue_event(
                &self,
                event: &spokes_core::OutboxEvent,
            ) -> $crate::StoreResult<()> {
                sqlx::query(concat!(
                    "INSERT INTO outbox_events (",
                    $crate::sql::outbox_event_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&event.id)
                .bind(&event.event_type)
                .bind(&event.payload)
                .bind(event.attempts)
                .bind(event.next_attempt_at)
                .bind(event.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    $crate::rows::insert_error(
                        e,
                        || format!("an event with id {} exists", event.id),
                        String::new,
                    )
                })?;
                Ok(())
            }

            async fn claim_due_events(
                &self,
                now: spokes_core::clock::UnixMillis,
                lease_until: spokes_core::clock::UnixMillis,
                limit: i64,
            ) -> $crate::StoreResult<Vec<spokes_core::OutboxEvent>> {
                let mut events = sqlx::query($claim_events)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit.max(0))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map($crate::rows::outbox_event)
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                // RETURNING does not keep the subquery's order.
                events.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                Ok(events)
            }

            async fn mark_event_delivered(
                &self,
                id: &str,
                at: spokes_core::clock::UnixMillis,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "UPDATE outbox_events SET delivered_at = $2, next_attempt_at = NULL \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn reschedule_event(
                &self,
                id: &str,
                attempts: i64,
                next_attempt_at: Option<spokes_core::clock::UnixMillis>,
                last_error: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "UPDATE outbox_events SET attempts = $2, next_attempt_at = $3, \
                     last_error = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(attempts)
                .bind(next_attempt_at)
                .bind(last_error)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sql_store;

use spokes_core::OneTimeProblem;

use crate::StoreResult;
use crate::rows::RowExt;

/// Why a one-time value was not consumed, from its row (`used_at`) or its absence.
pub(crate) fn one_time_problem(row: Option<&impl RowExt>) -> StoreResult<OneTimeProblem> {
    Ok(match row {
        None => OneTimeProblem::Unknown,
        Some(row) if row.opt_int("used_at")?.is_some() => OneTimeProblem::AlreadyUsed,
        Some(_) => OneTimeProblem::Expired,
    })
}

pub(crate) fn now_ms() -> i64 {
    use spokes_core::Clock as _;
    spokes_core::SystemClock.now_ms()
}
