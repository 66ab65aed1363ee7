use std::sync::Arc;

use spokes_store::Store;

use crate::support::{Harness, T0};

#[tokio::test]
async fn lease_is_exclusive_until_released_or_expired() {
    let h = Harness::new().await;
    let store = &h.store;
    h.seed().await;
    let until = T0 + 30_000;

    assert!(
        store
            .try_acquire_refresh_lease("inst_1", "a", T0, until)
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_acquire_refresh_lease("inst_1", "b", T0 + 1, until + 1)
            .await
            .unwrap()
    );
    // Not even the holder takes it twice: a lease is taken once.
    assert!(
        !store
            .try_acquire_refresh_lease("inst_1", "a", T0 + 1, until + 1)
            .await
            .unwrap()
    );
    // At exactly `until` the lease still holds (`lease_until < now`).
    assert!(
        !store
            .try_acquire_refresh_lease("inst_1", "b", until, until + 30_000)
            .await
            .unwrap()
    );

    // Releasing someone else's lease does nothing.
    store.release_refresh_lease("inst_1", "b").await.unwrap();
    assert!(
        !store
            .try_acquire_refresh_lease("inst_1", "b", T0 + 2, until)
            .await
            .unwrap()
    );
    // The holder's release frees it.
    store.release_refresh_lease("inst_1", "a").await.unwrap();
    assert!(
        store
            .try_acquire_refresh_lease("inst_1", "b", T0 + 3, until)
            .await
            .unwrap()
    );

    // An expired lease is taken over; the old holder's release then does not free the new one.
    assert!(
        store
            .try_acquire_refresh_lease("inst_1", "c", until + 1, until + 30_000)
            .await
            .unwrap()
    );
    store.release_refresh_lease("inst_1", "b").await.unwrap();
    assert!(
        !store
            .try_acquire_refresh_lease("inst_1", "d", until + 2, until + 60_000)
            .await
            .unwrap()
    );

    assert!(
        !store
            .try_acquire_refresh_lease("nope", "a", T0, until)
            .await
            .unwrap()
    );
}

async fn race(stores: Vec<Arc<dyn Store>>, contenders: usize) -> usize {
    let mut tasks = Vec::new();
    for i in 0..contenders {
        let store = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            store
                .try_acquire_refresh_lease("inst_1", &format!("owner-{i}"), T0, T0 + 30_000)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap() {
            winners += 1;
        }
    }
    winners
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_twenty_racing_callers_wins() {
    let h = Harness::new().await;
    h.seed().await;
    assert_eq!(race(vec![h.store.clone()], 20).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_winner_across_two_separately_connected_stores() {
    let h = Harness::new().await;
    h.seed().await;
    let other = h.second_store().await;
    for round in 0..5 {
        let winners = race(vec![h.store.clone(), other.clone()], 20).await;
        assert_eq!(winners, 1, "round {round}");
        // Free it for the next round (whoever won).
        for i in 0..20 {
            h.store
                .release_refresh_lease("inst_1", &format!("owner-{i}"))
                .await
                .unwrap();
        }
    }
}

/// Set in the child processes of `exactly_one_winner_across_processes`: the database URL and
/// the master key (hex), one per line.
const CHILD_ENV: &str = "SPOKES_STORE_IT_LEASE_CHILD";

/// Runs in a child process: connects, says READY, waits for GO on stdin, races for the lease
/// and prints the outcome.
#[tokio::test]
#[ignore = "helper: run by exactly_one_winner_across_processes in child processes"]
async fn lease_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (url, key) = spec.split_once('\n').unwrap();
    let store = spokes_store::connect(url, spokes_store::KeyRing::from_encoded(key).unwrap())
        .await
        .unwrap();
    let owner = format!("pid-{}", std::process::id());
    println!("READY");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();
    let won = store
        .try_acquire_refresh_lease("inst_1", &owner, T0, T0 + 30_000)
        .await
        .unwrap();
    println!("RESULT {won}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_winner_across_processes() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let key: [u8; 32] = std::array::from_fn(|i| i as u8 ^ 0x5a);
    let h = Harness::with_keys(spokes_store::KeyRing::from_key(key)).await;
    h.seed().await;
    let spec = format!("{}\n{}", h.url, hex::encode(key));

    let outcomes = tokio::task::spawn_blocking(move || {
        let exe = std::env::current_exe().unwrap();
        let mut children = Vec::new();
        for _ in 0..4 {
            let mut child = Command::new(&exe)
                .args(["leases::lease_child", "--exact", "--ignored", "--nocapture"])
                .env(CHILD_ENV, &spec)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            // Wait until this child is connected.
            assert!(
                lines
                    .by_ref()
                    .map(Result::unwrap)
                    .any(|l| l.contains("READY")),
                "child exited before READY"
            );
            children.push((child, lines));
        }
        for (child, _) in &mut children {
            child.stdin.as_mut().unwrap().write_all(b"GO\n").unwrap();
        }
        let mut outcomes = Vec::new();
        for (mut child, mut lines) in children {
            let result = lines
                .by_ref()
                .map(Result::unwrap)
                .find_map(|l| l.split("RESULT ").nth(1).map(|r| r.trim().to_owned()))
                .expect("child printed no RESULT");
            assert!(child.wait().unwrap().success());
            outcomes.push(result == "true");
        }
        outcomes
    })
    .await
    .unwrap();

    assert_eq!(
        outcomes.iter().filter(|won| **won).count(),
        1,
        "{outcomes:?}"
    );
}
