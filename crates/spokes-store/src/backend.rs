//! What differs between SQLite and PostgreSQL, behind one trait, so that the queries (in
//! `sql/`) are ordinary generic functions written once.
//!
//! sqlx's bounds for a generic query (`Encode + Type` for every bound type, `Executor` for
//! `&mut DB::Connection`) are not inherited by callers of a trait that states them, so they
//! would have to be repeated on every function. [`Backend`] instead offers the few operations
//! the queries need — bind text / integer / bytes / boolean, execute, fetch — and each backend implements
//! them with its concrete types through [`backend_io!`]; the backend-specific statements (the
//! migration lock, the outbox and job claims) are its constants.

use std::future::Future;

use sqlx::{Database, Pool, Transaction};

use crate::migrations::Migration;
use crate::rows::RowExt;

/// A query with its arguments, as sqlx builds it.
pub(crate) type Query<DB> = sqlx::query::Query<'static, DB, <DB as Database>::Arguments>;

/// A database backend the store runs on.
pub(crate) trait Backend: Database<Row: RowExt> {
    /// `"sqlite"` or `"postgres"`.
    const LABEL: &'static str;
    const MAX_CONNECTIONS: u32;
    const MIGRATIONS: &'static [Migration];
    /// Starts the migration transaction (SQLite takes the write lock here).
    const BEGIN_MIGRATION: &'static str;
    /// Takes the database-wide migration lock inside that transaction, where one is needed.
    const LOCK_MIGRATION: Option<&'static str>;
    /// Claims due outbox events. Binds: `$1` = now, `$2` = lease_until, `$3` = limit.
    const CLAIM_EVENTS: &'static str;
    /// Claims due jobs of some kinds (see `sql/jobs.rs`). Binds: `$1` = the kinds as a JSON
    /// array, `$2` = now, `$3` = owner, `$4` = lease_until, `$5` = limit.
    const CLAIM_JOBS: &'static str;
    /// Records webhook events not seen before and answers their job ids (see `sql/inbox.rs`).
    /// Binds: `$1` = `[{key, job}]` as JSON, `$2` = received_at.
    const ACCEPT_WEBHOOK_EVENTS: &'static str;
    /// Queues jobs without dedupe keys. Binds: `$1` = `[{id, kind, payload, run_at,
    /// max_attempts, created_at}]` as JSON.
    const ENQUEUE_PLAIN_JOBS: &'static str;

    fn bind_text(query: Query<Self>, value: Option<&str>) -> Query<Self>;
    fn bind_int(query: Query<Self>, value: Option<i64>) -> Query<Self>;
    fn bind_blob(query: Query<Self>, value: Option<&[u8]>) -> Query<Self>;
    /// A flag: BOOLEAN on PostgreSQL, 0/1 INTEGER on SQLite.
    fn bind_bool(query: Query<Self>, value: Option<bool>) -> Query<Self>;
    /// Runs the statement; the number of rows it affected.
    fn execute<'e>(
        query: Query<Self>,
        on: On<'e, Self>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send + 'e;
    fn fetch_optional<'e>(
        query: Query<Self>,
        on: On<'e, Self>,
    ) -> impl Future<Output = sqlx::Result<Option<Self::Row>>> + Send + 'e;
    fn fetch_all<'e>(
        query: Query<Self>,
        on: On<'e, Self>,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Row>>> + Send + 'e;
    /// Runs several statements without arguments (a migration file).
    fn execute_script<'e>(
        sql: &'static str,
        on: On<'e, Self>,
    ) -> impl Future<Output = sqlx::Result<()>> + Send + 'e;
}

/// Where a statement runs: on the pool, or on the connection of an open transaction.
pub(crate) enum On<'e, DB: Database> {
    Pool(&'e Pool<DB>),
    Conn(&'e mut DB::Connection),
}

impl<DB: Database> On<'_, DB> {
    /// The same place for one more statement, so that a function given an `On` can run
    /// several.
    pub(crate) fn reborrow(&mut self) -> On<'_, DB> {
        match self {
            On::Pool(pool) => On::Pool(pool),
            On::Conn(conn) => On::Conn(&mut **conn),
        }
    }
}

impl<'e, DB: Database> From<&'e Pool<DB>> for On<'e, DB> {
    fn from(pool: &'e Pool<DB>) -> Self {
        On::Pool(pool)
    }
}

impl<'e, DB: Database> From<&'e mut Transaction<'_, DB>> for On<'e, DB> {
    fn from(tx: &'e mut Transaction<'_, DB>) -> Self {
        On::Conn(&mut **tx)
    }
}

/// One SQL statement with `$N` placeholders and its bound values.
#[must_use = "a statement does nothing until executed"]
pub(crate) struct Sql<DB: Backend>(Query<DB>);

/// Starts a statement; values are bound in placeholder order with [`Sql::bind`].
pub(crate) fn sql<DB: Backend>(text: &'static str) -> Sql<DB> {
    Sql(sqlx::query(text))
}

impl<DB: Backend> Sql<DB> {
    pub(crate) fn bind(self, value: impl Param) -> Self {
        Sql(value.bind_to::<DB>(self.0))
    }

    pub(crate) fn execute<'e>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send + 'e {
        DB::execute(self.0, on.into())
    }

    pub(crate) fn fetch_optional<'e>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> impl Future<Output = sqlx::Result<Option<DB::Row>>> + Send + 'e {
        DB::fetch_optional(self.0, on.into())
    }

    pub(crate) fn fetch_all<'e>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> impl Future<Output = sqlx::Result<Vec<DB::Row>>> + Send + 'e {
        DB::fetch_all(self.0, on.into())
    }
}

/// A value that can be bound to a statement: text, an integer, bytes or a flag, each optional
/// (NULL).
pub(crate) trait Param {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB>;
}

impl Param for &str {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, Some(self))
    }
}

impl Param for &String {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, Some(self))
    }
}

impl Param for Option<&str> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, self)
    }
}

impl Param for &Option<String> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, self.as_deref())
    }
}

impl Param for String {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, Some(&self))
    }
}

impl Param for Option<String> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_text(query, self.as_deref())
    }
}

impl Param for i64 {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_int(query, Some(self))
    }
}

impl Param for Option<i64> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_int(query, self)
    }
}

impl Param for bool {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_bool(query, Some(self))
    }
}

impl Param for &[u8] {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_blob(query, Some(self))
    }
}

impl Param for Vec<u8> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_blob(query, Some(&self))
    }
}

impl Param for Option<&[u8]> {
    fn bind_to<DB: Backend>(self, query: Query<DB>) -> Query<DB> {
        DB::bind_blob(query, self)
    }
}

/// The [`Backend`] operations, identical in source for both backends but compiled against
/// each one's concrete types (where sqlx's bounds hold). Expanded inside `impl Backend`.
macro_rules! backend_io {
    () => {
        fn bind_text(
            query: $crate::backend::Query<Self>,
            value: Option<&str>,
        ) -> $crate::backend::Query<Self> {
            query.bind(value)
        }

        fn bind_int(
            query: $crate::backend::Query<Self>,
            value: Option<i64>,
        ) -> $crate::backend::Query<Self> {
            query.bind(value)
        }

        fn bind_blob(
            query: $crate::backend::Query<Self>,
            value: Option<&[u8]>,
        ) -> $crate::backend::Query<Self> {
            query.bind(value)
        }

        fn bind_bool(
            query: $crate::backend::Query<Self>,
            value: Option<bool>,
        ) -> $crate::backend::Query<Self> {
            query.bind(value)
        }

        fn execute<'e>(
            query: $crate::backend::Query<Self>,
            on: $crate::backend::On<'e, Self>,
        ) -> impl std::future::Future<Output = sqlx::Result<u64>> + Send + 'e {
            async move {
                let done = match on {
                    $crate::backend::On::Pool(pool) => query.execute(pool).await?,
                    $crate::backend::On::Conn(conn) => query.execute(conn).await?,
                };
                Ok(done.rows_affected())
            }
        }

        fn fetch_optional<'e>(
            query: $crate::backend::Query<Self>,
            on: $crate::backend::On<'e, Self>,
        ) -> impl std::future::Future<Output = sqlx::Result<Option<Self::Row>>> + Send + 'e {
            async move {
                match on {
                    $crate::backend::On::Pool(pool) => query.fetch_optional(pool).await,
                    $crate::backend::On::Conn(conn) => query.fetch_optional(conn).await,
                }
            }
        }

        fn fetch_all<'e>(
            query: $crate::backend::Query<Self>,
            on: $crate::backend::On<'e, Self>,
        ) -> impl std::future::Future<Output = sqlx::Result<Vec<Self::Row>>> + Send + 'e {
            async move {
                match on {
                    $crate::backend::On::Pool(pool) => query.fetch_all(pool).await,
                    $crate::backend::On::Conn(conn) => query.fetch_all(conn).await,
                }
            }
        }

        fn execute_script<'e>(
            sql: &'static str,
            on: $crate::backend::On<'e, Self>,
        ) -> impl std::future::Future<Output = sqlx::Result<()>> + Send + 'e {
            async move {
                match on {
                    $crate::backend::On::Pool(pool) => sqlx::raw_sql(sql).execute(pool).await?,
                    $crate::backend::On::Conn(conn) => sqlx::raw_sql(sql).execute(conn).await?,
                };
                Ok(())
            }
        }
    };
}

pub(crate) use backend_io;
