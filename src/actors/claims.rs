//! Which stored executions the engine holds in memory right now. Ingest claims a new execution
//! before writing it and the due poller claims what it reads from the due index, so the same
//! execution is never handed out twice; dropping the claim (after the run's last write) lets
//! the poller see it again.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::fasthash::FastSet;

#[derive(Default)]
pub struct Claims {
    held: Mutex<FastSet<Box<str>>>,
}

/// One execution held by the engine; dropping it releases the execution.
pub struct Claim {
    id: Box<str>,
    claims: Arc<Claims>,
}

impl Claims {
    fn lock(&self) -> MutexGuard<'_, FastSet<Box<str>>> {
        self.held
            .lock()
            .expect("claims lock is never poisoned: no panics under it")
    }

    /// Claims `execution_id`, or None when it is already held.
    pub fn try_claim(self: &Arc<Self>, execution_id: &str) -> Option<Claim> {
        let id: Box<str> = execution_id.into();
        if !self.lock().insert(id.clone()) {
            return None;
        }
        Some(Claim {
            id,
            claims: self.clone(),
        })
    }

    /// Executions held right now.
    pub fn held(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claims.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_is_held_once_until_its_claim_is_dropped() {
        let claims = Arc::new(Claims::default());
        let first = claims.try_claim("exec_1").expect("free");
        assert!(claims.try_claim("exec_1").is_none(), "already held");
        assert!(claims.try_claim("exec_2").is_some());
        assert_eq!(claims.held(), 1, "the second claim was dropped at once");
        drop(first);
        assert!(claims.try_claim("exec_1").is_some());
    }
}
