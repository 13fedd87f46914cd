//! Thin actors around the engine: the dispatcher routes each stored execution to its
//! workflow's actor; each workflow actor runs executions concurrently up to a limit and
//! supervises them. Actors are tokio tasks with mailboxes (channels); they own routing,
//! concurrency and supervision, never business rules (those live in `engine`).
//!
//! Invariants: every execution handed to the engine is already durable; a panic inside one
//! run fails that execution only; a dead actor is restarted by the dispatcher on its next
//! message; nothing here blocks a thread (store reads go through `Store::read`).

pub mod admission;
mod dispatcher;
mod workflow;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::catalog::Catalog;
use crate::engine::EngineDeps;
use crate::engine::definitions::Definitions;
use crate::engine::runner;
use crate::engine::runner::Checkpoint;
use crate::model::{Execution, ExecutionStatus, Workflow};
use crate::store::{Store, StoreError};
use admission::{Admission, Slot};

/// An execution on its way to (or back to) its workflow actor, holding its pending slot.
pub struct Job {
    pub execution: Execution,
    pub slot: Slot,
}

enum DispatcherMsg {
    Run(Box<Job>),
    WorkflowChanged(String),
    WorkflowDeleted(String),
    Ping(oneshot::Sender<()>),
}

/// What every actor shares.
pub(crate) struct Shared {
    store: Store,
    catalog: Arc<Catalog>,
    deps: Arc<EngineDeps>,
    definitions: Definitions,
    admission: Arc<Admission>,
    concurrency: usize,
    running: AtomicUsize,
    stopping: AtomicBool,
    runtime: Handle,
    actors: AtomicUsize,
}

/// Handle to the engine: cheap to clone.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<DispatcherMsg>,
    shared: Arc<Shared>,
}

impl Engine {
    /// Starts the dispatcher on `runtime`.
    pub fn start(
        store: Store,
        catalog: Arc<Catalog>,
        deps: Arc<EngineDeps>,
        admission: Arc<Admission>,
        concurrency: usize,
        runtime: Handle,
    ) -> Engine {
        let shared = Arc::new(Shared {
            store,
            catalog,
            deps,
            definitions: Definitions::default(),
            admission,
            concurrency,
            running: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            runtime: runtime.clone(),
            actors: AtomicUsize::new(0),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let engine = Engine { tx, shared };
        runtime.spawn(dispatcher::run(rx, engine.clone()));
        engine
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

    /// A round trip through the dispatcher's mailbox: proves it is alive.
    pub async fn ping(&self, timeout: Duration) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(DispatcherMsg::Ping(reply)).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(())))
    }

    /// Runs a new execution of a small workflow made only of pure steps (filter, transform;
    /// see `Definition::inline`) to its end, in place, so ingest can store the event and its
    /// finished execution in one write: no queue, no second write, no actor. Returns the
    /// terminal status, or None (execution untouched) when the workflow has effects or is too
    /// big, and must go through [`Engine::submit`] once stored.
    pub fn run_inline(
        &self,
        execution: &mut Execution,
        workflow: &Workflow,
    ) -> Option<ExecutionStatus> {
        let shared = &self.shared;
        let definition = shared.definitions.get(workflow, &shared.deps.renderer);
        if !definition.inline {
            return None;
        }
        let steps = definition.steps.as_ref().ok()?;
        runner::run_pure(execution, steps, &shared.deps)
    }

    /// Counts an execution that finished outside the actors (see [`Engine::run_inline`]),
    /// once it is stored.
    pub fn record_finished(&self, execution: &Execution) {
        workflow::record_finished(execution.status, execution.duration_ms);
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

    /// Resubmits every stored execution that has not finished (at start).
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let pending = self.shared.store.read(|s| s.pending_executions()).await?;
        let n = pending.len();
        for execution in pending {
            let received_us = crate::ids::micros_of(&execution.id).unwrap_or_default();
            let slot = self.shared.admission.admit_recovered(received_us);
            self.submit(Job { execution, slot });
        }
        Ok(n)
    }

    /// Stops admitting new executions and waits (up to `timeout`) for running ones to finish.
    /// Executions not finished stay stored and resume on the next start. Returns the number
    /// still running when it gave up.
    pub async fn drain(&self, timeout: Duration) -> usize {
        self.shared.admission.close();
        self.shared.stopping.store(true, Ordering::Release);
        let deadline = Instant::now() + timeout;
        while self.running() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.running()
    }
}

/// Persists progress through the store; waits out a full write queue rather than failing.
struct StoreCheckpoint {
    store: Store,
}

impl Checkpoint for StoreCheckpoint {
    async fn save(&self, exec: &Execution, previous: ExecutionStatus) -> Result<(), String> {
        let mut wait = Duration::from_millis(1);
        loop {
            match self.store.save_execution(exec, previous).await {
                Err(StoreError::Busy) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(100));
                }
                other => return other.map_err(|e| e.to_string()),
            }
        }
    }
}
