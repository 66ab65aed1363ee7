//! Re-sealing every sealed value with the active master key, for `spokes keys rotate-master`.
//!
//! A value's key id is bytes 3..10 of its header (`[version][id length = 8][id]…`), so SQL
//! finds the values under another key with `substr(column, 3, 8) <> $active` on both
//! backends. A batch reads up to `limit` of them in key order (keyset, so a pass reads each
//! row once), opens each with the ring and seals it again with its own context, then writes
//! them in one transaction, each `UPDATE … WHERE <key> = $2 AND <column> = $3` (the bytes it
//! read): a value another process rewrote in the meantime is left alone, and a later pass
//! looks at it again. Plaintexts are unchanged, so `auth_version` is not bumped.

use std::collections::BTreeMap;

use sqlx::Pool;

use crate::StoreResult;
use crate::backend::{Backend, sql};
use crate::rows::{self, RowExt as _};
use crate::seal::{KEY_ID_LEN, KeyRing};
use crate::store::{ResealBatch, ResealCursor};

const _: () = assert!(KEY_ID_LEN == 8, "the statements below read 8-byte key ids");

/// One sealed column and its statements.
struct SealedColumn {
    /// `table.column`, for progress messages.
    place: &'static str,
    /// The associated-data context of the row's value, from the row's key.
    context: fn(&str) -> String,
    /// `$1` = after this key, `$2` = active key id, `$3` = limit.
    select: &'static str,
    /// `$1` = new value, `$2` = row key, `$3` = old value.
    update: &'static str,
    count_by_key_id: &'static str,
}

/// `SELECT 1` of the rows of `table` whose `column` is sealed under another key than `$2`.
macro_rules! under_other_key {
    ($table:literal, $column:literal) => {
        concat!(
            "SELECT 1 FROM ",
            $table,
            " WHERE substr(",
            $column,
            ", 3, 8) <> $2"
        )
    };
}

macro_rules! sealed_column {
    ($table:literal, $key:literal, $column:literal, $context:path) => {
        SealedColumn {
            place: concat!($table, ".", $column),
            context: $context,
            select: concat!(
                "SELECT ",
                $key,
                " AS row_key, ",
                $column,
                " AS sealed FROM ",
                $table,
                " WHERE ",
                $key,
                " > $1 AND substr(",
                $column,
                ", 3, 8) <> $2 ORDER BY ",
                $key,
                " LIMIT $3"
            ),
            update: concat!(
                "UPDATE ",
                $table,
                " SET ",
                $column,
                " = $1 WHERE ",
                $key,
                " = $2 AND ",
                $column,
                " = $3"
            ),
            count_by_key_id: concat!(
                "SELECT substr(",
                $column,
                ", 3, 8) AS key_id, COUNT(*) AS n FROM ",
                $table,
                " WHERE ",
                $column,
                " IS NOT NULL GROUP BY substr(",
                $column,
                ", 3, 8)"
            ),
        }
    };
}

/// Every sealed column (`grep _sealed migrations/`), in the order a pass visits them.
const COLUMNS: [SealedColumn; 4] = [
    sealed_column!(
        "connector_setups",
        "connector",
        "client_secret_sealed",
        rows::client_secret_context
    ),
    sealed_column!(
        "installations",
        "id",
        "access_token_sealed",
        rows::access_token_context
    ),
    sealed_column!(
        "installations",
        "id",
        "refresh_token_sealed",
        rows::refresh_token_context
    ),
    sealed_column!(
        "oauth_states",
        "state_hash",
        "code_verifier_sealed",
        rows::code_verifier_context
    ),
];

/// Records `$1` as the key fingerprint only while no value is under another key id than `$2`:
/// one statement, so the check and the write cannot be split by another writer.
const COMPLETE: &str = concat!(
    "UPDATE meta SET value = $1 WHERE name = 'key_fingerprint' AND NOT EXISTS (",
    under_other_key!("connector_setups", "client_secret_sealed"),
    ") AND NOT EXISTS (",
    under_other_key!("installations", "access_token_sealed"),
    ") AND NOT EXISTS (",
    under_other_key!("installations", "refresh_token_sealed"),
    ") AND NOT EXISTS (",
    under_other_key!("oauth_states", "code_verifier_sealed"),
    ")"
);

/// The sealed column a cursor points at, e.g. `installations.access_token_sealed`.
pub(crate) fn place(cursor: &ResealCursor) -> &'static str {
    COLUMNS.get(cursor.column).map_or("", |c| c.place)
}

pub(crate) async fn count_sealed_by_key_id<DB: Backend>(
    pool: &Pool<DB>,
) -> StoreResult<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for column in &COLUMNS {
        for row in sql::<DB>(column.count_by_key_id).fetch_all(pool).await? {
            let key_id = String::from_utf8_lossy(&row.blob("key_id")?).into_owned();
            let n = u64::try_from(row.int("n")?).unwrap_or(0);
            *counts.entry(key_id).or_insert(0) += n;
        }
    }
    Ok(counts)
}

pub(crate) async fn reseal_batch<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
    from: Option<&ResealCursor>,
    limit: u32,
) -> StoreResult<ResealBatch> {
    let active = keys.key_id();
    let mut cursor = from.cloned().unwrap_or_default();
    let mut budget = i64::from(limit.max(1));
    // (column, row key, value read, value re-sealed)
    let mut rewrites: Vec<(usize, String, Vec<u8>, Vec<u8>)> = Vec::new();
    while cursor.column < COLUMNS.len() && budget > 0 {
        let column = &COLUMNS[cursor.column];
        let found = sql::<DB>(column.select)
            .bind(&cursor.after)
            .bind(active.as_bytes())
            .bind(budget)
            .fetch_all(pool)
            .await?;
        for row in &found {
            let key = row.text("row_key")?;
            let old = row.blob("sealed")?;
            let context = (column.context)(&key);
            let new = keys.seal(&context, &keys.open(&context, &old)?)?;
            rewrites.push((cursor.column, key.clone(), old, new));
            cursor.after = key;
        }
        let read = i64::try_from(found.len()).unwrap_or(i64::MAX);
        if read < budget {
            cursor = ResealCursor {
                column: cursor.column + 1,
                after: String::new(),
            };
        }
        budget -= read;
    }

    let (mut resealed, mut skipped) = (0, 0);
    if !rewrites.is_empty() {
        let mut tx = pool.begin().await?;
        for (column, key, old, new) in rewrites {
            let written = sql::<DB>(COLUMNS[column].update)
                .bind(new)
                .bind(&key)
                .bind(old)
                .execute(&mut tx)
                .await?;
            if written > 0 {
                resealed += 1;
            } else {
                skipped += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(ResealBatch {
        resealed,
        skipped,
        next: (cursor.column < COLUMNS.len()).then_some(cursor),
    })
}

pub(crate) async fn complete_key_rotation<DB: Backend>(
    pool: &Pool<DB>,
    keys: &KeyRing,
) -> StoreResult<bool> {
    let recorded = sql::<DB>(COMPLETE)
        .bind(keys.fingerprint())
        .bind(keys.key_id().as_bytes())
        .execute(pool)
        .await?;
    Ok(recorded > 0)
}
