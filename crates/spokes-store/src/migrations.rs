//! The migrations, embedded: plain SQL files per backend with the same version numbers.
//!
//! The runner lives with each backend (`sql.rs`): it takes a database-wide lock (SQLite
//! `BEGIN IMMEDIATE`, PostgreSQL `pg_advisory_xact_lock`), creates `schema_migrations` when
//! missing, and applies, in one transaction, every version not recorded there.

/// One schema change.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Creates the bookkeeping table; the same SQL works on both backends.
pub(crate) const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "hardening",
        sql: include_str!("../migrations/sqlite/0002_hardening.sql"),
    },
    Migration {
        version: 3,
        name: "idempotency",
        sql: include_str!("../migrations/sqlite/0003_idempotency.sql"),
    },
    Migration {
        version: 4,
        name: "custom_object_copies",
        sql: include_str!("../migrations/sqlite/0004_custom_object_copies.sql"),
    },
    Migration {
        version: 5,
        name: "mcp",
        sql: include_str!("../migrations/sqlite/0005_mcp.sql"),
    },
    Migration {
        version: 6,
        name: "jobs",
        sql: include_str!("../migrations/sqlite/0006_jobs.sql"),
    },
    Migration {
        version: 7,
        name: "webhook_inbox",
        sql: include_str!("../migrations/sqlite/0007_webhook_inbox.sql"),
    },
    Migration {
        version: 8,
        name: "cycles",
        sql: include_str!("../migrations/sqlite/0008_cycles.sql"),
    },
    Migration {
        version: 9,
        name: "utility",
        sql: include_str!("../migrations/sqlite/0009_utility.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "hardening",
        sql: include_str!("../migrations/postgres/0002_hardening.sql"),
    },
    Migration {
        version: 3,
        name: "idempotency",
        sql: include_str!("../migrations/postgres/0003_idempotency.sql"),
    },
    Migration {
        version: 4,
        name: "custom_object_copies",
        sql: include_str!("../migrations/postgres/0004_custom_object_copies.sql"),
    },
    Migration {
        version: 5,
        name: "mcp",
        sql: include_str!("../migrations/postgres/0005_mcp.sql"),
    },
    Migration {
        version: 6,
        name: "jobs",
        sql: include_str!("../migrations/postgres/0006_jobs.sql"),
    },
    Migration {
        version: 7,
        name: "webhook_inbox",
        sql: include_str!("../migrations/postgres/0007_webhook_inbox.sql"),
    },
    Migration {
        version: 8,
        name: "cycles",
        sql: include_str!("../migrations/postgres/0008_cycles.sql"),
    },
    Migration {
        version: 9,
        name: "utility",
        sql: include_str!("../migrations/postgres/0009_utility.sql"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn names(list: &[Migration]) -> Vec<String> {
        list.iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect()
    }

    #[test]
    fn every_file_is_embedded_in_order_on_both_backends() {
        assert_eq!(names(SQLITE), files("migrations/sqlite"));
        assert_eq!(names(POSTGRES), files("migrations/postgres"));
        assert_eq!(names(SQLITE), names(POSTGRES));
        assert!(SQLITE.windows(2).all(|w| w[0].version < w[1].version));
    }
}
