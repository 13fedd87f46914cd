//! Synchronous hooks (`"response": {"mode": "sync", …}`): the answer to the event waits for
//! its execution to finish and carries its result, still only after the event was stored; past
//! `timeout_ms` it is the usual 202 with the execution id.
//!
//! The waiter is woken by the engine when its execution finishes on this daemon, and re-reads
//! the execution from the store then, and at least every [`POLL_SHARED`] on a shared
//! database (it may run on another daemon), every [`POLL_ALONE`] otherwise. Waiting holds no HTTP worker and no admission place: only the
//! open connection, for at most `timeout_ms` (≤ 30 s). An account has at most
//! `[webhooks] max_sync_waiting_per_account` answers waiting; past it the answer is the 202 at
//! once.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::AppState;
use crate::model::Execution;

/// How often a waiter re-reads the store without being woken when daemons share a database:
/// the execution may finish on another one, which cannot wake it.
const POLL_SHARED: Duration = Duration::from_millis(250);
/// The same with the embedded store, where every finish wakes its waiters: only a safety net,
/// so that no path that finishes an execution without waking them can strand an answer.
const POLL_ALONE: Duration = Duration::from_secs(1);

/// The execution once finished, or None at the deadline (or when the account already has as
/// many answers waiting as it may).
pub async fn wait_finished(
    state: &AppState,
    account_id: &str,
    id: &str,
    timeout: Duration,
) -> Option<Execution> {
    let deadline = Instant::now() + timeout;
    let Some(waiting) = state.engine.wait_for_finish(account_id, id) else {
        // No waiting place left: only an execution already stored finished (a workflow run
        // in place, inside the request) is answered with its result.
        return finished(state, id).await;
    };
    let poll = if state.settings.storage.is_postgres() {
        POLL_SHARED
    } else {
        POLL_ALONE
    };
    loop {
        // Asked for before the read: a finish between the read and the wait is still heard.
        let woken = waiting.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Some(done) = finished(state, id).await {
            return Some(done);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let _ = tokio::time::timeout(poll.min(deadline - now), woken).await;
    }
}

/// The execution, if it is stored finished.
async fn finished(state: &AppState, id: &str) -> Option<Execution> {
    match state.store.execution(id.to_string()).await {
        Ok(Some(e)) if e.status.is_terminal() => Some(e),
        _ => None,
    }
}

/// `{"execution_id", "status", "result", "error"?}`: the result is the output of the step the
/// hook names, else of the last `transform` that produced one (null when there is none).
pub fn body(e: &Execution, step: Option<usize>) -> Value {
    let result = match step {
        Some(i) => e.steps.get(i).and_then(|s| s.output.clone()),
        None => e
            .steps
            .iter()
            .rev()
            .find(|s| s.kind == "transform" && s.output.is_some())
            .and_then(|s| s.output.clone()),
    };
    let mut v = json!({
        "execution_id": e.id,
        "status": e.status.as_str(),
        "result": result,
    });
    if let Some(error) = &e.error {
        v["error"] = json!(error);
    }
    v
}
