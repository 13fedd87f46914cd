//! Settings: built-in defaults (the commented `config/botcadence.toml`, embedded in the binary),
//! then the user's file, then `BOTCADENCE_<SECTION>__<KEY>` environment variables, then
//! command-line flags. The result is validated as a whole and every problem is reported at once.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use toml::{Table, Value};

use crate::model::{Limits, Plan};

/// The documented default configuration; every key a user may set appears in it.
pub const DEFAULT_CONFIG: &str = include_str!("../config/botcadence.toml");

const ENV_PREFIX: &str = "BOTCADENCE_";
/// Environment variable carrying the operator API token.
pub const ADMIN_TOKEN_ENV: &str = "BOTCADENCE_ADMIN_TOKEN";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub public_url: String,
    pub workers: usize,
    pub max_api_body_bytes: usize,
    pub header_read_timeout_ms: u64,
    pub body_read_timeout_secs: u64,
    pub max_connections_per_worker: usize,
    pub max_body_memory_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledge after the WAL is fsynced (group commit).
    Fsync,
    /// Acknowledge after the WAL write reached the page cache.
    Wal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    pub durability: String,
    pub max_batch: usize,
    pub wal_dir: PathBuf,
    pub min_free_bytes: u64,
    /// "rocksdb" (embedded, the default) or "postgres".
    pub backend: String,
    /// libpq-style connection string or URL, for `backend = "postgres"`.
    pub postgres_url: String,
    /// File holding the PostgreSQL password (a systemd credential `postgres-password` is
    /// used when this is empty and one is present).
    pub postgres_password_file: PathBuf,
    /// How long a shard's lease lasts without renewal (PostgreSQL): how long the others wait
    /// to take a shard over after its holder died.
    pub postgres_lease_ms: u64,
}

impl Settings {
    /// The sections (and `[log] format`) that differ between `self` and `other` and that
    /// only a restart applies: everything but `[log] level`.
    pub fn restart_only_differences(&self, other: &Settings) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |name: &'static str, a: String, b: String| {
            if a != b {
                changed.push(name);
            }
        };
        check(
            "[server]",
            format!("{:?}", self.server),
            format!("{:?}", other.server),
        );
        check(
            "[storage]",
            format!("{:?}", self.storage),
            format!("{:?}", other.storage),
        );
        check(
            "[webhooks]",
            format!("{:?}", self.webhooks),
            format!("{:?}", other.webhooks),
        );
        check(
            "[engine]",
            format!("{:?}", self.engine),
            format!("{:?}", other.engine),
        );
        check(
            "[plans]",
            format!("{:?}", self.plans),
            format!("{:?}", other.plans),
        );
        check(
            "[http_actions]",
            format!("{:?}", self.http_actions),
            format!("{:?}", other.http_actions),
        );
        check(
            "[smtp]",
            format!("{:?}", self.smtp),
            format!("{:?}", other.smtp),
        );
        check(
            "[retention]",
            format!("{:?}", self.retention),
            format!("{:?}", other.retention),
        );
        check(
            "[admin]",
            format!("{:?}", self.admin),
            format!("{:?}", other.admin),
        );
        check(
            "[log] format",
            self.log.format.clone(),
            other.log.format.clone(),
        );
        // Secrets compared by value, never printed.
        let secret = |s: &Option<Secret>| s.as_ref().map(|s| s.0.clone()).unwrap_or_default();
        check(
            "the admin token",
            secret(&self.admin_token),
            secret(&other.admin_token),
        );
        check(
            "the SMTP password",
            secret(&self.smtp_password),
            secret(&other.smtp_password),
        );
        check(
            "the PostgreSQL password",
            secret(&self.postgres_password),
            secret(&other.postgres_password),
        );
        changed
    }
}

impl StorageSettings {
    pub fn is_postgres(&self) -> bool {
        self.backend == "postgres"
    }

    /// The WAL directory, when one apart from the data directory is configured.
    pub fn wal_dir(&self) -> Option<&std::path::Path> {
        (!self.wal_dir.as_os_str().is_empty()).then_some(self.wal_dir.as_path())
    }

    pub fn durability(&self) -> Durability {
        if self.durability == "wal" {
            Durability::Wal
        } else {
            Durability::Fsync
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub max_body_bytes: usize,
    pub max_body_memory_per_account_bytes: usize,
    pub dedupe_window_secs: u64,
    pub timestamp_tolerance_secs: u64,
    pub max_sync_waiting_per_account: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    pub max_pending: usize,
    pub max_pending_per_account: usize,
    pub workers: usize,
    pub workflow_concurrency: usize,
    pub actor_idle_secs: u64,
    pub shutdown_timeout_secs: u64,
    pub template_fuel: u64,
    pub template_max_bytes: usize,
    pub template_max_memory_bytes: usize,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: String,
    pub username: String,
    pub password_file: PathBuf,
    pub from: String,
    pub timeout_secs: u64,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpActionSettings {
    pub allow_cidrs: Vec<String>,
    pub default_timeout_ms: u64,
    pub max_timeout_ms: u64,
    pub max_response_bytes: usize,
    pub max_redirects: usize,
}

impl HttpActionSettings {
    /// The parsed allow list; invalid entries were rejected by validation.
    pub fn allowed_nets(&self) -> Vec<IpNet> {
        self.allow_cidrs
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub max_age: String,
    pub sweep_interval: String,
}

impl RetentionSettings {
    pub fn max_age(&self) -> Duration {
        parse_duration(&self.max_age).unwrap_or(Duration::from_secs(30 * 86_400))
    }
    pub fn sweep_interval(&self) -> Duration {
        parse_duration(&self.sweep_interval).unwrap_or(Duration::from_secs(3_600))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub token_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanTable {
    pub free: Limits,
    pub pro: Limits,
    pub enterprise: Limits,
}

impl PlanTable {
    pub fn limits(&self, plan: Plan) -> Limits {
        match plan {
            Plan::Free => self.free,
            Plan::Pro => self.pro,
            Plan::Enterprise => self.enterprise,
        }
    }
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub webhooks: WebhookSettings,
    pub engine: EngineSettings,
    pub smtp: SmtpSettings,
    pub http_actions: HttpActionSettings,
    pub retention: RetentionSettings,
    pub admin: AdminSettings,
    pub log: LogSettings,
    pub plans: PlanTable,
    /// Operator API token, from the environment or `[admin] token_file`.
    pub admin_token: Option<Secret>,
    /// SMTP password, read from `[smtp] password_file`.
    pub smtp_password: Option<Secret>,
    /// PostgreSQL password, from `[storage] postgres_password_file` or the systemd credential.
    pub postgres_password: Option<Secret>,
}

/// Every problem found in a configuration, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Overrides given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct CliOverrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    /// Loads defaults, `file`, the process environment and `cli`, then validates.
    pub fn load(file: Option<&Path>, cli: &CliOverrides) -> Result<Settings, ConfigErrors> {
        Self::load_from(file, std::env::vars(), cli)
    }

    /// Same as [`Settings::load`] with an explicit environment (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        cli: &CliOverrides,
    ) -> Result<Settings, ConfigErrors> {
        let mut problems = Vec::new();
        let defaults: Table = DEFAULT_CONFIG
            .parse()
            .expect("the embedded default configuration is valid TOML");
        let mut merged = defaults.clone();

        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => match text.parse::<Table>() {
                    Ok(user) => merge_known(&mut merged, &defaults, user, "", &mut problems),
                    Err(e) => problems.push(format!("{}: {}", path.display(), e.message())),
                },
                Err(e) => problems.push(format!("cannot read {}: {e}", path.display())),
            }
        }

        let mut admin_token_env = None;
        for (name, raw) in env {
            if name == ADMIN_TOKEN_ENV {
                if !raw.trim().is_empty() {
                    admin_token_env = Some(Secret(raw.trim().to_string()));
                }
                continue;
            }
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !rest.contains("__") {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            apply_env(&mut merged, &defaults, &path, &raw, &name, &mut problems);
        }

        if let Some(listen) = &cli.listen {
            set_path(
                &mut merged,
                &["server", "listen"],
                Value::String(listen.clone()),
            );
        }
        if let Some(dir) = &cli.data_dir {
            set_path(
                &mut merged,
                &["storage", "data_dir"],
                Value::String(dir.display().to_string()),
            );
        }

        let settings = build(&merged, &mut problems);
        let Some(mut settings) = settings else {
            return Err(ConfigErrors(problems));
        };
        settings.validate(&mut problems);
        settings.admin_token = admin_token_env.or_else(|| {
            read_secret_file(
                &settings.admin.token_file,
                "admin.token_file",
                &mut problems,
            )
        });
        settings.smtp_password = read_secret_file(
            &settings.smtp.password_file,
            "smtp.password_file",
            &mut problems,
        );
        settings.postgres_password = postgres_password(&settings.storage, &mut problems);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(problems))
        }
    }

    fn validate(&self, problems: &mut Vec<String>) {
        if self.server.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "server.listen: '{}' is not an IP address and port (e.g. 127.0.0.1:8080)",
                self.server.listen
            ));
        }
        let url = &self.server.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!(
                "server.public_url: '{url}' must start with http:// or https://"
            ));
        }
        if self.server.max_api_body_bytes == 0 {
            problems.push("server.max_api_body_bytes: must be greater than 0".into());
        }
        if self.server.header_read_timeout_ms == 0 || self.server.body_read_timeout_secs == 0 {
            problems.push(
                "server.header_read_timeout_ms, server.body_read_timeout_secs: must be greater than 0"
                    .into(),
            );
        }
        if self.webhooks.max_body_memory_per_account_bytes < self.webhooks.max_body_bytes {
            problems.push(
                "webhooks.max_body_memory_per_account_bytes: must hold at least one body of \
                 webhooks.max_body_bytes"
                    .into(),
            );
        }
        if self.server.max_connections_per_worker == 0 {
            problems.push("server.max_connections_per_worker: must be greater than 0".into());
        }
        if self.server.max_body_memory_bytes
            < self
                .webhooks
                .max_body_bytes
                .max(self.server.max_api_body_bytes)
        {
            problems.push(
                "server.max_body_memory_bytes: must hold at least one body of the largest size \
                 accepted (webhooks.max_body_bytes, server.max_api_body_bytes)"
                    .into(),
            );
        }
        if !matches!(self.storage.durability.as_str(), "fsync" | "wal") {
            problems.push(format!(
                "storage.durability: '{}' is not one of \"fsync\", \"wal\"",
                self.storage.durability
            ));
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            problems.push("storage.data_dir: must not be empty".into());
        }
        match self.storage.backend.as_str() {
            "rocksdb" => {}
            "postgres" if self.storage.postgres_url.trim().is_empty() => problems
                .push("storage.postgres_url: required when storage.backend is \"postgres\"".into()),
            "postgres" if self.storage.postgres_lease_ms < 1000 => {
                problems.push("storage.postgres_lease_ms: must be at least 1000".into())
            }
            "postgres" => {}
            other => problems.push(format!(
                "storage.backend: '{other}' is not one of \"rocksdb\", \"postgres\""
            )),
        }
        if self.storage.max_batch == 0 {
            problems.push("storage.max_batch: must be greater than 0".into());
        }
        if self.webhooks.max_body_bytes == 0 {
            problems.push("webhooks.max_body_bytes: must be greater than 0".into());
        }
        if self.engine.max_pending == 0 {
            problems.push("engine.max_pending: must be greater than 0".into());
        }
        if self.engine.max_pending_per_account == 0 {
            problems.push("engine.max_pending_per_account: must be greater than 0".into());
        }
        if self.engine.actor_idle_secs == 0 {
            problems.push("engine.actor_idle_secs: must be greater than 0".into());
        }
        if self.engine.workflow_concurrency == 0 {
            problems.push("engine.workflow_concurrency: must be greater than 0".into());
        }
        if self.engine.template_max_memory_bytes < self.engine.template_max_bytes {
            problems.push(
                "engine.template_max_memory_bytes: must be at least engine.template_max_bytes"
                    .into(),
            );
        }
        if self.engine.template_fuel == 0 {
            problems.push("engine.template_fuel: must be greater than 0".into());
        }
        if !matches!(self.smtp.tls.as_str(), "none" | "starttls" | "tls") {
            problems.push(format!(
                "smtp.tls: '{}' is not one of \"none\", \"starttls\", \"tls\"",
                self.smtp.tls
            ));
        }
        if !self.smtp.from.contains('@') {
            problems.push(format!(
                "smtp.from: '{}' is not an email address",
                self.smtp.from
            ));
        }
        for cidr in &self.http_actions.allow_cidrs {
            if cidr.parse::<IpNet>().is_err() {
                problems.push(format!(
                    "http_actions.allow_cidrs: '{cidr}' is not a CIDR (e.g. 127.0.0.0/8)"
                ));
            }
        }
        if self.http_actions.default_timeout_ms == 0
            || self.http_actions.default_timeout_ms > self.http_actions.max_timeout_ms
        {
            problems.push(
                "http_actions.default_timeout_ms: must be between 1 and max_timeout_ms".into(),
            );
        }
        for (key, value) in [
            ("retention.max_age", &self.retention.max_age),
            ("retention.sweep_interval", &self.retention.sweep_interval),
        ] {
            if parse_duration(value).is_none_or(|d| d.is_zero()) {
                problems.push(format!(
                    "{key}: '{value}' is not a duration such as \"30d\", \"12h\", \"90s\""
                ));
            }
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            problems.push(format!(
                "log.format: '{}' is not one of \"text\", \"json\"",
                self.log.format
            ));
        }
        for (plan, limits) in [
            ("free", self.plans.free),
            ("pro", self.plans.pro),
            ("enterprise", self.plans.enterprise),
        ] {
            if limits.requests_per_minute == 0
                || limits.requests_per_day == 0
                || limits.webhooks_per_second == 0
            {
                problems.push(format!("plans.{plan}: every limit must be greater than 0"));
            }
        }
    }

    /// The base URL webhook URLs are built from, given the address actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }
}

/// Parses "30d", "12h", "15m", "90s" or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3_600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// The PostgreSQL password: `[storage] postgres_password_file`, else the systemd credential
/// `postgres-password` (`LoadCredential=`), else none (the URL or `.pgpass` may carry it).
fn postgres_password(storage: &StorageSettings, problems: &mut Vec<String>) -> Option<Secret> {
    if !storage.postgres_password_file.as_os_str().is_empty() {
        return read_secret_file(
            &storage.postgres_password_file,
            "storage.postgres_password_file",
            problems,
        );
    }
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|dir| PathBuf::from(dir).join("postgres-password"))
        .filter(|p| p.exists())?;
    read_secret_file(&credential, "the postgres-password credential", problems)
}

fn read_secret_file(path: &Path, key: &str, problems: &mut Vec<String>) -> Option<Secret> {
    if path.as_os_str().is_empty() {
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => Some(Secret(s.trim().to_string())),
        Ok(_) => {
            problems.push(format!("{key}: {} is empty", path.display()));
            None
        }
        Err(e) => {
            problems.push(format!("{key}: cannot read {}: {e}", path.display()));
            None
        }
    }
}

/// Copies `user` onto `merged`, reporting keys the defaults do not know.
fn merge_known(
    merged: &mut Table,
    defaults: &Table,
    user: Table,
    prefix: &str,
    problems: &mut Vec<String>,
) {
    for (key, value) in user {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (defaults.get(&key), value) {
            (None, _) => problems.push(format!("{dotted}: unknown key")),
            (Some(Value::Table(def)), Value::Table(sub)) => {
                let target = merged
                    .get_mut(&key)
                    .and_then(Value::as_table_mut)
                    .expect("merged starts as a copy of the defaults");
                merge_known(target, def, sub, &dotted, problems);
            }
            (Some(Value::Table(_)), _) => problems.push(format!("{dotted}: must be a table")),
            (Some(_), v) => {
                merged.insert(key, v);
            }
        }
    }
}

fn apply_env(
    merged: &mut Table,
    defaults: &Table,
    path: &[String],
    raw: &str,
    var: &str,
    problems: &mut Vec<String>,
) {
    let mut def: Option<&Value> = None;
    let mut table = defaults;
    for (i, part) in path.iter().enumerate() {
        match table.get(part) {
            Some(Value::Table(t)) if i + 1 < path.len() => table = t,
            Some(v) if i + 1 == path.len() && !v.is_table() => def = Some(v),
            _ => break,
        }
    }
    let Some(def) = def else {
        problems.push(format!("{var}: no such setting {}", path.join(".")));
        return;
    };
    let value = match def {
        Value::String(_) => Some(Value::String(raw.to_string())),
        Value::Integer(_) => raw.trim().parse::<i64>().ok().map(Value::Integer),
        Value::Float(_) => raw.trim().parse::<f64>().ok().map(Value::Float),
        Value::Boolean(_) => raw.trim().parse::<bool>().ok().map(Value::Boolean),
        Value::Array(_) => format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(Value::is_array),
        _ => None,
    };
    match value {
        Some(v) => {
            let parts: Vec<&str> = path.iter().map(String::as_str).collect();
            set_path(merged, &parts, v);
        }
        None => problems.push(format!(
            "{var}: '{raw}' is not a valid {} for {}",
            def.type_str(),
            path.join(".")
        )),
    }
}

fn set_path(table: &mut Table, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("paths are never empty");
    let mut t = table;
    for p in parents {
        t = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .expect("setting paths go through tables");
    }
    t.insert(last.to_string(), value);
}

/// Deserialises each section on its own so that one bad section does not hide another's
/// problems.
fn build(merged: &Table, problems: &mut Vec<String>) -> Option<Settings> {
    fn section<T: for<'de> Deserialize<'de>>(
        merged: &Table,
        name: &str,
        problems: &mut Vec<String>,
    ) -> Option<T> {
        let value = merged
            .get(name)
            .cloned()
            .unwrap_or(Value::Table(Table::new()));
        match value.try_into::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{name}: {}", e.message().trim()));
                None
            }
        }
    }
    let server = section(merged, "server", problems);
    let storage = section(merged, "storage", problems);
    let webhooks = section(merged, "webhooks", problems);
    let engine = section(merged, "engine", problems);
    let smtp = section(merged, "smtp", problems);
    let http_actions = section(merged, "http_actions", problems);
    let retention = section(merged, "retention", problems);
    let admin = section(merged, "admin", problems);
    let log = section(merged, "log", problems);
    let plans = section(merged, "plans", problems);
    Some(Settings {
        server: server?,
        storage: storage?,
        webhooks: webhooks?,
        engine: engine?,
        smtp: smtp?,
        http_actions: http_actions?,
        retention: retention?,
        admin: admin?,
        log: log?,
        plans: plans?,
        admin_token: None,
        smtp_password: None,
        postgres_password: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(contents.as_bytes()).unwrap();
        f
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let s = Settings::load_from(None, env(&[]), &CliOverrides::default()).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.storage.data_dir, PathBuf::from("./data"));
        assert_eq!(s.storage.durability(), Durability::Fsync);
        assert_eq!(s.webhooks.max_body_bytes, 1_048_576);
        assert_eq!(s.plans.free.requests_per_minute, 60);
        assert_eq!(s.plans.pro.requests_per_day, 10_000);
        assert_eq!(s.retention.max_age(), Duration::from_secs(30 * 86_400));
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn file_then_env_then_cli_take_precedence_in_that_order() {
        let f = file(
            "[server]\nlisten = \"127.0.0.1:9000\"\npublic_url = \"https://hooks.example.com\"\n[storage]\ndurability = \"wal\"\n",
        );
        let s = Settings::load_from(
            Some(f.path()),
            env(&[("BOTCADENCE_SERVER__LISTEN", "127.0.0.1:9100")]),
            &CliOverrides::default(),
        )
        .unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:9100");
        assert_eq!(s.server.public_url, "https://hooks.example.com");
        assert_eq!(s.storage.durability(), Durability::Wal);

        let cli = CliOverrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some("/tmp/x".into()),
        };
        let s = Settings::load_from(
            Some(f.path()),
            env(&[("BOTCADENCE_SERVER__LISTEN", "127.0.0.1:9100")]),
            &cli,
        )
        .unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:0");
        assert_eq!(s.storage.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn nested_plan_keys_and_arrays_can_come_from_the_environment() {
        let s = Settings::load_from(
            None,
            env(&[
                ("BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE", "7"),
                ("BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS", "[\"127.0.0.0/8\"]"),
            ]),
            &CliOverrides::default(),
        )
        .unwrap();
        assert_eq!(s.plans.free.requests_per_minute, 7);
        assert_eq!(s.http_actions.allow_cidrs, vec!["127.0.0.0/8".to_string()]);
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let f = file(
            "[server]\nlisten = \"nowhere\"\nbogus = 1\n[storage]\ndurability = \"sometimes\"\n[smtp]\ntls = \"maybe\"\n",
        );
        let err = Settings::load_from(
            Some(f.path()),
            env(&[("BOTCADENCE_ENGINE__MAX_PENDING", "lots")]),
            &CliOverrides::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "server.bogus: unknown key",
            "server.listen",
            "storage.durability",
            "smtp.tls",
            "BOTCADENCE_ENGINE__MAX_PENDING",
        ] {
            assert!(text.contains(needle), "missing {needle} in:\n{text}");
        }
    }

    #[test]
    fn admin_token_comes_from_the_environment_first() {
        let token = file("from-file\n");
        let f = file(&format!(
            "[admin]\ntoken_file = \"{}\"\n",
            token.path().display()
        ));
        let s = Settings::load_from(Some(f.path()), env(&[]), &CliOverrides::default()).unwrap();
        assert_eq!(s.admin_token, Some(Secret("from-file".into())));
        let s = Settings::load_from(
            Some(f.path()),
            env(&[("BOTCADENCE_ADMIN_TOKEN", "from-env")]),
            &CliOverrides::default(),
        )
        .unwrap();
        assert_eq!(s.admin_token, Some(Secret("from-env".into())));
        assert_eq!(format!("{:?}", s.admin_token), "Some(Secret(***))");
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("3w"), None);
    }
}
