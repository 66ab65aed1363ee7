//! `spokes`: the one binary. `serve [--sandbox]`, `migrate`, `config check`, `keys …`, `mcp`,
//! `sim`.

mod config;
mod rotate_master;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use spokes_core::token::new_id;
use spokes_core::{ApiKey, Clock, ConnectorSetup, Secret, SystemClock, format_rfc3339};
use spokes_engine::EventsConfig;
use spokes_hubspot::HubSpotConfig;
use spokes_hubspot::connector::CONNECTOR_ID;
use spokes_server::{AppState, DEFAULT_FAILURE_PAGE, ServerConfig};
use spokes_store::{KeyRing, Store};

use crate::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "spokes",
    version,
    about = "Self-hosted embedded integrations for HubSpot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options of every command that reads the configuration or the database.
#[derive(Args, Clone, Default)]
struct Common {
    /// A spokes.toml file.
    #[arg(long, env = "SPOKES_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite database and the master key file live [default: ./spokes-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `postgres://…` for PostgreSQL, or `sqlite:PATH`.
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations.
    Migrate(Common),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage partner API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Serve one installation to a local AI agent over stdio (Model Context Protocol).
    Mcp(McpArgs),
    /// Run the HubSpot simulator alone.
    Sim {
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: String,
        #[command(flatten)]
        seed: SimSeedArgs,
    },
}

/// Generated CRM records for `spokes sim` (deterministic; see the hubspot-sim README).
#[derive(Args, Default)]
struct SimSeedArgs {
    /// Portal of the generated records [default: 24682001, Acme Inc].
    #[arg(long)]
    seed_portal: Option<i64>,
    /// Seed of the generator: the same seed gives the same records.
    #[arg(long, default_value_t = 0)]
    seed_rng: u64,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_contacts: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_companies: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_deals: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_tickets: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_products: usize,
    /// Line items of the seeded products, on the seeded deals.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_line_items: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_notes: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_calls: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_emails: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_meetings: usize,
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed_tasks: usize,
}

impl SimSeedArgs {
    fn spec(&self) -> hubspot_sim::crm::seed::SeedSpec {
        let default = hubspot_sim::crm::seed::SeedSpec::default();
        hubspot_sim::crm::seed::SeedSpec {
            portal_id: self.seed_portal.unwrap_or(default.portal_id),
            seed: self.seed_rng,
            contacts: self.seed_contacts,
            companies: self.seed_companies,
            deals: self.seed_deals,
            tickets: self.seed_tickets,
            products: self.seed_products,
            line_items: self.seed_line_items,
            notes: self.seed_notes,
            calls: self.seed_calls,
            emails: self.seed_emails,
            meetings: self.seed_meetings,
            tasks: self.seed_tasks,
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// The URL browsers and HubSpot reach this server at [default: http://{listen}].
    #[arg(long)]
    public_url: Option<String>,
    /// Also start the HubSpot simulator and wire the connector to it.
    #[arg(long)]
    sandbox: bool,
    #[arg(long, default_value = "127.0.0.1:8089")]
    sandbox_listen: String,
}

#[derive(Args)]
struct McpArgs {
    #[command(flatten)]
    common: Common,
    /// The installation (`inst_…`) the agent works on.
    #[arg(long)]
    installation: String,
    /// Refuse every write tool.
    #[arg(long)]
    read_only: bool,
    /// Write tools act at once instead of first answering a preview.
    #[arg(long)]
    no_confirm: bool,
    /// `compact` (a dozen generic tools) or `all` (one tool per catalogue method).
    #[arg(long, default_value = "compact")]
    tools: String,
    /// The HubSpot simulator of `spokes serve --sandbox` (e.g. http://127.0.0.1:8089), instead
    /// of the configured HubSpot.
    #[arg(long)]
    sandbox_url: Option<String>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check the configuration and print it with secrets hidden.
    Check(Common),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key; the key is printed alone on the last line.
    Create {
        #[command(flatten)]
        common: Common,
        /// Restrict the key to one account.
        #[arg(long)]
        account: Option<String>,
        #[arg(long, default_value = "api key")]
        name: String,
        /// The key may only read: methods that write and proxy requests other than GET/HEAD
        /// are refused (`read_only`).
        #[arg(long)]
        read_only: bool,
        /// AI agents using the key write without confirming: MCP write tools act at once
        /// instead of first answering a dry-run preview.
        #[arg(long)]
        no_confirm: bool,
    },
    /// List API keys (never the keys themselves).
    List(Common),
    /// Revoke an API key by id.
    Revoke {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// Re-seal every secret with a new master key, then retire the old one. Safe to run while
    /// `spokes serve` runs on the same data, and to run again after an interruption.
    RotateMaster {
        #[command(flatten)]
        common: Common,
        /// Sealed values re-sealed per database transaction.
        #[arg(long, default_value_t = 100)]
        batch_size: u32,
        /// Seconds between writing the new key and the final re-check before retiring the old
        /// one (a process that sealed with the old key just before must have saved by then;
        /// longer than SQLite's 15 s busy timeout).
        #[arg(long, default_value_t = 20)]
        settle_secs: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(common) => {
            let config = load_config(&common, Overrides::default())?;
            std::fs::create_dir_all(&config.data_dir).ok();
            let applied = spokes_store::migrate(&config.database_url()).await?;
            if applied.is_empty() {
                println!("the database is up to date");
            } else {
                println!("applied migrations: {applied:?}");
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Check(common)) => {
            let config = load_config(&common, Overrides::default())?;
            print!("{}", config.redacted_toml());
            println!("# the configuration is valid");
            Ok(())
        }
        Command::Keys(command) => keys(command).await,
        Command::Mcp(args) => mcp(args).await,
        Command::Sim { listen, seed } => {
            init_logging("human");
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let sim = hubspot_sim::start(listener, hubspot_sim::SimConfig::default()).await?;
            // Seeded before the first line (the URL), so the data is there for its reader.
            let spec = seed.spec();
            let seeded = if spec.total() > 0 {
                Some(
                    sim.sim
                        .seed_crm(&spec)
                        .map_err(|e| anyhow::anyhow!("cannot seed: {}", e.body.message))?,
                )
            } else {
                None
            };
            say(&format!("HubSpot simulator at {}", sim.base_url));
            say(&format!(
                "sandbox app client_id: {}",
                sim.sandbox_app.client_id
            ));
            say(&format!(
                "sandbox app client_secret: {}",
                sim.sandbox_app.client_secret
            ));
            if let Some(s) = seeded {
                say(&s.describe());
            }
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}

fn overrides(common: &Common) -> Overrides {
    Overrides {
        data_dir: common.data_dir.clone(),
        database_url: common.database_url.clone(),
        ..Overrides::default()
    }
}

fn load_config(common: &Common, extra: Overrides) -> anyhow::Result<Config> {
    let mut o = overrides(common);
    o.listen = extra.listen;
    o.public_url = extra.public_url;
    Config::load(common.config.as_deref(), std::env::vars(), &o).map_err(|errors| {
        anyhow::anyhow!(
            "the configuration has {} problem(s):\n  - {}",
            errors.len(),
            errors.join("\n  - ")
        )
    })
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour codes only for a person's terminal, not in a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Where the master key comes from.
enum MasterKeySource {
    /// `SPOKES_MASTER_KEY` or `SPOKES_MASTER_KEY_FILE` (named here): one or more keys, the
    /// active one first, that Spokes cannot rewrite.
    Env {
        keys: KeyRing,
        variable: &'static str,
    },
    /// `{data_dir}/master.key`: one key per line, the active one first.
    File(PathBuf),
}

/// `SPOKES_MASTER_KEY` (keys separated by commas), `SPOKES_MASTER_KEY_FILE`, else the key file
/// in the data dir.
fn master_key_source(data_dir: &Path) -> anyhow::Result<MasterKeySource> {
    if let Ok(encoded) = std::env::var("SPOKES_MASTER_KEY") {
        return Ok(MasterKeySource::Env {
            keys: KeyRing::from_encoded(&encoded)?,
            variable: "SPOKES_MASTER_KEY",
        });
    }
    if let Ok(path) = std::env::var("SPOKES_MASTER_KEY_FILE") {
        let encoded = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read SPOKES_MASTER_KEY_FILE {path}"))?;
        return Ok(MasterKeySource::Env {
            keys: KeyRing::from_encoded(&encoded)?,
            variable: "SPOKES_MASTER_KEY_FILE",
        });
    }
    Ok(MasterKeySource::File(data_dir.join("master.key")))
}

/// The master key ring; the key file is generated on first start. A ring from the key file
/// follows it, so a running server learns a key added by `keys rotate-master`.
fn master_key(data_dir: &Path) -> anyhow::Result<KeyRing> {
    match master_key_source(data_dir)? {
        MasterKeySource::Env { keys, .. } => Ok(keys),
        MasterKeySource::File(path) => {
            let (keys, created) = KeyRing::load_or_create_file(&path)?;
            if created {
                tracing::info!(path = %path.display(), "generated a new master key; back it up: without it the stored tokens cannot be opened");
            }
            Ok(keys)
        }
    }
}

async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, KeyRing)> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let keys = master_key(&config.data_dir)?;
    let store = spokes_store::connect(&config.database_url(), keys.clone()).await?;
    Ok((store, keys))
}

/// What a new key may do besides its account restriction.
#[derive(Clone, Copy)]
struct KeyFlags {
    read_only: bool,
    confirm_writes: bool,
}

impl Default for KeyFlags {
    fn default() -> Self {
        Self {
            read_only: false,
            confirm_writes: true,
        }
    }
}

async fn create_key(
    store: &dyn Store,
    name: &str,
    account: Option<String>,
    flags: KeyFlags,
) -> anyhow::Result<String> {
    let (key, hash) = spokes_server::new_api_key();
    store
        .create_api_key(&ApiKey {
            id: new_id("key"),
            name: name.to_string(),
            key_hash: hash,
            account_id: account,
            read_only: flags.read_only,
            confirm_writes: flags.confirm_writes,
            created_at: SystemClock.now_ms(),
            revoked_at: None,
        })
        .await?;
    Ok(key)
}

async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            common,
            account,
            name,
            read_only,
            no_confirm,
        } => {
            let config = load_config(&common, Overrides::default())?;
            let (store, _) = open_store(&config).await?;
            if let Some(id) = &account
                && store.get_account(id).await?.is_none()
            {
                bail!("account `{id}` does not exist; create it first with POST /v1/accounts");
            }
            let flags = KeyFlags {
                read_only,
                confirm_writes: !no_confirm,
            };
            let key = create_key(store.as_ref(), &name, account.clone(), flags).await?;
            match &account {
                Some(id) => println!(
                    "created an API key restricted to account `{id}`; it is shown only once:"
                ),
                None => println!("created a partner API key; it is shown only once:"),
            }
            if read_only {
                println!("it may only read: writes are refused with `read_only`");
            }
            if no_confirm {
                println!("AI agents using it write without a dry-run preview first");
            }
            println!("{key}");
        }
        KeysCommand::List(common) => {
            let config = load_config(&common, Overrides::default())?;
            let (store, _) = open_store(&config).await?;
            let keys = store.list_api_keys().await?;
            if keys.is_empty() {
                println!("no API keys; create one with `spokes keys create`");
            }
            for key in keys {
                println!(
                    "{}\t{}\taccount={}\tread_only={}\tconfirm_writes={}\tcreated={}\t{}",
                    key.id,
                    key.name,
                    key.account_id.as_deref().unwrap_or("*"),
                    key.read_only,
                    key.confirm_writes,
                    format_rfc3339(key.created_at),
                    key.revoked_at
                        .map(|at| format!("revoked={}", format_rfc3339(at)))
                        .unwrap_or_else(|| "active".into()),
                );
            }
        }
        KeysCommand::Revoke { common, id } => {
            let config = load_config(&common, Overrides::default())?;
            let (store, _) = open_store(&config).await?;
            if !store.revoke_api_key(&id, SystemClock.now_ms()).await? {
                bail!("no active API key with id `{id}`; `spokes keys list` shows them");
            }
            println!("revoked {id}");
        }
        KeysCommand::RotateMaster {
            common,
            batch_size,
            settle_secs,
        } => {
            let config = load_config(&common, Overrides::default())?;
            let options = rotate_master::Options {
                database_url: config.database_url(),
                batch_size,
                settle: Duration::from_secs(settle_secs),
            };
            rotate_master::run(master_key_source(&config.data_dir)?, &options).await?;
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = load_config(
        &args.common,
        Overrides {
            listen: args.listen.clone(),
            public_url: args.public_url.clone(),
            ..Overrides::default()
        },
    )?;
    init_logging(&config.server.log_format);
    let (store, keys) = open_store(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    // Derived from the bound address, so `--listen 127.0.0.1:0` gets a usable URL too.
    let public_url = config.public_url(listener.local_addr()?);

    let mut hubspot = config.hubspot();
    let mut sandbox = None;
    if args.sandbox {
        let sim_listener = tokio::net::TcpListener::bind(&args.sandbox_listen)
            .await
            .with_context(|| format!("cannot start the sandbox on {}", args.sandbox_listen))?;
        let sim = hubspot_sim::start(
            sim_listener,
            hubspot_sim::SimConfig {
                sandbox_redirect_urls: vec![format!("{public_url}/connector/callback")],
                ..hubspot_sim::SimConfig::default()
            },
        )
        .await?;
        hubspot = HubSpotConfig::pointing_at(&sim.base_url);
        store
            .put_connector_setup(&ConnectorSetup {
                connector: CONNECTOR_ID.into(),
                client_id: sim.sandbox_app.client_id.clone(),
                client_secret: Secret::from(sim.sandbox_app.client_secret.clone()),
                properties: Default::default(),
                updated_at: SystemClock.now_ms(),
            })
            .await?;
        let key = create_key(store.as_ref(), "sandbox", None, KeyFlags::default()).await?;
        sandbox = Some((sim, key));
    }

    let server_config = server_config(&config, &public_url, hubspot, args.sandbox, &keys)?;
    let state = AppState::new(server_config, store, Arc::new(SystemClock));
    tracing::info!(url = %public_url, backend = state.store.backend(), "spokes is listening");
    match &sandbox {
        Some((sim, key)) => say(&sandbox_guide(&public_url, &sim.base_url, key)),
        None => say(&format!(
            "Spokes is running at {public_url} (console: {public_url}/console)"
        )),
    }
    spokes_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The server's settings from the configuration; `sandbox` also lets the sandbox's own
/// pages hear how a consent ended.
fn server_config(
    config: &Config,
    public_url: &str,
    hubspot: HubSpotConfig,
    sandbox: bool,
    keys: &KeyRing,
) -> anyhow::Result<ServerConfig> {
    let failure_page_template = if config.server.failure_page_template.is_empty() {
        DEFAULT_FAILURE_PAGE.to_string()
    } else {
        std::fs::read_to_string(&config.server.failure_page_template)
            .with_context(|| format!("cannot read {}", config.server.failure_page_template))?
    };
    let mut allowed_return_origins = config.server.allowed_return_origins.clone();
    if sandbox {
        allowed_return_origins.extend(spokes_core::urls::origin_of(public_url));
    }
    Ok(ServerConfig {
        public_url: public_url.to_string(),
        allowed_return_origins,
        allow_loopback_return_urls: sandbox,
        admin_password: (!config.server.admin_password.is_empty())
            .then(|| Secret::from(config.server.admin_password.clone())),
        refuse_test_accounts: config.server.refuse_test_accounts,
        refuse_shared_portals: config.server.refuse_shared_portals,
        refresh_margin: Duration::from_secs(config.tokens.refresh_margin_secs),
        failure_page_template,
        events: (!config.events.url.is_empty()).then(|| EventsConfig {
            url: config.events.url.clone(),
            secret: Secret::from(config.events.secret.clone()),
        }),
        hubspot,
        sweep_interval: std::time::Duration::from_secs(600),
        worker: spokes_engine::WorkerConfig {
            grace: Duration::from_secs(config.cycles.grace_secs),
            ..Default::default()
        },
        transaction_retention: spokes_engine::TransactionRetention {
            finished: Duration::from_secs(config.cycles.retention_days * 24 * 60 * 60),
            errored: Duration::from_secs(config.cycles.errored_retention_days * 24 * 60 * 60),
        },
        utility: spokes_engine::UtilityConfig {
            http_allowed_hosts: config.cycles.http_allowed_hosts.clone(),
            http_allow_private: config.cycles.http_allow_private.clone(),
            ..Default::default()
        },
        console_secret: keys.derive_secret("console-sessions"),
    })
}

/// `spokes mcp`: one installation to a local agent over stdio. Stdout carries the protocol,
/// so everything else goes to stderr.
async fn mcp(args: McpArgs) -> anyhow::Result<()> {
    use rmcp::ServiceExt;

    let config = load_config(&args.common, Overrides::default())?;
    init_logging("human");
    let (store, keys) = open_store(&config).await?;
    let installation = store
        .get_installation(&args.installation)
        .await?
        .with_context(|| {
            format!(
                "installation `{}` does not exist; GET /v1/accounts/{{account}}/connectors lists them",
                args.installation
            )
        })?;
    let hubspot = match &args.sandbox_url {
        Some(url) => HubSpotConfig::pointing_at(url),
        None => config.hubspot(),
    };
    // Only links in messages use it; a listen address that is a host name gets the default.
    let listen = config
        .server
        .listen
        .parse()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
    let public_url = config.public_url(listen);
    let state = AppState::new(
        server_config(&config, &public_url, hubspot, false, &keys)?,
        store,
        Arc::new(SystemClock),
    );
    let tools = spokes_mcp::ToolSet::parse(&args.tools)
        .with_context(|| format!("`--tools {}`: use `compact` or `all`", args.tools))?;
    let server = spokes_mcp::SpokesMcp::local(
        state.agents.clone(),
        spokes_mcp::Local {
            installation_id: installation.id.clone(),
            read_only: args.read_only,
            confirm_writes: !args.no_confirm,
            tools,
        },
    );
    tracing::info!(installation.id = %installation.id, account.id = %installation.account_id, "serving MCP on stdio");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client did not initialize")?;
    running.waiting().await?;
    state.agents.flush_audit().await;
    Ok(())
}

/// Prints to stdout; a closed stdout (e.g. `spokes serve | head`) must not stop the server.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn sandbox_guide(public_url: &str, sim_url: &str, key: &str) -> String {
    format!(
        "\nSpokes is running at {public_url} with the HubSpot sandbox at {sim_url}.\n\
         Partner API key (shown once): {key}\n\n\
         Connect the sandbox portal `Acme Inc` in four calls:\n\n  \
         export SPOKES_KEY={key}\n  \
         curl -s -X POST {public_url}/v1/accounts -H \"Authorization: Bearer $SPOKES_KEY\" -H 'Content-Type: application/json' -d '{{\"id\":\"acme\",\"name\":\"Acme Inc\"}}'\n  \
         curl -s -X POST {public_url}/v1/accounts/acme/connectors -H \"Authorization: Bearer $SPOKES_KEY\" -H 'Content-Type: application/json' -d '{{\"connector\":\"hubspot\"}}'\n  \
         curl -s -X POST {public_url}/v1/accounts/acme/connectors/INSTALLATION_ID/auth-link -H \"Authorization: Bearer $SPOKES_KEY\"\n\n\
         Open the returned url in a browser, press Continue to HubSpot, choose `Acme Inc` (the account with Products attached) and allow.\n\
         Then: curl -s -X POST {public_url}/v1/accounts/acme/connectors/INSTALLATION_ID/methods/account.get -H \"Authorization: Bearer $SPOKES_KEY\"\n\n\
         Console: {public_url}/console (log in with the key above)\n"
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
