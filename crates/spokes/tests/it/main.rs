//! The `spokes` binary as a user runs it: the sandbox quickstart, keys, config checks.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use spokes_store::testing::{TempDir, test_database_url};

mod mcp;
mod rotation;

const BIN: &str = env!("CARGO_BIN_EXE_spokes");

/// A running `spokes serve`, stopped when dropped.
struct Server {
    child: Child,
    lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spokes(data_dir: &Path, database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(database_url)
        .env_remove("SPOKES_MASTER_KEY")
        .env("RUST_LOG", "warn");
    command
}

/// Starts `spokes serve` and reads its output up to the line that says it is ready.
fn serve(data_dir: &Path, database_url: &str, extra: &[&str], ready: &str) -> Server {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start(spokes(data_dir, database_url, &args), ready)
}

/// `spokes serve --sandbox` on `data_dir`, with what it printed for the partner.
struct Sandbox {
    server: Server,
    base: String,
    sim: String,
    key: String,
}

fn serve_sandbox(data_dir: &Path, database_url: &str) -> Sandbox {
    let server = serve(
        data_dir,
        database_url,
        &["--sandbox", "--sandbox-listen", "127.0.0.1:0"],
        "Partner API key",
    );
    let printed = |marker| word_after(&server.lines, marker).to_string();
    Sandbox {
        base: printed("Spokes is running at "),
        sim: printed("with the HubSpot sandbox at "),
        key: printed("Partner API key (shown once): "),
        server,
    }
}

/// Runs `command` and reads its output up to the line containing `ready`.
fn start(mut command: Command, ready: &str) -> Server {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn spokes");
    // Owned by `Server` from here on, so the process is killed and waited for on every path.
    let mut server = Server {
        child,
        lines: Vec::new(),
    };
    let stdout = server.child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout).lines();
    while let Some(line) = reader.next() {
        let line = line.expect("line");
        let done = line.contains(ready);
        server.lines.push(line);
        if done {
            // Keep reading, so the process never writes into a closed pipe.
            std::thread::spawn(move || reader.for_each(drop));
            return server;
        }
    }
    panic!(
        "spokes stopped before it was ready:\n{}",
        server.lines.join("\n")
    );
}

fn http() -> reqwest::Client {
    spokes_core::http::build_client(Duration::from_secs(30))
}

fn word_after<'a>(lines: &'a [String], marker: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.split_once(marker).map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|w| w.trim_end_matches('.'))
        .unwrap_or_else(|| panic!("no `{marker}` in:\n{}", lines.join("\n")))
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sandbox_quickstart_connects_acme_inc() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    let Sandbox {
        server: _server,
        base,
        sim,
        key,
    } = serve_sandbox(dir.path(), &database_url);
    let http = http();
    let (id, walk) = connect_acme(&http, &base, &sim, &key).await;
    assert!(
        walk.link_page.contains("Acme Inc") && walk.link_page.contains("Continue to HubSpot"),
        "{}",
        walk.link_page
    );
    assert!(
        walk.authorize
            .starts_with(&format!("{sim}/oauth/authorize?"))
    );
    let finished = walk.finished;
    assert!(
        finished.contains(&format!("var targets=[\"{base}\"];")),
        "the sandbox's own origin hears the outcome: {finished}"
    );

    let (status, result) = json_of(
        http.post(format!(
            "{base}/v1/accounts/acme/connectors/{id}/methods/account.get"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("call"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["data"]["portalName"], "Acme Inc");
}

/// Account `acme` with a HubSpot installation connected to the sandbox's Acme Inc through
/// the browser flow; the installation's id and the walk.
async fn connect_acme(
    http: &reqwest::Client,
    base: &str,
    sim: &str,
    key: &str,
) -> (String, ConsentWalk) {
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let (status, _) = json_of(
        post("/v1/accounts", json!({"id": "acme", "name": "Acme Inc"}))
            .await
            .expect("account"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, installation) = json_of(
        post(
            "/v1/accounts/acme/connectors",
            json!({"connector": "hubspot"}),
        )
        .await
        .expect("install"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = installation["id"].as_str().expect("id").to_string();
    let (_, link) = json_of(
        post(
            &format!("/v1/accounts/acme/connectors/{id}/auth-link"),
            json!({}),
        )
        .await
        .expect("link"),
    )
    .await;

    // The browser: the link's page → its button → HubSpot's consent page → choose Acme Inc →
    // back to Spokes.
    let walk = walk_consent(http, sim, link["url"].as_str().expect("url")).await;
    (id, walk)
}

#[tokio::test]
async fn keys_create_works_while_the_server_runs() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    let server = serve(dir.path(), &database_url, &[], "Spokes is running at ");
    let base = word_after(&server.lines, "Spokes is running at ").to_string();

    let output = spokes(
        dir.path(),
        &database_url,
        &["keys", "create", "--name", "ci"],
    )
    .output()
    .expect("keys create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let key = stdout.lines().last().expect("a line").trim().to_string();
    assert!(
        key.starts_with("spk_") && !key.contains(' '),
        "the key alone on the last line: {stdout:?}"
    );

    let http = http();
    let accounts = http
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("accounts");
    assert_eq!(accounts.status(), StatusCode::OK);

    let listed = spokes(dir.path(), &database_url, &["keys", "list"])
        .output()
        .expect("list");
    let listed = String::from_utf8(listed.stdout).expect("utf-8");
    assert!(
        listed.contains("\tci\t") && !listed.contains(&key),
        "lists keys without the key itself: {listed}"
    );
    let id = listed
        .lines()
        .find(|l| l.contains("\tci\t"))
        .and_then(|l| l.split('\t').next())
        .expect("id");
    let revoked = spokes(dir.path(), &database_url, &["keys", "revoke", id])
        .output()
        .expect("revoke");
    assert!(revoked.status.success());
    let accounts = http
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("accounts");
    assert_eq!(accounts.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_create_sets_the_write_flags_and_keys_list_shows_them() {
    let dir = TempDir::new("spokes-cli");
    let database_url = test_database_url(dir.path()).await;
    for args in [
        &[
            "keys",
            "create",
            "--name",
            "agent",
            "--read-only",
            "--no-confirm",
        ][..],
        &["keys", "create", "--name", "plain"],
    ] {
        let output = spokes(dir.path(), &database_url, args)
            .output()
            .expect("keys create");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let listed = spokes(dir.path(), &database_url, &["keys", "list"])
        .output()
        .expect("keys list");
    let listed = String::from_utf8(listed.stdout).expect("utf-8");
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.contains(&format!("\t{name}\t")))
            .unwrap_or_else(|| panic!("no key {name}: {listed}"))
            .to_string()
    };
    assert!(
        line("agent").contains("\tread_only=true\tconfirm_writes=false\t"),
        "{listed}"
    );
    assert!(
        line("plain").contains("\tread_only=false\tconfirm_writes=true\t"),
        "{listed}"
    );
}

#[test]
fn config_check_reports_every_problem_and_fails() {
    let dir = TempDir::new("spokes-cli");
    let file = dir.path().join("spokes.toml");
    std::fs::write(&file, "[server]\nlisten = \"nowhere\"\ncolour = 1\n").expect("write");
    let output = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&file)
        .env("SPOKES_DATABSE__URL", "x")
        .output()
        .expect("config check");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "3 problem(s)",
        "server.colour",
        "SPOKES_DATABSE__URL",
        "server.listen `nowhere`",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
}

#[test]
fn a_different_master_key_stops_startup_with_advice() {
    let dir = TempDir::new("spokes-cli");
    let url = spokes_store::sqlite_url(&dir.path().join("spokes.db"));
    let first = spokes(dir.path(), &url, &["keys", "list"])
        .output()
        .expect("first");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let other_key = "11".repeat(32);
    let second = spokes(dir.path(), &url, &["keys", "list"])
        .env("SPOKES_MASTER_KEY", &other_key)
        .output()
        .expect("second");
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("different master key")
            && stderr.contains("key file in the data directory"),
        "{stderr}"
    );
    assert!(!stderr.contains(&other_key));
}

#[tokio::test]
async fn sim_command_serves_seeded_data() {
    let mut command = Command::new(BIN);
    command
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--seed-companies",
            "5",
            "--seed-contacts",
            "150",
        ])
        .env("RUST_LOG", "warn");
    let sim = start(command, "HubSpot simulator at ");
    let url = word_after(&sim.lines, "HubSpot simulator at ").to_string();
    let http = http();
    let portals: Value = http
        .get(format!("{url}/_sim/portals"))
        .send()
        .await
        .expect("portals")
        .json()
        .await
        .expect("json");
    let acme = portals[0]["id"].clone();
    let token: Value = http
        .post(format!("{url}/_sim/tokens"))
        .json(&json!({"portal_id": acme, "scopes": ["crm.objects.contacts.read"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("access token");
    let (mut count, mut after) = (0, None::<String>);
    loop {
        let mut request = http
            .get(format!("{url}/crm/v3/objects/contacts?limit=100"))
            .bearer_auth(token);
        if let Some(after) = &after {
            request = request.query(&[("after", after)]);
        }
        let (status, page) = json_of(request.send().await.expect("page")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        count += page["results"].as_array().expect("results").len();
        match page["paging"]["next"]["after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(count, 150, "the seeded contacts are served");
}

/// What a browser meets on its way through a consent for the sandbox portal `Acme Inc`.
pub struct ConsentWalk {
    pub link_page: String,
    pub authorize: String,
    pub finished: String,
}

/// Plays the browser from an auth link: the link's page, its button, HubSpot's consent page
/// (choosing Acme Inc and allowing), back to Spokes' callback. Asserts each step succeeds.
pub async fn walk_consent(http: &reqwest::Client, sim: &str, link: &str) -> ConsentWalk {
    let page = http.get(link).send().await.expect("link page");
    assert_eq!(page.status(), StatusCode::OK);
    let link_page = page.text().await.expect("html");
    let token = link.rsplit('/').next().expect("token");
    let to_hubspot = http
        .post(link)
        .form(&[("token", token)])
        .send()
        .await
        .expect("continue");
    assert_eq!(to_hubspot.status(), StatusCode::SEE_OTHER);
    let authorize = to_hubspot.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let portals: Value = http
        .get(format!("{sim}/_sim/portals"))
        .send()
        .await
        .expect("portals")
        .json()
        .await
        .expect("json");
    let acme = portals
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == "Acme Inc")
        .expect("Acme Inc")["id"]
        .clone();
    let query = authorize.split_once('?').expect("query").1;
    let decided = http
        .post(format!("{sim}/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{query}&portal_id={acme}&decision=allow"))
        .send()
        .await
        .expect("consent");
    let callback = decided.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let finished = http.get(&callback).send().await.expect("callback");
    assert_eq!(finished.status(), StatusCode::OK);
    ConsentWalk {
        link_page,
        authorize,
        finished: finished.text().await.expect("html"),
    }
}
