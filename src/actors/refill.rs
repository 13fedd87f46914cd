//! The refill: brings due work from the store's due index into the engine. It is the only way
//! stored work comes back into memory — recovery after a restart, the end of a `delay`, the end
//! of a long retry wait, work whose progress could not be saved — so nothing waits in memory.
//!
//! Each pass visits every account in turn and takes, oldest due first, what fits in that
//! account's lane: `lane` executions held at once (fresh ones from ingest count too). One
//! account's backlog therefore never holds more than its lane in memory, and never keeps
//! another account's due work waiting for longer than one pass. A pass runs every
//! [`POLL_INTERVAL`] at most, sooner when the earliest due time it saw comes first, or when a
//! workflow actor suspends an execution that is due within the interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::admission::Admission;
use super::claims::{Claim, Claims};
use super::{Engine, Job};
use crate::model::Execution;
use crate::store::{Store, StoreError};
use crate::timefmt::now_ms;

/// Longest time between two passes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Shortest time between the starts of two passes: while a lane is full, a pass every
/// 10 ms refills it as work finishes without spinning.
const MIN_GAP: Duration = Duration::from_millis(10);

/// What one pass found.
struct Pass {
    ready: Vec<(Execution, Claim)>,
    /// The earliest due time still in the future, over the accounts visited.
    next_due_ms: Option<i64>,
}

pub(super) async fn run(engine: Engine) {
    let mut start = 0usize;
    loop {
        if engine.is_stopping() {
            return;
        }
        let started = Instant::now();
        let pass = refill_once(&engine, start).await;
        start = start.wrapping_add(1);
        let wait = match pass {
            Ok(Some(next_due_ms)) => {
                let ms = (next_due_ms - now_ms()).clamp(0, POLL_INTERVAL.as_millis() as i64);
                Duration::from_millis(ms as u64)
            }
            Ok(None) => POLL_INTERVAL,
            Err(error) => {
                tracing::error!(%error, "reading due work failed; trying again shortly");
                POLL_INTERVAL
            }
        };
        tokio::select! {
            () = engine.shared.shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            () = engine.shared.due_soon.notified() => {}
        }
        let gap = MIN_GAP.saturating_sub(started.elapsed());
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
    }
}

/// One pass: hands every ready execution that fits to the dispatcher. Returns the earliest
/// future due time seen.
async fn refill_once(engine: &Engine, start: usize) -> Result<Option<i64>, StoreError> {
    let shared = &engine.shared;
    let mut accounts: Vec<String> = shared
        .catalog
        .accounts()
        .iter()
        .map(|a| a.id.clone())
        .collect();
    if accounts.is_empty() {
        return Ok(None);
    }
    // Round-robin: a different account goes first on each pass, so when the daemon-wide
    // bound is what limits a pass, no account is always last.
    let first = start % accounts.len();
    accounts.rotate_left(first);
    let admission = shared.admission.clone();
    let claims = shared.claims.clone();
    let lane = shared.lane;
    let pass = shared
        .store
        .read(move |store| collect(store, &accounts, &admission, &claims, lane))
        .await?;
    for (execution, claim) in pass.ready {
        let received_us = crate::ids::micros_of(&execution.id).unwrap_or_default();
        let slot = shared
            .admission
            .admit_recovered(&execution.account_id, received_us);
        engine.submit(Job {
            execution,
            slot,
            claim,
        });
    }
    Ok(pass.next_due_ms)
}

/// Reads, for each account, the due executions that fit in its lane (blocking).
fn collect(
    store: &Store,
    accounts: &[String],
    admission: &Arc<Admission>,
    claims: &Arc<Claims>,
    lane: usize,
) -> Result<Pass, StoreError> {
    let now = now_ms();
    let mut pass = Pass {
        ready: Vec::new(),
        next_due_ms: None,
    };
    for account in accounts {
        if let Some(at) = store.earliest_due(account)? {
            if at > now {
                pass.next_due_ms = Some(pass.next_due_ms.map_or(at, |n| n.min(at)));
                continue;
            }
        } else {
            continue;
        }
        let held = admission.pending_of(account);
        let room = lane.saturating_sub(held);
        if room == 0 || admission.is_full() {
            // Due work that does not fit yet: look again after the shortest gap.
            pass.next_due_ms = Some(now);
            continue;
        }
        // The account's held executions are due too (a running one stays due from when it
        // was received), so look past them.
        let mut taken = 0;
        for id in store.due_now(account, now, held + room)? {
            if taken == room {
                break;
            }
            let Some(claim) = claims.try_claim(&id) else {
                continue;
            };
            // Read after claiming: whatever finished meanwhile shows as finished here.
            match store.execution(&id)? {
                Some(exec) if exec.due_at_ms().is_some_and(|at| at <= now) => {
                    pass.ready.push((exec, claim));
                    taken += 1;
                }
                _ => {}
            }
        }
        if taken == room {
            // Perhaps more is due than fitted.
            pass.next_due_ms = Some(now);
        }
    }
    Ok(pass)
}
