//! The free-space floor under the store: the writer refuses writes while the filesystem of
//! the data directory (or of the WAL directory) has less than `[storage] min_free_bytes` free.
//!
//! Why a floor instead of letting RocksDB hit `ENOSPC`: once a write-ahead-log append fails
//! for lack of space, RocksDB stops accepting writes until it is reopened. Stopping a little
//! before the disk is full keeps it healthy, so writes resume by themselves as soon as space
//! returns — and an event is never acknowledged unless it was stored either way. Should the
//! disk fill anyway (another process taking the last bytes faster), RocksDB's error is
//! reported as `DiskFull` too; the probe write then fails, `/readyz` says not ready and the
//! systemd watchdog is no longer fed, so systemd restarts the daemon once space returns.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// Checked at most this often while writes flow, and before any write after this many bytes.
const CHECK_EVERY: Duration = Duration::from_millis(250);
const CHECK_AFTER_BYTES: u64 = 1 << 20;

pub struct DiskSpace {
    dirs: Vec<PathBuf>,
    min_free: u64,
    checked_at: Option<Instant>,
    written_since: u64,
    free: u64,
    full: bool,
}

impl DiskSpace {
    /// `min_free` of 0 turns the floor off.
    pub fn new(dirs: Vec<PathBuf>, min_free: u64) -> DiskSpace {
        DiskSpace {
            dirs,
            min_free,
            checked_at: None,
            written_since: 0,
            free: u64::MAX,
            full: false,
        }
    }

    /// Whether a write may go ahead now.
    pub fn check(&mut self) -> Result<(), StoreError> {
        if self.min_free == 0 {
            return Ok(());
        }
        let stale = self.checked_at.is_none_or(|at| at.elapsed() >= CHECK_EVERY);
        if stale || self.written_since >= CHECK_AFTER_BYTES {
            self.refresh();
        }
        if self.full {
            Err(StoreError::DiskFull {
                free_bytes: self.free,
                min_free_bytes: self.min_free,
            })
        } else {
            Ok(())
        }
    }

    /// Counts what a write added, so a burst is re-checked before it can overshoot.
    pub fn wrote(&mut self, bytes: usize) {
        self.written_since += bytes as u64;
    }

    fn refresh(&mut self) {
        self.checked_at = Some(Instant::now());
        self.written_since = 0;
        let free = self.dirs.iter().filter_map(|d| free_bytes(d)).min();
        let Some(free) = free else {
            return; // Not measurable: keep the last answer rather than guess.
        };
        self.free = free;
        metrics::gauge!("botcadence_store_free_bytes").set(free as f64);
        let full = free < self.min_free;
        if full != self.full {
            if full {
                tracing::error!(
                    free_bytes = free,
                    min_free_bytes = self.min_free,
                    "disk full: the data directory's filesystem is below [storage] min_free_bytes; \
                     writes are refused (ingest answers 503) until space returns"
                );
            } else {
                tracing::info!(
                    free_bytes = free,
                    "disk space returned: writes are accepted again"
                );
            }
            metrics::gauge!("botcadence_store_disk_full").set(if full { 1.0 } else { 0.0 });
        }
        self.full = full;
    }
}

/// Bytes available to this (unprivileged) process on the filesystem holding `dir`.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Whether a RocksDB error is the filesystem being full.
pub fn is_no_space(message: &str) -> bool {
    message.contains("No space left on device") || message.contains("NoSpace")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_above_the_free_space_refuses_and_a_floor_of_zero_never_does() {
        let dir = std::env::temp_dir();
        let free = free_bytes(&dir).expect("statvfs works on the temp dir");
        let mut above = DiskSpace::new(vec![dir.clone()], free.saturating_mul(2).max(1));
        assert!(matches!(above.check(), Err(StoreError::DiskFull { .. })));
        let mut off = DiskSpace::new(vec![dir.clone()], 0);
        assert!(off.check().is_ok());
        let mut low = DiskSpace::new(vec![dir], 1);
        assert!(low.check().is_ok());
    }

    #[test]
    fn rocksdb_out_of_space_errors_are_recognised() {
        assert!(is_no_space(
            "IO error: No space left on device: While appending to file: /d/000004.log: No space left on device"
        ));
        assert!(!is_no_space("Corruption: block checksum mismatch"));
    }
}
