//! The process's own figures under the names every Prometheus client library uses
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, …), so dashboards and alerts
//! written for any other service work unchanged. Read from /proc at each scrape and written in
//! the text format directly: the metrics recorder holds integer counters only, and CPU seconds
//! are fractional.

use std::fmt::Write;
use std::sync::OnceLock;

static START_TIME_SECONDS: OnceLock<f64> = OnceLock::new();

/// Remembers when the process started (called once, when metrics are installed).
pub fn record_start() {
    START_TIME_SECONDS.get_or_init(|| crate::timefmt::now_ms() as f64 / 1000.0);
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    pub max_fds: u64,
}

/// Reads this process's CPU, memory, threads and descriptors from /proc (Linux). Blocking:
/// call it off the async threads.
pub fn read() -> ProcessStats {
    let mut s = ProcessStats::default();
    // SAFETY: sysconf only reads configuration values.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name (which may hold spaces) start after the last ')':
        // field n of the whole line is index n - 3 here.
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let field = |n: usize| {
                f.get(n - 3)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            s.cpu_seconds = (field(14) + field(15)) as f64 / ticks; // utime + stime
            s.threads = field(20);
            s.virtual_bytes = field(23);
        }
    }
    if let Ok(statm) = std::fs::read_to_string("/proc/self/statm") {
        let resident: u64 = statm
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        s.resident_bytes = resident * page;
    }
    s.open_fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        s.max_fds = lim.rlim_cur;
    }
    s
}

/// The Prometheus text format of `stats`, with the same HELP and TYPE lines as the official
/// client libraries.
pub fn render(stats: &ProcessStats) -> String {
    let start = START_TIME_SECONDS.get().copied();
    let mut out = String::with_capacity(1024);
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    };
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        stats.cpu_seconds,
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        stats.resident_bytes as f64,
    );
    metric(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        stats.virtual_bytes as f64,
    );
    metric(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        stats.threads as f64,
    );
    metric(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        stats.open_fds as f64,
    );
    metric(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        stats.max_fds as f64,
    );
    if let Some(start) = start {
        metric(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            start,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_read_from_proc() {
        let s = read();
        assert!(
            s.resident_bytes > 0 && s.virtual_bytes >= s.resident_bytes,
            "{s:?}"
        );
        assert!(
            s.threads >= 1 && s.open_fds >= 1 && s.max_fds >= s.open_fds,
            "{s:?}"
        );
    }

    #[test]
    fn the_text_uses_the_standard_names_and_types() {
        record_start();
        let text = render(&ProcessStats {
            cpu_seconds: 1.25,
            ..ProcessStats::default()
        });
        assert!(text.contains(
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.25\n"
        ));
        for name in [
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_threads",
            "process_start_time_seconds",
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} gauge\n{name} ")),
                "{name}"
            );
        }
    }
}
