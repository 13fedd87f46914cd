//! Admission control: how many executions are accepted but not finished. Ingest takes a
//! slot before it stores anything; the slot is released when the execution reaches a terminal
//! status. A full house answers 503 with `Retry-After` instead of queueing without bound.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct Admission {
    pending: AtomicUsize,
    max: usize,
    closed: AtomicBool,
    seq: AtomicU64,
    /// Receive time (µs) of every pending execution, to report the oldest one's age.
    received: Mutex<BTreeMap<(i64, u64), ()>>,
}

/// One pending execution's place; dropping it frees the place.
pub struct Slot {
    admission: Arc<Admission>,
    key: (i64, u64),
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.pending.fetch_sub(1, Ordering::AcqRel);
        self.admission
            .received
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
            .remove(&self.key);
    }
}

impl Admission {
    pub fn new(max: usize) -> Arc<Admission> {
        Arc::new(Admission {
            pending: AtomicUsize::new(0),
            max,
            closed: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            received: Mutex::new(BTreeMap::new()),
        })
    }

    /// A slot for a new execution, or None when full or shutting down.
    pub fn try_admit(self: &Arc<Self>, received_us: i64) -> Option<Slot> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let prev = self.pending.fetch_add(1, Ordering::AcqRel);
        if prev >= self.max {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(self.register(received_us))
    }

    /// A slot for an execution already stored (recovered at start): never refused.
    pub fn admit_recovered(self: &Arc<Self>, received_us: i64) -> Slot {
        self.pending.fetch_add(1, Ordering::AcqRel);
        self.register(received_us)
    }

    fn register(self: &Arc<Self>, received_us: i64) -> Slot {
        let key = (received_us, self.seq.fetch_add(1, Ordering::Relaxed));
        self.received
            .lock()
            .expect("admission lock is never poisoned: no panics under it")
            .insert(key, ());
        Slot {
            admission: self.clone(),
            key,
        }
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
        let a = Admission::new(2);
        let s1 = a.try_admit(10).unwrap();
        let _s2 = a.try_admit(20).unwrap();
        assert!(a.try_admit(30).is_none());
        assert_eq!(a.oldest_received_us(), Some(10));
        drop(s1);
        assert_eq!(a.oldest_received_us(), Some(20));
        assert!(a.try_admit(30).is_some());
    }

    #[test]
    fn a_closed_admission_refuses_everything() {
        let a = Admission::new(10);
        a.close();
        assert!(a.try_admit(1).is_none());
    }
}
