//! Entity cross references: which record of one system is which record of another (a HubSpot
//! contact and the CRM's customer), per account. A record has at most one counterpart per
//! other system: linking it again replaces the earlier link, on both sides.

use serde_json::{Value, json};
use spokes_core::EntityRef;
use spokes_core::clock::UnixMillis;
use spokes_store::Store;

use super::{Params, UtilityError, UtilityScope, identifier};

fn entity(params: &Params<'_>, system: &str, id: &str) -> Result<EntityRef, UtilityError> {
    Ok(EntityRef {
        system: identifier(params, system)?,
        id: identifier(params, id)?,
    })
}

fn other_system(params: &Params<'_>) -> Result<Option<String>, UtilityError> {
    params
        .opt("other_system")
        .map(|_| identifier(params, "other_system"))
        .transpose()
}

pub(crate) async fn set(
    store: &dyn Store,
    scope: &UtilityScope,
    params: &Params<'_>,
    now: UnixMillis,
) -> Result<Value, UtilityError> {
    let left = entity(params, "left_system", "left_id")?;
    let right = entity(params, "right_system", "right_id")?;
    if left == right {
        return Err(UtilityError::invalid("a record cannot be linked to itself"));
    }
    store
        .put_cross_reference(&scope.account_id, &left, &right, now)
        .await?;
    Ok(json!({"left": left, "right": right}))
}

pub(crate) async fn lookup(
    store: &dyn Store,
    scope: &UtilityScope,
    params: &Params<'_>,
) -> Result<Value, UtilityError> {
    let entity = entity(params, "system", "id")?;
    let other = other_system(params)?;
    let matches: Vec<EntityRef> = store
        .lookup_cross_references(&scope.account_id, &entity)
        .await?
        .into_iter()
        .filter(|m| other.as_ref().is_none_or(|s| *s == m.system))
        .collect();
    if matches.is_empty() {
        return Ok(json!({"matches": null}));
    }
    Ok(json!({"matches": matches}))
}

pub(crate) async fn delete(
    store: &dyn Store,
    scope: &UtilityScope,
    params: &Params<'_>,
) -> Result<Value, UtilityError> {
    let entity = entity(params, "system", "id")?;
    let other = other_system(params)?;
    let deleted = store
        .delete_cross_references(&scope.account_id, &entity, other.as_deref())
        .await?;
    Ok(json!({"deleted": deleted}))
}
