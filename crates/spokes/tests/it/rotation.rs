//! `spokes keys rotate-master` while `spokes serve` runs on the same data dir.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use spokes_store::testing::{TempDir, test_database_url};
use spokes_store::{KeyRing, StoreError};

use super::{http, json_of, serve_sandbox, spokes, walk_consent};

const INSTALLATIONS: usize = 3;

/// The partner's side of one running sandbox server.
struct Partner {
    http: reqwest::Client,
    base: String,
    sim: String,
    key: String,
}

impl Partner {
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        json_of(response).await
    }

    async fn account_get(&self, installation: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/accounts/acme/connectors/{installation}/methods/account.get"),
            json!({}),
        )
        .await
    }

    /// A new installation, connected to the sandbox portal `Acme Inc` the way a browser does
    /// it: the auth link's page, its button, HubSpot's consent, the callback.
    async fn connect_installation(&self) -> String {
        let (status, installation) = self
            .post(
                "/v1/accounts/acme/connectors",
                json!({"connector": "hubspot"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{installation}");
        let id = installation["id"].as_str().expect("id").to_string();
        let (_, link) = self
            .post(
                &format!("/v1/accounts/acme/connectors/{id}/auth-link"),
                json!({}),
            )
            .await;
        walk_consent(&self.http, &self.sim, link["url"].as_str().expect("url")).await;
        id
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_master_while_the_server_runs() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    let sandbox = serve_sandbox(dir.path(), &database_url);
    let server = sandbox.server;
    let partner = Arc::new(Partner {
        http: http(),
        base: sandbox.base,
        sim: sandbox.sim,
        key: sandbox.key,
    });
    // Access tokens that live one second: from then on every call refreshes first (the
    // refresh margin is 300 s), so the server opens and seals tokens all through the rotation.
    let patched = partner
        .http
        .patch(format!("{}/_sim/config", partner.sim))
        .json(&json!({"access_token_lifetime_secs": 1, "rate_limit_per_10s": 100_000}))
        .send()
        .await
        .expect("sim config");
    assert!(patched.status().is_success());
    let (status, _) = partner
        .post("/v1/accounts", json!({"id": "acme", "name": "Acme Inc"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut installations = Vec::new();
    for _ in 0..INSTALLATIONS {
        installations.push(partner.connect_installation().await);
    }

    let key_file = dir.path().join("master.key");
    let old_keys = KeyRing::from_encoded(&std::fs::read_to_string(&key_file).expect("key file"))
        .expect("old key");
    let old_id = old_keys.key_id();

    // Calls (each a token refresh) keep going while rotate-master runs.
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (partner, stop, installations) = (partner.clone(), stop.clone(), installations.clone());
        async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for id in &installations {
                    let (status, body) = partner.account_get(id).await;
                    answers.push((status, body));
                }
                // Paced, so the machine's two cores also run the rotation.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            answers
        }
    });
    let rotated = tokio::task::spawn_blocking({
        let (dir, url) = (dir.path().to_path_buf(), database_url.clone());
        move || {
            spokes(
                &dir,
                &url,
                &[
                    "keys",
                    "rotate-master",
                    "--batch-size",
                    "3",
                    "--settle-secs",
                    "1",
                ],
            )
            .output()
            .expect("rotate-master")
        }
    })
    .await
    .expect("join");
    stop.store(true, Ordering::Relaxed);
    let answers = load.await.expect("load");

    let stdout = String::from_utf8_lossy(&rotated.stdout);
    eprintln!("rotate-master said:\n{stdout}");
    assert!(
        rotated.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    for expected in [
        "generated a new master key",
        "re-sealing in batches of 3",
        "re-sealed ",
        "waiting ",
        "recorded master key",
        "retired the old key(s)",
        "rotated ",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing");
    }
    eprintln!("{} calls answered during the rotation", answers.len());
    assert!(!answers.is_empty());
    for (status, body) in &answers {
        assert_eq!(
            *status,
            StatusCode::OK,
            "a call during the rotation: {body}"
        );
    }

    // The key file holds only the new key.
    let text = std::fs::read_to_string(&key_file).expect("key file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "only the new key is left");
    let new_keys = KeyRing::from_encoded(lines[0]).expect("new key");
    let new_id = new_keys.key_id();
    assert_ne!(new_id, old_id);
    assert!(stdout.contains(&format!("to master key {new_id}")));

    // Every token still opens through the running server, and an expired one refreshes: the
    // server opens the refresh token re-sealed by rotate-master and seals the new tokens.
    for id in &installations {
        let (status, body) = partner.account_get(id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["portalName"], "Acme Inc");
    }

    // No value is left under the old key id; the old key alone no longer opens the database.
    let store = spokes_store::connect(&database_url, new_keys)
        .await
        .expect("the new key alone opens the database");
    let counts = store.count_sealed_by_key_id().await.expect("counts");
    let total: u64 = counts.values().sum();
    assert_eq!(counts, BTreeMap::from([(new_id.clone(), total)]));
    // The client secret, two tokens per installation, one PKCE verifier per consent.
    assert_eq!(total, 1 + 3 * INSTALLATIONS as u64);
    let err = spokes_store::connect(&database_url, old_keys)
        .await
        .err()
        .expect("the old key is refused");
    assert!(matches!(err, StoreError::WrongMasterKey { .. }), "{err:?}");
    drop(server);
}

/// A data dir with a connector setup and one connected installation, sealed with the key file's
/// key; returns that key.
async fn sealed_data(dir: &std::path::Path, database_url: &str) -> KeyRing {
    let first = spokes(dir, database_url, &["keys", "list"])
        .output()
        .expect("keys list");
    assert!(first.status.success());
    let keys = KeyRing::from_file(&dir.join("master.key")).expect("key file");
    let store = spokes_store::connect(database_url, keys.clone())
        .await
        .expect("connect");
    store
        .put_connector_setup(&spokes_core::ConnectorSetup {
            connector: "hubspot".into(),
            client_id: "client".into(),
            client_secret: spokes_core::Secret::from("client-secret"),
            properties: BTreeMap::new(),
            updated_at: 0,
        })
        .await
        .expect("setup");
    keys
}

fn key_hex(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

#[tokio::test]
async fn an_interrupted_rotation_is_continued_not_restarted() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    let old = sealed_data(dir.path(), &database_url).await;
    let key_file = dir.path().join("master.key");
    let old_hex = std::fs::read_to_string(&key_file).expect("key file");
    // Where a run that crashed after writing the new key left things.
    std::fs::write(&key_file, format!("{}\n{old_hex}", key_hex(0x42))).expect("write");
    let new_id = KeyRing::from_encoded(&key_hex(0x42)).expect("key").key_id();

    let output = spokes(
        dir.path(),
        &database_url,
        &["keys", "rotate-master", "--settle-secs", "0"],
    )
    .output()
    .expect("rotate-master");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "continuing the rotation from key {} to key {new_id}",
            old.key_id()
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("generated a new master key"), "{stdout}");
    assert!(stdout.contains(&format!("rotated 1 sealed value(s) to master key {new_id}")));
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("key file"),
        format!("{}\n", key_hex(0x42)),
        "the key of the interrupted run, alone"
    );
    let store = spokes_store::connect(&database_url, KeyRing::from_file(&key_file).unwrap())
        .await
        .expect("new key");
    assert_eq!(
        store.count_sealed_by_key_id().await.unwrap(),
        BTreeMap::from([(new_id, 1)])
    );
}

#[tokio::test]
async fn with_the_key_in_the_environment_rotation_reseals_to_the_first_key_given() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    let first = spokes(dir.path(), &database_url, &["keys", "list"])
        .env("SPOKES_MASTER_KEY", key_hex(0x11))
        .output()
        .expect("keys list");
    assert!(first.status.success());

    // One key: rotate-master cannot write a new one, and says what to do instead.
    let alone = spokes(dir.path(), &database_url, &["keys", "rotate-master"])
        .env("SPOKES_MASTER_KEY", key_hex(0x11))
        .output()
        .expect("rotate-master");
    assert!(!alone.status.success());
    let stderr = String::from_utf8_lossy(&alone.stderr);
    assert!(
        stderr.contains("cannot rewrite") && stderr.contains("SPOKES_MASTER_KEY=NEW,OLD"),
        "{stderr}"
    );
    assert!(!stderr.contains(&key_hex(0x11)));
    assert!(!dir.path().join("master.key").exists());

    // New key first, old after: everything is re-sealed with the new one.
    let both = format!("{},{}", key_hex(0x22), key_hex(0x11));
    let rotated = spokes(dir.path(), &database_url, &["keys", "rotate-master"])
        .env("SPOKES_MASTER_KEY", &both)
        .output()
        .expect("rotate-master");
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert!(rotated.status.success(), "{stdout}");
    let new_id = KeyRing::from_encoded(&key_hex(0x22)).unwrap().key_id();
    assert!(
        stdout.contains("cannot rewrite") && stdout.contains(&format!("first key {new_id}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("set SPOKES_MASTER_KEY to that key alone"),
        "{stdout}"
    );
    // The new key alone now opens the database; the old one alone does not.
    let new_alone = spokes(dir.path(), &database_url, &["keys", "list"])
        .env("SPOKES_MASTER_KEY", key_hex(0x22))
        .output()
        .expect("keys list");
    assert!(new_alone.status.success());
    let old_alone = spokes(dir.path(), &database_url, &["keys", "list"])
        .env("SPOKES_MASTER_KEY", key_hex(0x11))
        .output()
        .expect("keys list");
    assert!(!old_alone.status.success());
}
