//! A shadow replay's batch: the draft runs over each original's event with every side
//! effect stubbed (`steps::shadow`), on the blocking pool (renders are CPU work, bounded by
//! the template budget), and each outcome is compared with what really happened. Nothing is
//! sent and no execution is stored: only the job's results.

use crate::model::{BackgroundJob, Execution, ShadowResult};
use crate::steps::definitions::parse_steps;
use crate::steps::shadow;
use crate::store::StoreError;

use super::JobContext;

pub async fn batch(
    ctx: &JobContext,
    job: &mut BackgroundJob,
    originals: Vec<Option<Execution>>,
) -> Result<Result<Vec<ShadowResult>, String>, StoreError> {
    let Some(draft) = job.draft.clone() else {
        return Ok(Err("the shadow replay has no draft".into()));
    };
    let deps = ctx.deps.clone();
    let skipped = originals.iter().filter(|o| o.is_none()).count() as u64;
    let results = tokio::task::spawn_blocking(move || {
        // Checked when the job was created; a draft that no longer parses fails every run.
        let steps = parse_steps(&draft.actions, &deps.renderer);
        originals
            .into_iter()
            .flatten()
            .map(|original| {
                // An event the draft's trigger would not start: that is the difference.
                if let Some(wanted) = &draft.trigger.event
                    && *wanted != original.trigger.event
                {
                    return shadow::not_triggered(&original, wanted);
                }
                let mut run = original.clone();
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut attempt = original.clone();
                    match &steps {
                        Ok(steps) => shadow::run(&mut attempt, steps, &deps),
                        Err(why) => crate::steps::runner::fail_now(&mut attempt, why.clone()),
                    }
                    attempt
                }));
                match ran {
                    Ok(attempt) => run = attempt,
                    // Reported as that run's failure; the job goes on.
                    Err(_) => crate::steps::runner::fail_now(
                        &mut run,
                        "internal error: the shadow run panicked".into(),
                    ),
                }
                let (before, after) = (shadow::outline(&original), shadow::outline(&run));
                let differences = shadow::differences(&before, &after);
                ShadowResult {
                    execution_id: original.id,
                    changed: !differences.is_empty(),
                    original: before,
                    shadow: after,
                    differences,
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| StoreError::Db(format!("a shadow batch failed: {e}")))?;
    job.skipped += skipped;
    for r in &results {
        if r.changed {
            job.changed += 1;
        } else {
            job.unchanged += 1;
        }
    }
    Ok(Ok(results))
}
