//! Configuration layers: defaults → `spokes.toml` (`--config`) → `SPOKES_SECTION__KEY`
//! environment variables (any key may come from a file with `…_FILE`) → flags.
//! Unknown keys are errors, and every problem is reported at once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use spokes_hubspot::HubSpotConfig;
use toml::{Table, Value};

const ENV_PREFIX: &str = "SPOKES_";
/// Environment variables that are not configuration keys.
const ENV_NOT_KEYS: &[&str] = &[
    "SPOKES_MASTER_KEY",
    "SPOKES_MASTER_KEY_FILE",
    "SPOKES_TEST_DATABASE_URL",
    "SPOKES_CONFIG",
];

/// The console's admin password opens everything; short ones fall to guessing despite the
/// login limit.
const MIN_ADMIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database and the master key file live.
    pub data_dir: PathBuf,
    pub server: ServerSection,
    pub database: DatabaseSection,
    pub hubspot: HubSpotSection,
    pub tokens: TokensSection,
    pub events: EventsSection,
    pub cycles: CyclesSection,
}

/// Cycles: their job worker and what their utility steps may reach.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CyclesSection {
    /// On shutdown, how long running jobs may still finish before they are released.
    pub grace_secs: u64,
    /// Hosts the HTTP request step may call (`api.example.com`, `*.example.com`); empty:
    /// any public host.
    pub http_allowed_hosts: Vec<String>,
    /// Private, loopback or link-local hosts or networks it may call all the same.
    pub http_allow_private: Vec<String>,
    /// Succeeded and cancelled transactions are kept this many days.
    pub retention_days: u64,
    /// Failed and unknown transactions are kept this many days.
    pub errored_retention_days: u64,
}

impl Default for CyclesSection {
    fn default() -> Self {
        Self {
            grace_secs: 30,
            http_allowed_hosts: Vec::new(),
            http_allow_private: Vec::new(),
            retention_days: 31,
            errored_retention_days: 90,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub listen: String,
    /// Empty: `http://{the address the server is bound to}`.
    pub public_url: String,
    pub allowed_return_origins: Vec<String>,
    /// Empty: console login with API keys only.
    pub admin_password: String,
    pub refuse_test_accounts: bool,
    pub refuse_shared_portals: bool,
    /// Empty: the built-in failure page.
    pub failure_page_template: String,
    /// `human` or `json`.
    pub log_format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// Empty: SQLite at `{data_dir}/spokes.db`. `postgres://…` selects PostgreSQL.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubSpotSection {
    pub app_url: String,
    pub api_url: String,
    /// `2026-03` (default), `v3` or `v1`.
    pub oauth_version: String,
    pub account_info_version: String,
    /// `2026-03` (default, `/crm/objects/2026-03/…`) or `v3` (`/crm/v3/objects/…`).
    pub crm_version: String,
    pub request_timeout_secs: u64,
    /// Calls per rolling 10 s per portal (HubSpot's public-app limit: 110).
    pub rate_limit_per_10s: u32,
    /// Search calls per second per portal (HubSpot: 5).
    pub search_per_second: u32,
    /// The share of each portal's budget Spokes may use, in (0, 1].
    pub budget_share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensSection {
    /// Refresh this long before expiry.
    pub refresh_margin_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSection {
    /// Empty: no events are sent.
    pub url: String,
    /// HMAC key for the `Spokes-Signature` header.
    pub secret: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./spokes-data"),
            server: ServerSection::default(),
            database: DatabaseSection::default(),
            hubspot: HubSpotSection::default(),
            tokens: TokensSection::default(),
            events: EventsSection::default(),
            cycles: CyclesSection::default(),
        }
    }
}

impl Default for TokensSection {
    fn default() -> Self {
        Self {
            refresh_margin_secs: 300,
        }
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            allowed_return_origins: Vec::new(),
            admin_password: String::new(),
            refuse_test_accounts: false,
            refuse_shared_portals: false,
            failure_page_template: String::new(),
            log_format: "human".into(),
        }
    }
}

impl Default for HubSpotSection {
    fn default() -> Self {
        let d = HubSpotConfig::default();
        Self {
            app_url: d.app_url,
            api_url: d.api_url,
            oauth_version: "2026-03".into(),
            account_info_version: d.account_info_version,
            crm_version: d.crm_version,
            request_timeout_secs: d.request_timeout_secs,
            rate_limit_per_10s: d.rate_limit_per_10s,
            search_per_second: d.search_per_second,
            budget_share: d.budget_share,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

impl Config {
    /// Loads every layer; `Err` lists all problems found.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut table = Table::new();
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => match text.parse::<Table>() {
                    Ok(parsed) => table = parsed,
                    Err(e) => errors.push(format!("{}: {e}", path.display())),
                },
                Err(e) => errors.push(format!("cannot read config file {}: {e}", path.display())),
            }
        }
        // The defaults, as TOML, say which keys exist and which of them are lists.
        let defaults = Value::try_from(Config::default()).unwrap_or(Value::Table(Table::new()));
        let known = known_keys(&defaults);
        apply_env(&mut table, env, &defaults, &known, &mut errors);
        check_unknown(&table, &known, "", &mut errors);
        // Unknown keys were reported above; drop them so the rest can still be checked.
        remove_unknown(&mut table, &known);
        let mut config = match Config::deserialize(table) {
            Ok(config) => config,
            Err(e) => {
                errors.push(e.to_string());
                Config::default()
            }
        };
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database.url = url.clone();
        }
        if let Some(listen) = &overrides.listen {
            config.server.listen = listen.clone();
        }
        if let Some(url) = &overrides.public_url {
            config.server.public_url = url.clone();
        }
        config.validate(&mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    fn validate(&self, errors: &mut Vec<String>) {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            errors.push(format!(
                "server.listen `{}` is not an address like 127.0.0.1:8080",
                self.server.listen
            ));
        }
        if !self.server.public_url.is_empty() && url_origin(&self.server.public_url).is_none() {
            errors.push(format!(
                "server.public_url `{}` must be an http(s) URL such as https://spokes.example.com",
                self.server.public_url
            ));
        }
        for origin in &self.server.allowed_return_origins {
            if url_origin(origin).as_deref() != Some(origin.trim_end_matches('/')) {
                errors.push(format!(
                    "server.allowed_return_origins: `{origin}` must be an origin such as https://app.example.com (no path)"
                ));
            }
        }
        let password_len = self.server.admin_password.chars().count();
        if password_len > 0 && password_len < MIN_ADMIN_PASSWORD_CHARS {
            errors.push(format!(
                "server.admin_password must be at least {MIN_ADMIN_PASSWORD_CHARS} characters (it has {password_len}); \
                 use a longer one, or leave it empty to log in to the console with API keys only"
            ));
        }
        if !matches!(self.server.log_format.as_str(), "human" | "json") {
            errors.push("server.log_format must be `human` or `json`".into());
        }
        if !self.server.failure_page_template.is_empty()
            && !Path::new(&self.server.failure_page_template).is_file()
        {
            errors.push(format!(
                "server.failure_page_template: no file at {}",
                self.server.failure_page_template
            ));
        }
        let url = &self.database.url;
        if !url.is_empty()
            && !["sqlite:", "postgres://", "postgresql://"]
                .iter()
                .any(|p| url.starts_with(p))
        {
            errors
                .push("database.url must start with sqlite:, postgres:// or postgresql://".into());
        }
        if self.hubspot.rate_limit_per_10s == 0 || self.hubspot.search_per_second == 0 {
            errors.push(
                "hubspot.rate_limit_per_10s and hubspot.search_per_second must be at least 1"
                    .into(),
            );
        }
        if !(self.hubspot.budget_share > 0.0 && self.hubspot.budget_share <= 1.0) {
            errors.push("hubspot.budget_share must be more than 0 and at most 1".into());
        }
        if !matches!(self.hubspot.crm_version.as_str(), "2026-03" | "v3") {
            errors.push("hubspot.crm_version must be `2026-03` or `v3`".into());
        }
        if !matches!(self.hubspot.oauth_version.as_str(), "2026-03" | "v3" | "v1") {
            errors.push("hubspot.oauth_version must be `2026-03`, `v3` or `v1`".into());
        }
        for (name, value) in [
            ("hubspot.app_url", &self.hubspot.app_url),
            ("hubspot.api_url", &self.hubspot.api_url),
        ] {
            if url_origin(value).is_none() {
                errors.push(format!("{name} `{value}` must be an http(s) URL"));
            }
        }
        if !self.events.url.is_empty() {
            if url_origin(&self.events.url).is_none() {
                errors.push(format!(
                    "events.url `{}` must be an http(s) URL",
                    self.events.url
                ));
            }
            if self.events.secret.len() < 16 {
                errors.push("events.secret must be at least 16 characters when events.url is set (it signs the events)".into());
            }
        }
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            spokes_store::sqlite_url(&self.data_dir.join("spokes.db"))
        } else {
            self.database.url.clone()
        }
    }

    /// `server.public_url`, else `http://{the address the server is bound to}`.
    pub fn public_url(&self, bound: std::net::SocketAddr) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    pub fn hubspot(&self) -> HubSpotConfig {
        HubSpotConfig {
            app_url: self.hubspot.app_url.clone(),
            api_url: self.hubspot.api_url.clone(),
            oauth_version: match self.hubspot.oauth_version.as_str() {
                "v1" => spokes_hubspot::OAuthApiVersion::V1,
                "v3" => spokes_hubspot::OAuthApiVersion::V3,
                _ => spokes_hubspot::OAuthApiVersion::V2026_03,
            },
            account_info_version: self.hubspot.account_info_version.clone(),
            crm_version: self.hubspot.crm_version.clone(),
            rate_limit_per_10s: self.hubspot.rate_limit_per_10s,
            search_per_second: self.hubspot.search_per_second,
            budget_share: self.hubspot.budget_share,
            request_timeout_secs: self.hubspot.request_timeout_secs,
        }
    }

    /// The configuration as TOML with secrets replaced, for `config check`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        for secret in [&mut shown.server.admin_password, &mut shown.events.secret] {
            if !secret.is_empty() {
                *secret = "***".into();
            }
        }
        shown.database.url = spokes_store::redact_url(&shown.database.url);
        toml::to_string(&shown).unwrap_or_default()
    }
}

fn url_origin(value: &str) -> Option<String> {
    spokes_core::urls::origin_of(value)
}

/// Every key of the configuration, as `section.key` (or `key` at the top).
fn known_keys(defaults: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    if let Value::Table(table) = defaults {
        for (name, value) in table {
            match value {
                Value::Table(section) => keys.extend(section.keys().map(|k| format!("{name}.{k}"))),
                _ => keys.push(name.clone()),
            }
        }
    }
    keys
}

fn check_unknown(table: &Table, known: &[String], prefix: &str, errors: &mut Vec<String>) {
    for (name, value) in table {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let is_section = known.iter().any(|k| k.starts_with(&format!("{path}.")));
        if is_section {
            if let Value::Table(inner) = value {
                check_unknown(inner, known, &path, errors);
            } else {
                errors.push(format!("`{path}` must be a section ([{path}])"));
            }
        } else if !known.contains(&path) {
            errors.push(format!("unknown setting `{path}`"));
        }
    }
}

fn remove_unknown(table: &mut Table, known: &[String]) {
    table.retain(|name, value| {
        let is_section = known.iter().any(|k| k.starts_with(&format!("{name}.")));
        if is_section {
            if let Value::Table(inner) = value {
                inner.retain(|key, _| known.contains(&format!("{name}.{key}")));
                return true;
            }
            return false;
        }
        known.iter().any(|k| k == name)
    });
}

/// `SPOKES_SERVER__LISTEN=…` sets `server.listen`; `SPOKES_EVENTS__SECRET_FILE=path` reads it
/// from a file. Values parse as TOML when they can (`true`, `30`, `["a"]`), else as strings;
/// lists may also be given comma-separated.
fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
    defaults: &Value,
    known: &[String],
    errors: &mut Vec<String>,
) {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_NOT_KEYS.contains(&name.as_str()) {
            continue;
        }
        let (rest, from_file) = match rest.strip_suffix("_FILE") {
            Some(stripped) => (stripped, true),
            None => (rest, false),
        };
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        let dotted = path.join(".");
        if !known.contains(&dotted) {
            errors.push(format!(
                "unknown environment variable {name} (no setting `{dotted}`)"
            ));
            continue;
        }
        let raw = if from_file {
            match std::fs::read_to_string(&raw) {
                Ok(text) => text.trim_end_matches(['\n', '\r']).to_string(),
                Err(e) => {
                    errors.push(format!("{name}: cannot read {raw}: {e}"));
                    continue;
                }
            }
        } else {
            raw
        };
        let default_is_list = matches!(lookup(defaults, &path), Some(Value::Array(_)));
        let value = if default_is_list && !raw.trim_start().starts_with('[') {
            Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            )
        } else {
            format!("v = {raw}")
                .parse::<Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !matches!(v, Value::Table(_)))
                .unwrap_or(Value::String(raw))
        };
        insert(table, &path, value);
    }
}

fn lookup<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn insert(table: &mut Table, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            if !entry.is_table() {
                *entry = Value::Table(Table::new());
            }
            if let Value::Table(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_start_on_a_fresh_machine() {
        let config =
            Config::load(None, env(&[]), &Overrides::default()).expect("defaults are valid");
        let bound = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(config.public_url(bound), "http://127.0.0.1:8080");
        assert!(config.database_url().starts_with("sqlite:"));
        assert!(config.database_url().contains("spokes-data"));
    }

    #[test]
    fn env_overrides_and_flags_win() {
        let config = Config::load(
            None,
            env(&[
                ("SPOKES_SERVER__LISTEN", "127.0.0.1:9000"),
                ("SPOKES_SERVER__REFUSE_TEST_ACCOUNTS", "true"),
                (
                    "SPOKES_SERVER__ALLOWED_RETURN_ORIGINS",
                    "https://a.example, https://b.example",
                ),
                ("SPOKES_TOKENS__REFRESH_MARGIN_SECS", "60"),
                ("SPOKES_DATABASE__URL", "postgres://u@h/db"),
                ("PATH", "/bin"),
            ]),
            &Overrides {
                listen: Some("127.0.0.1:9100".into()),
                ..Overrides::default()
            },
        )
        .expect("valid");
        assert_eq!(config.server.listen, "127.0.0.1:9100");
        assert!(config.server.refuse_test_accounts);
        assert_eq!(
            config.server.allowed_return_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(config.tokens.refresh_margin_secs, 60);
        assert_eq!(config.database_url(), "postgres://u@h/db");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let dir = spokes_store::testing::TempDir::new("config");
        let file = dir.path().join("spokes.toml");
        std::fs::write(&file, "colour = 1\n[server]\nlisten = \"nowhere\"\nbogus = true\n[hubspot]\noauth_version = \"v9\"\n").expect("write");
        let errors = Config::load(
            Some(&file),
            env(&[("SPOKES_SERVR__LISTEN", "x")]),
            &Overrides::default(),
        )
        .expect_err("invalid");
        let all = errors.join("\n");
        for expected in [
            "unknown setting `colour`",
            "unknown setting `server.bogus`",
            "SPOKES_SERVR__LISTEN",
            "server.listen `nowhere`",
            "oauth_version",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn a_short_admin_password_is_refused() {
        let load = |password: &str| {
            Config::load(
                None,
                env(&[("SPOKES_SERVER__ADMIN_PASSWORD", password)]),
                &Overrides::default(),
            )
        };
        let errors = load("short-pass1").expect_err("11 characters");
        assert!(
            errors.iter().any(|e| e.contains("server.admin_password")
                && e.contains("at least 12 characters")
                && !e.contains("short-pass1")),
            "{errors:?}"
        );
        assert!(load("long-enough-1").is_ok());
        assert!(load("").is_ok(), "empty: no admin password");
    }

    #[test]
    fn secrets_can_come_from_files_and_are_redacted() {
        let dir = spokes_store::testing::TempDir::new("config");
        let file = dir.path().join("secret");
        std::fs::write(&file, "a-very-long-events-secret\n").expect("write");
        let config = Config::load(
            None,
            env(&[
                ("SPOKES_EVENTS__URL", "https://hooks.example/spokes"),
                ("SPOKES_EVENTS__SECRET_FILE", file.to_str().expect("utf-8")),
            ]),
            &Overrides::default(),
        )
        .expect("valid");
        assert_eq!(config.events.secret, "a-very-long-events-secret");
        assert!(!config.redacted_toml().contains("a-very-long-events-secret"));
    }
}
