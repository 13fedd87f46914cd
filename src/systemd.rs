//! systemd integration: `READY=1` once the store is open and the listener bound,
//! `STOPPING=1` on shutdown, and `WATCHDOG=1` pings sent only while the daemon proves itself
//! alive (a store read and a dispatcher round trip). Without `NOTIFY_SOCKET` all of this is a
//! no-op.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::actors::Engine;
use crate::store::SharedStore;

pub fn notify_ready() {
    if let Err(e) = sd_notify::notify(false, &[NotifyState::Ready]) {
        tracing::warn!(error = %e, "could not notify systemd of readiness");
    }
}

pub fn notify_stopping() {
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
}

/// The watchdog interval systemd asked for, if any: `WATCHDOG_USEC`, unless `WATCHDOG_PID`
/// names another process (the same rule as libsystemd's `sd_watchdog_enabled`).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// Pings the watchdog at half its interval while the store still writes (a probe write
/// through the writer, durable) and the dispatcher answers.
pub async fn watchdog(
    interval: Duration,
    store: SharedStore,
    engine: Engine,
    shutdown: CancellationToken,
) {
    let period = interval / 2;
    loop {
        tokio::select! {
            // Stopping: systemd was told STOPPING=1 and stops expecting pings.
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        let store_ok = store.probe_write(period).await.is_ok();
        let engine_ok = engine.ping(period).await;
        if store_ok && engine_ok {
            let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
        } else {
            tracing::error!(
                store_ok,
                engine_ok,
                "liveness check failed; not pinging the watchdog"
            );
        }
    }
}

/// The listening socket systemd passed (socket activation: `LISTEN_FDS` ≥ 1 and `LISTEN_PID`
/// naming this process), as the first passed descriptor (3). The variables are removed so
/// that child processes do not take them for theirs. None when started any other way.
pub fn inherited_listener() -> Option<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    const SD_LISTEN_FDS_START: i32 = 3;
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    let fds: i32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    if pid != std::process::id() || fds < 1 {
        return None;
    }
    // SAFETY: only the environment is changed, before any thread reads it (called from
    // `serve`, before the runtime starts its workers).
    unsafe {
        std::env::remove_var("LISTEN_PID");
        std::env::remove_var("LISTEN_FDS");
        std::env::remove_var("LISTEN_FDNAMES");
    }
    // SAFETY: systemd passes descriptor 3 open and owned by this process; nothing else in
    // the process uses it.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(SD_LISTEN_FDS_START) };
    match listener.local_addr() {
        Ok(_) => Some(listener),
        Err(e) => {
            tracing::error!(error = %e, "LISTEN_FDS is set but descriptor 3 is not a TCP socket");
            // Not ours to close.
            let _ = std::os::fd::IntoRawFd::into_raw_fd(listener);
            None
        }
    }
}
