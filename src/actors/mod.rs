//! Thin actors around the engine: the dispatcher routes each stored execution to its
//! workflow's actor; each workflow actor runs executions concurrently up to a limit and
//! supervises them. Actors are tokio tasks with mailboxes (channels); they own routing,
//! concurrency and supervision, never business rules (those live in `steps`).
//!
//! Work is data: what waits (a new event not yet run, a `delay`, a long retry wait, anything
//! after a restart) waits in the store's due index, not here. Ingest hands its fresh
//! executions straight to the dispatcher; everything else comes back through the refill
//! (`refill`), which reads due work account by account into bounded lanes. An execution that
//! suspends is dropped from memory once its due time is stored.
//!
//! Invariants: every execution handed to the engine is already durable and claimed (`claims`:
//! never in memory twice); a panic inside one run fails that execution only; a dead actor is
//! restarted by the dispatcher on its next message; nothing here blocks a thread (every store
//! call is async).

pub mod admission;
pub mod claims;
mod dispatcher;
pub mod finish_waiters;
pub mod intake;
mod refill;
mod runners;
mod workflow;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::catalog::Catalog;
use crate::model::{Execution, Persisted, Workflow};
use crate::steps::ActionDeps;
use crate::steps::definitions::Definitions;
use crate::steps::runner;
use crate::steps::runner::{Checkpoint, InlineRun};
use crate::store::{Lease, SharedStore, StoreError};
use admission::{Admission, Refusal, Slot};
use claims::{Claim, Claims};
use finish_waiters::{FinishWaiters, Waiting};
use runners::Runners;

/// An execution on its way to its workflow actor, holding its pending slot, its claim, and
/// the lease it was claimed under (its progress is written under that lease's epoch, and
/// refused once another daemon took the work over).
pub struct Job {
    pub execution: Execution,
    pub slot: Slot,
    pub claim: Claim,
    pub lease: Lease,
}

enum DispatcherMsg {
    Run(Box<Job>),
    WorkflowChanged(String),
    WorkflowDeleted(String),
    /// A workflow actor stopped for being idle.
    ActorStopped(String),
    Ping(oneshot::Sender<()>),
}

/// What every actor shares.
pub(crate) struct Shared {
    store: SharedStore,
    catalog: Arc<Catalog>,
    deps: Arc<ActionDeps>,
    definitions: Definitions,
    admission: Arc<Admission>,
    claims: Arc<Claims>,
    /// Most executions of one account the refill holds in memory at once.
    lane: usize,
    /// Wakes the refill early: something is due before its next pass.
    due_soon: Notify,
    /// Asks the refill to look at every due entry again on its next pass.
    rescan: AtomicBool,
    /// The earliest due time the refill saw on its last pass (i64::MAX: none).
    earliest_due: AtomicI64,
    concurrency: usize,
    /// How long a workflow actor with nothing to do lives on.
    actor_idle: Duration,
    running: AtomicUsize,
    /// The daemon's one shutdown signal: the refill stops, queued runs stay stored.
    shutdown: CancellationToken,
    /// Answers waiting for executions to finish (synchronous hooks), woken by id.
    waiters: FinishWaiters,
    /// Every execution task, so shutdown can wait for the running ones.
    tasks: TaskTracker,
    /// Where executions run.
    runners: Runners,
    /// Where the dispatcher, the refill and the workflow actors run.
    runtime: Handle,
    actors: AtomicUsize,
}

/// How much the engine runs at once, and how long idle actors live.
pub struct EngineLimits {
    /// Executions of one workflow running at once (`[engine] workflow_concurrency`).
    pub concurrency: usize,
    /// Runner threads; 0 = one per core (`[engine] workers`).
    pub workers: usize,
    /// `[engine] actor_idle_secs`.
    pub actor_idle: Duration,
    /// Synchronous answers one account may have waiting at once
    /// (`[webhooks] max_sync_waiting_per_account`).
    pub sync_waiting_per_account: usize,
}

/// Handle to the engine: cheap to clone.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<DispatcherMsg>,
    shared: Arc<Shared>,
}

impl Engine {
    /// Starts the dispatcher and the refill on the current runtime, and `workers` runner
    /// threads for the executions (0: one per core). The refill's first pass is the recovery
    /// of whatever a previous run left unfinished.
    pub fn start(
        store: SharedStore,
        catalog: Arc<Catalog>,
        deps: Arc<ActionDeps>,
        admission: Arc<Admission>,
        limits: EngineLimits,
        shutdown: CancellationToken,
    ) -> std::io::Result<Engine> {
        let EngineLimits {
            concurrency,
            workers,
            actor_idle,
            sync_waiting_per_account,
        } = limits;
        let runtime = Handle::current();
        let runners = Runners::start(workers)?;
        let shared = Arc::new(Shared {
            store,
            catalog,
            deps,
            definitions: Definitions::default(),
            admission,
            claims: Arc::new(Claims::default()),
            lane: lane_size(concurrency),
            due_soon: Notify::new(),
            rescan: AtomicBool::new(false),
            earliest_due: AtomicI64::new(i64::MAX),
            concurrency,
            actor_idle,
            running: AtomicUsize::new(0),
            shutdown,
            waiters: FinishWaiters::new(sync_waiting_per_account),
            tasks: TaskTracker::new(),
            runners,
            runtime: runtime.clone(),
            actors: AtomicUsize::new(0),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let engine = Engine { tx, shared };
        runtime.spawn(dispatcher::run(rx, engine.clone()));
        runtime.spawn(refill::run(engine.clone()));
        Ok(engine)
    }

    /// Claims a new execution before it is written, so the refill never hands it out too.
    /// None only if the id is already held, which a fresh id never is.
    pub fn claim(&self, execution_id: &str) -> Option<Claim> {
        self.shared.claims.try_claim(execution_id)
    }

    /// Registers a wait for `execution_id` to finish on this daemon, or None when
    /// `account_id` has as many waiting as it may.
    pub fn wait_for_finish(&self, account_id: &str, execution_id: &str) -> Option<Waiting<'_>> {
        self.shared.waiters.wait_for(account_id, execution_id)
    }

    /// Synchronous answers waiting for their executions right now.
    pub fn sync_waiting(&self) -> usize {
        self.shared.waiters.waiting()
    }

    /// Wakes whoever waits for `execution_id`, which this daemon just stored finished.
    fn finished(&self, execution_id: &str) {
        self.shared.waiters.finished(execution_id);
    }

    /// The earliest due time of any unfinished execution, as of the refill's last pass.
    pub fn earliest_due_ms(&self) -> Option<i64> {
        let at = self.shared.earliest_due.load(Ordering::Relaxed);
        (at != i64::MAX).then_some(at)
    }

    /// Executions held in memory (claimed) right now.
    pub fn held(&self) -> usize {
        self.shared.claims.held()
    }

    fn is_stopping(&self) -> bool {
        self.shared.shutdown.is_cancelled()
    }

    /// Wakes the refill if `due_at_ms` comes before its next regular pass.
    fn due_at(&self, due_at_ms: i64) {
        if due_at_ms - crate::timefmt::now_ms() < refill::POLL_INTERVAL.as_millis() as i64 {
            self.shared.due_soon.notify_one();
        }
    }

    /// Hands a stored execution to its workflow. The mailbox is bounded by admission: every
    /// job holds a pending slot.
    pub fn submit(&self, job: Job) {
        if let Err(e) = self.tx.send(DispatcherMsg::Run(Box::new(job))) {
            // Only during shutdown; the execution is stored and resumes on the next start.
            drop(e);
        }
    }

    pub fn workflow_changed(&self, id: &str) {
        let _ = self.tx.send(DispatcherMsg::WorkflowChanged(id.to_string()));
    }

    pub fn workflow_deleted(&self, id: &str) {
        self.shared.definitions.forget(id);
        let _ = self.tx.send(DispatcherMsg::WorkflowDeleted(id.to_string()));
    }

    fn actor_stopped(&self, workflow_id: String) {
        let _ = self.tx.send(DispatcherMsg::ActorStopped(workflow_id));
    }

    /// A round trip through the dispatcher's mailbox: proves it is alive.
    pub async fn ping(&self, timeout: Duration) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(DispatcherMsg::Ping(reply)).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(())))
    }

    /// Runs a new execution of a small workflow in place, as far as it goes without effects
    /// outside the daemon (see `Definition::inline`): to its end, or to a leading `delay`.
    /// Ingest then stores the event with that state in one write: no queue, no actor, no
    /// slot. Returns None (execution untouched) when the workflow does not qualify, and the
    /// execution must go through [`Engine::submit`] once stored.
    pub fn run_inline(
        &self,
        execution: &mut Execution,
        workflow: &Workflow,
        input_bytes: usize,
    ) -> Option<InlineRun> {
        let shared = &self.shared;
        let definition = shared.definitions.get(workflow, &shared.deps.renderer);
        if !definition.runs_inline(input_bytes) {
            return None;
        }
        let steps = definition.steps.as_ref().ok()?;
        runner::run_inline(execution, steps, &shared.deps)
    }

    /// Accounts for an execution run in place (see [`Engine::run_inline`]) once it is stored.
    pub fn inline_stored(&self, execution: &Execution, run: InlineRun) {
        match run {
            InlineRun::Finished(status) => workflow::record_finished(status, execution.duration_ms),
            InlineRun::Suspended { until_ms } => self.due_at(until_ms),
        }
    }

    /// A place for a new execution of `account_id`, counted as refused (by scope) when there
    /// is none.
    pub fn admit(&self, account_id: &str, received_us: i64) -> Result<Slot, Refusal> {
        self.shared
            .admission
            .try_admit(account_id, received_us)
            .inspect_err(|refusal| {
                let scope = match refusal {
                    Refusal::Account { .. } => "account",
                    Refusal::Daemon => "daemon",
                };
                metrics::counter!("botcadence_engine_admission_refusals_total", "scope" => scope)
                    .increment(1);
            })
    }

    pub fn admission(&self) -> &Arc<Admission> {
        &self.shared.admission
    }

    /// Workflow actors alive.
    pub fn actor_count(&self) -> usize {
        self.shared.actors.load(Ordering::Relaxed)
    }

    /// Executions running right now (holding a concurrency permit).
    pub fn running(&self) -> usize {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Stops admitting new executions and waits (up to `timeout`) for running ones to finish;
    /// the shutdown token is cancelled by then, so nothing new starts. Executions not finished
    /// stay stored and resume on the next start. Returns the number still running when it
    /// gave up.
    pub async fn drain(&self, timeout: Duration) -> usize {
        self.shared.admission.close();
        self.shared.shutdown.cancel();
        self.shared.tasks.close();
        let _ = tokio::time::timeout(timeout, self.shared.tasks.wait()).await;
        self.running()
    }
}

/// Executions of one account the refill holds at once: enough to keep every one of a
/// workflow's concurrent runs busy twice over, small enough that a backlog of millions costs
/// a few hundred records of memory per account.
fn lane_size(workflow_concurrency: usize) -> usize {
    (workflow_concurrency * 2).max(16)
}

/// Persists progress through the store; waits out a full write queue, a full disk and an
/// unreachable database rather than failing: a run whose progress could not be stored would be picked up again
/// and repeat the step it had just done (an email, a call) as long as the disk stays full.
struct StoreCheckpoint {
    store: SharedStore,
    lease: Lease,
}

impl Checkpoint for StoreCheckpoint {
    async fn save(&self, exec: &Execution, previous: Persisted) -> Result<(), String> {
        let mut wait = Duration::from_millis(1);
        loop {
            match self.store.save_progress(exec, previous, &self.lease).await {
                Err(StoreError::Busy) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(100));
                }
                // A full disk, or a shared database failing over: wait for it to come back.
                Err(StoreError::DiskFull { .. } | StoreError::Unavailable(_)) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
                other => return other.map_err(|e| e.to_string()),
            }
        }
    }
}
