//! `spokes keys rotate-master`: re-seal every secret with a new master key, then retire the
//! old one.
//!
//! With the key file (`data_dir/master.key`) the steps are:
//!
//! 1. write a new key at the front of the file, the old key(s) after it (atomically). From
//!    here on running servers seal with the new key (they check the file before sealing) and
//!    open values under it (an unknown key id makes them re-read the file);
//! 2. re-seal every value not under the new key, in batches of one transaction each;
//! 3. wait until `settle` has passed since step 1, then make a final re-check pass, for a
//!    server that read the old file just before step 1 and saved a value sealed with the old
//!    key afterwards;
//! 4. record the new key's fingerprint in `meta` — in the same statement that checks no value
//!    under another key is left — and rewrite the file with only the new key.
//!
//! The progress is recorded by the data itself: the key file's first key is the target, the
//! fingerprint in `meta` is the key of the last completed rotation, and each batch commits
//! the values it re-sealed. A run interrupted anywhere is continued by running the command
//! again: a first key that `meta` does not match yet means a rotation is under way, and no
//! further key is added.
//!
//! The race that remains: a process that checked the key file before step 1 and whose write
//! reaches the database only after step 4 leaves a value under the retired key. Running
//! servers keep every key they loaded in memory, so it still opens until they restart; the
//! settle time makes it unlikely. With the key in `SPOKES_MASTER_KEY` the command cannot write
//! the key: the operator lists the new key first, restarts, and the command re-seals.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use spokes_store::{KeyRing, Store};

use crate::MasterKeySource;

pub(crate) struct Options {
    pub database_url: String,
    pub batch_size: u32,
    pub settle: Duration,
}

/// Passes after the first one, for values written under an old key meanwhile, before giving up.
const MAX_EXTRA_PASSES: u32 = 5;

pub(crate) async fn run(source: MasterKeySource, options: &Options) -> anyhow::Result<()> {
    match source {
        MasterKeySource::File(path) => rotate_file(&path, options).await,
        MasterKeySource::Env { keys, variable } => {
            reseal_to_first_env_key(keys, variable, options).await
        }
    }
}

async fn rotate_file(path: &std::path::Path, options: &Options) -> anyhow::Result<()> {
    if !path.exists() {
        bail!(
            "there is no master key file at {}; nothing was sealed with one yet (`spokes \
             serve` creates it on first start)",
            path.display()
        );
    }
    let _lock = KeyRing::from_file(path)?.lock_key_file()?;
    // Read after taking the lock: an earlier run may have changed the file.
    let keys = KeyRing::from_file(path)?;
    let store = spokes_store::connect(&options.database_url, keys.clone()).await?;
    let stored = store.key_fingerprint().await?.unwrap_or_default();
    let file_ids = keys.key_file_ids()?;

    if keys.recognise_fingerprint(&stored) == Some(keys.fingerprint()) {
        if file_ids.len() == 1 {
            let old = keys.key_id();
            let new = keys.add_new_key_to_file()?;
            println!(
                "generated a new master key {new}; {} now holds it first and the old key {old} \
                 after it, so running servers seal with the new key from now on",
                path.display()
            );
        } else {
            // Recorded, but the old keys were not retired yet: the last step of a rotation.
            println!(
                "the database is recorded under {}'s first key {} already; finishing that \
                 rotation (the file still holds {})",
                path.display(),
                keys.key_id(),
                file_ids[1..].join(", ")
            );
        }
    } else {
        let from = keys
            .key_id_of_fingerprint(&stored)
            .unwrap_or_else(|| "?".to_owned());
        println!(
            "continuing the rotation from key {from} to key {} that an earlier run started \
             ({} holds the new key first)",
            keys.key_id(),
            path.display()
        );
    }

    // Measured from now: for a continued rotation the file changed earlier still.
    let settled_at = Instant::now() + options.settle;
    let resealed = reseal_everything(store.as_ref(), &keys, options, Some(settled_at)).await?;
    let retired = keys.retire_old_keys_in_file()?;
    println!(
        "retired the old key(s) {}: {} holds only the new key {}; back it up now (copies of \
         the old key file are no longer needed)",
        if retired.is_empty() {
            "(none left)".to_owned()
        } else {
            retired.join(", ")
        },
        path.display(),
        keys.key_id()
    );
    println!(
        "rotated {resealed} sealed value(s) to master key {}",
        keys.key_id()
    );
    Ok(())
}

async fn reseal_to_first_env_key(
    keys: KeyRing,
    variable: &str,
    options: &Options,
) -> anyhow::Result<()> {
    let ids = keys.key_ids();
    if ids.len() < 2 {
        bail!(
            "the master key comes from {variable}, which rotate-master cannot rewrite. To rotate \
             it:\n  1. generate a new key: openssl rand -hex 32\n  2. give every Spokes process \
             {variable}=NEW,OLD (the new key first, a comma between) and restart them: they \
             seal with NEW and still open OLD\n  3. run `spokes keys rotate-master` with the \
             same {variable}: it re-seals every value with NEW\n  4. set {variable}=NEW alone \
             and restart"
        );
    }
    println!(
        "the master key comes from {variable}, which rotate-master cannot rewrite: re-sealing \
         every value with its first key {}",
        ids[0]
    );
    let store = spokes_store::connect(&options.database_url, keys.clone()).await?;
    // Every process was restarted with the new key first (step 2), so none seals with an old
    // one: no settle time.
    let resealed = reseal_everything(store.as_ref(), &keys, options, None).await?;
    println!(
        "rotated {resealed} sealed value(s) to master key {}; now set {variable} to that key \
         alone (drop {}) and restart Spokes",
        ids[0],
        ids[1..].join(", ")
    );
    Ok(())
}

/// Re-seals every value not under the active key, waits for `settled_at`, re-checks and
/// records the active key in `meta`. Returns how many values it re-sealed.
async fn reseal_everything(
    store: &dyn Store,
    keys: &KeyRing,
    options: &Options,
    settled_at: Option<Instant>,
) -> anyhow::Result<u64> {
    let counts = store.count_sealed_by_key_id().await?;
    let (todo, total) = under_other_keys(&counts, &keys.key_id());
    println!(
        "{todo} of {total} sealed value(s) are under another key than {}; re-sealing in \
         batches of {}",
        keys.key_id(),
        options.batch_size
    );
    let mut resealed = one_pass(store, options.batch_size, todo).await?;
    if let Some(at) = settled_at {
        let wait = at.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            println!(
                "waiting {:.1}s for processes that read the old key file just before it changed",
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        }
        // The final re-check: anything sealed with the old key since the first pass.
        resealed += one_pass(store, options.batch_size, 0).await?;
    }
    for _ in 0..MAX_EXTRA_PASSES {
        if store.complete_key_rotation().await? {
            println!(
                "recorded master key {} as the key of every sealed value",
                keys.key_id()
            );
            return Ok(resealed);
        }
        let counts = store.count_sealed_by_key_id().await?;
        let (left, _) = under_other_keys(&counts, &keys.key_id());
        println!("{left} value(s) were sealed under an old key meanwhile; another pass");
        resealed += one_pass(store, options.batch_size, left).await?;
    }
    bail!(
        "values keep being sealed under an old master key; is a Spokes process running with an \
         old key in SPOKES_MASTER_KEY? Nothing was retired; fix that and run the command again"
    )
}

/// (values under another key than `active`, all values).
fn under_other_keys(counts: &BTreeMap<String, u64>, active: &str) -> (u64, u64) {
    let total = counts.values().sum();
    let other = counts
        .iter()
        .filter(|(id, _)| id.as_str() != active)
        .map(|(_, n)| n)
        .sum();
    (other, total)
}

/// One pass over every sealed column; prints a line per batch that changed something.
async fn one_pass(store: &dyn Store, batch_size: u32, expected: u64) -> anyhow::Result<u64> {
    let (mut done, mut cursor) = (0u64, None);
    loop {
        let place = cursor.as_ref().map_or(
            "connector_setups.client_secret_sealed",
            |c: &spokes_store::ResealCursor| c.place(),
        );
        let batch = store
            .reseal_batch(cursor.as_ref(), batch_size)
            .await
            .with_context(|| {
                format!("re-sealing {place}; nothing was retired, run the command again once fixed")
            })?;
        done += batch.resealed;
        if batch.resealed > 0 || batch.skipped > 0 {
            let of = if expected > 0 {
                format!("/{expected}")
            } else {
                String::new()
            };
            let skipped = if batch.skipped > 0 {
                format!(", {} changed meanwhile (next pass)", batch.skipped)
            } else {
                String::new()
            };
            println!("re-sealed {done}{of}{skipped}");
        }
        match batch.next {
            Some(next) => cursor = Some(next),
            None => return Ok(done),
        }
    }
}
