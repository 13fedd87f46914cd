//! The store: everything the daemon keeps, behind one interface in our own terms — accept an
//! event, checkpoint progress, read and list executions, read due work, catalog reads and
//! writes, retention, health. The engine and the API speak only to [`Store`]. RocksDB
//! (`rocks`, embedded) is the default implementation; PostgreSQL (`postgres`) is the other,
//! shared by several daemons. Column families, tables, keys and batches stay inside each
//! implementation; `tests/store_contract.rs` holds both to the same behaviour.

pub mod codec;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "rocksdb")]
pub mod rocks;

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::model::{
    Account, ApiKey, BackgroundJob, Execution, ExecutionStatus, ExecutionSummary, Hook, Persisted,
    ShadowResult, Workflow, WorkflowVersion,
};
#[cfg(feature = "rocksdb")]
pub use rocks::{RocksStore, StoreGuard};

/// This machine's name, for lease owners.
#[cfg(any(feature = "rocksdb", feature = "postgres"))]
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// What accepting an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The idempotency key was seen: nothing was written; here is the original execution.
    Duplicate(String),
}

/// The store as the rest of the daemon holds it.
pub type SharedStore = std::sync::Arc<dyn Store>;

/// What every store call returns.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the write queue is full")]
    Busy,
    #[error("the store is shut down")]
    Closed,
    #[error("the data directory {0} is in use by another botcadence process")]
    Locked(String),
    #[error("rocksdb: {0}")]
    Db(String),
    /// The database could not be reached (a shared database failing over, a network cut):
    /// nothing was written; the same request may succeed a moment later.
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error("corrupt value in {family}: {error}")]
    Corrupt { family: &'static str, error: String },
    /// The data directory's filesystem is (nearly) full: nothing was written.
    #[error(
        "the data directory's filesystem is full ({free_bytes} bytes free, [storage] min_free_bytes is {min_free_bytes})"
    )]
    DiskFull {
        free_bytes: u64,
        min_free_bytes: u64,
    },
    /// A write under a lease that is no longer current: another owner took the work over.
    #[error("the lease of epoch {0} is no longer current")]
    Fenced(u64),
    /// A change based on a state that another daemon changed meanwhile: nothing was written.
    #[error("{0}")]
    Conflict(String),
}

/// What is remembered about an idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupeEntry {
    pub execution_id: String,
    pub at_ms: i64,
}

/// The remembered answer to a `/v1` POST sent with an `Idempotency-Key`
/// (`api::idempotency`): a retry of the same request gets it again instead of acting twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReply {
    /// SHA-256 (hex) of what was asked: method, path and body.
    pub fingerprint: String,
    pub status: u16,
    /// The response body, sealed under a key derived from the caller's Idempotency-Key,
    /// which is not stored: what the data directory holds does not reveal a created API key.
    pub sealed_body: Vec<u8>,
    pub at_ms: i64,
}

/// What a daemon finds when it starts a request with an Idempotency-Key
/// (`Store::claim_reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyClaim {
    /// Nobody answered or runs this key: the caller runs the request.
    Claimed,
    /// Another daemon runs a request with this key now.
    Running,
    /// The answer given before.
    Stored(StoredReply),
}

/// How long a claim on an Idempotency-Key holds without its answer: a daemon that died while
/// running the request leaves the key refused (409) for at most this long.
pub const REPLY_CLAIM_MS: i64 = 60_000;

/// Everything small enough to keep in memory, loaded once at start.
#[derive(Debug, Default)]
pub struct CatalogSnapshot {
    pub accounts: Vec<Account>,
    pub api_keys: Vec<ApiKey>,
    pub workflows: Vec<Workflow>,
    pub hooks: Vec<Hook>,
}

/// Memory RocksDB holds, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreMemory {
    pub memtables: u64,
    /// Data, index and filter blocks (pinned or not), shared by every family.
    pub block_cache: u64,
    pub table_readers: u64,
}

/// Filters of the executions list.
#[derive(Debug, Clone, Default)]
pub struct ExecutionQuery {
    pub status: Option<ExecutionStatus>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub offset: usize,
    pub limit: usize,
}

/// A walk over one workflow's finished executions, oldest first, for background jobs.
#[derive(Debug, Clone, Default)]
pub struct ExecutionScan {
    /// One status, or both finished ones (`success`, `failed`) when None.
    pub status: Option<ExecutionStatus>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Start after this execution id (the walk's cursor).
    pub after_id: Option<String>,
    pub limit: usize,
}

/// An idempotency key to check and remember with a new execution.
#[derive(Debug, Clone)]
pub struct Dedupe {
    pub hook_id: String,
    pub key: String,
    pub entry: DedupeEntry,
    /// Entries older than this (ms) no longer count.
    pub not_before_ms: i64,
}

/// Who may write executions' progress: an owner, the shard of the work, and an epoch that
/// grows each time a daemon takes that shard over. A write under an older epoch is refused
/// (`StoreError::Fenced`), so a daemon that lost a lease cannot overwrite work another one
/// took up. On one node the daemon holds every shard from open to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub shard: u16,
    pub epoch: u64,
}

/// Work is divided into this many shards, by workflow: all of a workflow's executions are in
/// one shard, so the daemon holding it runs them all and its concurrency limit holds across
/// daemons. Fixed: the shard is stored with each execution on a shared database.
pub const SHARDS: u16 = 16;

/// The shard of a workflow's work: the first byte of the SHA-256 of its id, modulo
/// [`SHARDS`] (PostgreSQL computes the same with
/// `get_byte(sha256(convert_to(workflow_id, 'UTF8')), 0) % 16`).
pub fn shard_of(workflow_id: &str) -> u16 {
    use sha2::Digest;
    let first = sha2::Sha256::digest(workflow_id.as_bytes())[0];
    u16::from(first) % SHARDS
}

/// One account's part of a read of due work.
#[derive(Debug, Clone)]
pub struct DueRequest {
    pub account_id: String,
    /// Look only at entries due at or after this (ms): the caller's cursor past work that
    /// finished.
    pub from_ms: i64,
    /// At most this many due entries (0: only the earliest due time).
    pub max_entries: usize,
}

/// What is due for one account.
#[derive(Debug, Clone, Default)]
pub struct DueAccount {
    pub account_id: String,
    /// The earliest due time of any of its unfinished executions.
    pub earliest_due_ms: Option<i64>,
    /// Ids of executions due now, oldest due first.
    pub due_now: Vec<String>,
}

/// A share of an account's plan window asked of a store shared by several daemons.
#[derive(Debug, Clone)]
pub struct QuotaRequest {
    pub account_id: String,
    /// `minute`, `day` or `ingest`.
    pub kind: &'static str,
    pub window_ms: i64,
    /// Windows start on multiples of `window_ms` (the ingest second) instead of at the
    /// account's first use (the API's minute and day).
    pub aligned: bool,
    /// The window's capacity.
    pub limit: u64,
    /// How many units this daemon would like to hold.
    pub want: u64,
}

/// What a shared window granted, by the database's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaGrant {
    /// Units now this daemon's to spend in this window (0: the window is used up).
    pub granted: u64,
    /// Units granted to all daemons in this window so far.
    pub used: u64,
    pub window_start_ms: i64,
    /// The database's clock when it answered.
    pub now_ms: i64,
}

/// Sizes and state for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreStats {
    pub size_bytes: u64,
    pub write_stalled: bool,
    pub memory: StoreMemory,
    /// Executions accepted and not finished: waiting, delayed or running.
    pub due_backlog: i64,
}

pub trait Store: Send + Sync + 'static {
    // ---- catalog ----
    /// Everything the in-memory catalog mirrors.
    fn load_catalog(&self) -> StoreFuture<'_, CatalogSnapshot>;
    /// Whether this store has been initialised (default account created).
    fn is_initialised(&self) -> StoreFuture<'_, bool>;
    /// Stores the first account and key together with the "initialised" marker, atomically.
    fn initialise<'a>(&'a self, account: &'a Account, key: &'a ApiKey) -> StoreFuture<'a, ()>;
    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()>;
    fn put_api_key<'a>(&'a self, key: &'a ApiKey) -> StoreFuture<'a, ()>;
    fn delete_api_key<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;
    /// Stores a workflow, with `version` (the version it now runs, when that is new) in the
    /// same atomic write.
    fn put_workflow<'a>(
        &'a self,
        workflow: &'a Workflow,
        version: Option<&'a WorkflowVersion>,
    ) -> StoreFuture<'a, ()>;
    /// Replaces a workflow the caller read as `before`. On a shared database this is a
    /// compare-and-set on the stored workflow's `updated_at`: a change made from a stale
    /// cache (another daemon changed it within the last refresh) fails with
    /// `StoreError::Conflict` and writes nothing. The embedded store has one writer and the
    /// API's catalog lock, so it simply writes.
    fn update_workflow<'a>(
        &'a self,
        before: &'a Workflow,
        workflow: &'a Workflow,
        version: Option<&'a WorkflowVersion>,
    ) -> StoreFuture<'a, ()> {
        let _ = before;
        self.put_workflow(workflow, version)
    }
    /// Records a workflow's version unless that number is recorded already (versions are
    /// immutable): how workflows stored before versions get their first.
    fn record_workflow_version<'a>(&'a self, version: &'a WorkflowVersion) -> StoreFuture<'a, ()>;
    /// One version of a workflow.
    fn workflow_version(
        &self,
        workflow_id: String,
        version: u64,
    ) -> StoreFuture<'_, Option<WorkflowVersion>>;
    /// Versions of a workflow from `newest` down, at most `limit`, newest first.
    fn workflow_versions(
        &self,
        workflow_id: String,
        newest: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<WorkflowVersion>>;
    /// Deletes a workflow, its versions and the hooks that trigger it, atomically.
    fn delete_workflow<'a>(&'a self, id: &'a str, hook_ids: &'a [String]) -> StoreFuture<'a, ()>;
    fn put_hook<'a>(&'a self, hook: &'a Hook) -> StoreFuture<'a, ()>;
    fn delete_hook<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;

    // ---- executions ----
    /// Stores a new execution (and, unless it already finished, its due entry); nothing is
    /// stored when `dedupe` finds its key already used. Returns once durable.
    fn accept_execution<'a>(
        &'a self,
        execution: &'a Execution,
        dedupe: Option<Dedupe>,
    ) -> StoreFuture<'a, WriteOutcome>;
    /// Checkpoints an execution's progress under `lease`; `previous` is what was stored of
    /// it before (its indexes move from there).
    fn save_progress<'a>(
        &'a self,
        execution: &'a Execution,
        previous: Persisted,
        lease: &'a Lease,
    ) -> StoreFuture<'a, ()>;
    fn execution(&self, id: String) -> StoreFuture<'_, Option<Execution>>;
    /// Several executions by id, in the same order (None where missing).
    fn executions(&self, ids: Vec<String>) -> StoreFuture<'_, Vec<Option<Execution>>>;
    /// A page of a workflow's executions, newest first, and the exact number matching.
    fn list_executions(
        &self,
        workflow_id: String,
        query: ExecutionQuery,
    ) -> StoreFuture<'_, (Vec<ExecutionSummary>, u64)>;

    /// Ids of a workflow's finished executions matching `scan`, oldest first.
    fn scan_executions(
        &self,
        workflow_id: String,
        scan: ExecutionScan,
    ) -> StoreFuture<'_, Vec<String>>;

    // ---- background jobs (bulk and shadow replays) ----
    /// Stores a job's state with the shadow results of its latest batch, atomically. Never
    /// undoes a cancel request (that is kept beside the job).
    fn put_job<'a>(
        &'a self,
        job: &'a BackgroundJob,
        results: &'a [ShadowResult],
    ) -> StoreFuture<'a, ()>;
    /// Asks a job to stop: its runner sees it before its next batch.
    fn cancel_job(&self, id: String) -> StoreFuture<'_, ()>;
    /// A job, with `cancel_requested` set when a cancel was asked for.
    fn job(&self, id: String) -> StoreFuture<'_, Option<BackgroundJob>>;
    /// Every job still running (to resume them).
    fn unfinished_jobs(&self) -> StoreFuture<'_, Vec<BackgroundJob>>;
    /// A page of a shadow replay's results: changed ones first, then by execution id.
    fn job_results(
        &self,
        job_id: String,
        changed_only: bool,
        offset: usize,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ShadowResult>>;

    // ---- due work ----
    /// The lease this daemon may run `workflow_id`'s work and write its progress under, while
    /// it holds that workflow's shard ([`shard_of`]). The embedded store holds every shard; on
    /// a shared database each shard has one holder at a time.
    fn lease(&self, workflow_id: &str) -> Option<Lease>;
    /// Whether this daemon holds any shard (has any work to look for).
    fn holds_work(&self) -> bool;
    /// Grows each time this daemon takes a shard: the new shard's due work may lie behind
    /// the refill's cursors, so the refill starts over when it moves.
    fn shards_taken(&self) -> u64;
    /// For each account asked about: its earliest due time and what is due at `now_ms`.
    fn due_work(&self, accounts: Vec<DueRequest>, now_ms: i64) -> StoreFuture<'_, Vec<DueAccount>>;
    /// Unfinished executions (waiting, delayed or running).
    fn due_backlog(&self) -> StoreFuture<'_, i64>;

    // ---- idempotent API requests ----
    /// The answer remembered under `key` (an account's hashed Idempotency-Key), if any.
    fn stored_reply(&self, key: String) -> StoreFuture<'_, Option<StoredReply>>;
    /// Remembers an answer under `key`; returns once durable.
    fn put_stored_reply<'a>(&'a self, key: &'a str, reply: &'a StoredReply) -> StoreFuture<'a, ()>;
    /// Claims `key` for a request about to run, unless another daemon runs one with it (a
    /// claim younger than [`REPLY_CLAIM_MS`]) or its answer is stored. On one daemon the
    /// API's in-process set already keeps a key to one request at a time, so this is a read
    /// of the stored answer; on a shared database the claim is a row every daemon sees.
    fn claim_reply(&self, key: String, now_ms: i64) -> StoreFuture<'_, ReplyClaim> {
        let _ = now_ms;
        Box::pin(async move {
            Ok(match self.stored_reply(key).await? {
                Some(stored) => ReplyClaim::Stored(stored),
                None => ReplyClaim::Claimed,
            })
        })
    }
    /// Gives up a claim whose request was not answered with a success (nothing to remember).
    fn release_reply(&self, key: String) -> StoreFuture<'_, ()> {
        let _ = key;
        Box::pin(async { Ok(()) })
    }

    // ---- plan limits shared by several daemons ----
    /// Takes up to `want` units of an account's current plan window, atomically for every
    /// daemon on this store. None: the store is this daemon's alone, and its own counters
    /// are exact.
    fn take_quota(&self, _request: QuotaRequest) -> StoreFuture<'_, Option<QuotaGrant>> {
        Box::pin(async { Ok(None) })
    }

    // ---- retention ----
    /// Deletes finished executions and finished jobs (with their results) created before
    /// `cutoff_ms`, webhook idempotency keys older than `dedupe_cutoff_ms` and API replies
    /// older than `replies_cutoff_ms`; returns the number of executions deleted.
    fn purge(
        &self,
        cutoff_ms: i64,
        dedupe_cutoff_ms: i64,
        replies_cutoff_ms: i64,
    ) -> StoreFuture<'_, usize>;

    // ---- health ----
    /// A tiny durable write within `within`: proof the store still persists.
    fn probe_write(&self, within: Duration) -> StoreFuture<'_, ()>;
    /// Sizes, memory, stalls and the due backlog, for metrics.
    fn stats(&self) -> StoreFuture<'_, StoreStats>;
    /// Makes everything durable and stops background work; the last call before exit.
    fn close(&self) -> StoreFuture<'_, ()>;
}
