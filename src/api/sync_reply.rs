//! Synchronous hooks (`"response": {"mode": "sync", …}`): the answer to the event waits for
//! its execution to finish and carries its result, still only after the event was stored; past
//! `timeout_ms` it is the usual 202 with the execution id.
//!
//! The waiter hears the engine's "finished" broadcast and re-reads the execution from the
//! store when its id comes by, at least every [`POLL`] (it may run on another daemon of a
//! shared database, or the broadcast may have lagged). Waiting holds no HTTP worker and no
//! admission place: only the open connection, for at most `timeout_ms` (≤ 30 s).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::AppState;
use crate::model::Execution;

const POLL: Duration = Duration::from_millis(250);

/// The execution once finished, or None at the deadline.
pub async fn wait_finished(state: &AppState, id: &str, timeout: Duration) -> Option<Execution> {
    // Listening first: a finish between the store read below and the wait is still heard.
    let mut finished = state.engine.finished_events();
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(e)) = state.store.execution(id.to_string()).await
            && e.status.is_terminal()
        {
            return Some(e);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let heard = async {
            loop {
                match finished.recv().await {
                    Ok(done) if &*done == id => return,
                    Ok(_) => {}
                    // Lagged or closed: read the store again.
                    Err(_) => return,
                }
            }
        };
        let _ = tokio::time::timeout(POLL.min(deadline - now), heard).await;
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
