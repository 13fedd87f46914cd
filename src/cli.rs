//! The command line: `serve`, `check-config`, and operator commands (`accounts`, `keys`) that
//! talk to the running daemon's operator API over HTTP. The operator commands never open the
//! data directory: RocksDB allows one process, and that process is the daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::{ADMIN_TOKEN_ENV, CliOverrides, Settings};
use crate::startup::Application;

#[derive(Parser, Debug)]
#[command(
    name = "botcadence",
    version,
    about = "Self-hosted workflow automation: durable webhooks in, workflows run, every execution recorded."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the daemon.
    Serve {
        /// TOML configuration file (see config/botcadence.toml).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// Directory for the RocksDB database.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Validate a configuration and list every problem.
    CheckConfig {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Manage accounts through the running daemon's operator API.
    Accounts {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Manage API keys through the running daemon's operator API.
    Keys {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        action: KeyAction,
    },
}

#[derive(clap::Args, Debug)]
struct Remote {
    /// Base URL of the running daemon.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:8080",
        env = "BOTCADENCE_URL"
    )]
    url: String,
}

#[derive(Subcommand, Debug)]
enum AccountAction {
    /// List accounts.
    List,
    /// Create an account.
    Create {
        #[arg(long)]
        name: String,
        /// free, pro or enterprise.
        #[arg(long, default_value = "free")]
        plan: String,
        /// Enterprise custom limit.
        #[arg(long)]
        requests_per_minute: Option<u64>,
        #[arg(long)]
        requests_per_day: Option<u64>,
        #[arg(long)]
        webhooks_per_second: Option<u64>,
    },
    /// Change an account's plan or custom limits.
    Update {
        id: String,
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        requests_per_minute: Option<u64>,
        #[arg(long)]
        requests_per_day: Option<u64>,
        #[arg(long)]
        webhooks_per_second: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum KeyAction {
    /// Create an API key for an account; the key is printed once.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke an API key at once.
    Revoke { id: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => serve(config, CliOverrides { listen, data_dir }),
        Command::CheckConfig { config } => {
            match Settings::load(config.as_deref(), &CliOverrides::default()) {
                Ok(settings) => match check_database(&settings) {
                    Ok(Some(report)) => {
                        println!("{report}");
                        println!("configuration is valid");
                        ExitCode::SUCCESS
                    }
                    Ok(None) => {
                        println!("configuration is valid");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("storage: {e}");
                        ExitCode::from(2)
                    }
                },
                Err(e) => {
                    eprint!("{e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Accounts { remote, action } => remote_call(&remote, account_request(action)),
        Command::Keys { remote, action } => remote_call(&remote, key_request(action)),
    }
}

/// With `[storage] backend = "postgres"`: the database answers and its schema is one this
/// build can use (None for the embedded store, which has nothing to reach).
fn check_database(settings: &Settings) -> Result<Option<String>, String> {
    if !settings.storage.is_postgres() {
        return Ok(None);
    }
    #[cfg(feature = "postgres")]
    {
        let config = crate::store::postgres::connection_config(
            &settings.storage.postgres_url,
            settings.postgres_password.as_ref().map(|s| s.0.as_str()),
        )
        .map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                crate::store::postgres::check(&config),
            )
            .await
            .map_err(|_| "postgres did not answer within 10 s".to_string())?
            .map(Some)
        })
    }
    #[cfg(not(feature = "postgres"))]
    Err("this build has no PostgreSQL support".into())
}

fn serve(config: Option<PathBuf>, overrides: CliOverrides) -> ExitCode {
    let settings = match Settings::load(config.as_deref(), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&settings.log);
    // Before any thread starts: the variables systemd set are removed here.
    let inherited = crate::systemd::inherited_listener();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_name("botcadence-engine")
        .on_thread_park(crate::alloc_budget::release_if_due)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let mut signals = crate::startup::Signals::install()
            .map_err(|e| crate::startup::StartError::Other(format!("cannot catch signals: {e}")))?;
        let mut app = tokio::select! {
            built = Application::build_on(settings, inherited) => built?,
            () = signals.stop_requested() => {
                tracing::info!("stopped before it was ready");
                return Ok(());
            }
        };
        app.reload_from(config, overrides);
        if let Some(first) = app.first_start() {
            let url = app.public_url().to_string();
            println!("Created the 'default' account ({}) and its first API key. It is shown only this once:", first.account_id);
            println!();
            println!("    {}", first.api_key);
            println!();
            println!("Use it as a bearer token, e.g.:");
            println!("    curl -H \"Authorization: Bearer {}\" {url}/v1/workflows", first.api_key);
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        app.run_until_signal(signals)
            .await
            .map_err(|e| crate::startup::StartError::Other(e.to_string()))
    });
    // Background tasks (timers of delayed executions) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "botcadence could not start");
            eprintln!("error: {e}");
            1
        }
    };
    exit_now(code)
}

/// Ends the process without running C++ static destructors. Tasks still hold the RocksDB
/// handle at this point (its WAL is already synced and its background work stopped), and
/// tearing RocksDB's statics down under it aborts with "pthread lock: Invalid argument".
fn exit_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; every durable write was synced before.
    unsafe { libc::_exit(code) }
}

struct Request {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
}

fn limits_json(rpm: Option<u64>, rpd: Option<u64>, wps: Option<u64>) -> Option<Value> {
    let mut m = serde_json::Map::new();
    if let Some(v) = rpm {
        m.insert("requests_per_minute".into(), v.into());
    }
    if let Some(v) = rpd {
        m.insert("requests_per_day".into(), v.into());
    }
    if let Some(v) = wps {
        m.insert("webhooks_per_second".into(), v.into());
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn account_request(action: AccountAction) -> Request {
    match action {
        AccountAction::List => Request {
            method: reqwest::Method::GET,
            path: "/admin/v1/accounts".into(),
            body: None,
        },
        AccountAction::Create {
            name,
            plan,
            requests_per_minute,
            requests_per_day,
            webhooks_per_second,
        } => {
            let mut body = json!({"name": name, "plan": plan});
            if let Some(l) = limits_json(requests_per_minute, requests_per_day, webhooks_per_second)
            {
                body["limits"] = l;
            }
            Request {
                method: reqwest::Method::POST,
                path: "/admin/v1/accounts".into(),
                body: Some(body),
            }
        }
        AccountAction::Update {
            id,
            plan,
            requests_per_minute,
            requests_per_day,
            webhooks_per_second,
        } => {
            let mut body = json!({});
            if let Some(p) = plan {
                body["plan"] = p.into();
            }
            if let Some(l) = limits_json(requests_per_minute, requests_per_day, webhooks_per_second)
            {
                body["limits"] = l;
            }
            Request {
                method: reqwest::Method::PATCH,
                path: format!("/admin/v1/accounts/{id}"),
                body: Some(body),
            }
        }
    }
}

fn key_request(action: KeyAction) -> Request {
    match action {
        KeyAction::Create { account, name } => Request {
            method: reqwest::Method::POST,
            path: format!("/admin/v1/accounts/{account}/api-keys"),
            body: Some(json!({"name": name})),
        },
        KeyAction::Revoke { id } => Request {
            method: reqwest::Method::DELETE,
            path: format!("/admin/v1/api-keys/{id}"),
            body: None,
        },
    }
}

fn remote_call(remote: &Remote, req: Request) -> ExitCode {
    let Ok(token) = std::env::var(ADMIN_TOKEN_ENV) else {
        eprintln!("set {ADMIN_TOKEN_ENV} to the daemon's admin token");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("{}{}", remote.url.trim_end_matches('/'), req.path);
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let mut builder = client.request(req.method, &url).bearer_auth(token);
        if let Some(body) = req.body {
            builder = builder.json(&body);
        }
        match builder.send().await {
            Ok(res) => {
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                let pretty = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or(text);
                if status.is_success() {
                    println!("{pretty}");
                    ExitCode::SUCCESS
                } else {
                    eprintln!("{status}: {pretty}");
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!(
                    "cannot reach the daemon at {}: {e}\nIs it running? (This command talks to the running daemon; it never opens the data directory itself, because RocksDB allows only one process.)",
                    remote.url
                );
                ExitCode::FAILURE
            }
        }
    })
}
