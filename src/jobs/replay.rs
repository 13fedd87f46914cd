//! A bulk replay's batch: each original's event runs again as a new execution of the
//! workflow's current version, through the same intake as a webhook event, paced
//! (`pace::Pace`). Each new execution is stored with an idempotency key of its own (the job
//! and the original, remembered for `[webhooks] dedupe_window_secs`), so a batch repeated
//! after a crash within that window starts nothing twice.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::actors::intake::{self, Idempotency, IntakeError, NewExecution};
use crate::model::{BackgroundJob, Execution, Workflow, WorkflowStatus};
use crate::store::StoreError;

use super::JobContext;
use super::pace::Pace;

/// Executions started between two looks at the stored cancel request (a cancel made on
/// another daemon; one made here stops the next start at once).
const STORED_CANCEL_EVERY: usize = 10;

/// Whether the job must stop before its next start: cancelled here, shutting down, or the
/// work moved to another daemon.
fn must_stop(ctx: &JobContext, workflow_id: &str, stop: &CancellationToken) -> bool {
    stop.is_cancelled() || ctx.shutdown.is_cancelled() || ctx.store.lease(workflow_id).is_none()
}

/// Runs a batch of (id, original), moving the job's cursor past each one handled. Returns
/// why the job cannot go on, when it cannot (the workflow was paused).
pub async fn batch(
    ctx: &JobContext,
    job: &mut BackgroundJob,
    workflow: &Workflow,
    originals: Vec<(String, Option<Execution>)>,
    stop: &CancellationToken,
) -> Result<Option<String>, StoreError> {
    if workflow.status != WorkflowStatus::Active {
        return Ok(Some("the workflow is no longer active".into()));
    }
    let hook_id = format!("replay:{}", job.id);
    let window_ms = ctx.settings.webhooks.dedupe_window_secs as i64 * 1000;
    let mut pace = Pace::new();
    for (n, (id, original)) in originals.into_iter().enumerate() {
        if must_stop(ctx, &workflow.id, stop) {
            break;
        }
        if n % STORED_CANCEL_EVERY == STORED_CANCEL_EVERY - 1
            && ctx
                .store
                .job(job.id.clone())
                .await?
                .is_none_or(|j| j.cancel_requested)
        {
            break;
        }
        let Some(original) = original else {
            job.skipped += 1; // gone since the scan (retention)
            job.cursor = Some(id);
            continue;
        };
        if !pace.admit(ctx, &job.account_id).await {
            break;
        }
        // Only for the in-place decision; an input that cannot be measured queues.
        let input_bytes = serde_json::to_vec(&original.input).map_or(usize::MAX, |v| v.len());
        loop {
            if must_stop(ctx, &workflow.id, stop) {
                return Ok(None);
            }
            let accepted = intake::accept(
                &ctx.engine,
                ctx.store.as_ref(),
                NewExecution {
                    workflow,
                    hook_id: original.trigger.hook_id.as_deref(),
                    event: &original.trigger.event,
                    input: original.input.clone(),
                    input_bytes,
                    replay_of: Some(original.id.clone()),
                    idempotency: Some(Idempotency {
                        hook_id: &hook_id,
                        key: &original.id,
                        window_ms,
                    }),
                    keep_record: false,
                },
            )
            .await;
            match accepted {
                Ok(_) => {
                    job.replayed += 1;
                    job.cursor = Some(id);
                    break;
                }
                // The account (or the daemon) is at its bound right now: wait for room.
                Err(IntakeError::Refused(_)) => {
                    tokio::select! {
                        () = stop.cancelled() => return Ok(None),
                        () = tokio::time::sleep(Duration::from_millis(200)) => {}
                    }
                }
                Err(IntakeError::Store(e)) => return Err(e),
            }
        }
    }
    Ok(None)
}
