//! Logging: structured `tracing` to stderr, text or JSON. Under systemd (JOURNAL_STREAM set)
//! the text format drops colours and timestamps, which journald adds itself.
//!
//! Secrets never reach a log: API keys, admin tokens, hook and signing secrets are not passed
//! to any log macro, and their holders have redacting `Debug` implementations.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::time::SystemTime;

use crate::config::LogSettings;

/// Installs the global subscriber; later calls are ignored (tests install it once).
pub fn init(log: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let result = if log.format == "json" {
        builder.json().with_current_span(true).try_init()
    } else if under_journald {
        builder.with_ansi(false).without_time().try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_timer(SystemTime)
            .try_init()
    };
    // Already installed (a test started a second app): keep the first.
    let _ = result;
}
