//! Admission control: how many executions are accepted but not finished, in all and per
//! account. Ingest takes a slot before it stores anything; the slot is released when the
//! execution reaches a terminal status. An account at its own bound gets 429 with
//! `Retry-After` while every other account goes on being admitted; a full house answers 503.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::fasthash::FastMap;

pub struct Admission {
    pending: AtomicUsize,
    max: usize,
    max_per_account: usize,
    /// Pending executions of each account that has any (entries leave at zero, so the map is
    /// bounded by the accounts with unfinished work).
    per_account: Mutex<FastMap<Arc<str>, usize>>,
    closed: AtomicBool,
    seq: AtomicU64,
    /// Receive time (µs) of every pending execution, to report the oldest one's age.
    received: Mutex<BTreeMap<(i64, u64), ()>>,
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This account has `limit` (`max_pending_per_account`) executions unfinished.
    Account { limit: usize },
    /// The daemon as a whole is at `max_pending`, or shutting down.
    Daemon,
}

/// One pending execution's place; dropping it frees the place.
pub struct Slot {
    admission: Arc<Admission>,
    key: (i64, u64),
    account: Arc<str>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.pending.fetch_sub(1, Ordering::AcqRel);
        {
            let mut per_account = self.admission.lock_accounts();
            if let Some(n) = per_account.get_mut(&self.account) {
                *n -= 1;
                if *n == 0 {
                    per_account.remove(&self.account);
                }
            }
        }
        self.admission
            .received
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
            .remove(&self.key);
    }
}

impl Admission {
    pub fn new(max: usize, max_per_account: usize) -> Arc<Admission> {
        Arc::new(Admission {
            pending: AtomicUsize::new(0),
            max,
            max_per_account,
            per_account: Mutex::new(FastMap::default()),
            closed: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            received: Mutex::new(BTreeMap::new()),
        })
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, FastMap<Arc<str>, usize>> {
        self.per_account
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
    }

    /// A slot for a new execution of `account_id`, or why not: the account is at its own
    /// bound, or the daemon is full or shutting down.
    pub fn try_admit(
        self: &Arc<Self>,
        account_id: &str,
        received_us: i64,
    ) -> Result<Slot, Refusal> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Refusal::Daemon);
        }
        let account: Arc<str> = {
            let mut per_account = self.lock_accounts();
            let (key, n) = match per_account.get_key_value(account_id) {
                Some((key, n)) => (key.clone(), *n),
                None => (Arc::from(account_id), 0),
            };
            if n >= self.max_per_account {
                return Err(Refusal::Account {
                    limit: self.max_per_account,
                });
            }
            per_account.insert(key.clone(), n + 1);
            key
        };
        let prev = self.pending.fetch_add(1, Ordering::AcqRel);
        // From here the slot exists, so refusing it (dropping it) undoes both counts.
        let slot = self.register(account, received_us);
        if prev >= self.max {
            drop(slot);
            return Err(Refusal::Daemon);
        }
        Ok(slot)
    }

    /// A slot for an execution already stored (recovered at start): never refused.
    pub fn admit_recovered(self: &Arc<Self>, account_id: &str, received_us: i64) -> Slot {
        let account: Arc<str> = {
            let mut per_account = self.lock_accounts();
            let key = per_account
                .get_key_value(account_id)
                .map_or_else(|| Arc::from(account_id), |(k, _)| k.clone());
            *per_account.entry(key.clone()).or_insert(0) += 1;
            key
        };
        self.pending.fetch_add(1, Ordering::AcqRel);
        self.register(account, received_us)
    }

    fn register(self: &Arc<Self>, account: Arc<str>, received_us: i64) -> Slot {
        let key = (received_us, self.seq.fetch_add(1, Ordering::Relaxed));
        self.received
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
            .insert(key, ());
        Slot {
            admission: self.clone(),
            key,
            account,
        }
    }

    /// Unfinished executions of one account.
    pub fn pending_of(&self, account_id: &str) -> usize {
        self.lock_accounts().get(account_id).copied().unwrap_or(0)
    }

    /// The per-account bound (`[engine] max_pending_per_account`).
    pub fn max_per_account(&self) -> usize {
        self.max_per_account
    }

    /// Whether the daemon-wide bound is reached: the refill then leaves due work stored.
    pub fn is_full(&self) -> bool {
        self.pending() >= self.max
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Stops admitting (shutdown).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Receive time (µs) of the oldest pending execution.
    pub fn oldest_received_us(&self) -> Option<i64> {
        self.received
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
            .keys()
            .next()
            .map(|k| k.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_is_bounded_and_slots_free_places() {
        let a = Admission::new(2, 10);
        let s1 = a.try_admit("acct_a", 10).unwrap();
        let _s2 = a.try_admit("acct_b", 20).unwrap();
        assert_eq!(a.try_admit("acct_c", 30).err(), Some(Refusal::Daemon));
        assert_eq!(a.pending(), 2, "a refused slot leaves no count behind");
        assert_eq!(a.pending_of("acct_c"), 0);
        assert_eq!(a.oldest_received_us(), Some(10));
        drop(s1);
        assert_eq!(a.oldest_received_us(), Some(20));
        assert!(a.try_admit("acct_c", 30).is_ok());
    }

    #[test]
    fn one_account_at_its_bound_does_not_refuse_another() {
        let a = Admission::new(100, 2);
        let first = a.try_admit("acct_a", 1).unwrap();
        let _second = a.try_admit("acct_a", 2).unwrap();
        assert_eq!(
            a.try_admit("acct_a", 3).err(),
            Some(Refusal::Account { limit: 2 })
        );
        let _b = a
            .try_admit("acct_b", 4)
            .expect("another account is admitted");
        assert_eq!(a.pending_of("acct_a"), 2);
        drop(first);
        let _third = a.try_admit("acct_a", 5).expect("a freed place is reusable");
        let recovered = a.admit_recovered("acct_a", 6);
        assert_eq!(
            a.pending_of("acct_a"),
            3,
            "recovered work is counted, never refused"
        );
        drop(recovered);
        assert_eq!(a.pending(), 3);
    }

    #[test]
    fn an_account_without_pending_work_leaves_no_entry() {
        let a = Admission::new(10, 10);
        drop(a.try_admit("acct_a", 1).unwrap());
        assert!(a.lock_accounts().is_empty());
    }

    #[test]
    fn a_closed_admission_refuses_everything() {
        let a = Admission::new(10, 10);
        a.close();
        assert_eq!(a.try_admit("acct_a", 1).err(), Some(Refusal::Daemon));
    }
}
