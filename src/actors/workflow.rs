//! One actor per workflow: keeps the parsed definition current, runs executions concurrently
//! up to `[engine] workflow_concurrency`, and supervises each run (a panic fails that execution
//! and nothing else).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use super::{Engine, Job, StoreCheckpoint};
use crate::model::{ExecutionStatus, Persisted};
use crate::steps::definitions::Definition;
use crate::steps::runner::{self, Checkpoint, RunResult};

pub(super) enum WorkflowMsg {
    Run(Box<Job>),
    /// The workflow was updated, paused or deleted: read it again from the catalog.
    Reload,
}

fn load(workflow_id: &str, engine: &Engine) -> Arc<Definition> {
    let shared = &engine.shared;
    match shared.catalog.workflow(workflow_id) {
        Some(wf) => shared.definitions.get(&wf, &shared.deps.renderer),
        None => Arc::new(Definition {
            version: 0,
            steps: Err("the workflow was deleted".into()),
            inline: false,
            inline_renders: 0,
        }),
    }
}

/// The dispatcher's handle to one workflow actor.
pub(super) struct ActorHandle {
    pub tx: mpsc::UnboundedSender<WorkflowMsg>,
    /// Set by the actor before it stops for being idle: a send that fails then is no crash.
    pub stopped_idle: Arc<AtomicBool>,
}

pub(super) fn spawn(workflow_id: String, engine: Engine) -> ActorHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let stopped_idle = Arc::new(AtomicBool::new(false));
    engine
        .shared
        .runtime
        .spawn(run(workflow_id, rx, engine.clone(), stopped_idle.clone()));
    ActorHandle { tx, stopped_idle }
}

async fn run(
    workflow_id: String,
    mut rx: mpsc::UnboundedReceiver<WorkflowMsg>,
    engine: Engine,
    stopped_idle: Arc<AtomicBool>,
) {
    let concurrency = engine.shared.concurrency;
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut definition = load(&workflow_id, &engine);
    let idle_after = engine.shared.actor_idle;
    // One timer for the actor's life, moved on only when it fires: a new timer per message
    // would register and remove a timer-wheel entry (under the driver's lock) per execution.
    let idle = tokio::time::sleep(idle_after);
    tokio::pin!(idle);
    let mut last_message = Instant::now();
    loop {
        let msg = tokio::select! {
            msg = rx.recv() => msg,
            // Nothing running and nothing received for a while: stop, so live actors are
            // bounded by the workflows in use, not by every workflow that ever ran.
            () = &mut idle => {
                let quiet_until = last_message + idle_after;
                if Instant::now() < quiet_until {
                    idle.as_mut().reset(quiet_until);
                    continue; // a message came since the timer was set
                }
                if permits.available_permits() < concurrency {
                    idle.as_mut().reset(Instant::now() + idle_after);
                    continue; // executions still running
                }
                // Stop taking messages, run what was already sent, and tell the dispatcher.
                stopped_idle.store(true, Ordering::Release);
                rx.close();
                while let Some(msg) = rx.recv().await {
                    handle(msg, &workflow_id, &mut definition, &permits, &engine);
                }
                engine.actor_stopped(workflow_id);
                return;
            }
        };
        let Some(msg) = msg else { return };
        last_message = Instant::now();
        handle(msg, &workflow_id, &mut definition, &permits, &engine);
    }
}

fn handle(
    msg: WorkflowMsg,
    workflow_id: &str,
    definition: &mut Arc<Definition>,
    permits: &Arc<Semaphore>,
    engine: &Engine,
) {
    match msg {
        WorkflowMsg::Run(job) => {
            let permits = permits.clone();
            let definition = definition.clone();
            let engine2 = engine.clone();
            engine.shared.tasks.spawn_on(
                async move {
                    let Ok(_permit) = permits.acquire_owned().await else {
                        return;
                    };
                    execute(*job, definition, engine2).await;
                },
                engine.shared.runners.handle(),
            );
        }
        WorkflowMsg::Reload => *definition = load(workflow_id, engine),
    }
}

/// Counts an execution as running for as long as it lives.
struct Running<'a>(&'a Engine);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.shared.running.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn execute(job: Job, definition: Arc<Definition>, engine: Engine) {
    let shared = &engine.shared;
    if engine.is_stopping() {
        // Shutting down: leave it stored; it resumes on the next start.
        return;
    }
    if shared.store.lease(&job.execution.workflow_id).as_ref() != Some(&job.lease) {
        // Another daemon took the work over since this job was claimed: it runs it there.
        // Starting here would repeat its first effect before the epoch refused the record.
        return;
    }
    shared.running.fetch_add(1, Ordering::AcqRel);
    let _running = Running(&engine);
    // The slot and the claim are released when this function returns, after the run's last
    // write: the refill can only see the execution again in its stored state.
    let Job {
        mut execution,
        slot: _slot,
        claim,
        lease,
    } = job;
    let checkpoint = StoreCheckpoint {
        store: shared.store.clone(),
        lease,
    };
    let stored = execution.persisted();

    // An execution finishes on the version it started with, whatever changed since.
    let definition = match execution.workflow_version {
        Some(v) if v != definition.version && definition.version != 0 => {
            match older_definition(&engine, &execution.workflow_id, v).await {
                Ok(older) => older,
                Err(error) => {
                    tracing::error!(execution_id = %execution.id, %error, "could not read the workflow version it runs; retrying later");
                    retry_later(&engine, claim);
                    return;
                }
            }
        }
        _ => definition,
    };
    let steps = match &definition.steps {
        Ok(steps) => steps.clone(),
        Err(why) => {
            runner::fail_now(&mut execution, why.clone());
            finish(&engine, &checkpoint, &execution, stored).await;
            return;
        }
    };
    let secret = shared
        .catalog
        .account(&execution.account_id)
        .map(|a| a.signing_secret.expose().to_string())
        .unwrap_or_default();

    let result = catch_panic(runner::run(
        &mut execution,
        &steps,
        &shared.deps,
        &secret,
        &checkpoint,
    ))
    .await;

    match result {
        Ok(RunResult::Finished(status)) => {
            record_finished(status, execution.duration_ms);
            engine.finished(&execution.id);
        }
        // Its due time is stored: the refill brings it back then. Nothing stays in memory.
        Ok(RunResult::Suspended { until_ms }) => engine.due_at(until_ms),
        Ok(RunResult::NotPersisted(error)) => {
            tracing::error!(execution_id = %execution.id, %error, "could not record progress; retrying from the stored state");
            retry_later(&engine, claim);
        }
        Err(message) => {
            tracing::error!(execution_id = %execution.id, panic = %message, "execution panicked; marking it failed");
            let id = execution.id.clone();
            let previous = match shared.store.execution(id).await {
                Ok(Some(now_stored)) => now_stored.persisted(),
                _ => stored,
            };
            runner::fail_now(
                &mut execution,
                format!("internal error: the run panicked: {message}"),
            );
            finish(&engine, &checkpoint, &execution, previous).await;
        }
    }
}

/// Holds the claim a moment so the refill does not retry a failing store at once, then has
/// it look everywhere again: the stored entry may be behind its cursor.
fn retry_later<C: Send + 'static>(engine: &Engine, claim: C) {
    let engine = engine.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(claim);
        engine.shared.rescan.store(true, Ordering::Release);
    });
}

/// The definition of version `version` of a workflow, from the store (a version that is
/// gone cannot run: the execution fails with a message saying so).
async fn older_definition(
    engine: &Engine,
    workflow_id: &str,
    version: u64,
) -> Result<Arc<Definition>, crate::store::StoreError> {
    let shared = &engine.shared;
    if let Some(parsed) = shared.definitions.cached_older(workflow_id, version) {
        return Ok(parsed);
    }
    let (Some(current), Some(stored)) = (
        shared.catalog.workflow(workflow_id),
        shared
            .store
            .workflow_version(workflow_id.to_string(), version)
            .await?,
    ) else {
        return Ok(Arc::new(Definition {
            version,
            steps: Err(format!(
                "version {version} of the workflow it started on is no longer stored"
            )),
            inline: false,
            inline_renders: 0,
        }));
    };
    Ok(shared
        .definitions
        .get_older(&current.at_version(&stored), &shared.deps.renderer))
}

async fn finish(
    engine: &Engine,
    checkpoint: &StoreCheckpoint,
    execution: &crate::model::Execution,
    previous: Persisted,
) {
    match checkpoint.save(execution, previous).await {
        Ok(()) => {
            record_finished(execution.status, execution.duration_ms);
            engine.finished(&execution.id);
        }
        Err(error) => {
            tracing::error!(execution_id = %execution.id, %error, "could not record a failed execution");
        }
    }
}

pub(super) fn record_finished(status: ExecutionStatus, duration_ms: Option<i64>) {
    /// Registered once per terminal status: a labelled key per execution cost more than the
    /// recording.
    struct Finished {
        executions: metrics::Counter,
        duration: metrics::Histogram,
    }
    static SERIES: std::sync::OnceLock<[Finished; 2]> = std::sync::OnceLock::new();
    let series = SERIES.get_or_init(|| {
        [ExecutionStatus::Success, ExecutionStatus::Failed].map(|status| {
            let label = status.as_str();
            Finished {
                executions: metrics::counter!("botcadence_engine_executions_total", "status" => label),
                duration: metrics::histogram!("botcadence_engine_execution_duration_seconds", "status" => label),
            }
        })
    });
    let finished = match status {
        ExecutionStatus::Failed => &series[1],
        _ => &series[0],
    };
    finished.executions.increment(1);
    if let Some(ms) = duration_ms {
        finished.duration.record(ms as f64 / 1000.0);
    }
}

/// Runs a future, turning a panic inside it into `Err(message)`: the supervision boundary of
/// one execution.
async fn catch_panic<F: std::future::Future>(fut: F) -> Result<F::Output, String> {
    AssertUnwindSafe(fut).catch_unwind().await.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::catch_panic;

    #[tokio::test]
    async fn a_panicking_run_becomes_an_error_and_the_caller_goes_on() {
        let failed = catch_panic(async {
            if true {
                panic!("boom in step 2");
            }
            1
        })
        .await;
        assert_eq!(failed, Err("boom in step 2".to_string()));
        let fine = catch_panic(async { 7 }).await;
        assert_eq!(fine, Ok(7));
    }
}
