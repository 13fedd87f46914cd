//! Logging: structured `tracing` to stderr, text or JSON. Under systemd (JOURNAL_STREAM set)
//! the text format drops colours and timestamps, which journald adds itself. The level
//! filter can be changed while running (`set_level`, on SIGHUP).
//!
//! Secrets never reach a log: API keys, admin tokens, hook and signing secrets are not passed
//! to any log macro, and their holders have redacting `Debug` implementations.

use std::sync::OnceLock;

use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use crate::config::LogSettings;

type FilterHandle = reload::Handle<EnvFilter, Registry>;

static FILTER: OnceLock<FilterHandle> = OnceLock::new();

/// Installs the global subscriber; later calls are ignored (tests install it once).
pub fn init(log: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true);
    let output = if log.format == "json" {
        fmt.json().with_current_span(true).boxed()
    } else if under_journald {
        fmt.with_ansi(false).without_time().boxed()
    } else {
        fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_timer(SystemTime)
            .boxed()
    };
    // Already installed (a test started a second app): keep the first.
    if Registry::default()
        .with(filter)
        .with(output)
        .try_init()
        .is_ok()
    {
        let _ = FILTER.set(handle);
    }
}

/// Changes the level filter of the running process (`[log] level` syntax). `RUST_LOG`, when
/// set, wins over the configuration at start and here alike.
pub fn set_level(level: &str) -> Result<(), String> {
    if std::env::var_os("RUST_LOG").is_some() {
        return Err("RUST_LOG is set and takes precedence over [log] level".into());
    }
    let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
    let handle = FILTER.get().ok_or("logging is not initialised")?;
    handle.reload(filter).map_err(|e| e.to_string())
}
