//! Who waits for which execution to finish (synchronous hooks). The engine wakes only the
//! waiters of the execution that finished: what a finish costs does not grow with the number
//! of connections waiting on other executions. Each account may have a bounded number of
//! waiters at once, so one account holding many connections cannot make everyone's work
//! slower (each waiter also re-reads the store now and then).

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::fasthash::FastMap;

#[derive(Default)]
struct Registry {
    /// Execution id → its waiters' wake-up, and how many wait on it.
    by_execution: FastMap<String, (Arc<Notify>, usize)>,
    /// Account id → waiters it has.
    by_account: FastMap<String, usize>,
}

pub struct FinishWaiters {
    registry: Mutex<Registry>,
    /// Registered waiters: a finish with none looks no further (the common case).
    waiting: AtomicUsize,
    per_account: usize,
}

/// One waiter's registration; dropping it unregisters.
pub struct Waiting<'a> {
    waiters: &'a FinishWaiters,
    account_id: String,
    execution_id: String,
    notify: Arc<Notify>,
}

impl Waiting<'_> {
    /// Wakes once the execution finishes on this daemon. Ask for it before reading the store:
    /// a finish between the read and the wait is still heard.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl FinishWaiters {
    pub fn new(per_account: usize) -> FinishWaiters {
        FinishWaiters {
            registry: Mutex::new(Registry::default()),
            waiting: AtomicUsize::new(0),
            per_account,
        }
    }

    /// Registers a waiter for `execution_id`, or None when `account_id` already has as many as
    /// it may.
    pub fn wait_for(&self, account_id: &str, execution_id: &str) -> Option<Waiting<'_>> {
        let mut r = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Checked before any entry is made: a refused account leaves nothing behind.
        if r.by_account.get(account_id).copied().unwrap_or(0) >= self.per_account {
            return None;
        }
        *r.by_account.entry(account_id.to_string()).or_insert(0) += 1;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `finished`: the waiter's store read that follows cannot be
        // ordered before this count, so either it sees the finished record or the engine sees
        // a waiter to wake (never neither).
        fence(Ordering::SeqCst);
        let entry = r
            .by_execution
            .entry(execution_id.to_string())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        let notify = entry.0.clone();
        Some(Waiting {
            waiters: self,
            account_id: account_id.to_string(),
            execution_id: execution_id.to_string(),
            notify,
        })
    }

    /// `execution_id` finished on this daemon: wakes its waiters, if it has any.
    pub fn finished(&self, execution_id: &str) {
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let r = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((notify, _)) = r.by_execution.get(execution_id) {
            notify.notify_waiters();
        }
    }

    /// Waiters registered now (all accounts).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut r = self
            .waiters
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.waiters.waiting.fetch_sub(1, Ordering::AcqRel);
        if let Some(count) = r.by_account.get_mut(&self.account_id) {
            *count -= 1;
            if *count == 0 {
                r.by_account.remove(&self.account_id);
            }
        }
        if let Some(entry) = r.by_execution.get_mut(&self.execution_id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                r.by_execution.remove(&self.execution_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::FinishWaiters;

    #[tokio::test]
    async fn a_finish_wakes_its_own_waiter_only() {
        let waiters = FinishWaiters::new(10);
        let a = waiters.wait_for("acct_1", "exec_a").unwrap();
        let b = waiters.wait_for("acct_1", "exec_b").unwrap();
        let (heard_a, heard_b) = (a.notified(), b.notified());
        tokio::pin!(heard_a, heard_b);
        heard_a.as_mut().enable();
        heard_b.as_mut().enable();
        waiters.finished("exec_a");
        tokio::time::timeout(Duration::from_secs(1), heard_a)
            .await
            .expect("exec_a's waiter is woken");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), heard_b)
                .await
                .is_err(),
            "exec_b's waiter sleeps on"
        );
    }

    #[test]
    fn an_account_has_a_bounded_number_of_waiters_and_gets_them_back() {
        let waiters = FinishWaiters::new(2);
        let first = waiters.wait_for("acct_1", "exec_1").unwrap();
        let _second = waiters.wait_for("acct_1", "exec_2").unwrap();
        assert!(waiters.wait_for("acct_1", "exec_3").is_none());
        assert!(
            waiters.wait_for("acct_2", "exec_4").is_some(),
            "another account is not refused"
        );
        drop(first);
        assert!(waiters.wait_for("acct_1", "exec_3").is_some());
        assert_eq!(waiters.waiting(), 1, "dropped registrations are gone");
        let registry = waiters.registry.lock().unwrap();
        assert_eq!(registry.by_account.len(), 1, "acct_2 left nothing behind");
        assert_eq!(registry.by_execution.len(), 1, "exec_2 only");
    }
}
