//! The dispatcher: one task, one mailbox. Routes executions to workflow actors, starting an
//! actor on first use, again after it stopped for being idle, and restarting one whose task
//! ended (a panic in its loop).

use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::workflow::{self, ActorHandle, WorkflowMsg};
use super::{DispatcherMsg, Engine, Job};
use crate::fasthash::FastMap;

/// Live workflow actors by workflow id (looked up once per execution).
type Actors = FastMap<String, ActorHandle>;

pub(super) async fn run(mut rx: mpsc::UnboundedReceiver<DispatcherMsg>, engine: Engine) {
    let mut actors = Actors::default();
    while let Some(msg) = rx.recv().await {
        match msg {
            DispatcherMsg::Run(job) => route(&mut actors, &engine, job),
            DispatcherMsg::WorkflowChanged(id) => {
                if let Some(actor) = actors.get(&id) {
                    let _ = actor.tx.send(WorkflowMsg::Reload);
                }
            }
            DispatcherMsg::WorkflowDeleted(id) => {
                if let Some(actor) = actors.remove(&id) {
                    let _ = actor.tx.send(WorkflowMsg::Reload);
                }
            }
            DispatcherMsg::ActorStopped(id) => {
                // Only if the entry is still that actor, not one started since.
                if actors.get(&id).is_some_and(|a| a.tx.is_closed()) {
                    actors.remove(&id);
                }
            }
            DispatcherMsg::Ping(reply) => {
                let _ = reply.send(());
            }
        }
        engine.shared.actors.store(actors.len(), Ordering::Relaxed);
    }
}

fn route(actors: &mut Actors, engine: &Engine, job: Box<Job>) {
    let workflow_id = job.execution.workflow_id.clone();
    let mut msg = WorkflowMsg::Run(job);
    // Two tries: the second after replacing an actor found dead.
    for _ in 0..2 {
        let actor = actors
            .entry(workflow_id.clone())
            .or_insert_with(|| workflow::spawn(workflow_id.clone(), engine.clone()));
        match actor.tx.send(msg) {
            Ok(()) => return,
            Err(mpsc::error::SendError(returned)) => {
                if !actor.stopped_idle.load(Ordering::Acquire) {
                    tracing::error!(workflow_id = %workflow_id, "workflow actor had stopped; restarting it");
                    metrics::counter!("botcadence_engine_actor_restarts_total").increment(1);
                }
                actors.remove(&workflow_id);
                msg = returned;
            }
        }
    }
    tracing::error!(workflow_id = %workflow_id, "workflow actor could not be started; the execution resumes on restart");
}
