//! Intake: everything that happens to a new execution after the HTTP-level checks (hook,
//! signature, body, quota) — build it, run it in place when it is cheap, take an admission
//! place, claim it, check its idempotency key and store it durably, then hand it to the
//! dispatcher. Webhook ingest and replay both come through here; no HTTP type does.

use serde_json::Value;

use super::admission::Refusal;
use super::{Engine, Job};
use crate::model::{Execution, ExecutionStatus, ExecutionTrigger, Workflow};
use crate::steps::runner::pending_steps;
use crate::store::{Dedupe, DedupeEntry, Store, StoreError, WriteOutcome};

/// A new execution to accept.
pub struct NewExecution<'a> {
    pub workflow: &'a Workflow,
    pub hook_id: Option<&'a str>,
    pub event: &'a str,
    pub input: Value,
    /// Size of the event as received, which decides whether it may run in place.
    pub input_bytes: usize,
    /// The execution this one replays.
    pub replay_of: Option<String>,
    /// An idempotency key (with its hook) and how long it is remembered.
    pub idempotency: Option<Idempotency<'a>>,
    /// Return a copy of the stored record (replay answers with it).
    pub keep_record: bool,
}

pub struct Idempotency<'a> {
    pub hook_id: &'a str,
    pub key: &'a str,
    pub window_ms: i64,
}

#[derive(Debug)]
pub enum Accepted {
    /// Stored. `status` is what it is stored with: queued, or the outcome of a run in place.
    Stored {
        execution_id: String,
        status: ExecutionStatus,
        record: Option<Box<Execution>>,
    },
    /// The idempotency key was seen within its window: nothing stored, nothing run.
    Duplicate {
        execution_id: String,
        status: ExecutionStatus,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("admission refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accepts a new execution; returns once it is durable (or known to be a duplicate).
pub async fn accept(
    engine: &Engine,
    store: &dyn Store,
    new: NewExecution<'_>,
) -> Result<Accepted, IntakeError> {
    let received_us = crate::timefmt::now_us();
    let mut execution = Execution {
        id: crate::ids::execution_id(received_us),
        account_id: new.workflow.account_id.clone(),
        workflow_id: new.workflow.id.clone(),
        workflow_version: Some(new.workflow.version),
        status: ExecutionStatus::Queued,
        trigger: ExecutionTrigger {
            hook_id: new.hook_id.map(str::to_string),
            event: new.event.to_string(),
            received_at: received_us / 1000,
        },
        input: new.input,
        steps: pending_steps(new.workflow.actions.iter().map(|a| a.kind.as_str())),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error: None,
        resume_at: None,
        replay_of: new.replay_of,
    };
    // A small workflow of pure steps finishes here, or reaches a leading delay, and is stored
    // in that state, in the same write; anything else goes to the dispatcher once stored,
    // which needs an admission place and a claim.
    let inline = engine.run_inline(&mut execution, new.workflow, new.input_bytes);
    let held = match inline {
        Some(_) => None,
        None => {
            let slot = engine
                .admit(&execution.account_id, received_us)
                .map_err(IntakeError::Refused)?;
            // A fresh id is never held already; refuse rather than run it twice.
            let claim = engine
                .claim(&execution.id)
                .ok_or(IntakeError::Store(StoreError::Busy))?;
            Some((slot, claim))
        }
    };
    let now_ms = received_us / 1000;
    let dedupe = new.idempotency.map(|i| Dedupe {
        hook_id: i.hook_id.to_string(),
        key: i.key.to_string(),
        entry: DedupeEntry {
            execution_id: execution.id.clone(),
            at_ms: now_ms,
        },
        not_before_ms: now_ms - i.window_ms,
    });
    match store.accept_execution(&execution, dedupe).await? {
        WriteOutcome::Written => {
            let accepted = Accepted::Stored {
                execution_id: execution.id.clone(),
                status: execution.status,
                record: new.keep_record.then(|| Box::new(execution.clone())),
            };
            match (held, inline) {
                // Run here when this daemon holds the workflow's shard; otherwise the
                // holder's refill takes it from the due index (a shared database).
                (Some((slot, claim)), _) => match store.lease(&execution.workflow_id) {
                    Some(lease) => engine.submit(Job {
                        execution,
                        slot,
                        claim,
                        lease,
                    }),
                    None => drop((slot, claim)),
                },
                (None, Some(run)) => engine.inline_stored(&execution, run),
                (None, None) => {}
            }
            Ok(accepted)
        }
        WriteOutcome::Duplicate(original) => {
            drop(held);
            let status = store
                .execution(original.clone())
                .await
                .ok()
                .flatten()
                .map_or(ExecutionStatus::Queued, |e| e.status);
            Ok(Accepted::Duplicate {
                execution_id: original,
                status,
            })
        }
    }
}
