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

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::claims::Claim;
use super::{Engine, Job};
use crate::model::Execution;
use crate::store::{DueRequest, StoreError};
use crate::timefmt::now_ms;

/// Longest time between two passes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How far behind the present a cursor stays when an account has nothing due yet: an entry
/// written this much after the time it is due for (a slow write) is still found.
const CURSOR_LAG_MS: i64 = 5_000;
/// Every this often a pass starts from the beginning of every account's entries, so an entry
/// that ended up behind a cursor anyway (work whose progress could not be saved, or a write
/// slower than `CURSOR_LAG_MS`) waits at most this long.
const FULL_RESCAN: Duration = Duration::from_secs(10);
/// Shortest time between the starts of two passes: while a lane is full, a pass every
/// 10 ms refills it as work finishes without spinning.
const MIN_GAP: Duration = Duration::from_millis(10);

/// What the refill remembers of one account between passes.
#[derive(Default)]
struct AccountView {
    /// The due time passes start from (see [`CURSOR_LAG_MS`], [`FULL_RESCAN`]).
    cursor: i64,
    /// Its earliest due time when last read.
    earliest_due_ms: Option<i64>,
}

type Cursors = HashMap<String, AccountView>;

/// What one pass found.
struct Pass {
    ready: Vec<(Execution, Claim)>,
    /// The earliest due time still in the future, over the accounts visited.
    next_due_ms: Option<i64>,
}

pub(super) async fn run(engine: Engine) {
    let mut start = 0usize;
    let mut cursors = Cursors::default();
    let mut last_full = Instant::now();
    let mut shards_taken = engine.shared.store.shards_taken();
    loop {
        if engine.is_stopping() {
            return;
        }
        let started = Instant::now();
        let taken_now = engine.shared.store.shards_taken();
        if started.duration_since(last_full) >= FULL_RESCAN
            || engine.shared.rescan.swap(false, Ordering::AcqRel)
            || taken_now != shards_taken
        {
            shards_taken = taken_now;
            cursors.clear();
            last_full = started;
        }
        let pass = refill_once(&engine, start, &mut cursors).await;
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
async fn refill_once(
    engine: &Engine,
    start: usize,
    cursors: &mut Cursors,
) -> Result<Option<i64>, StoreError> {
    let shared = &engine.shared;
    // Other daemons hold every shard (a shared database): nothing to take. The store's due
    // reads return only the shards held here.
    if !shared.store.holds_work() {
        return Ok(None);
    }
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
    let pass = collect(engine, &accounts, cursors).await?;
    for (execution, claim) in pass.ready {
        // The shard may have moved since the read: its new holder runs it.
        let Some(lease) = shared.store.lease(&execution.workflow_id) else {
            continue;
        };
        let received_us = crate::ids::micros_of(&execution.id).unwrap_or_default();
        let slot = shared
            .admission
            .admit_recovered(&execution.account_id, received_us);
        engine.submit(Job {
            execution,
            slot,
            claim,
            lease,
        });
    }
    Ok(pass.next_due_ms)
}

/// Reads, for each account, the due executions that fit in its lane: one read of the due
/// index for all accounts, claims in memory, one read of the claimed records.
async fn collect(
    engine: &Engine,
    accounts: &[String],
    cursors: &mut Cursors,
) -> Result<Pass, StoreError> {
    let shared = &engine.shared;
    let admission = &shared.admission;
    let lane = shared.lane;
    let now = now_ms();
    let mut pass = Pass {
        ready: Vec::new(),
        next_due_ms: None,
    };
    // Only accounts with room in their lane are read: one whose lane is full is looked at
    // again after the shortest gap, without touching the store (a read would only learn
    // what is already known, and seek past every entry finished since the cursor).
    let mut asked = Vec::new();
    for account in accounts {
        let held = admission.pending_of(account);
        let room = lane.saturating_sub(held);
        if room == 0 || admission.is_full() {
            pass.next_due_ms = Some(now);
        } else {
            asked.push((account.clone(), held, room));
        }
    }
    let requests: Vec<DueRequest> = asked
        .iter()
        .map(|(account, held, room)| DueRequest {
            account_id: account.clone(),
            from_ms: cursors.get(account).map_or(0, |v| v.cursor),
            // The account's held executions are due too (a running one stays due from
            // when it was received), so look past them.
            max_entries: held + room,
        })
        .collect();
    let due = if requests.is_empty() {
        Vec::new()
    } else {
        shared.store.due_work(requests, now).await?
    };

    let mut claimed = Vec::new();
    for (account, &(_, _, room)) in due.into_iter().zip(&asked) {
        let view = cursors.entry(account.account_id.clone()).or_default();
        // Start the next pass at the earliest entry still there: what is before it finished
        // (tombstones a seek would walk over). Nothing new is written due earlier than the
        // present, except work held in memory, which the full rescan covers should it fail;
        // CURSOR_LAG_MS covers writes that land a little after the time they are due for.
        let floor = match account.earliest_due_ms {
            Some(at) if at <= now => at,
            _ => now - CURSOR_LAG_MS,
        };
        view.cursor = view.cursor.max(floor);
        view.earliest_due_ms = account.earliest_due_ms;
        match account.earliest_due_ms {
            None => continue,
            Some(at) if at > now => {
                pass.next_due_ms = Some(pass.next_due_ms.map_or(at, |n| n.min(at)));
                continue;
            }
            Some(_) => {}
        }
        let before = claimed.len();
        for id in account.due_now {
            if claimed.len() - before == room {
                break;
            }
            if let Some(claim) = shared.claims.try_claim(&id) {
                claimed.push((id, claim));
            }
        }
        if claimed.len() - before == room {
            // The lane is full again and perhaps more is due: look again after the
            // shortest gap.
            pass.next_due_ms = Some(now);
        }
    }
    let earliest = cursors.values().filter_map(|v| v.earliest_due_ms).min();
    shared
        .earliest_due
        .store(earliest.unwrap_or(i64::MAX), Ordering::Relaxed);
    if claimed.is_empty() {
        return Ok(pass);
    }
    // Read after claiming: whatever finished meanwhile shows as finished here.
    let (ids, claims): (Vec<String>, Vec<Claim>) = claimed.into_iter().unzip();
    let records = shared.store.executions(ids).await?;
    for (record, claim) in records.into_iter().zip(claims) {
        if let Some(exec) = record.filter(|e| e.due_at_ms().is_some_and(|at| at <= now)) {
            pass.ready.push((exec, claim));
        }
    }
    Ok(pass)
}
