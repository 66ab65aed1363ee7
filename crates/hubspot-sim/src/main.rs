//! `hubspot-sim`: runs the HubSpot simulator until Ctrl-C.

use std::process::ExitCode;

use hubspot_sim::crm::seed::SeedSpec;
use hubspot_sim::{SimConfig, portals};

const USAGE: &str = "\
Usage: hubspot-sim [OPTIONS]

Runs a HubSpot simulator (OAuth, token endpoints, account info, /_sim controls).

Options:
  --listen ADDR                 address to listen on (default 127.0.0.1:8089)
  --redirect-url URL            redirect URL of the sandbox app; repeat for several
                                (default http://127.0.0.1:8080/connector/callback and
                                http://localhost:8080/connector/callback)
  --access-token-lifetime SECS  lifetime of access tokens (default 1800)
  --rotate-refresh-tokens       issue a new refresh token on every refresh
  --seed-TYPE N                 generate N records of TYPE at start: contacts,
                                companies, deals, tickets, products, line-items,
                                notes, calls, emails, meetings, tasks
  --seed-portal ID              portal of the generated records (default 24682001)
  --seed-rng N                  seed of the generator (default 0)
  -h, --help                    show this help
";

struct Args {
    listen: String,
    config: SimConfig,
    seed: SeedSpec,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut listen = "127.0.0.1:8089".to_owned();
    let mut config = SimConfig::default();
    let mut redirect_urls = Vec::new();
    let mut seed = SeedSpec::default();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => listen = value("an address")?,
            "--redirect-url" => redirect_urls.push(value("a URL")?),
            "--access-token-lifetime" => {
                let v = value("a number of seconds")?;
                config.access_token_lifetime_secs =
                    v.parse().ok().filter(|s: &i64| *s > 0).ok_or_else(|| {
                        format!("--access-token-lifetime: not a positive number: {v}")
                    })?;
            }
            "--rotate-refresh-tokens" => config.rotate_refresh_tokens = true,
            other => match other.strip_prefix("--seed-") {
                Some(key) => seed.set_flag(key, &value("a number")?)?,
                None => return Err(format!("unknown argument {other}")),
            },
        }
    }
    if !redirect_urls.is_empty() {
        config.sandbox_redirect_urls = redirect_urls;
    }
    Ok(Some(Args {
        listen,
        config,
        seed,
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("hubspot-sim: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(err) => {
            eprintln!("hubspot-sim: cannot listen on {}: {err}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let server = match hubspot_sim::start(listener, args.config).await {
        Ok(s) => s,
        Err(err) => {
            eprintln!("hubspot-sim: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Before the first line (the URL), so that whoever reads it finds the data there.
    let seeded = if args.seed.total() > 0 {
        match server.sim.seed_crm(&args.seed) {
            Ok(summary) => Some(summary),
            Err(err) => {
                eprintln!("hubspot-sim: cannot seed: {}", err.body.message);
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let app = &server.sandbox_app;
    println!("hubspot-sim listening on {}", server.base_url);
    println!("sandbox app: {} (app_id {})", app.name, app.app_id);
    println!("  client_id:     {}", app.client_id);
    println!("  client_secret: {}", app.client_secret);
    for url in &app.redirect_urls {
        println!("  redirect URL:  {url}");
    }
    if let Some(redirect) = app.redirect_urls.first() {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", "oauth crm.objects.contacts.read")
            .finish();
        println!("install URL: {}/oauth/authorize?{query}", server.base_url);
    }
    println!("portals of {}:", portals::DEFAULT_USER.email);
    for p in portals::all() {
        println!("  {} {} ({})", p.id, p.name, p.account_type);
    }
    if let Some(s) = seeded {
        println!("{}", s.describe());
    }
    println!(
        "controls: {}/_sim/portals, /_sim/apps, /_sim/counters, ... (Ctrl-C to stop)",
        server.base_url
    );
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("hubspot-sim: cannot wait for Ctrl-C: {err}");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_arguments() {
        let a = parse(&[
            "--listen",
            "0.0.0.0:9000",
            "--redirect-url=http://x/cb",
            "--rotate-refresh-tokens",
        ])
        .ok()
        .flatten();
        let a = a.map(|a| (a.listen, a.config));
        let (listen, config) = a.unwrap_or_else(|| ("".into(), SimConfig::default()));
        assert_eq!(listen, "0.0.0.0:9000");
        assert_eq!(config.sandbox_redirect_urls, vec!["http://x/cb"]);
        assert!(config.rotate_refresh_tokens);
        assert!(parse(&["--help"]).is_ok_and(|a| a.is_none()));
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--access-token-lifetime", "0"]).is_err());
        let seeded = parse(&[
            "--seed-contacts",
            "5",
            "--seed-line-items=2",
            "--seed-rng",
            "9",
        ]);
        let spec = seeded.ok().flatten().map(|a| a.seed).unwrap_or_default();
        assert_eq!((spec.contacts, spec.line_items, spec.seed), (5, 2, 9));
        assert!(parse(&["--seed-widgets", "1"]).is_err());
    }
}
