//! The data of the utility connectors that cycle steps call: key/value and key/object stores
//! (per account or per cycle), the cross-update preventer's marks and entity cross references.
//! Every row belongs to an account and goes with it (`ON DELETE CASCADE`).
//!
//! - **Item limit**: `utility_storage_sizes` counts each store's items, changed in the same
//!   transaction as the insert or delete, so a new key is refused at the limit without counting
//!   the store (a conditional upsert: the count only goes up while below the limit).
//! - **Cross references** are stored in both directions, so either side is found by the
//!   primary key; a lookup answers only pairs whose both rows agree, so a half-written pair
//!   (two PostgreSQL writers setting the same record at once) is never answered.

use spokes_core::clock::UnixMillis;
use spokes_core::{EntityRef, PreventerMark, StorageItem, StoragePut, StorageRef, StorageScope};
use sqlx::Pool;

use crate::backend::{Backend, sql};
use crate::rows::{self, RowExt as _};
use crate::{StoreError, StoreResult};

/// How often [`put`] tries again when the key it found is deleted before it is updated.
const PUT_TRIES: usize = 3;

/// The `scope` and `scope_id` columns of a store.
fn scope_columns(scope: &StorageScope) -> (&'static str, &str) {
    match scope {
        StorageScope::Account => ("account", ""),
        StorageScope::Cycle(cycle_id) => ("cycle", cycle_id),
    }
}

fn no_account(account_id: &str) -> impl FnOnce() -> String + '_ {
    move || format!("there is no account with id {account_id:?}")
}

/// Writes `key`; a new key only while the store holds fewer than `max_items`.
pub(crate) async fn put<DB: Backend>(
    pool: &Pool<DB>,
    store: &StorageRef,
    key: &str,
    value: &str,
    max_items: u64,
    at: UnixMillis,
) -> StoreResult<StoragePut> {
    let (scope, scope_id) = scope_columns(&store.scope);
    let max_items = i64::try_from(max_items).unwrap_or(i64::MAX);
    for _ in 0..PUT_TRIES {
        let mut tx = pool.begin().await?;
        // Insert first: of two writers of the same new key only one counts it.
        let inserted = sql::<DB>(
            "INSERT INTO utility_storage \
             (account_id, scope, scope_id, store, key, value, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (account_id, scope, scope_id, store, key) DO NOTHING",
        )
        .bind(&store.account_id)
        .bind(scope)
        .bind(scope_id)
        .bind(store.kind.as_str())
        .bind(key)
        .bind(value)
        .bind(at)
        .execute(&mut tx)
        .await
        .map_err(|e| rows::insert_error(e, String::new, no_account(&store.account_id)))?;
        if inserted == 0 {
            let updated = sql::<DB>(
                "UPDATE utility_storage SET value = $6, updated_at = $7 \
                 WHERE account_id = $1 AND scope = $2 AND scope_id = $3 AND store = $4 \
                 AND key = $5",
            )
            .bind(&store.account_id)
            .bind(scope)
            .bind(scope_id)
            .bind(store.kind.as_str())
            .bind(key)
            .bind(value)
            .bind(at)
            .execute(&mut tx)
            .await?;
            tx.commit().await?;
            if updated == 1 {
                return Ok(StoragePut::Updated);
            }
            // Deleted in between: insert it again.
            continue;
        }
        let counted = if max_items < 1 {
            0
        } else {
            sql::<DB>(
                "INSERT INTO utility_storage_sizes (account_id, scope, scope_id, store, items) \
                 VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (account_id, scope, scope_id, store) DO UPDATE \
                 SET items = utility_storage_sizes.items + 1 \
                 WHERE utility_storage_sizes.items < $5",
            )
            .bind(&store.account_id)
            .bind(scope)
            .bind(scope_id)
            .bind(store.kind.as_str())
            .bind(max_items)
            .execute(&mut tx)
            .await?
        };
        if counted == 0 {
            tx.rollback().await?;
            return Ok(StoragePut::LimitReached);
        }
        tx.commit().await?;
        return Ok(StoragePut::Created);
    }
    Err(StoreError::Conflict(format!(
        "the key was deleted {PUT_TRIES} times while being written; try again"
    )))
}

pub(crate) async fn get<DB: Backend>(
    pool: &Pool<DB>,
    store: &StorageRef,
    key: &str,
) -> StoreResult<Option<String>> {
    let (scope, scope_id) = scope_columns(&store.scope);
    let row = sql::<DB>(
        "SELECT value FROM utility_storage \
         WHERE account_id = $1 AND scope = $2 AND scope_id = $3 AND store = $4 AND key = $5",
    )
    .bind(&store.account_id)
    .bind(scope)
    .bind(scope_id)
    .bind(store.kind.as_str())
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| row.text("value")).transpose()?)
}

/// False when the key was not there.
pub(crate) async fn delete<DB: Backend>(
    pool: &Pool<DB>,
    store: &StorageRef,
    key: &str,
) -> StoreResult<bool> {
    let (scope, scope_id) = scope_columns(&store.scope);
    let mut tx = pool.begin().await?;
    let deleted = sql::<DB>(
        "DELETE FROM utility_storage \
         WHERE account_id = $1 AND scope = $2 AND scope_id = $3 AND store = $4 AND key = $5",
    )
    .bind(&store.account_id)
    .bind(scope)
    .bind(scope_id)
    .bind(store.kind.as_str())
    .bind(key)
    .execute(&mut tx)
    .await?;
    if deleted > 0 {
        sql::<DB>(
            "UPDATE utility_storage_sizes SET items = items - 1 \
             WHERE account_id = $1 AND scope = $2 AND scope_id = $3 AND store = $4 \
             AND items > 0",
        )
        .bind(&store.account_id)
        .bind(scope)
        .bind(scope_id)
        .bind(store.kind.as_str())
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(deleted > 0)
}

/// Items by key (code point order), those starting with `prefix`, after the key `after`.
pub(crate) async fn list<DB: Backend>(
    pool: &Pool<DB>,
    store: &StorageRef,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<StorageItem>> {
    let (scope, scope_id) = scope_columns(&store.scope);
    // `substr`, not `LIKE`: LIKE ignores ASCII case on SQLite and would need escaping.
    let rows = sql::<DB>(
        "SELECT key, value, updated_at FROM utility_storage \
         WHERE account_id = $1 AND scope = $2 AND scope_id = $3 AND store = $4 \
         AND ($5 IS NULL OR substr(key, 1, length($5)) = $5) \
         AND ($6 IS NULL OR key > $6) \
         ORDER BY key LIMIT $7",
    )
    .bind(&store.account_id)
    .bind(scope)
    .bind(scope_id)
    .bind(store.kind.as_str())
    .bind(prefix)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StorageItem {
                key: row.text("key")?,
                value: row.text("value")?,
                updated_at: row.int("updated_at")?,
            })
        })
        .collect()
}

/// Deletes every store of one cycle (values and objects); how many items went.
pub(crate) async fn delete_cycle_storage<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    cycle_id: &str,
) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    let deleted = sql::<DB>(
        "DELETE FROM utility_storage \
         WHERE account_id = $1 AND scope = 'cycle' AND scope_id = $2",
    )
    .bind(account_id)
    .bind(cycle_id)
    .execute(&mut tx)
    .await?;
    sql::<DB>(
        "DELETE FROM utility_storage_sizes \
         WHERE account_id = $1 AND scope = 'cycle' AND scope_id = $2",
    )
    .bind(account_id)
    .bind(cycle_id)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(deleted)
}

// --- the cross-update preventer

/// Records the mark, replacing an earlier one of the same record.
pub(crate) async fn put_mark<DB: Backend>(
    pool: &Pool<DB>,
    mark: &PreventerMark,
) -> StoreResult<()> {
    sql::<DB>(
        "INSERT INTO utility_preventer_marks \
         (account_id, system, record_id, cycle_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account_id, system, record_id) DO UPDATE SET \
         cycle_id = excluded.cycle_id, expires_at = excluded.expires_at, \
         created_at = excluded.created_at",
    )
    .bind(&mark.account_id)
    .bind(&mark.system)
    .bind(&mark.record_id)
    .bind(&mark.cycle_id)
    .bind(mark.expires_at)
    .bind(mark.created_at)
    .execute(pool)
    .await
    .map_err(|e| rows::insert_error(e, String::new, no_account(&mark.account_id)))?;
    Ok(())
}

/// Whether an unexpired mark is there; with `consume`, the mark is deleted in the same
/// statement, so of two racing checks only one sees it.
pub(crate) async fn check_mark<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    system: &str,
    record_id: &str,
    now: UnixMillis,
    consume: bool,
) -> StoreResult<bool> {
    let statement = if consume {
        // An expired mark goes too: it would only be swept later.
        "DELETE FROM utility_preventer_marks \
         WHERE account_id = $1 AND system = $2 AND record_id = $3 RETURNING expires_at"
    } else {
        "SELECT expires_at FROM utility_preventer_marks \
         WHERE account_id = $1 AND system = $2 AND record_id = $3"
    };
    let row = sql::<DB>(statement)
        .bind(account_id)
        .bind(system)
        .bind(record_id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => row.int("expires_at")? > now,
        None => false,
    })
}

/// Deletes marks that expired at or before `now`; how many.
pub(crate) async fn sweep_marks<DB: Backend>(pool: &Pool<DB>, now: UnixMillis) -> StoreResult<u64> {
    Ok(
        sql::<DB>("DELETE FROM utility_preventer_marks WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?,
    )
}

// --- entity cross references

/// Links `left` and `right`, replacing the link each had to the other's system.
pub(crate) async fn put_xref<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    left: &EntityRef,
    right: &EntityRef,
    at: UnixMillis,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    // Each side's row towards the other system, and the reverse rows of those links.
    sql::<DB>(
        "DELETE FROM utility_cross_references WHERE account_id = $1 AND ( \
         (system = $2 AND entity_id = $3 AND other_system = $4) \
         OR (system = $4 AND entity_id = $5 AND other_system = $2) \
         OR (system = $4 AND other_system = $2 AND entity_id IN (SELECT other_id \
             FROM utility_cross_references WHERE account_id = $1 AND system = $2 \
             AND entity_id = $3 AND other_system = $4)) \
         OR (system = $2 AND other_system = $4 AND entity_id IN (SELECT other_id \
             FROM utility_cross_references WHERE account_id = $1 AND system = $4 \
             AND entity_id = $5 AND other_system = $2)))",
    )
    .bind(account_id)
    .bind(&left.system)
    .bind(&left.id)
    .bind(&right.system)
    .bind(&right.id)
    .execute(&mut tx)
    .await?;
    for (from, to) in [(left, right), (right, left)] {
        // A racing writer (PostgreSQL) may have inserted since: the last one wins.
        sql::<DB>(
            "INSERT INTO utility_cross_references \
             (account_id, system, entity_id, other_system, other_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, system, entity_id, other_system) DO UPDATE SET \
             other_id = excluded.other_id, created_at = excluded.created_at",
        )
        .bind(account_id)
        .bind(&from.system)
        .bind(&from.id)
        .bind(&to.system)
        .bind(&to.id)
        .bind(at)
        .execute(&mut tx)
        .await
        .map_err(|e| rows::insert_error(e, String::new, no_account(account_id)))?;
    }
    tx.commit().await?;
    Ok(())
}

/// The records linked to `entity`, by system; only pairs whose both rows agree.
pub(crate) async fn lookup_xref<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    entity: &EntityRef,
) -> StoreResult<Vec<EntityRef>> {
    let rows = sql::<DB>(
        "SELECT a.other_system, a.other_id FROM utility_cross_references a \
         JOIN utility_cross_references b ON b.account_id = a.account_id \
         AND b.system = a.other_system AND b.entity_id = a.other_id \
         AND b.other_system = a.system AND b.other_id = a.entity_id \
         WHERE a.account_id = $1 AND a.system = $2 AND a.entity_id = $3 \
         ORDER BY a.other_system",
    )
    .bind(account_id)
    .bind(&entity.system)
    .bind(&entity.id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EntityRef {
                system: row.text("other_system")?,
                id: row.text("other_id")?,
            })
        })
        .collect()
}

/// Unlinks `entity` from its records in `other_system`, or in every system; how many pairs.
pub(crate) async fn delete_xref<DB: Backend>(
    pool: &Pool<DB>,
    account_id: &str,
    entity: &EntityRef,
    other_system: Option<&str>,
) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    let links = sql::<DB>(
        "DELETE FROM utility_cross_references \
         WHERE account_id = $1 AND system = $2 AND entity_id = $3 \
         AND ($4 IS NULL OR other_system = $4) RETURNING other_system, other_id",
    )
    .bind(account_id)
    .bind(&entity.system)
    .bind(&entity.id)
    .bind(other_system)
    .fetch_all(&mut tx)
    .await?;
    for link in &links {
        sql::<DB>(
            "DELETE FROM utility_cross_references \
             WHERE account_id = $1 AND system = $2 AND entity_id = $3 AND other_system = $4 \
             AND other_id = $5",
        )
        .bind(account_id)
        .bind(link.text("other_system")?)
        .bind(link.text("other_id")?)
        .bind(&entity.system)
        .bind(&entity.id)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(links.len() as u64)
}
