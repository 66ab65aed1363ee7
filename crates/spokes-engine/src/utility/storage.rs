//! Data storage: key/value and key/object stores, one per cycle and one per account, with the
//! seed platform's limits (keys of at most 128 characters, values of at most 1,024, at most
//! 1,000,000 items per store).

use serde_json::{Map, Value, json};
use spokes_core::clock::UnixMillis;
use spokes_core::{StorageKind, StoragePut, StorageRef, StorageScope};
use spokes_store::Store;

use super::{Params, UtilityError, UtilityScope, identifier};

/// Items per store.
pub(crate) const MAX_ITEMS: u64 = 1_000_000;
/// Characters of a value, or of an object's JSON text.
const MAX_VALUE_CHARS: usize = 1024;
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

pub(crate) async fn call(
    store: &dyn Store,
    scope: &UtilityScope,
    method: &str,
    params: &Params<'_>,
    max_items: u64,
    now: UnixMillis,
) -> Result<Value, UtilityError> {
    let kind = if method.ends_with("_object") || method.ends_with("_objects") {
        StorageKind::Objects
    } else {
        StorageKind::Values
    };
    let target = StorageRef {
        account_id: scope.account_id.clone(),
        scope: match params.opt_str("scope")?.unwrap_or("cycle") {
            "cycle" => StorageScope::Cycle(scope.cycle_id.clone()),
            "account" => StorageScope::Account,
            other => {
                return Err(UtilityError::invalid(format!(
                    "`scope` must be cycle or account, not {other:?}"
                )));
            }
        },
        kind,
    };
    if matches!(target.scope, StorageScope::Cycle(ref id) if id.is_empty()) {
        return Err(UtilityError::invalid(
            "the call has no cycle: use the account's store (`scope`: account)",
        ));
    }
    if method == "storage.list_objects" {
        return list(store, &target, params).await;
    }
    let key = identifier(params, "key")?;
    match method {
        "storage.set" => {
            let value = params.text("value")?;
            put(store, &target, key, value, max_items, now).await
        }
        "storage.set_object" => {
            let object = params
                .opt_object("object")?
                .ok_or_else(|| UtilityError::invalid("`object` is required"))?;
            let text = Value::Object(object.clone()).to_string();
            put(store, &target, key, text, max_items, now).await
        }
        "storage.get" => {
            let value = store.get_storage_item(&target, &key).await?;
            Ok(json!({"key": key, "value": value}))
        }
        "storage.get_object" => {
            let object = match store.get_storage_item(&target, &key).await? {
                Some(text) => parse_object(&text)?,
                None => Value::Null,
            };
            Ok(json!({"key": key, "object": object}))
        }
        // storage.delete, storage.delete_object
        _ => {
            let deleted = store.delete_storage_item(&target, &key).await?;
            Ok(json!({"key": key, "deleted": deleted}))
        }
    }
}

async fn put(
    store: &dyn Store,
    target: &StorageRef,
    key: String,
    value: String,
    max_items: u64,
    now: UnixMillis,
) -> Result<Value, UtilityError> {
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        let what = match target.kind {
            StorageKind::Values => "the value",
            StorageKind::Objects => "the object's JSON text",
        };
        return Err(UtilityError::invalid(format!(
            "{what} has {chars} characters; at most {MAX_VALUE_CHARS} are stored"
        )));
    }
    match store
        .put_storage_item(target, &key, &value, max_items, now)
        .await?
    {
        StoragePut::Created => Ok(json!({"key": key, "created": true})),
        StoragePut::Updated => Ok(json!({"key": key, "created": false})),
        StoragePut::LimitReached => Err(UtilityError::new(
            "limit_reached",
            format!(
                "the store holds its limit of {max_items} items: delete some before adding \
                 new keys"
            ),
            false,
        )),
    }
}

async fn list(
    store: &dyn Store,
    target: &StorageRef,
    params: &Params<'_>,
) -> Result<Value, UtilityError> {
    let limit = params.opt_u64("limit")?.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(UtilityError::invalid(format!(
            "`limit` must be 1 to {MAX_PAGE}"
        )));
    }
    let items = store
        .list_storage_items(
            target,
            params.opt_str("prefix")?,
            params.opt_str("after")?,
            limit as u32,
        )
        .await?;
    let next_after = match items.last() {
        Some(last) if items.len() as u64 == limit => Value::String(last.key.clone()),
        _ => Value::Null,
    };
    let items = items
        .into_iter()
        .map(|item| {
            let mut entry = Map::new();
            entry.insert("object".to_owned(), parse_object(&item.value)?);
            entry.insert("key".to_owned(), Value::String(item.key));
            Ok(Value::Object(entry))
        })
        .collect::<Result<Vec<_>, UtilityError>>()?;
    Ok(json!({"items": items, "next_after": next_after}))
}

fn parse_object(text: &str) -> Result<Value, UtilityError> {
    serde_json::from_str(text).map_err(|e| {
        UtilityError::new(
            "store_error",
            format!("a stored object is not JSON: {e}"),
            false,
        )
    })
}
