//! Shared fixtures: a fresh store per test, domain values, raw database access.

use std::collections::BTreeMap;
use std::sync::Arc;

use spokes_core::{Account, Installation, InstallationStatus, PortalDetails, Secret, TokenSet};
use spokes_store::testing::{TempDir, test_database_url, test_key_ring};
use spokes_store::{KeyRing, Store, connect};
use sqlx::{PgPool, Row, SqlitePool};

pub const T0: i64 = 1_800_000_000_000;

/// One test's database, its key and an open store.
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub url: String,
    pub keys: KeyRing,
    pub dir: TempDir,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_keys(test_key_ring()).await
    }

    pub async fn with_keys(keys: KeyRing) -> Self {
        let dir = TempDir::new("spokes-store-it");
        let url = test_database_url(dir.path()).await;
        let store = connect(&url, keys.clone()).await.expect("connect");
        Self {
            store,
            url,
            keys,
            dir,
        }
    }

    /// A second, separately connected store on the same database (another "process").
    pub async fn second_store(&self) -> Arc<dyn Store> {
        connect(&self.url, self.keys.clone())
            .await
            .expect("second connect")
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// An account with one installation, both with fixed ids.
    pub async fn seed(&self) -> (Account, Installation) {
        let account = account("acme");
        self.store.create_account(&account).await.unwrap();
        let installation = installation("inst_1", "acme");
        self.store.create_installation(&installation).await.unwrap();
        (account, installation)
    }

    pub async fn raw(&self) -> Raw {
        if self.is_sqlite() {
            Raw::Sqlite(SqlitePool::connect(&self.url).await.unwrap())
        } else {
            Raw::Pg(PgPool::connect(&self.url).await.unwrap())
        }
    }
}

pub fn account(id: &str) -> Account {
    Account {
        id: id.to_owned(),
        name: format!("{id} Inc."),
        timezone: Some("Europe/Paris".to_owned()),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn installation(id: &str, account_id: &str) -> Installation {
    Installation {
        id: id.to_owned(),
        account_id: account_id.to_owned(),
        connector: "hubspot".to_owned(),
        name: "HubSpot".to_owned(),
        properties: BTreeMap::from([("Scopes".to_owned(), "contacts".to_owned())]),
        status: InstallationStatus::Unauthenticated,
        portal: None,
        last_error: None,
        token_expires_at: None,
        auth_version: 0,
        read_only: false,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn portal(portal_id: i64) -> PortalDetails {
    PortalDetails {
        portal_id,
        account_type: "STANDARD".to_owned(),
        ui_domain: Some("app.hubspot.com".to_owned()),
        hub_domain: Some("acme.com".to_owned()),
        user: Some("owner@acme.com".to_owned()),
        user_id: Some(42),
        granted_scopes: vec!["oauth".to_owned(), "contacts".to_owned()],
        warnings: vec![],
    }
}

pub fn tokens(access: &str, refresh: &str, expires_at: i64) -> TokenSet {
    TokenSet {
        access_token: Secret::from(access),
        refresh_token: Secret::from(refresh),
        expires_at,
        client_id: "client-123".to_owned(),
    }
}

/// Direct access to the database, bypassing the store.
pub enum Raw {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// The same sqlx expression on whichever pool `raw` is: the two pool types differ, so the
/// expression is written once and compiled for each.
macro_rules! on_pool {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            Raw::Sqlite($pool) => $body,
            Raw::Pg($pool) => $body,
        }
    };
}

impl Raw {
    /// One bytes column of one row; `sql` has a single `$1` parameter.
    pub async fn bytes(&self, sql: &'static str, id: &str) -> Option<Vec<u8>> {
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap())
    }

    pub async fn scalar_i64(&self, sql: &'static str) -> i64 {
        on_pool!(self, |pool| sqlx::query(sql)
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap())
    }

    /// Runs a statement binding `a` as `$1` and `b` as `$2`.
    pub async fn exec_bytes(&self, sql: &'static str, a: Option<Vec<u8>>, b: &str) {
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(a)
                .bind(b)
                .execute(pool)
                .await
                .unwrap();
        })
    }

    /// One text column of the first row; `sql` has no parameters.
    pub async fn scalar_text(&self, sql: &'static str) -> String {
        on_pool!(self, |pool| sqlx::query(sql)
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap())
    }

    /// Runs a statement binding the text `a` as `$1`.
    pub async fn exec_text(&self, sql: &'static str, a: &str) {
        on_pool!(self, |pool| {
            sqlx::query(sql).bind(a).execute(pool).await.unwrap();
        })
    }

    /// PostgreSQL only: every row of `table` as text (bytea shows as `\x…` hex).
    pub async fn pg_rows_as_text(&self, table: &str) -> Vec<String> {
        let Raw::Pg(pool) = self else {
            panic!("PostgreSQL only")
        };
        let sql = format!("SELECT CAST(t AS TEXT) FROM {table} t");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String, _>(0).unwrap())
            .collect()
    }

    pub async fn close(self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
