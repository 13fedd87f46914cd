//! [`Store`] for PostgreSQL: writes go to the group-commit writer, reads to the pool.

use std::time::Duration;

use tokio::sync::oneshot;

use super::jobs;
use super::writer::{Job, Statement};
use super::{PgStore, db_error};
use crate::model::{
    Account, ApiKey, BackgroundJob, Execution, ExecutionSummary, Hook, Persisted, ShadowResult,
    Workflow, WorkflowVersion,
};
use crate::store::codec;
use crate::store::{
    CatalogSnapshot, Dedupe, DueAccount, DueRequest, ExecutionQuery, ExecutionScan, Lease,
    QuotaGrant, QuotaRequest, ReplyClaim, Store, StoreError, StoreFuture, StoreStats, StoredReply,
    WriteOutcome,
};

const INITIALISED: &str = "initialised";

fn put_sql(table: &str) -> &'static str {
    match table {
        "accounts" => {
            "INSERT INTO accounts (id, value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value"
        }
        "api_keys" => {
            "INSERT INTO api_keys (id, value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value"
        }
        "workflows" => {
            "INSERT INTO workflows (id, value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value"
        }
        "hooks" => {
            "INSERT INTO hooks (id, value) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value"
        }
        other => unreachable!("no catalog table {other}"),
    }
}

fn put<T: serde::Serialize>(table: &str, id: &str, value: &T) -> Statement {
    Statement::new(
        put_sql(table),
        vec![Box::new(id.to_string()), Box::new(codec::encode(value))],
    )
}

fn with_id(sql: &'static str, id: &str) -> Statement {
    Statement::new(sql, vec![Box::new(id.to_string())])
}

impl PgStore {
    async fn statements(&self, statements: Vec<Statement>) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.writer.submit(Job::Statements { statements, done })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

impl Store for PgStore {
    fn load_catalog(&self) -> StoreFuture<'_, CatalogSnapshot> {
        Box::pin(PgStore::load_catalog(self))
    }

    fn is_initialised(&self) -> StoreFuture<'_, bool> {
        Box::pin(async move { Ok(self.meta(INITIALISED).await?.is_some()) })
    }

    fn initialise<'a>(&'a self, account: &'a Account, key: &'a ApiKey) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![
            put("accounts", &account.id, account),
            put("api_keys", &key.id, key),
            Statement::new(
                "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                vec![Box::new(INITIALISED.to_string()), Box::new(b"1".to_vec())],
            ),
        ]))
    }

    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![put("accounts", &account.id, account)]))
    }

    fn put_api_key<'a>(&'a self, key: &'a ApiKey) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![put("api_keys", &key.id, key)]))
    }

    fn delete_api_key<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![with_id("DELETE FROM api_keys WHERE id = $1", id)]))
    }

    fn put_workflow<'a>(
        &'a self,
        workflow: &'a Workflow,
        version: Option<&'a WorkflowVersion>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(PgStore::put_workflow_checked(self, workflow, version))
    }

    fn update_workflow<'a>(
        &'a self,
        before: &'a Workflow,
        workflow: &'a Workflow,
        version: Option<&'a WorkflowVersion>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(PgStore::update_workflow_checked(
            self, before, workflow, version,
        ))
    }

    fn record_workflow_version<'a>(&'a self, version: &'a WorkflowVersion) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![jobs::record_version(version)]))
    }

    fn workflow_version(
        &self,
        workflow_id: String,
        version: u64,
    ) -> StoreFuture<'_, Option<WorkflowVersion>> {
        Box::pin(async move {
            let mut found = PgStore::workflow_versions(self, workflow_id, version, 1).await?;
            Ok(found.pop().filter(|v| v.version == version))
        })
    }

    fn workflow_versions(
        &self,
        workflow_id: String,
        newest: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<WorkflowVersion>> {
        Box::pin(PgStore::workflow_versions(self, workflow_id, newest, limit))
    }

    fn scan_executions(
        &self,
        workflow_id: String,
        scan: ExecutionScan,
    ) -> StoreFuture<'_, Vec<String>> {
        Box::pin(PgStore::scan_executions(self, workflow_id, scan))
    }

    fn put_job<'a>(
        &'a self,
        job: &'a BackgroundJob,
        results: &'a [ShadowResult],
    ) -> StoreFuture<'a, ()> {
        let mut statements = vec![jobs::put_job(job)];
        statements.extend(results.iter().map(|r| jobs::put_result(&job.id, r)));
        Box::pin(self.statements(statements))
    }

    fn cancel_job(&self, id: String) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.statements(vec![with_id(
                "UPDATE jobs SET cancel_requested = true WHERE id = $1",
                &id,
            )])
            .await
        })
    }

    fn job(&self, id: String) -> StoreFuture<'_, Option<BackgroundJob>> {
        Box::pin(async move {
            let mut found = self
                .jobs_where(
                    "SELECT value, cancel_requested FROM jobs WHERE id = $1",
                    Some(&id),
                )
                .await?;
            Ok(found.pop())
        })
    }

    fn unfinished_jobs(&self) -> StoreFuture<'_, Vec<BackgroundJob>> {
        Box::pin(self.jobs_where(
            "SELECT value, cancel_requested FROM jobs WHERE status = 'running'",
            None,
        ))
    }

    fn job_results(
        &self,
        job_id: String,
        changed_only: bool,
        offset: usize,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ShadowResult>> {
        Box::pin(PgStore::job_results(
            self,
            job_id,
            changed_only,
            offset,
            limit,
        ))
    }

    fn delete_workflow<'a>(&'a self, id: &'a str, hook_ids: &'a [String]) -> StoreFuture<'a, ()> {
        let mut statements = vec![
            with_id("DELETE FROM workflow_versions WHERE workflow_id = $1", id),
            with_id("DELETE FROM workflows WHERE id = $1", id),
        ];
        statements.extend(
            hook_ids
                .iter()
                .map(|h| with_id("DELETE FROM hooks WHERE id = $1", h)),
        );
        Box::pin(self.statements(statements))
    }

    fn put_hook<'a>(&'a self, hook: &'a Hook) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![put("hooks", &hook.id, hook)]))
    }

    fn delete_hook<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![with_id("DELETE FROM hooks WHERE id = $1", id)]))
    }

    fn accept_execution<'a>(
        &'a self,
        execution: &'a Execution,
        dedupe: Option<Dedupe>,
    ) -> StoreFuture<'a, WriteOutcome> {
        Box::pin(async move {
            let (done, answer) = oneshot::channel();
            self.writer.submit(Job::Accept {
                execution: Box::new(execution.clone()),
                dedupe,
                done,
            })?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn save_progress<'a>(
        &'a self,
        execution: &'a Execution,
        _previous: Persisted,
        lease: &'a Lease,
    ) -> StoreFuture<'a, ()> {
        // The row holds the indexes' columns itself: what was stored before needs no undoing.
        Box::pin(async move {
            let (done, answer) = oneshot::channel();
            self.writer.submit(Job::Save {
                execution: Box::new(execution.clone()),
                shard: lease.shard,
                epoch: lease.epoch,
                done,
            })?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn execution(&self, id: String) -> StoreFuture<'_, Option<Execution>> {
        Box::pin(async move { Ok(self.executions(vec![id]).await?.pop().flatten()) })
    }

    fn executions(&self, ids: Vec<String>) -> StoreFuture<'_, Vec<Option<Execution>>> {
        Box::pin(PgStore::executions(self, ids))
    }

    fn list_executions(
        &self,
        workflow_id: String,
        query: ExecutionQuery,
    ) -> StoreFuture<'_, (Vec<ExecutionSummary>, u64)> {
        Box::pin(PgStore::list_executions(self, workflow_id, query))
    }

    fn take_quota(&self, request: QuotaRequest) -> StoreFuture<'_, Option<QuotaGrant>> {
        Box::pin(async move { PgStore::take_quota(self, request).await.map(Some) })
    }

    fn lease(&self, workflow_id: &str) -> Option<Lease> {
        self.lease.current(crate::store::shard_of(workflow_id))
    }

    fn holds_work(&self) -> bool {
        !self.lease.workable().is_empty()
    }

    fn shards_taken(&self) -> u64 {
        self.lease.taken()
    }

    fn due_work(&self, accounts: Vec<DueRequest>, now_ms: i64) -> StoreFuture<'_, Vec<DueAccount>> {
        Box::pin(PgStore::due_work(self, accounts, now_ms))
    }

    fn due_backlog(&self) -> StoreFuture<'_, i64> {
        Box::pin(PgStore::due_backlog(self))
    }

    fn stored_reply(&self, key: String) -> StoreFuture<'_, Option<StoredReply>> {
        Box::pin(async move {
            match self.stored_reply_bytes(&key).await? {
                // A claim: no answer yet.
                Some(bytes) if bytes.is_empty() => Ok(None),
                Some(bytes) => {
                    codec::decode(&bytes)
                        .map(Some)
                        .map_err(|error| StoreError::Corrupt {
                            family: "replies",
                            error,
                        })
                }
                None => Ok(None),
            }
        })
    }

    fn put_stored_reply<'a>(&'a self, key: &'a str, reply: &'a StoredReply) -> StoreFuture<'a, ()> {
        Box::pin(self.statements(vec![Statement::new(
            "INSERT INTO replies (key, value, at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, at_ms = EXCLUDED.at_ms",
            vec![
                Box::new(key.to_string()),
                Box::new(codec::encode(reply)),
                Box::new(reply.at_ms),
            ],
        )]))
    }

    fn claim_reply(&self, key: String, now_ms: i64) -> StoreFuture<'_, ReplyClaim> {
        Box::pin(PgStore::claim_reply(self, key, now_ms))
    }

    fn release_reply(&self, key: String) -> StoreFuture<'_, ()> {
        Box::pin(PgStore::release_reply(self, key))
    }

    /// Batched deletes (a thousand rows per statement), so retention never holds a long
    /// transaction or a lock on the hot table; the space is reused by later rows after
    /// autovacuum rather than returned.
    fn purge(
        &self,
        cutoff_ms: i64,
        dedupe_cutoff_ms: i64,
        replies_cutoff_ms: i64,
    ) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let client = self.client().await?;
            let upper = crate::ids::exec_id_floor(cutoff_ms * 1000);
            let mut deleted = 0usize;
            loop {
                let n = client
                    .execute(
                        "DELETE FROM executions WHERE id IN (
                            SELECT id FROM executions
                            WHERE id < $1 AND status IN ('success', 'failed')
                            LIMIT 1000)",
                        &[&upper],
                    )
                    .await
                    .map_err(db_error)?;
                deleted += n as usize;
                if n < 1000 {
                    break;
                }
            }
            for (sql, cutoff) in [
                (
                    "DELETE FROM dedupe WHERE ctid IN (SELECT ctid FROM dedupe WHERE at_ms < $1 LIMIT 1000)",
                    dedupe_cutoff_ms,
                ),
                (
                    "DELETE FROM replies WHERE ctid IN (SELECT ctid FROM replies WHERE at_ms < $1 LIMIT 1000)",
                    replies_cutoff_ms,
                ),
            ] {
                while client.execute(sql, &[&cutoff]).await.map_err(db_error)? >= 1000 {}
            }
            self.purge_jobs(cutoff_ms).await?;
            Ok(deleted)
        })
    }

    fn probe_write(&self, within: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let write = self.statements(vec![Statement::new(
                "INSERT INTO meta (name, value) VALUES ('probe', $1)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                vec![Box::new(crate::timefmt::now_ms().to_le_bytes().to_vec())],
            )]);
            tokio::time::timeout(within, write)
                .await
                .map_err(|_| StoreError::Db(format!("no commit within {within:?}")))?
        })
    }

    fn stats(&self) -> StoreFuture<'_, StoreStats> {
        Box::pin(async move {
            Ok(StoreStats {
                size_bytes: self.size_bytes().await?,
                write_stalled: false,
                memory: Default::default(),
                due_backlog: self.due_backlog().await?,
            })
        })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        // Every acknowledged write is committed already; connections close when dropped. The
        // lease is given up so that another daemon takes the work over at once.
        Box::pin(async move {
            let client = self.client().await?;
            super::lease::release(&client, &self.lease).await
        })
    }
}
