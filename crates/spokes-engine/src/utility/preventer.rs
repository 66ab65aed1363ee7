//! The cross-update preventer: stops A→B→A loops in a two-way sync.
//!
//! Cycle A→B writes record R in B, then calls `preventer.mark(system: B, record_id: R)`. The
//! write makes B send a change event for R; cycle B→A, on that event, calls
//! `preventer.check(system: B, record_id: R)`, hears `recently_written: true` and skips it.
//!
//! **A check uses the mark up** (by default). One write causes one echo, and once it is
//! skipped, the next change of R in B is a person's edit that must be synced: a mark that
//! stayed for its whole `ttl_minutes` would silently drop such edits. The TTL only bounds a
//! mark whose echo never came (the write changed nothing, the event was lost). A target that
//! sends several events for one write (e.g. one per changed property) can be checked with
//! `consume: false`, and then relies on a short `ttl_minutes`. Marks are per account (the two
//! cycles of a sync are different cycles) and keyed by system and record id; marking a record
//! again renews its mark. The check is atomic: of two racing checks only one sees the mark.

use serde_json::{Value, json};
use spokes_core::clock::UnixMillis;
use spokes_core::{PreventerMark, format_rfc3339};
use spokes_store::Store;

use super::{Params, UtilityError, UtilityScope, identifier};

const DEFAULT_TTL_MINUTES: u64 = 60;
/// A week: longer than any sync's echo takes to arrive.
const MAX_TTL_MINUTES: u64 = 7 * 24 * 60;

pub(crate) async fn mark(
    store: &dyn Store,
    scope: &UtilityScope,
    params: &Params<'_>,
    now: UnixMillis,
) -> Result<Value, UtilityError> {
    let system = identifier(params, "system")?;
    let record_id = identifier(params, "record_id")?;
    let ttl = params
        .opt_u64("ttl_minutes")?
        .unwrap_or(DEFAULT_TTL_MINUTES);
    if !(1..=MAX_TTL_MINUTES).contains(&ttl) {
        return Err(UtilityError::invalid(format!(
            "`ttl_minutes` must be 1 to {MAX_TTL_MINUTES}"
        )));
    }
    let expires_at = now + ttl as i64 * 60_000;
    store
        .put_preventer_mark(&PreventerMark {
            account_id: scope.account_id.clone(),
            system: system.clone(),
            record_id: record_id.clone(),
            cycle_id: scope.cycle_id.clone(),
            expires_at,
            created_at: now,
        })
        .await?;
    Ok(json!({
        "system": system,
        "record_id": record_id,
        "expires_at": format_rfc3339(expires_at),
    }))
}

pub(crate) async fn check(
    store: &dyn Store,
    scope: &UtilityScope,
    params: &Params<'_>,
    now: UnixMillis,
) -> Result<Value, UtilityError> {
    let system = identifier(params, "system")?;
    let record_id = identifier(params, "record_id")?;
    let consume = params.opt_bool("consume")?.unwrap_or(true);
    let recently_written = store
        .check_preventer_mark(&scope.account_id, &system, &record_id, now, consume)
        .await?;
    Ok(json!({"recently_written": recently_written}))
}
