//! Background jobs over past executions: bulk replays (`replay`) and shadow replays
//! (`shadow`). A job is stored when it is created; its runner goes through the workflow's
//! matching executions oldest first, a batch at a time, and stores its progress (a cursor and
//! counts) after each batch, so a restart or another daemon resumes it where it was.
//!
//! Jobs run where the engine's work runs: on the daemon holding their workflow's shard
//! (always, on the embedded store). `supervise` resumes stored running jobs there, so a job created on
//! another daemon, or interrupted by a restart, is picked up within a few seconds.

mod pace;
mod replay;
mod shadow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::actors::Engine;
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::model::{BackgroundJob, JobKind, JobStatus, ReplayFilter};
use crate::ratelimit::RateLimiter;
use crate::steps::ActionDeps;
use crate::store::{SharedStore, StoreError};
use crate::timefmt::now_ms;

/// Originals handled per batch: the unit of progress stored (and at most what is redone
/// after a crash, which for a replay the per-job idempotency keys make harmless).
const BATCH: usize = 50;
/// How often stored running jobs are looked for (to resume them).
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);
/// Jobs an account may have running at once; more are refused until one finishes.
pub const MAX_RUNNING_PER_ACCOUNT: usize = 2;

/// What job runners use.
pub struct JobContext {
    pub store: SharedStore,
    pub engine: Engine,
    pub catalog: Arc<Catalog>,
    pub limiter: Arc<RateLimiter>,
    pub deps: Arc<ActionDeps>,
    pub settings: Arc<Settings>,
    pub shutdown: CancellationToken,
}

/// Runs this daemon's share of the stored jobs.
pub struct JobRunner {
    ctx: JobContext,
    /// The jobs running in this process, each with the token that stops it at once when
    /// it is cancelled here (other daemons' cancels are read from the store every batch).
    active: Mutex<HashMap<String, CancellationToken>>,
    /// Shadow batches running at once in this process: they are CPU work (renders).
    shadow_slots: Semaphore,
    /// Serialises job creation in this process, so two requests at once cannot both pass
    /// the per-account cap.
    pub creating: tokio::sync::Mutex<()>,
}

/// Removes a job from the running set however its task ends (a panic included), so
/// `supervise` resumes it instead of it being lost until a restart.
struct Running<'a>(&'a JobRunner, String);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.active.lock().expect("job set").remove(&self.1);
    }
}

impl JobRunner {
    pub fn new(ctx: JobContext) -> Arc<JobRunner> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(JobRunner {
            ctx,
            active: Mutex::new(HashMap::new()),
            shadow_slots: Semaphore::new((cores / 2).max(1)),
            creating: tokio::sync::Mutex::new(()),
        })
    }

    /// Starts a stored job here, unless it runs here already or another daemon holds the
    /// work (its `supervise` picks the job up).
    pub fn start(self: &Arc<Self>, job: BackgroundJob) {
        if self.ctx.store.lease(&job.workflow_id).is_none() || self.ctx.shutdown.is_cancelled() {
            return;
        }
        let stop = CancellationToken::new();
        {
            let mut active = self.active.lock().expect("job set");
            if active.contains_key(&job.id) {
                return;
            }
            active.insert(job.id.clone(), stop.clone());
        }
        let runner = self.clone();
        tokio::spawn(async move {
            let _running = Running(&runner, job.id.clone());
            runner.drive(job, stop).await;
        });
    }

    /// Stops a job running in this process before its next execution (the caller stores
    /// the cancel request, for every daemon).
    pub fn cancel_here(&self, id: &str) {
        if let Some(stop) = self.active.lock().expect("job set").get(id) {
            stop.cancel();
        }
    }

    /// Jobs running in this process.
    pub fn running_here(&self) -> usize {
        self.active.lock().expect("job set").len()
    }

    /// Resumes stored running jobs, now and every few seconds, until shutdown.
    pub async fn supervise(self: Arc<Self>) {
        loop {
            if self.ctx.store.holds_work() {
                match self.ctx.store.unfinished_jobs().await {
                    Ok(jobs) => jobs.into_iter().for_each(|job| self.start(job)),
                    Err(error) => tracing::warn!(%error, "could not read the running jobs"),
                }
            }
            tokio::select! {
                () = self.ctx.shutdown.cancelled() => return,
                () = tokio::time::sleep(SUPERVISE_EVERY) => {}
            }
        }
    }

    async fn drive(&self, mut job: BackgroundJob, stop: CancellationToken) {
        tracing::info!(job_id = %job.id, kind = ?job.kind, "job running");
        loop {
            // Shutting down, or the work moved to another daemon: the job stays stored as
            // running, and resumes where its last batch left it.
            if self.ctx.shutdown.is_cancelled() || self.ctx.store.lease(&job.workflow_id).is_none()
            {
                return;
            }
            match self.step(&mut job, &stop).await {
                Ok(Step::More) => {}
                Ok(Step::Finished) => {
                    tracing::info!(job_id = %job.id, status = ?job.status, matched = job.matched, processed = job.processed(), "job finished");
                    return;
                }
                Err(error) => {
                    tracing::warn!(job_id = %job.id, %error, "job batch failed; retrying");
                    tokio::select! {
                        () = self.ctx.shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }

    /// One batch: checks the job may go on, handles the next originals, stores progress.
    async fn step(
        &self,
        job: &mut BackgroundJob,
        stop: &CancellationToken,
    ) -> Result<Step, StoreError> {
        let ctx = &self.ctx;
        // The stored job is the truth: a snapshot taken before the last batch was stored
        // (or before the job finished) must not redo or reopen anything.
        let Some(stored) = ctx.store.job(job.id.clone()).await? else {
            return Ok(Step::Finished);
        };
        *job = stored;
        if job.status.is_finished() {
            return Ok(Step::Finished);
        }
        if job.cancel_requested || stop.is_cancelled() {
            return self.finish(job, JobStatus::Cancelled, None).await;
        }
        let workflow = match ctx.catalog.workflow(&job.workflow_id) {
            Some(wf) => wf,
            None => {
                let why = "the workflow was deleted";
                return self.finish(job, JobStatus::Failed, Some(why)).await;
            }
        };
        let remaining = job.matched.saturating_sub(job.processed());
        let ids = if remaining == 0 {
            Vec::new()
        } else {
            ctx.store
                .scan_executions(
                    job.workflow_id.clone(),
                    scan(&job.filter, job.cursor.clone(), remaining.min(BATCH as u64)),
                )
                .await?
        };
        let Some(last) = ids.last().cloned() else {
            return self.finish(job, JobStatus::Completed, None).await;
        };
        let originals = ctx.store.executions(ids.clone()).await?;
        let results = match job.kind {
            JobKind::Replay => {
                // Moves the cursor itself, one original at a time: a cancel or a lost lease
                // stops it within the batch, and the next step decides.
                let originals = ids.into_iter().zip(originals).collect();
                if let Some(why) = replay::batch(ctx, job, &workflow, originals, stop).await? {
                    return self.finish(job, JobStatus::Failed, Some(&why)).await;
                }
                Vec::new()
            }
            JobKind::ShadowReplay => {
                let Ok(_slot) = self.shadow_slots.acquire().await else {
                    return Ok(Step::Finished);
                };
                match shadow::batch(ctx, job, originals).await? {
                    Ok(results) => {
                        job.cursor = Some(last);
                        results
                    }
                    Err(why) => return self.finish(job, JobStatus::Failed, Some(&why)).await,
                }
            }
        };
        job.updated_at = now_ms();
        ctx.store.put_job(job, &results).await?;
        Ok(Step::More)
    }

    async fn finish(
        &self,
        job: &mut BackgroundJob,
        status: JobStatus,
        error: Option<&str>,
    ) -> Result<Step, StoreError> {
        let now = now_ms();
        job.status = status;
        job.error = error.map(str::to_string);
        job.updated_at = now;
        job.finished_at = Some(now);
        self.ctx.store.put_job(job, &[]).await?;
        Ok(Step::Finished)
    }
}

enum Step {
    More,
    Finished,
}

/// The walk over a filter's executions, from `after`.
fn scan(filter: &ReplayFilter, after: Option<String>, limit: u64) -> crate::store::ExecutionScan {
    crate::store::ExecutionScan {
        status: filter.status,
        from_ms: filter.from,
        to_ms: filter.to,
        after_id: after,
        limit: limit as usize,
    }
}

/// How many executions a filter selects now (a dry run's answer): exact, capped at its
/// `limit`.
pub async fn count(
    store: &SharedStore,
    workflow_id: &str,
    filter: &ReplayFilter,
) -> Result<u64, StoreError> {
    // The walk itself, stopped at `limit`: never more work than the job would do.
    let ids = store
        .scan_executions(workflow_id.to_string(), scan(filter, None, filter.limit))
        .await?;
    Ok(ids.len() as u64)
}
