//! Plan limits, in memory: per account, a per-minute and a per-day bucket for the `/v1` API
//! and a per-second bucket for webhook ingest.
//!
//! The API buckets refill completely once per window, the window starting at the account's
//! first request (so "no more than N requests in the minute that follows the first" holds
//! exactly, and `X-RateLimit-Reset` is a fixed instant). The ingest bucket refills
//! continuously, so a steady producer is never bunched into bursts. The clock is passed in
//! (`now_ms`), so tests drive time. Map guards are never held across an `.await` (no method
//! here is async). Idle accounts are evicted by `evict_idle`, so memory stays bounded.

mod cluster;

use std::hash::BuildHasher;

use dashmap::DashMap;

use crate::fasthash::FastState;

use crate::model::{Limits, Plan};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// A bucket refilled to `capacity` at the end of each window.
#[derive(Debug, Clone, Copy)]
struct WindowBucket {
    capacity: u64,
    used: u64,
    window_start_ms: i64,
}

impl WindowBucket {
    fn new(capacity: u64, now_ms: i64) -> Self {
        WindowBucket {
            capacity,
            used: 0,
            window_start_ms: now_ms,
        }
    }

    fn roll(&mut self, capacity: u64, window_ms: i64, now_ms: i64) {
        self.capacity = capacity;
        if now_ms >= self.window_start_ms + window_ms {
            self.window_start_ms = now_ms;
            self.used = 0;
        }
    }

    fn remaining(&self) -> u64 {
        self.capacity.saturating_sub(self.used)
    }
}

/// A bucket refilled continuously at `capacity` tokens per second.
#[derive(Debug, Clone, Copy)]
struct RateBucket {
    tokens: f64,
    last_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct AccountBuckets {
    minute: WindowBucket,
    day: WindowBucket,
    ingest: RateBucket,
    last_seen_ms: i64,
}

/// Result of an API check: what the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub allowed: bool,
    /// Which limit refused the request.
    pub refused_by: Option<LimitKind>,
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds at which the minute window resets.
    pub reset_unix: i64,
    /// Seconds until the refusing window resets.
    pub retry_after_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Minute,
    Day,
    Ingest,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Minute => "minute",
            LimitKind::Day => "day",
            LimitKind::Ingest => "ingest",
        }
    }
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: DashMap<u64, AccountBuckets, FastState>,
    hasher: FastState,
    /// Windows shared with the other daemons of a shared database (`cluster`).
    cluster: Option<cluster::ClusterWindows>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Limits that hold across every daemon on `store` (a shared database).
    pub fn shared(store: crate::store::SharedStore) -> RateLimiter {
        RateLimiter {
            cluster: Some(cluster::ClusterWindows::new(store)),
            ..RateLimiter::default()
        }
    }

    /// Whether the windows are shared with other daemons (checks must be awaited).
    pub fn is_shared(&self) -> bool {
        self.cluster.is_some()
    }

    /// [`RateLimiter::check_api`], across every daemon when the windows are shared.
    pub async fn check_api_everywhere(
        &self,
        account_id: &str,
        limits: &Limits,
        now_ms: i64,
    ) -> Quota {
        let Some(cluster) = &self.cluster else {
            return self.check_api(account_id, limits, now_ms);
        };
        let window = |kind, window_ms, limit| cluster::Window {
            kind,
            window_ms,
            aligned: false,
            limit,
        };
        let Some(minute) = cluster
            .take(
                account_id,
                window("minute", MINUTE_MS, limits.requests_per_minute),
            )
            .await
        else {
            return self.check_api(account_id, limits, now_ms);
        };
        let day = match minute.allowed {
            true => {
                cluster
                    .take(account_id, window("day", DAY_MS, limits.requests_per_day))
                    .await
            }
            false => None,
        };
        let (refused_by, refusing) = match (minute.allowed, day) {
            (false, _) => (Some(LimitKind::Minute), minute),
            (true, Some(day)) if !day.allowed => (Some(LimitKind::Day), day),
            _ => (None, minute),
        };
        Quota {
            allowed: refused_by.is_none(),
            refused_by,
            limit: limits.requests_per_minute,
            remaining: day.map_or(minute.remaining, |d| minute.remaining.min(d.remaining)),
            reset_unix: (minute.ends_unix_ms + 999) / 1000,
            retry_after_secs: ((refusing.ends_unix_ms - now_ms).max(0) as u64)
                .div_ceil(1000)
                .max(1),
        }
    }

    /// [`RateLimiter::check_ingest`], across every daemon when the windows are shared.
    pub async fn check_ingest_everywhere(
        &self,
        account_id: &str,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<(), u64> {
        let Some(cluster) = &self.cluster else {
            return self.check_ingest(account_id, limits, now_ms);
        };
        let second = cluster::Window {
            kind: "ingest",
            window_ms: 1000,
            aligned: true,
            limit: limits.webhooks_per_second,
        };
        match cluster.take(account_id, second).await {
            Some(t) if t.allowed => Ok(()),
            Some(_) => Err(1),
            None => self.check_ingest(account_id, limits, now_ms),
        }
    }

    /// Keys are 64-bit hashes of account ids: a million accounts cost tens of MiB, not more.
    fn key(&self, account_id: &str) -> u64 {
        self.hasher.hash_one(account_id)
    }

    fn entry(
        &self,
        account_id: &str,
        limits: &Limits,
        now_ms: i64,
    ) -> dashmap::mapref::one::RefMut<'_, u64, AccountBuckets> {
        self.buckets
            .entry(self.key(account_id))
            .or_insert_with(|| AccountBuckets {
                minute: WindowBucket::new(limits.requests_per_minute, now_ms),
                day: WindowBucket::new(limits.requests_per_day, now_ms),
                ingest: RateBucket {
                    tokens: limits.webhooks_per_second as f64,
                    last_ms: now_ms,
                },
                last_seen_ms: now_ms,
            })
    }

    /// Counts one `/v1` request against the account's minute and day limits.
    pub fn check_api(&self, account_id: &str, limits: &Limits, now_ms: i64) -> Quota {
        let mut b = self.entry(account_id, limits, now_ms);
        b.last_seen_ms = now_ms;
        b.minute.roll(limits.requests_per_minute, MINUTE_MS, now_ms);
        b.day.roll(limits.requests_per_day, DAY_MS, now_ms);
        let refused_by = if b.minute.remaining() == 0 {
            Some(LimitKind::Minute)
        } else if b.day.remaining() == 0 {
            Some(LimitKind::Day)
        } else {
            None
        };
        if refused_by.is_none() {
            b.minute.used += 1;
            b.day.used += 1;
        }
        let minute_reset_ms = b.minute.window_start_ms + MINUTE_MS;
        let reset_ms = match refused_by {
            Some(LimitKind::Day) => b.day.window_start_ms + DAY_MS,
            _ => minute_reset_ms,
        };
        Quota {
            allowed: refused_by.is_none(),
            refused_by,
            limit: limits.requests_per_minute,
            remaining: b.minute.remaining().min(b.day.remaining()),
            reset_unix: (minute_reset_ms + 999) / 1000,
            retry_after_secs: ((reset_ms - now_ms).max(0) as u64).div_ceil(1000).max(1),
        }
    }

    /// What remains of the account's minute and day windows, without counting a request.
    pub fn remaining_api(&self, account_id: &str, limits: &Limits, now_ms: i64) -> (u64, u64) {
        let mut b = self.entry(account_id, limits, now_ms);
        b.minute.roll(limits.requests_per_minute, MINUTE_MS, now_ms);
        b.day.roll(limits.requests_per_day, DAY_MS, now_ms);
        (b.minute.remaining(), b.day.remaining())
    }

    /// Whether the ingest quota has a token now, without taking it: checked before a body is
    /// read, so an account over its quota costs no reading, signing or parsing. The token is
    /// taken by [`RateLimiter::check_ingest`] once the event proved authentic, so requests
    /// that fail their signature never spend the account's quota.
    pub fn peek_ingest(&self, account_id: &str, limits: &Limits, now_ms: i64) -> Result<(), u64> {
        let b = self.entry(account_id, limits, now_ms);
        let rate = limits.webhooks_per_second.max(1) as f64;
        let elapsed = (now_ms - b.ingest.last_ms).max(0) as f64 / 1000.0;
        let tokens = (b.ingest.tokens + elapsed * rate).min(rate);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Takes one webhook event from the account's ingest bucket. Err carries the seconds to
    /// wait.
    pub fn check_ingest(&self, account_id: &str, limits: &Limits, now_ms: i64) -> Result<(), u64> {
        let mut b = self.entry(account_id, limits, now_ms);
        b.last_seen_ms = now_ms;
        let rate = limits.webhooks_per_second.max(1) as f64;
        let elapsed = (now_ms - b.ingest.last_ms).max(0) as f64 / 1000.0;
        b.ingest.tokens = (b.ingest.tokens + elapsed * rate).min(rate);
        b.ingest.last_ms = now_ms;
        if b.ingest.tokens >= 1.0 {
            b.ingest.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.ingest.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Drops accounts not seen for a day: their windows would have reset anyway.
    pub fn evict_idle(&self, now_ms: i64) -> usize {
        if let Some(cluster) = &self.cluster {
            cluster.evict_ended();
        }
        let before = self.buckets.len();
        self.buckets.retain(|_, b| now_ms - b.last_seen_ms < DAY_MS);
        before - self.buckets.len()
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// Effective limits of an account: its custom numbers when Enterprise, else its plan's.
pub fn effective_limits(
    plan: Plan,
    custom: Option<Limits>,
    table: &crate::config::PlanTable,
) -> Limits {
    match (plan, custom) {
        (Plan::Enterprise, Some(l)) => l,
        _ => table.limits(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free() -> Limits {
        Limits {
            requests_per_minute: 60,
            requests_per_day: 1000,
            webhooks_per_second: 10,
        }
    }

    #[test]
    fn the_61st_request_within_a_minute_is_refused() {
        let rl = RateLimiter::new();
        let t0 = 1_000_000;
        for i in 0..60 {
            let q = rl.check_api("acct", &free(), t0 + i * 500);
            assert!(q.allowed, "request {} refused", i + 1);
            assert_eq!(q.remaining, 59 - i as u64);
        }
        let q = rl.check_api("acct", &free(), t0 + 59_000);
        assert!(!q.allowed);
        assert_eq!(q.refused_by, Some(LimitKind::Minute));
        assert_eq!(q.retry_after_secs, 1);
        assert_eq!(q.reset_unix, (t0 + 60_000) / 1000);
        // The next window starts afresh.
        assert!(rl.check_api("acct", &free(), t0 + 60_000).allowed);
    }

    #[test]
    fn the_day_limit_holds_across_minutes() {
        let rl = RateLimiter::new();
        let limits = Limits {
            requests_per_minute: 1000,
            requests_per_day: 3,
            webhooks_per_second: 1,
        };
        for i in 0..3 {
            assert!(rl.check_api("a", &limits, i * MINUTE_MS).allowed);
        }
        let q = rl.check_api("a", &limits, 5 * MINUTE_MS);
        assert_eq!(q.refused_by, Some(LimitKind::Day));
        assert!(q.retry_after_secs > 3600);
    }

    #[test]
    fn accounts_are_independent_and_plan_changes_apply_at_once() {
        let rl = RateLimiter::new();
        let one = Limits {
            requests_per_minute: 1,
            requests_per_day: 100,
            webhooks_per_second: 1,
        };
        assert!(rl.check_api("a", &one, 0).allowed);
        assert!(!rl.check_api("a", &one, 1).allowed);
        assert!(rl.check_api("b", &one, 1).allowed);
        let more = Limits {
            requests_per_minute: 5,
            ..one
        };
        assert!(
            rl.check_api("a", &more, 2).allowed,
            "an upgrade applies immediately"
        );
    }

    #[test]
    fn ingest_refills_continuously() {
        let rl = RateLimiter::new();
        let limits = Limits {
            requests_per_minute: 1,
            requests_per_day: 1,
            webhooks_per_second: 2,
        };
        assert!(rl.check_ingest("a", &limits, 0).is_ok());
        assert!(rl.check_ingest("a", &limits, 0).is_ok());
        assert_eq!(rl.check_ingest("a", &limits, 0), Err(1));
        assert!(rl.check_ingest("a", &limits, 500).is_ok());
    }

    #[test]
    fn idle_accounts_are_evicted() {
        let rl = RateLimiter::new();
        for i in 0..1000 {
            rl.check_api(&format!("acct_{i}"), &free(), 0);
        }
        rl.check_api("fresh", &free(), DAY_MS);
        assert_eq!(rl.evict_idle(DAY_MS + 1), 1000);
        assert_eq!(rl.tracked(), 1);
    }

    #[test]
    fn a_million_distinct_accounts_are_all_evicted_once_idle() {
        let rl = RateLimiter::new();
        for i in 0..1_000_000 {
            rl.check_ingest(&format!("acct_{i}"), &free(), 0).unwrap();
        }
        assert_eq!(rl.tracked(), 1_000_000);
        assert_eq!(rl.evict_idle(DAY_MS), 1_000_000);
        assert_eq!(rl.tracked(), 0);
    }

    #[test]
    fn contention_from_threads_counts_every_request_once() {
        let rl = std::sync::Arc::new(RateLimiter::new());
        let limits = Limits {
            requests_per_minute: 1000,
            requests_per_day: 100_000,
            webhooks_per_second: 1,
        };
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rl = rl.clone();
                std::thread::spawn(move || {
                    (0..500)
                        .filter(|_| rl.check_api("a", &limits, 0).allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(allowed, 1000);
    }
}
