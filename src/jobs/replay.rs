//! A bulk replay's batch: each original's event runs again as a new execution of the
//! workflow's current version, through the same intake as a webhook event, paced
//! (`pace::Pace`). Each new execution is stored with an idempotency key of its own (the job
//! and the original), so a batch repeated after a crash starts nothing twice.

use crate::actors::intake::{self, Idempotency, IntakeError, NewExecution};
use crate::model::{BackgroundJob, Execution, Workflow, WorkflowStatus};
use crate::store::StoreError;

use super::JobContext;
use super::pace::Pace;

/// Executions started between two looks at the job's cancel request.
const CANCEL_CHECK_EVERY: usize = 10;

/// Runs a batch of (id, original). The inner Err is why the job cannot go on (the workflow was paused).
pub async fn batch(
    ctx: &JobContext,
    job: &mut BackgroundJob,
    workflow: &Workflow,
    originals: Vec<(String, Option<Execution>)>,
) -> Result<Result<(), String>, StoreError> {
    if workflow.status != WorkflowStatus::Active {
        return Ok(Err("the workflow is no longer active".into()));
    }
    let hook_id = format!("replay:{}", job.id);
    let window_ms = (ctx.settings.webhooks.dedupe_window_secs as i64 * 1000).max(86_400_000);
    let mut pace = Pace::new();
    for (n, (id, original)) in originals.into_iter().enumerate() {
        // A cancel stops the job within a few executions, not at the end of the batch.
        if n % CANCEL_CHECK_EVERY == CANCEL_CHECK_EVERY - 1
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
        loop {
            if !pace.admit(ctx, &job.account_id).await {
                // Shutting down: this batch's progress is not stored; it is redone (and
                // deduplicated) on resume.
                return Err(StoreError::Closed);
            }
            let input_bytes = serde_json::to_vec(&original.input).map_or(usize::MAX, |v| v.len());
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
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(IntakeError::Store(e)) => return Err(e),
            }
        }
    }
    Ok(Ok(()))
}
