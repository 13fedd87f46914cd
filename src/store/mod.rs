//! The store: every byte the daemon keeps, in RocksDB. The only module that imports `rocksdb`.
//!
//! Its interface speaks of our data (accounts, keys, workflows, hooks, executions), never of
//! column families, so another engine can slot in behind it. Writes are async and go through
//! the group-commit writer thread (`writer`); reads are blocking calls that async callers make
//! from `spawn_blocking` (see [`Store::read`]), never on an async thread.

pub mod codec;
pub mod layout;
mod writer;

use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, DB, DBCompressionType, IteratorMode, Options, ReadOptions};
use serde::{Deserialize, Serialize};

use crate::config::Durability;
use crate::model::{
    Account, ApiKey, Execution, ExecutionStatus, ExecutionSummary, Hook, Persisted, Workflow,
};
use layout::Family;
use writer::Writer;
pub use writer::{DedupeCheck, Op, WriteOutcome};

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
    #[error("corrupt value in {family}: {error}")]
    Corrupt { family: &'static str, error: String },
}

/// What is remembered about an idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupeEntry {
    pub execution_id: String,
    pub at_ms: i64,
}

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

/// What the due index holds, for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct DueStats {
    /// Executions accepted and not finished: waiting, delayed or running.
    pub backlog: i64,
    /// The earliest due time of any of them.
    pub earliest_due_ms: Option<i64>,
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

#[derive(Clone)]
pub struct Store {
    db: Arc<DB>,
    writer: Writer,
}

/// Keeps the writer thread's handle so shutdown can wait for the last batch.
pub struct StoreGuard {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StoreGuard {
    /// Waits for the writer thread to write what it has and exit. Every `Store` clone must be
    /// dropped first, or this waits for ever.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Memtable budget for the whole database.
const DB_WRITE_BUFFER_BYTES: usize = 64 << 20;
/// One memtable of one column family. Large enough that an execution's "queued" version is
/// usually overwritten by its final one before a flush, so only one reaches disk.
const CF_WRITE_BUFFER_BYTES: usize = 32 << 20;
/// Data block size of every table file.
const BLOCK_BYTES: usize = 16 << 10;
/// Block cache shared by every column family.
const BLOCK_CACHE_BYTES: usize = 32 << 20;

/// Marker of a data directory that has been initialised (default account created).
const META_INITIALISED: &[u8] = b"initialised";
/// Overwritten by every readiness and watchdog check: proof that writes still land.
const META_PROBE: &[u8] = b"probe";

fn decode_i64(bytes: &[u8]) -> i64 {
    bytes.try_into().map(i64::from_le_bytes).unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the database under `dir`.
    pub fn open(
        dir: &Path,
        durability: Durability,
        max_batch: usize,
        queue_capacity: usize,
    ) -> Result<(Store, StoreGuard), StoreError> {
        Self::open_with_wal_dir(dir, None, durability, max_batch, queue_capacity)
    }

    /// Same as [`Store::open`], with the write-ahead log in `wal_dir` when given.
    pub fn open_with_wal_dir(
        dir: &Path,
        wal_dir: Option<&Path>,
        durability: Durability,
        max_batch: usize,
        queue_capacity: usize,
    ) -> Result<(Store, StoreGuard), StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Db(format!("creating {}: {e}", dir.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.increase_parallelism(2);
        opts.set_max_background_jobs(2);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts.set_bottommost_compression_type(DBCompressionType::Lz4);
        opts.set_keep_log_file_num(5);
        if let Some(wal) = wal_dir {
            std::fs::create_dir_all(wal)
                .map_err(|e| StoreError::Db(format!("creating {}: {e}", wal.display())))?;
            opts.set_wal_dir(wal);
        }
        // Memory is bounded: all memtables together stay under this, whatever the number of
        // column families (each would otherwise take up to 2 × 64 MiB).
        opts.set_db_write_buffer_size(DB_WRITE_BUFFER_BYTES);
        // Background writes (flushes, compactions) are synced as they go, 1 MiB at a time,
        // instead of in bursts that make the WAL's fsync — the one acknowledgements wait
        // for — queue behind them.
        opts.set_bytes_per_sync(1 << 20);
        // Reuse old WAL files instead of creating new ones: once recycled files exist, appends
        // overwrite blocks the file already has (while the log stays within the old file's
        // size), so the fsync every acknowledgement waits for writes only data. On a growing
        // file it must also persist the size change, which on a journaling filesystem (ext4,
        // data=ordered) means a journal commit that first writes out whatever a concurrent
        // memtable flush has dirtied. Recycling works with point-in-time recovery (RocksDB's
        // default, set here explicitly) and turns itself off under the stricter modes.
        opts.set_recycle_log_file_num(4);
        opts.set_wal_recovery_mode(rocksdb::DBRecoveryMode::PointInTime);
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        // Compactions yield CPU and disk to the request path (the WAL fsync and the HTTP
        // workers); flushes keep normal priority, or memtables would fill and stop writes.
        // Under a seccomp filter that refuses setpriority these calls fail harmlessly.
        let mut env = rocksdb::Env::new().map_err(|e| StoreError::Db(e.to_string()))?;
        env.lower_thread_pool_cpu_priority();
        env.lower_thread_pool_io_priority();
        opts.set_env(&env);

        let families = Family::ALL.iter().map(|f| {
            let mut cf = Options::default();
            cf.set_compression_type(DBCompressionType::Lz4);
            // LZ4 at every level: zstd's better ratio cost a tenth of a core in compactions
            // under sustained ingest on 2 cores; executions expire after 30 days anyway.
            cf.set_bottommost_compression_type(DBCompressionType::Lz4);
            cf.set_write_buffer_size(CF_WRITE_BUFFER_BYTES);
            // Room for two full memtables waiting on a slow flush before writes stop: a stop
            // shows up as a 100 ms+ pause in every acknowledgement.
            cf.set_max_write_buffer_number(4);
            let mut table = rocksdb::BlockBasedOptions::default();
            table.set_block_cache(&cache);
            // 16 KiB blocks instead of 4: a quarter of the index entries, so the index blocks
            // of a growing database take a quarter of the cache (memory stays flat longer), and
            // LZ4 compresses larger blocks better. The price: a point lookup that misses the
            // cache reads and decompresses 16 KiB instead of 4, and the cache holds fewer
            // blocks; list pages, which read neighbouring keys, gain.
            table.set_block_size(BLOCK_BYTES);
            // Index and filter blocks count against the block cache, so memory stays flat as
            // the database grows instead of growing with the number of SST files.
            table.set_cache_index_and_filter_blocks(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            cf.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(f.name(), cf)
        });
        let db = DB::open_cf_descriptors(&opts, dir, families).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("LOCK") || msg.contains("lock") {
                StoreError::Locked(dir.display().to_string())
            } else {
                StoreError::Db(msg)
            }
        })?;
        let db = Arc::new(db);
        let (writer, thread) = Writer::spawn(
            db.clone(),
            durability == Durability::Fsync,
            max_batch,
            queue_capacity,
        );
        let store = Store { db, writer };
        let guard = StoreGuard {
            thread: Some(thread),
        };
        let moved = store.fold_legacy_pending()?;
        if moved > 0 {
            tracing::info!(
                executions = moved,
                "moved unfinished executions into the due index"
            );
        }
        Ok((store, guard))
    }

    /// Runs a blocking read on tokio's blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Db(format!("read task failed: {e}")))?
    }

    fn cf(&self, family: Family) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(family.name())
            .expect("every column family is created when the store opens")
    }

    fn get<T: for<'de> Deserialize<'de>>(
        &self,
        family: Family,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.db.get_pinned_cf(self.cf(family), key) {
            Ok(Some(bytes)) => {
                codec::decode(&bytes)
                    .map(Some)
                    .map_err(|error| StoreError::Corrupt {
                        family: family.name(),
                        error,
                    })
            }
            Ok(None) => Ok(None),
            Err(e) => Err(StoreError::Db(e.to_string())),
        }
    }

    fn all<T: for<'de> Deserialize<'de>>(&self, family: Family) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(family), IteratorMode::Start) {
            let (_, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            out.push(codec::decode(&v).map_err(|error| StoreError::Corrupt {
                family: family.name(),
                error,
            })?);
        }
        Ok(out)
    }

    // ---- catalog: accounts, keys, workflows, hooks ----

    /// Everything the in-memory catalog mirrors (blocking).
    pub fn load_catalog(&self) -> Result<CatalogSnapshot, StoreError> {
        Ok(CatalogSnapshot {
            accounts: self.all(Family::Accounts)?,
            api_keys: self.all(Family::ApiKeys)?,
            workflows: self.all(Family::Workflows)?,
            hooks: self.all(Family::Hooks)?,
        })
    }

    /// Whether this data directory has been initialised before (blocking).
    pub fn is_initialised(&self) -> Result<bool, StoreError> {
        self.db
            .get_cf(self.cf(Family::Meta), META_INITIALISED)
            .map(|v| v.is_some())
            .map_err(|e| StoreError::Db(e.to_string()))
    }

    /// Stores the first account and key together with the "initialised" marker, atomically.
    pub async fn initialise(&self, account: &Account, key: &ApiKey) -> Result<(), StoreError> {
        let ops = vec![
            put(Family::Accounts, &account.id, account),
            put(Family::ApiKeys, &key.id, key),
            Op::Put(Family::Meta, META_INITIALISED.to_vec(), b"1".to_vec()),
        ];
        self.writer.submit(ops, None).await.map(|_| ())
    }

    pub async fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.write(vec![put(Family::Accounts, &account.id, account)])
            .await
    }

    pub async fn put_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.write(vec![put(Family::ApiKeys, &key.id, key)]).await
    }

    pub async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Delete(Family::ApiKeys, id.as_bytes().to_vec())])
            .await
    }

    pub async fn put_workflow(&self, workflow: &Workflow) -> Result<(), StoreError> {
        self.write(vec![put(Family::Workflows, &workflow.id, workflow)])
            .await
    }

    /// Deletes a workflow and the hooks that trigger it, atomically.
    pub async fn delete_workflow(&self, id: &str, hook_ids: &[String]) -> Result<(), StoreError> {
        let mut ops = vec![Op::Delete(Family::Workflows, id.as_bytes().to_vec())];
        ops.extend(
            hook_ids
                .iter()
                .map(|h| Op::Delete(Family::Hooks, h.as_bytes().to_vec())),
        );
        self.write(ops).await
    }

    pub async fn put_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.write(vec![put(Family::Hooks, &hook.id, hook)]).await
    }

    pub async fn delete_hook(&self, id: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Delete(Family::Hooks, id.as_bytes().to_vec())])
            .await
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.writer.submit(ops, None).await.map(|_| ())
    }

    // ---- executions ----

    /// Stores a newly accepted execution and, unless it already finished, its entry in the due
    /// index; nothing is stored when `dedupe` finds its idempotency key already used. Returns
    /// once durable.
    pub async fn accept_execution(
        &self,
        execution: &Execution,
        dedupe: Option<(&str, &str, DedupeEntry, i64)>,
    ) -> Result<WriteOutcome, StoreError> {
        let mut ops = Vec::with_capacity(8);
        ops.push(put(Family::Executions, &execution.id, execution));
        index_ops(&mut ops, execution, None);
        due_ops(&mut ops, execution, None);
        let dedupe = dedupe.map(|(hook, key, entry, not_before_ms)| DedupeCheck {
            key: layout::dedupe(hook, key),
            entry,
            not_before_ms,
        });
        self.writer.submit(ops, dedupe).await
    }

    /// Records an execution's progress. `previous` is what the indexes hold of it now, so the
    /// status index, the counters and the due index move with it: a delay or a retry wait
    /// moves its due entry to when it ends; a terminal status removes it.
    pub async fn save_execution(
        &self,
        execution: &Execution,
        previous: Persisted,
    ) -> Result<(), StoreError> {
        let mut ops = Vec::with_capacity(10);
        ops.push(put(Family::Executions, &execution.id, execution));
        index_ops(&mut ops, execution, Some(previous.status));
        due_ops(&mut ops, execution, Some(previous.due_at_ms));
        self.write(ops).await
    }

    /// One execution (blocking).
    pub fn execution(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        self.get(Family::Executions, id.as_bytes())
    }

    // ---- due work ----

    /// Ids of `account_id`'s executions due at or before `now_ms`, oldest due first, looking
    /// at no more than `max_entries` entries (blocking).
    pub fn due_now(
        &self,
        account_id: &str,
        now_ms: i64,
        max_entries: usize,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = layout::due_prefix(account_id);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(prefix.clone());
        ro.set_iterate_upper_bound(layout::due(account_id, now_ms.saturating_add(1), ""));
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf_opt(self.cf(Family::Due), ro, IteratorMode::Start)
            .take(max_entries)
        {
            let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if let Some((_, id)) = layout::parse_due(prefix.len(), &k) {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    /// When `account_id`'s earliest due execution is due, if it has any (blocking).
    pub fn earliest_due(&self, account_id: &str) -> Result<Option<i64>, StoreError> {
        let prefix = layout::due_prefix(account_id);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(prefix.clone());
        ro.set_iterate_upper_bound(layout::due_prefix_end(account_id));
        let mut raw = self.db.raw_iterator_cf_opt(self.cf(Family::Due), ro);
        raw.seek_to_first();
        let first = raw
            .key()
            .and_then(|k| layout::parse_due(prefix.len(), k))
            .map(|(at, _)| at);
        raw.status().map_err(|e| StoreError::Db(e.to_string()))?;
        Ok(first)
    }

    /// Executions accepted and not finished, waiting or running (blocking).
    pub fn due_backlog(&self) -> Result<i64, StoreError> {
        self.db
            .get_cf(self.cf(Family::Counters), layout::DUE_COUNTER)
            .map(|v| v.map_or(0, |b| decode_i64(&b)))
            .map_err(|e| StoreError::Db(e.to_string()))
    }

    /// The due backlog and the earliest due time over these accounts (blocking): one seek
    /// per account.
    pub fn due_stats(&self, accounts: &[String]) -> Result<DueStats, StoreError> {
        let mut earliest: Option<i64> = None;
        for account in accounts {
            if let Some(at) = self.earliest_due(account)? {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        Ok(DueStats {
            backlog: self.due_backlog()?,
            earliest_due_ms: earliest,
        })
    }

    /// Moves what a data directory written by an older version keeps in its pending set into
    /// the due index (blocking; once, at open). Returns how many entries moved.
    fn fold_legacy_pending(&self) -> Result<usize, StoreError> {
        let mut ops = Vec::new();
        let mut moved = 0;
        for item in self
            .db
            .iterator_cf(self.cf(Family::Pending), IteratorMode::Start)
        {
            let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if let Some(exec) = self.get::<Execution>(Family::Executions, &k)? {
                due_ops(&mut ops, &exec, None);
                moved += 1;
            }
            ops.push(Op::Delete(Family::Pending, k.to_vec()));
            if ops.len() >= 4096 {
                self.writer.submit_blocking(std::mem::take(&mut ops))?;
            }
        }
        if !ops.is_empty() {
            self.writer.submit_blocking(ops)?;
        }
        Ok(moved)
    }

    /// A page of a workflow's executions, newest first, and the exact number matching the
    /// filters (blocking). Without a time window the total comes from counters kept with
    /// every write; with one, from a key-only scan of that window.
    pub fn list_executions(
        &self,
        workflow_id: &str,
        q: &ExecutionQuery,
    ) -> Result<(Vec<ExecutionSummary>, u64), StoreError> {
        let (family, prefix) = match q.status {
            None => (
                Family::ExecByWorkflow,
                layout::exec_list_prefix(workflow_id, None),
            ),
            Some(s) => (
                Family::ExecByStatus,
                layout::exec_list_prefix(workflow_id, Some(s)),
            ),
        };
        let mut lower = prefix.clone();
        lower.extend_from_slice(
            q.from_ms
                .map_or_else(
                    || "exec_".to_string(),
                    |ms| layout::exec_id_floor(ms * 1000),
                )
                .as_bytes(),
        );
        let mut upper = prefix.clone();
        upper.extend_from_slice(
            q.to_ms
                .map_or_else(
                    || "exec_~".to_string(),
                    |ms| layout::exec_id_ceiling(ms * 1000 + 999),
                )
                .as_bytes(),
        );
        let bounded = |keys_only: bool| {
            let mut ro = ReadOptions::default();
            ro.set_iterate_lower_bound(lower.clone());
            ro.set_iterate_upper_bound(upper.clone());
            if keys_only {
                ro.fill_cache(false);
            }
            ro
        };

        let mut page = Vec::with_capacity(q.limit);
        let iter = self
            .db
            .iterator_cf_opt(self.cf(family), bounded(false), IteratorMode::End);
        if family == Family::ExecByWorkflow {
            for item in iter.skip(q.offset).take(q.limit) {
                let (_, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
                page.push(decode_summary(&v)?);
            }
        } else {
            // The status index holds keys only; summaries live once, in `exec_by_workflow`.
            let mut wanted = Vec::with_capacity(q.limit);
            for item in iter.skip(q.offset).take(q.limit) {
                let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
                let id = k.rsplit(|b| *b == layout::SEP).next().unwrap_or_default();
                wanted.push(layout::exec_by_workflow(
                    workflow_id,
                    std::str::from_utf8(id).unwrap_or_default(),
                ));
            }
            let cf = self.cf(Family::ExecByWorkflow);
            for found in self.db.multi_get_cf(wanted.iter().map(|k| (cf, k))) {
                if let Some(v) = found.map_err(|e| StoreError::Db(e.to_string()))? {
                    page.push(decode_summary(&v)?);
                }
            }
        }

        let total = if q.from_ms.is_none() && q.to_ms.is_none() {
            self.counter(workflow_id, q.status)?.max(0) as u64
        } else {
            let mut raw = self.db.raw_iterator_cf_opt(self.cf(family), bounded(true));
            raw.seek_to_first();
            let mut n = 0u64;
            while raw.valid() {
                n += 1;
                raw.next();
            }
            raw.status().map_err(|e| StoreError::Db(e.to_string()))?;
            n
        };
        Ok((page, total))
    }

    /// Executions of a workflow with the given status (or all), from the counters (blocking).
    pub fn counter(
        &self,
        workflow_id: &str,
        status: Option<ExecutionStatus>,
    ) -> Result<i64, StoreError> {
        self.db
            .get_cf(
                self.cf(Family::Counters),
                layout::counter(workflow_id, status),
            )
            .map(|v| v.map_or(0, |b| decode_i64(&b)))
            .map_err(|e| StoreError::Db(e.to_string()))
    }

    /// Deletes finished executions created before `cutoff_ms` and idempotency keys older
    /// than `dedupe_cutoff_ms`, then compacts the freed ranges (blocking). Returns the number
    /// of executions deleted.
    pub fn purge(&self, cutoff_ms: i64, dedupe_cutoff_ms: i64) -> Result<usize, StoreError> {
        const CHUNK: usize = 1000;
        let upper = layout::exec_id_floor(cutoff_ms * 1000);
        let mut deleted = 0;
        let mut ops = Vec::new();
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(upper.as_bytes().to_vec());
        ro.fill_cache(false);
        for item in self
            .db
            .iterator_cf_opt(self.cf(Family::Executions), ro, IteratorMode::Start)
        {
            let (k, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            let Ok(exec) = codec::decode::<Execution>(&v) else {
                continue;
            };
            if !exec.status.is_terminal() {
                continue;
            }
            ops.push(Op::Delete(Family::Executions, k.to_vec()));
            ops.push(Op::Delete(
                Family::ExecByWorkflow,
                layout::exec_by_workflow(&exec.workflow_id, &exec.id),
            ));
            ops.push(Op::Delete(
                Family::ExecByStatus,
                layout::exec_by_status(&exec.workflow_id, exec.status, &exec.id),
            ));
            ops.push(Op::Add(
                Family::Counters,
                layout::counter(&exec.workflow_id, None),
                -1,
            ));
            ops.push(Op::Add(
                Family::Counters,
                layout::counter(&exec.workflow_id, Some(exec.status)),
                -1,
            ));
            deleted += 1;
            if ops.len() >= CHUNK * 5 {
                self.writer.submit_blocking(std::mem::take(&mut ops))?;
            }
        }
        for item in self
            .db
            .iterator_cf(self.cf(Family::Dedupe), IteratorMode::Start)
        {
            let (k, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            let old = codec::decode::<DedupeEntry>(&v).map_or(true, |e| e.at_ms < dedupe_cutoff_ms);
            if old {
                ops.push(Op::Delete(Family::Dedupe, k.to_vec()));
            }
            if ops.len() >= CHUNK * 5 {
                self.writer.submit_blocking(std::mem::take(&mut ops))?;
            }
        }
        if !ops.is_empty() {
            self.writer.submit_blocking(ops)?;
        }
        if deleted > 0 {
            for f in [
                Family::Executions,
                Family::ExecByWorkflow,
                Family::ExecByStatus,
            ] {
                self.db
                    .compact_range_cf(self.cf(f), None::<&[u8]>, None::<&[u8]>);
            }
        }
        Ok(deleted)
    }

    // ---- health and metrics ----

    /// Proves the store still persists: a tiny write (`meta/probe`) through the writer,
    /// acknowledged once durable like any other, within `within`. A full write queue is
    /// waited out (it drains while the disk works); a write error or a disk that does not
    /// answer in time fails the probe.
    pub async fn probe_write(&self, within: std::time::Duration) -> Result<(), StoreError> {
        let attempt = async {
            loop {
                let stamp = crate::timefmt::now_ms().to_le_bytes().to_vec();
                let ops = vec![Op::Put(Family::Meta, META_PROBE.to_vec(), stamp)];
                match self.writer.submit(ops, None).await {
                    Err(StoreError::Busy) => {
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    other => return other.map(|_| ()),
                }
            }
        };
        tokio::time::timeout(within, attempt)
            .await
            .map_err(|_| StoreError::Db("a probe write was not acknowledged in time".into()))?
    }

    /// Bytes on disk plus memtables, over all families.
    pub fn size_bytes(&self) -> u64 {
        Family::ALL
            .iter()
            .map(|f| {
                [
                    "rocksdb.total-sst-files-size",
                    "rocksdb.cur-size-all-mem-tables",
                ]
                .iter()
                .filter_map(|p| {
                    self.db
                        .property_int_value_cf(self.cf(*f), *p)
                        .ok()
                        .flatten()
                })
                .sum::<u64>()
            })
            .sum()
    }

    /// Memory RocksDB holds, by kind.
    pub fn memory(&self) -> StoreMemory {
        let sum = |property: &str| -> u64 {
            Family::ALL
                .iter()
                .filter_map(|f| {
                    self.db
                        .property_int_value_cf(self.cf(*f), property)
                        .ok()
                        .flatten()
                })
                .sum()
        };
        // One cache shared by every family (but not the default one RocksDB adds).
        let block_cache = self
            .db
            .property_int_value_cf(self.cf(Family::Executions), "rocksdb.block-cache-usage")
            .ok()
            .flatten()
            .unwrap_or(0);
        StoreMemory {
            memtables: sum("rocksdb.cur-size-all-mem-tables"),
            block_cache,
            table_readers: sum("rocksdb.estimate-table-readers-mem"),
        }
    }

    /// Whether RocksDB is currently delaying or stopping writes.
    pub fn write_stalled(&self) -> bool {
        let delayed = self
            .db
            .property_int_value("rocksdb.actual-delayed-write-rate")
            .ok()
            .flatten()
            .unwrap_or(0);
        let stopped = self
            .db
            .property_int_value("rocksdb.is-write-stopped")
            .ok()
            .flatten()
            .unwrap_or(0);
        delayed > 0 || stopped > 0
    }

    /// Raw ops, for tools that seed large datasets (load tests).
    pub fn writer_submit_blocking(&self, ops: Vec<Op>) -> Result<WriteOutcome, StoreError> {
        self.writer.submit_blocking(ops)
    }

    /// The ops that `accept_execution` followed by `save_execution` of a finished execution
    /// would write, in one list; for seeding tools.
    pub fn finished_execution_ops(execution: &Execution) -> Vec<Op> {
        let mut ops = vec![put(Family::Executions, &execution.id, execution)];
        index_ops(&mut ops, execution, None);
        ops
    }
}

fn decode_summary(bytes: &[u8]) -> Result<ExecutionSummary, StoreError> {
    codec::decode(bytes).map_err(|error| StoreError::Corrupt {
        family: Family::ExecByWorkflow.name(),
        error,
    })
}

fn put<T: Serialize>(family: Family, id: &str, value: &T) -> Op {
    Op::Put(family, id.as_bytes().to_vec(), codec::encode(value))
}

/// Due-index ops for an execution whose due time was `previous` (None: new), and the count of
/// unfinished executions kept with them.
fn due_ops(ops: &mut Vec<Op>, execution: &Execution, previous: Option<Option<i64>>) {
    let now = execution.due_at_ms();
    let before = previous.flatten();
    if previous.is_some() && before == now {
        return;
    }
    if let Some(at) = before {
        ops.push(Op::Delete(
            Family::Due,
            layout::due(&execution.account_id, at, &execution.id),
        ));
    }
    if let Some(at) = now {
        ops.push(Op::Put(
            Family::Due,
            layout::due(&execution.account_id, at, &execution.id),
            Vec::new(),
        ));
    }
    let change = i64::from(now.is_some()) - i64::from(before.is_some());
    if change != 0 {
        ops.push(Op::Add(
            Family::Counters,
            layout::DUE_COUNTER.to_vec(),
            change,
        ));
    }
}

/// Index and counter ops for an execution whose status was `previous` (None: new).
fn index_ops(ops: &mut Vec<Op>, execution: &Execution, previous: Option<ExecutionStatus>) {
    let summary = codec::encode(&execution.summary());
    let wf = &execution.workflow_id;
    ops.push(Op::Put(
        Family::ExecByWorkflow,
        layout::exec_by_workflow(wf, &execution.id),
        summary,
    ));
    if previous != Some(execution.status) {
        ops.push(Op::Put(
            Family::ExecByStatus,
            layout::exec_by_status(wf, execution.status, &execution.id),
            Vec::new(),
        ));
    }
    match previous {
        None => {
            ops.push(Op::Add(Family::Counters, layout::counter(wf, None), 1));
            ops.push(Op::Add(
                Family::Counters,
                layout::counter(wf, Some(execution.status)),
                1,
            ));
        }
        Some(prev) if prev != execution.status => {
            ops.push(Op::Delete(
                Family::ExecByStatus,
                layout::exec_by_status(wf, prev, &execution.id),
            ));
            ops.push(Op::Add(
                Family::Counters,
                layout::counter(wf, Some(prev)),
                -1,
            ));
            ops.push(Op::Add(
                Family::Counters,
                layout::counter(wf, Some(execution.status)),
                1,
            ));
        }
        Some(_) => {}
    }
}

impl Store {
    /// Shutdown, blocking: fsyncs the WAL, flushes memtables (a faster next start) and stops
    /// RocksDB's background work, so the process can exit without tearing down threads that
    /// are still running.
    pub fn close(&self) -> Result<(), StoreError> {
        self.db
            .flush_wal(true)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        if let Err(e) = self.db.flush() {
            tracing::warn!(error = %e, "flushing memtables at shutdown failed; the WAL has the data");
        }
        self.db.cancel_all_background_work(true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExecutionTrigger, StepRecord};
    use serde_json::json;

    fn finished(workflow: &str, at_us: i64, status: ExecutionStatus) -> Execution {
        Execution {
            id: crate::ids::execution_id(at_us),
            account_id: "acct_1".into(),
            workflow_id: workflow.into(),
            status,
            trigger: ExecutionTrigger {
                hook_id: None,
                event: "e".into(),
                received_at: at_us / 1000,
            },
            input: json!({"n": at_us}),
            steps: Vec::<StepRecord>::new(),
            started_at: Some(at_us / 1000),
            completed_at: Some(at_us / 1000),
            duration_ms: Some(0),
            error: None,
            resume_at: None,
            replay_of: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counters_stay_exact_when_many_events_share_a_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = Store::open(dir.path(), Durability::Wal, 64, 1024).unwrap();
        let base_us = crate::timefmt::now_us();
        // Finished ones (the inline path) and queued ones, submitted concurrently so most
        // batches hold several events moving the same counters.
        let writes = (0..300i64).map(|i| {
            let store = store.clone();
            let status = if i % 3 == 0 {
                ExecutionStatus::Queued
            } else {
                ExecutionStatus::Success
            };
            let execution = finished("wf_c", base_us + i, status);
            tokio::spawn(async move { store.accept_execution(&execution, None).await })
        });
        for w in writes.collect::<Vec<_>>() {
            assert_eq!(w.await.unwrap().unwrap(), WriteOutcome::Written);
        }
        let check = |store: &Store| {
            assert_eq!(store.counter("wf_c", None).unwrap(), 300);
            let success = store.counter("wf_c", Some(ExecutionStatus::Success));
            assert_eq!(success.unwrap(), 200);
            let queued = store.counter("wf_c", Some(ExecutionStatus::Queued));
            assert_eq!(queued.unwrap(), 100);
            assert_eq!(store.due_backlog().unwrap(), 100);
        };
        check(&store);
        store.close().unwrap();
        drop(store);
        guard.join();
        // Reopened: the writer reloads the counters from disk.
        let (store, guard) = Store::open(dir.path(), Durability::Wal, 64, 1024).unwrap();
        check(&store);
        let one = finished("wf_c", base_us + 1_000, ExecutionStatus::Failed);
        store.accept_execution(&one, None).await.unwrap();
        assert_eq!(store.counter("wf_c", None).unwrap(), 301);
        store.close().unwrap();
        drop(store);
        guard.join();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_due_index_follows_an_execution_from_acceptance_through_a_delay_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = Store::open(dir.path(), Durability::Wal, 64, 64).unwrap();
        let now = crate::timefmt::now_ms();
        let mut exec = finished("wf_d", now * 1000, ExecutionStatus::Queued);
        store.accept_execution(&exec, None).await.unwrap();
        assert_eq!(
            store.due_now("acct_1", now, 10).unwrap(),
            vec![exec.id.clone()]
        );
        assert!(store.due_now("acct_2", now, 10).unwrap().is_empty());

        // A delay: due in a minute, so not due now.
        let before = exec.persisted();
        exec.status = ExecutionStatus::Running;
        exec.resume_at = Some(now + 60_000);
        store.save_execution(&exec, before).await.unwrap();
        assert!(store.due_now("acct_1", now, 10).unwrap().is_empty());
        assert_eq!(store.earliest_due("acct_1").unwrap(), Some(now + 60_000));
        assert_eq!(
            store.due_now("acct_1", now + 60_000, 10).unwrap(),
            vec![exec.id.clone()]
        );
        assert_eq!(store.due_backlog().unwrap(), 1);

        // Finished: out of the index.
        let before = exec.persisted();
        exec.resume_at = None;
        exec.status = ExecutionStatus::Success;
        store.save_execution(&exec, before).await.unwrap();
        assert_eq!(store.earliest_due("acct_1").unwrap(), None);
        assert_eq!(store.due_backlog().unwrap(), 0);
        store.close().unwrap();
        drop(store);
        guard.join();
    }

    #[test]
    fn retention_deletes_old_finished_executions_and_keeps_counts_exact() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _guard) = Store::open(dir.path(), Durability::Wal, 64, 64).unwrap();
        let day_us = 86_400_000_000i64;
        let now_us = crate::timefmt::now_us();
        let mut ops = Vec::new();
        for i in 0..10 {
            // Five 40 days old, five from the last hour.
            let at = if i < 5 {
                now_us - 40 * day_us + i
            } else {
                now_us - 3_600_000_000 + i
            };
            let status = if i % 2 == 0 {
                ExecutionStatus::Success
            } else {
                ExecutionStatus::Failed
            };
            ops.extend(Store::finished_execution_ops(&finished("wf_1", at, status)));
        }
        store.writer_submit_blocking(ops).unwrap();
        assert_eq!(store.counter("wf_1", None).unwrap(), 10);

        let cutoff_ms = (now_us - 30 * day_us) / 1000;
        assert_eq!(store.purge(cutoff_ms, 0).unwrap(), 5);

        let (page, total) = store
            .list_executions(
                "wf_1",
                &ExecutionQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(total, 5);
        assert_eq!(page.len(), 5);
        assert!(
            page.iter()
                .all(|e| crate::ids::micros_of(&e.id).unwrap() > now_us - day_us)
        );
        let failed = store
            .counter("wf_1", Some(ExecutionStatus::Failed))
            .unwrap();
        let success = store
            .counter("wf_1", Some(ExecutionStatus::Success))
            .unwrap();
        assert_eq!(failed + success, 5);
    }

    #[test]
    fn listing_pages_newest_first_and_filters_by_status_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _guard) = Store::open(dir.path(), Durability::Wal, 64, 64).unwrap();
        let mut ops = Vec::new();
        let mut ids = Vec::new();
        for i in 0..30i64 {
            let status = if i % 3 == 0 {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Success
            };
            let e = finished("wf_a", 1_700_000_000_000_000 + i * 1_000_000, status);
            ids.push(e.id.clone());
            ops.extend(Store::finished_execution_ops(&e));
            // Another workflow's executions never show up.
            ops.extend(Store::finished_execution_ops(&finished(
                "wf_b",
                1_700_000_000_000_000 + i,
                status,
            )));
        }
        store.writer_submit_blocking(ops).unwrap();
        let q = |status, from_ms, to_ms, offset| ExecutionQuery {
            status,
            from_ms,
            to_ms,
            offset,
            limit: 10,
        };
        let (page, total) = store
            .list_executions("wf_a", &q(None, None, None, 0))
            .unwrap();
        assert_eq!(total, 30);
        assert_eq!(page[0].id, ids[29]);
        let (page, _) = store
            .list_executions("wf_a", &q(None, None, None, 25))
            .unwrap();
        assert_eq!(page.len(), 5);
        assert_eq!(page[4].id, ids[0]);
        let (page, total) = store
            .list_executions("wf_a", &q(Some(ExecutionStatus::Failed), None, None, 0))
            .unwrap();
        assert_eq!(total, 10);
        assert!(page.iter().all(|e| e.status == ExecutionStatus::Failed));
        // Seconds 10..=19 of the series.
        let (page, total) = store
            .list_executions(
                "wf_a",
                &q(None, Some(1_700_000_010_000), Some(1_700_000_019_000), 0),
            )
            .unwrap();
        assert_eq!(total, 10);
        assert_eq!(page[0].id, ids[19]);
    }
}

#[cfg(test)]
mod wal_dir_tests {
    use super::*;

    #[test]
    fn the_wal_can_live_in_its_own_directory() {
        let data = tempfile::tempdir().unwrap();
        let wal = tempfile::tempdir().unwrap();
        let (store, guard) =
            Store::open_with_wal_dir(data.path(), Some(wal.path()), Durability::Fsync, 8, 8)
                .unwrap();
        store
            .writer_submit_blocking(vec![Op::Put(Family::Meta, b"k".to_vec(), b"v".to_vec())])
            .unwrap();
        let logs = std::fs::read_dir(wal.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".log")
            })
            .count();
        assert!(logs > 0, "the WAL is written to the configured directory");
        store.close().unwrap();
        drop(store);
        guard.join();
    }
}
