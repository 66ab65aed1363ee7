use spokes_core::ExposeSecret;
use std::collections::BTreeMap;

use spokes_core::{ConnectorSetup, InstallationStatus, OAuthState, Secret};
use spokes_store::{AuthState, StoreError};

use crate::support::{Harness, T0, contains, installation, portal, tokens};

const CLIENT_SECRET: &str = "cs-PLAINTEXT-7f3a9d1e-client-secret";
const ACCESS: &str = "at-PLAINTEXT-CiQ4YjM2-access-token";
const REFRESH: &str = "rt-PLAINTEXT-na1-5c2e-refresh-token";
const VERIFIER: &str = "cv-PLAINTEXT-dBjftJeZ4CVP-verifier";
const SECRETS: [&str; 4] = [CLIENT_SECRET, ACCESS, REFRESH, VERIFIER];

fn setup(client_id: &str, secret: &str) -> ConnectorSetup {
    ConnectorSetup {
        connector: "hubspot".to_owned(),
        client_id: client_id.to_owned(),
        client_secret: Secret::from(secret),
        properties: BTreeMap::from([
            ("Scopes".to_owned(), "contacts".to_owned()),
            ("OptionalScopes".to_owned(), "content reports".to_owned()),
        ]),
        updated_at: T0,
    }
}

/// Stores one of each secret through the store.
async fn store_secrets(h: &Harness) {
    h.seed().await;
    h.store
        .put_connector_setup(&setup("client-1", CLIENT_SECRET))
        .await
        .unwrap();
    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal(1)),
        last_error: None,
        tokens: Some(tokens(ACCESS, REFRESH, T0 + 1_800_000)),
    };
    assert!(
        h.store
            .save_auth_state("inst_1", &state, T0, None)
            .await
            .unwrap()
    );
    h.store
        .create_oauth_state(&OAuthState {
            state_hash: "state-1".to_owned(),
            installation_id: "inst_1".to_owned(),
            code_verifier: Secret::from(VERIFIER),
            return_url: None,
            created_at: T0,
            expires_at: T0 + 600_000,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn connector_setup_round_trips_and_upserts() {
    let h = Harness::new().await;
    let store = &h.store;
    assert!(
        store
            .get_connector_setup("hubspot")
            .await
            .unwrap()
            .is_none()
    );
    store
        .put_connector_setup(&setup("client-1", "secret-1"))
        .await
        .unwrap();
    let got = store.get_connector_setup("hubspot").await.unwrap().unwrap();
    assert_eq!(got.client_id, "client-1");
    assert_eq!(got.client_secret.expose_secret(), "secret-1");
    assert_eq!(got.properties, setup("x", "y").properties);
    assert_eq!(got.updated_at, T0);

    let mut changed = setup("client-2", "secret-2");
    changed.properties.clear();
    changed.updated_at = T0 + 1;
    store.put_connector_setup(&changed).await.unwrap();
    let got = store.get_connector_setup("hubspot").await.unwrap().unwrap();
    assert_eq!(got.client_id, "client-2");
    assert_eq!(got.client_secret.expose_secret(), "secret-2");
    assert!(got.properties.is_empty());
    assert_eq!(got.updated_at, T0 + 1);
    assert!(
        store
            .get_connector_setup("webhook")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn secrets_are_sealed_in_their_columns() {
    let h = Harness::new().await;
    store_secrets(&h).await;
    let raw = h.raw().await;
    let columns = [
        (
            "SELECT client_secret_sealed FROM connector_setups WHERE connector = $1",
            "hubspot",
            CLIENT_SECRET,
        ),
        (
            "SELECT access_token_sealed FROM installations WHERE id = $1",
            "inst_1",
            ACCESS,
        ),
        (
            "SELECT refresh_token_sealed FROM installations WHERE id = $1",
            "inst_1",
            REFRESH,
        ),
        (
            "SELECT code_verifier_sealed FROM oauth_states WHERE state_hash = $1",
            "state-1",
            VERIFIER,
        ),
    ];
    for (sql, id, plaintext) in columns {
        let sealed = raw.bytes(sql, id).await.expect(sql);
        assert_eq!(sealed[0], 1, "format version in {sql}");
        assert_eq!(
            &sealed[2..2 + usize::from(sealed[1])],
            h.keys.key_id().as_bytes()
        );
        assert!(sealed.len() >= 2 + 8 + 12 + plaintext.len() + 16);
        assert!(!contains(&sealed, plaintext.as_bytes()), "{sql}");
    }

    if !h.is_sqlite() {
        for table in ["connector_setups", "installations", "oauth_states", "meta"] {
            for row in raw.pg_rows_as_text(table).await {
                for secret in SECRETS {
                    assert!(!row.contains(secret), "{table}: {row}");
                    assert!(
                        !row.contains(&hex::encode(secret.as_bytes())),
                        "{table}: {row}"
                    );
                }
            }
        }
    }
    raw.close().await;

    // The store still opens them.
    let setup = h
        .store
        .get_connector_setup("hubspot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(setup.client_secret.expose_secret(), CLIENT_SECRET);
    let got = h.store.get_tokens("inst_1").await.unwrap().unwrap();
    assert_eq!(
        (
            got.access_token.expose_secret(),
            got.refresh_token.expose_secret()
        ),
        (ACCESS, REFRESH)
    );
}

#[tokio::test]
async fn sqlite_files_never_hold_a_plaintext_secret() {
    let h = Harness::new().await;
    if !h.is_sqlite() {
        return;
    }
    store_secrets(&h).await;
    // Also exercise a consume and an overwrite, so more pages get written.
    h.store
        .consume_oauth_state("state-1", T0 + 1)
        .await
        .unwrap()
        .unwrap();
    h.store
        .put_connector_setup(&setup("client-1", CLIENT_SECRET))
        .await
        .unwrap();

    let mut scanned = 0;
    for entry in std::fs::read_dir(h.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        for secret in SECRETS {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in {}",
                path.display()
            );
        }
    }
    let names: Vec<_> = std::fs::read_dir(h.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "spokes.db-wal"), "{names:?}");
    assert!(scanned > 0);
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_row_or_column_does_not_open() {
    let h = Harness::new().await;
    store_secrets(&h).await;
    h.store
        .create_installation(&installation("inst_2", "acme"))
        .await
        .unwrap();
    let state = AuthState {
        status: InstallationStatus::Authenticated,
        portal: Some(portal(2)),
        last_error: None,
        tokens: Some(tokens("access-2", "refresh-2", T0)),
    };
    h.store
        .save_auth_state("inst_2", &state, T0, None)
        .await
        .unwrap();

    let raw = h.raw().await;
    let access_1 = raw
        .bytes(
            "SELECT access_token_sealed FROM installations WHERE id = $1",
            "inst_1",
        )
        .await;
    // inst_1's access token pasted into inst_2's row.
    raw.exec_bytes(
        "UPDATE installations SET access_token_sealed = $1 WHERE id = $2",
        access_1.clone(),
        "inst_2",
    )
    .await;
    let err = h.store.get_tokens("inst_2").await.unwrap_err();
    assert!(matches!(err, StoreError::Sealing(_)), "{err:?}");
    assert!(!err.to_string().contains(ACCESS), "{err}");

    // inst_1's access token pasted into its own refresh column.
    raw.exec_bytes(
        "UPDATE installations SET refresh_token_sealed = $1 WHERE id = $2",
        access_1,
        "inst_1",
    )
    .await;
    let err = h.store.get_tokens("inst_1").await.unwrap_err();
    assert!(matches!(err, StoreError::Sealing(_)), "{err:?}");
    raw.close().await;
}
