//! [`Store`] for RocksDB: writes go to the writer thread as they are; reads run on tokio's
//! blocking pool.

use std::time::Duration;

use super::{RocksStore, WriteOutcome};
use crate::model::{
    Account, ApiKey, BackgroundJob, Execution, ExecutionSummary, Hook, Persisted, ShadowResult,
    Workflow, WorkflowVersion,
};
use crate::store::{
    CatalogSnapshot, Dedupe, DueAccount, DueRequest, ExecutionQuery, ExecutionScan, Lease, Store,
    StoreError, StoreFuture, StoreStats, StoredReply,
};

impl Store for RocksStore {
    fn load_catalog(&self) -> StoreFuture<'_, CatalogSnapshot> {
        Box::pin(self.read(|s| s.load_catalog()))
    }

    fn is_initialised(&self) -> StoreFuture<'_, bool> {
        Box::pin(self.read(|s| s.is_initialised()))
    }

    fn initialise<'a>(&'a self, account: &'a Account, key: &'a ApiKey) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::initialise(self, account, key))
    }

    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_account(self, account))
    }

    fn put_api_key<'a>(&'a self, key: &'a ApiKey) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_api_key(self, key))
    }

    fn delete_api_key<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::delete_api_key(self, id))
    }

    fn put_workflow<'a>(
        &'a self,
        workflow: &'a Workflow,
        version: Option<&'a WorkflowVersion>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_workflow(self, workflow, version))
    }

    fn record_workflow_version<'a>(&'a self, version: &'a WorkflowVersion) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::record_workflow_version(self, version))
    }

    fn workflow_version(
        &self,
        workflow_id: String,
        version: u64,
    ) -> StoreFuture<'_, Option<WorkflowVersion>> {
        Box::pin(self.read(move |s| s.workflow_version(&workflow_id, version)))
    }

    fn workflow_versions(
        &self,
        workflow_id: String,
        newest: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<WorkflowVersion>> {
        Box::pin(self.read(move |s| s.workflow_versions(&workflow_id, newest, limit)))
    }

    fn scan_executions(
        &self,
        workflow_id: String,
        scan: ExecutionScan,
    ) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.read(move |s| s.scan_executions(&workflow_id, &scan)))
    }

    fn put_job<'a>(
        &'a self,
        job: &'a BackgroundJob,
        results: &'a [ShadowResult],
    ) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_job(self, job, results))
    }

    fn cancel_job(&self, id: String) -> StoreFuture<'_, ()> {
        Box::pin(async move { RocksStore::cancel_job(self, &id).await })
    }

    fn job(&self, id: String) -> StoreFuture<'_, Option<BackgroundJob>> {
        Box::pin(self.read(move |s| s.job(&id)))
    }

    fn unfinished_jobs(&self) -> StoreFuture<'_, Vec<BackgroundJob>> {
        Box::pin(self.read(|s| s.unfinished_jobs()))
    }

    fn job_results(
        &self,
        job_id: String,
        changed_only: bool,
        offset: usize,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ShadowResult>> {
        Box::pin(self.read(move |s| s.job_results(&job_id, changed_only, offset, limit)))
    }

    fn delete_workflow<'a>(&'a self, id: &'a str, hook_ids: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::delete_workflow(self, id, hook_ids))
    }

    fn put_hook<'a>(&'a self, hook: &'a Hook) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_hook(self, hook))
    }

    fn delete_hook<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::delete_hook(self, id))
    }

    fn accept_execution<'a>(
        &'a self,
        execution: &'a Execution,
        dedupe: Option<Dedupe>,
    ) -> StoreFuture<'a, WriteOutcome> {
        Box::pin(RocksStore::accept_execution(self, execution, dedupe))
    }

    fn save_progress<'a>(
        &'a self,
        execution: &'a Execution,
        previous: Persisted,
        lease: &'a Lease,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if lease.epoch != self.epoch {
                return Err(StoreError::Fenced(lease.epoch));
            }
            self.save_execution(execution, previous).await
        })
    }

    fn execution(&self, id: String) -> StoreFuture<'_, Option<Execution>> {
        Box::pin(self.read(move |s| s.execution(&id)))
    }

    fn executions(&self, ids: Vec<String>) -> StoreFuture<'_, Vec<Option<Execution>>> {
        Box::pin(self.read(move |s| s.executions(&ids)))
    }

    fn list_executions(
        &self,
        workflow_id: String,
        query: ExecutionQuery,
    ) -> StoreFuture<'_, (Vec<ExecutionSummary>, u64)> {
        Box::pin(self.read(move |s| s.list_executions(&workflow_id, &query)))
    }

    fn lease(&self, _workflow_id: &str) -> Option<Lease> {
        // One daemon holds every shard under one epoch: the shard is never checked here, so
        // the hot path does not hash the workflow's id for it.
        Some(Lease {
            owner: self.owner.clone(),
            shard: 0,
            epoch: self.epoch,
        })
    }

    fn holds_work(&self) -> bool {
        true
    }

    fn shards_taken(&self) -> u64 {
        0
    }

    fn due_work(&self, accounts: Vec<DueRequest>, now_ms: i64) -> StoreFuture<'_, Vec<DueAccount>> {
        Box::pin(self.read(move |s| {
            accounts
                .into_iter()
                .map(|request| {
                    let earliest_due_ms = s.earliest_due(&request.account_id, request.from_ms)?;
                    let due_now = match earliest_due_ms {
                        Some(at) if at <= now_ms && request.max_entries > 0 => s.due_now(
                            &request.account_id,
                            request.from_ms,
                            now_ms,
                            request.max_entries,
                        )?,
                        _ => Vec::new(),
                    };
                    Ok(DueAccount {
                        account_id: request.account_id,
                        earliest_due_ms,
                        due_now,
                    })
                })
                .collect()
        }))
    }

    fn due_backlog(&self) -> StoreFuture<'_, i64> {
        Box::pin(self.read(|s| s.due_backlog()))
    }

    fn stored_reply(&self, key: String) -> StoreFuture<'_, Option<StoredReply>> {
        Box::pin(self.read(move |s| s.stored_reply(&key)))
    }

    fn put_stored_reply<'a>(&'a self, key: &'a str, reply: &'a StoredReply) -> StoreFuture<'a, ()> {
        Box::pin(RocksStore::put_stored_reply(self, key, reply))
    }

    fn purge(
        &self,
        cutoff_ms: i64,
        dedupe_cutoff_ms: i64,
        replies_cutoff_ms: i64,
    ) -> StoreFuture<'_, usize> {
        Box::pin(self.read(move |s| s.purge(cutoff_ms, dedupe_cutoff_ms, replies_cutoff_ms)))
    }

    fn probe_write(&self, within: Duration) -> StoreFuture<'_, ()> {
        Box::pin(RocksStore::probe_write(self, within))
    }

    fn stats(&self) -> StoreFuture<'_, StoreStats> {
        Box::pin(self.read(move |s| {
            Ok(StoreStats {
                size_bytes: s.size_bytes(),
                write_stalled: s.write_stalled(),
                memory: s.memory(),
                due_backlog: s.due_backlog()?,
            })
        }))
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.read(|s| s.close()))
    }
}
