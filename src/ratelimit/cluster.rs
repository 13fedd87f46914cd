//! Plan limits across several daemons on one database. Each daemon takes chunks of an
//! account's current window from the shared row (`Store::take_quota`) and spends them
//! locally; it asks again when its chunk is spent. The database never grants more than a
//! window's limit in all, so no account is ever admitted more than its plan allows across
//! the cluster; what other daemons hold unspent (each less than one chunk) can make a
//! request be refused up to `(daemons − 1) × (chunk − 1)` units early in a window.
//!
//! The API's minute and day windows start at the account's first request, as on one daemon;
//! the ingest quota is counted in whole seconds of the database's clock (on one daemon it
//! refills continuously). When the database cannot be reached the daemon falls back to its
//! own counters for that request (each daemon then admits up to the plan on its own).

use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::fasthash::FastState;
use crate::store::{QuotaRequest, SharedStore};

/// One account's share of one kind of window, held by this daemon.
#[derive(Debug, Clone, Copy)]
struct Share {
    /// Units granted and not spent yet.
    left: u64,
    /// When the window ends, on this daemon's monotonic clock.
    ends: Instant,
    /// Granted to all daemons in this window when last asked.
    used: u64,
    limit: u64,
    /// The window's end in unix ms (database clock), for `X-RateLimit-Reset`.
    ends_unix_ms: i64,
}

/// A window the caller asks about.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub kind: &'static str,
    pub window_ms: i64,
    pub aligned: bool,
    pub limit: u64,
}

/// What taking one unit came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub allowed: bool,
    /// What is left of the window across the cluster, as far as this daemon knows.
    pub remaining: u64,
    pub ends_unix_ms: i64,
}

pub struct ClusterWindows {
    store: SharedStore,
    shares: DashMap<(String, &'static str), Share, FastState>,
}

/// How many units a daemon takes at once: about a fiftieth of the window, so a daemon asks
/// the database about fifty times per window when busy; never more than 1,000.
pub fn chunk(limit: u64) -> u64 {
    (limit / 50).clamp(1, 1000)
}

impl ClusterWindows {
    pub fn new(store: SharedStore) -> ClusterWindows {
        ClusterWindows {
            store,
            shares: DashMap::default(),
        }
    }

    /// Spends one unit of the account's window. None: the database could not be asked.
    pub async fn take(&self, account_id: &str, w: Window) -> Option<Taken> {
        let key = (account_id.to_string(), w.kind);
        if let Some(taken) = self.spend_held(&key) {
            return Some(taken);
        }
        let grant = match self
            .store
            .take_quota(QuotaRequest {
                account_id: account_id.to_string(),
                kind: w.kind,
                window_ms: w.window_ms,
                aligned: w.aligned,
                limit: w.limit,
                want: chunk(w.limit),
            })
            .await
        {
            Ok(Some(grant)) => grant,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%error, "could not take a share of a plan window; counting on this daemon alone");
                return None;
            }
        };
        let ends_unix_ms = grant.window_start_ms + w.window_ms;
        let share = Share {
            left: grant.granted,
            ends: Instant::now()
                + Duration::from_millis((ends_unix_ms - grant.now_ms).max(0) as u64),
            used: grant.used,
            limit: w.limit,
            ends_unix_ms,
        };
        self.shares.insert(key.clone(), share);
        Some(self.spend_held(&key).unwrap_or(Taken {
            allowed: false,
            remaining: 0,
            ends_unix_ms,
        }))
    }

    /// Spends a unit held here; None when nothing is held for the current window and the
    /// database must be asked. A window that was used up when last asked refuses until it
    /// ends, without asking again.
    fn spend_held(&self, key: &(String, &'static str)) -> Option<Taken> {
        let mut share = self.shares.get_mut(key)?;
        if Instant::now() >= share.ends {
            drop(share);
            self.shares.remove(key);
            return None;
        }
        let allowed = share.left > 0;
        if allowed {
            share.left -= 1;
        } else if share.used < share.limit {
            return None;
        }
        Some(Taken {
            allowed,
            remaining: share.limit.saturating_sub(share.used) + share.left,
            ends_unix_ms: share.ends_unix_ms,
        })
    }

    /// Forgets shares whose window ended.
    pub fn evict_ended(&self) {
        let now = Instant::now();
        self.shares.retain(|_, s| s.ends > now);
    }
}
