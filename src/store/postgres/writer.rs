//! Group commit on PostgreSQL: one task owns one connection; every write waiting when a
//! transaction starts goes into it, and each caller hears back once `COMMIT` returned. Under
//! load, one commit (one WAL flush, one round trip to a synchronous standby) covers many
//! events, as the RocksDB writer's one fsync does.

use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Transaction};

use std::collections::HashMap;

use super::{connect, db_error, lease};
use crate::model::Execution;
use crate::store::codec;
use crate::store::{Dedupe, StoreError, WriteOutcome};

/// A statement and its parameters, for catalog writes.
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<Box<dyn ToSql + Send + Sync>>,
}

impl Statement {
    pub fn new(sql: &'static str, params: Vec<Box<dyn ToSql + Send + Sync>>) -> Statement {
        Statement { sql, params }
    }
}

pub enum Job {
    /// A new execution; nothing is written when its idempotency key is taken.
    Accept {
        execution: Box<Execution>,
        dedupe: Option<Dedupe>,
        done: oneshot::Sender<Result<WriteOutcome, StoreError>>,
    },
    /// An execution's progress, written only while `epoch` is still its shard's lease.
    Save {
        execution: Box<Execution>,
        shard: u16,
        epoch: u64,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Catalog and bookkeeping writes, applied together.
    Statements {
        statements: Vec<Statement>,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// Longest a group commit may take before its writes are answered `Unavailable`.
const COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(config: Config, max_batch: usize, capacity: usize) -> Writer {
        let (queue, jobs) = mpsc::channel(capacity.max(1));
        tokio::spawn(run(config, jobs, max_batch.max(1)));
        Writer { queue }
    }

    /// Queues a job; `Busy` when the queue is full (the caller answers 503), `Closed` once the
    /// writer stopped.
    pub fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })
    }
}

async fn run(config: Config, mut jobs: mpsc::Receiver<Job>, max_batch: usize) {
    let mut client: Option<Client> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        let started = std::time::Instant::now();
        let attempt = async {
            match client.as_mut().filter(|c| !c.is_closed()) {
                Some(c) => commit(c, &mut batch).await,
                None => match connect(&config).await {
                    Ok(c) => commit(client.insert(c), &mut batch).await,
                    Err(e) => Err(e),
                },
            }
        };
        // A commit that does not come back (a primary gone silent) fails the batch in time;
        // the connection is dropped and opened again for the next one.
        let result = match tokio::time::timeout(COMMIT_TIMEOUT, attempt).await {
            Ok(r) => r,
            Err(_) => {
                client = None;
                Err(StoreError::Unavailable(format!(
                    "postgres: no commit within {COMMIT_TIMEOUT:?}"
                )))
            }
        };
        metrics::histogram!("botcadence_store_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!("botcadence_store_batch_size").record(batch.len() as f64);
        match result {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    answer(job, outcome);
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every caller hears the error (the
                // event was not acknowledged; a progress write is retried by its owner).
                tracing::warn!(error = %e, jobs = batch.len(), "postgres group commit failed");
                if client.as_ref().is_some_and(|c| c.is_closed()) {
                    client = None;
                }
                for job in batch.drain(..) {
                    answer(job, Outcome::Failed(e.clone()));
                }
            }
        }
    }
}

/// What one job came to, inside a committed transaction.
enum Outcome {
    Written(WriteOutcome),
    Fenced(u64),
    Failed(StoreError),
}

fn answer(job: Job, outcome: Outcome) {
    if let Outcome::Fenced(_) = outcome {
        metrics::counter!("botcadence_store_fenced_writes_total").increment(1);
    }
    match job {
        Job::Accept { done, .. } => {
            let _ = done.send(match outcome {
                Outcome::Written(w) => Ok(w),
                Outcome::Fenced(e) => Err(StoreError::Fenced(e)),
                Outcome::Failed(e) => Err(e),
            });
        }
        Job::Save { done, .. } | Job::Statements { done, .. } => {
            let _ = done.send(match outcome {
                Outcome::Written(_) => Ok(()),
                Outcome::Fenced(e) => Err(StoreError::Fenced(e)),
                Outcome::Failed(e) => Err(e),
            });
        }
    }
}

async fn commit(client: &mut Client, batch: &mut [Job]) -> Result<Vec<Outcome>, StoreError> {
    let tx = client.transaction().await.map_err(db_error)?;
    // The leases of the shards the batch writes progress in are read, and held against a
    // takeover until the commit.
    let current = current_epochs(&tx, batch).await?;
    let is_current =
        |shard: &u16, epoch: &u64| current.get(shard).is_some_and(|held| held == epoch);
    // New executions without an idempotency key: one multi-row insert for all of them.
    insert_all(
        &tx,
        batch.iter().filter_map(|j| match j {
            Job::Accept {
                execution,
                dedupe: None,
                ..
            } => Some(execution.as_ref()),
            _ => None,
        }),
    )
    .await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch.iter() {
        let outcome = match job {
            Job::Accept { dedupe: None, .. } => Outcome::Written(WriteOutcome::Written),
            Job::Accept {
                execution,
                dedupe: Some(dedupe),
                ..
            } => Outcome::Written(accept(&tx, execution, Some(dedupe)).await?),
            // Written together below, when their epoch is current.
            Job::Save { shard, epoch, .. } if !is_current(shard, epoch) => Outcome::Fenced(*epoch),
            Job::Save { .. } => Outcome::Written(WriteOutcome::Written),
            Job::Statements { statements, .. } => {
                for s in statements {
                    let params: Vec<&(dyn ToSql + Sync)> = s
                        .params
                        .iter()
                        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    tx.execute(s.sql, &params).await.map_err(db_error)?;
                }
                Outcome::Written(WriteOutcome::Written)
            }
        };
        outcomes.push(outcome);
    }
    save_all(
        &tx,
        batch.iter().filter_map(|j| match j {
            Job::Save {
                execution,
                shard,
                epoch,
                ..
            } if is_current(shard, epoch) => Some(execution.as_ref()),
            _ => None,
        }),
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(outcomes)
}

/// The epoch of each shard the batch saves progress in, read `FOR SHARE` (a takeover's
/// update waits for this commit).
async fn current_epochs(
    tx: &Transaction<'_>,
    batch: &[Job],
) -> Result<HashMap<u16, u64>, StoreError> {
    let mut names: Vec<String> = batch
        .iter()
        .filter_map(|j| match j {
            Job::Save { shard, .. } => Some(lease::row_name(*shard)),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    names.sort_unstable();
    names.dedup();
    let rows = tx
        .query(
            "SELECT name, epoch FROM leases WHERE name = ANY($1) ORDER BY name FOR SHARE",
            &[&names],
        )
        .await
        .map_err(db_error)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let name: &str = r.get(0);
            let shard = name.strip_prefix("shard-")?.parse().ok()?;
            Some((shard, r.get::<_, i64>(1) as u64))
        })
        .collect())
}

/// The columns of an execution row.
struct Row {
    shard: i16,
    status: &'static str,
    due_at_ms: Option<i64>,
    record: Vec<u8>,
    summary: Vec<u8>,
}

fn row_of(execution: &Execution) -> Row {
    Row {
        shard: crate::store::shard_of(&execution.workflow_id) as i16,
        status: execution.status.as_str(),
        due_at_ms: execution.due_at_ms(),
        record: codec::encode(execution),
        summary: codec::encode(&execution.summary()),
    }
}

/// Inserts executions in one statement (arrays unnested into rows): one round trip for a
/// whole group commit instead of one per event.
async fn insert_all<'e>(
    tx: &Transaction<'_>,
    executions: impl Iterator<Item = &'e Execution>,
) -> Result<(), StoreError> {
    let (mut ids, mut accounts, mut workflows, mut statuses) = (vec![], vec![], vec![], vec![]);
    let (mut due, mut records, mut summaries, mut shards) = (vec![], vec![], vec![], vec![]);
    for e in executions {
        let row = row_of(e);
        ids.push(e.id.as_str());
        accounts.push(e.account_id.as_str());
        workflows.push(e.workflow_id.as_str());
        statuses.push(row.status);
        due.push(row.due_at_ms);
        records.push(row.record);
        summaries.push(row.summary);
        shards.push(row.shard);
    }
    if ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO executions
            (id, account_id, workflow_id, status, due_at_ms, record, summary, shard)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                              $6::bytea[], $7::bytea[], $8::smallint[])",
        &[
            &ids, &accounts, &workflows, &statuses, &due, &records, &summaries, &shards,
        ],
    )
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn accept(
    tx: &Transaction<'_>,
    execution: &Execution,
    dedupe: Option<&Dedupe>,
) -> Result<WriteOutcome, StoreError> {
    if let Some(d) = dedupe {
        // Ours when new, or when the one there is older than the window.
        let claimed = tx
            .query_opt(
                "INSERT INTO dedupe (hook_id, key, execution_id, at_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (hook_id, key) DO UPDATE
                    SET execution_id = EXCLUDED.execution_id, at_ms = EXCLUDED.at_ms
                    WHERE dedupe.at_ms < $5
                 RETURNING execution_id",
                &[
                    &d.hook_id,
                    &d.key,
                    &d.entry.execution_id,
                    &d.entry.at_ms,
                    &d.not_before_ms,
                ],
            )
            .await
            .map_err(db_error)?;
        if claimed.is_none() {
            let original: String = tx
                .query_one(
                    "SELECT execution_id FROM dedupe WHERE hook_id = $1 AND key = $2",
                    &[&d.hook_id, &d.key],
                )
                .await
                .map_err(db_error)?
                .get(0);
            return Ok(WriteOutcome::Duplicate(original));
        }
    }
    let row = row_of(execution);
    tx.execute(
        "INSERT INTO executions
            (id, account_id, workflow_id, status, due_at_ms, record, summary, shard)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &execution.id,
            &execution.account_id,
            &execution.workflow_id,
            &row.status,
            &row.due_at_ms,
            &row.record,
            &row.summary,
            &row.shard,
        ],
    )
    .await
    .map_err(db_error)?;
    Ok(WriteOutcome::Written)
}

/// Records the progress of several executions in one statement.
async fn save_all<'e>(
    tx: &Transaction<'_>,
    executions: impl Iterator<Item = &'e Execution>,
) -> Result<(), StoreError> {
    let (mut ids, mut statuses, mut due) = (vec![], vec![], vec![]);
    let (mut records, mut summaries) = (vec![], vec![]);
    for e in executions {
        let row = row_of(e);
        ids.push(e.id.as_str());
        statuses.push(row.status);
        due.push(row.due_at_ms);
        records.push(row.record);
        summaries.push(row.summary);
    }
    if ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "UPDATE executions SET status = u.status, due_at_ms = u.due_at_ms, record = u.record,
                               summary = u.summary
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[])
              AS u(id, status, due_at_ms, record, summary)
         WHERE executions.id = u.id",
        &[&ids, &statuses, &due, &records, &summaries],
    )
    .await
    .map_err(db_error)?;
    Ok(())
}
