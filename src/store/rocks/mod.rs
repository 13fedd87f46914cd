//! RocksDB, the store's one implementation and the default: every byte the daemon keeps,
//! under `[storage] data_dir`. The only module that imports `rocksdb`.
//!
//! Split along what it stores: `catalog` (accounts, keys, workflows, hooks), `executions`
//! (records, list indexes, counters), `due` (the due index), `retention`, `health`; `layout`
//! documents every key, `writer` is the group-commit writer thread. Writes are async and go
//! through the writer; reads are blocking calls made from `spawn_blocking` (see
//! [`RocksStore::read`]), never on an async thread.

mod catalog;
mod disk_space;
mod due;
mod executions;
mod health;
mod jobs;
pub mod layout;
mod retention;
mod trait_impl;
mod writer;

use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, DB, DBCompressionType, IteratorMode, Options};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::codec;
use crate::config::Durability;
pub use crate::store::WriteOutcome;
use layout::Family;
use writer::Writer;
pub use writer::{DedupeCheck, Op};

#[derive(Clone)]
pub struct RocksStore {
    db: Arc<DB>,
    writer: Writer,
    /// This opening's lease: the data directory's lock makes this process the only owner;
    /// the epoch grows with every opening (see [`crate::store::Lease`]).
    owner: String,
    epoch: u64,
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
/// The lease epoch of the latest opening.
const META_EPOCH: &[u8] = b"epoch";

/// A stored counter (8 bytes, little-endian). Anything else is corruption, reported as such:
/// reading it as 0 would show wrong totals and hide the damage.
fn decode_i64(family: &'static str, bytes: &[u8]) -> Result<i64, StoreError> {
    bytes
        .try_into()
        .map(i64::from_le_bytes)
        .map_err(|_| StoreError::Corrupt {
            family,
            error: format!("a counter of {} bytes, not 8", bytes.len()),
        })
}

/// What a failure to open means. RocksDB reports a data directory locked by another process
/// as "While lock file: …/LOCK: Resource temporarily unavailable"; any other message (say, a
/// "block checksum mismatch") is not a lock, however it is worded.
fn open_error(dir: &Path, message: &str) -> StoreError {
    if message.contains("While lock file") || message.contains("/LOCK:") {
        StoreError::Locked(dir.display().to_string())
    } else if disk_space::is_no_space(message) {
        StoreError::DiskFull {
            free_bytes: 0,
            min_free_bytes: 0,
        }
    } else {
        StoreError::Db(message.to_string())
    }
}

impl RocksStore {
    /// Opens (creating if needed) the database under `dir`.
    pub fn open(
        dir: &Path,
        durability: Durability,
        max_batch: usize,
        queue_capacity: usize,
    ) -> Result<(RocksStore, StoreGuard), StoreError> {
        Self::open_with_wal_dir(dir, None, durability, max_batch, queue_capacity)
    }

    /// Same as [`Store::open`], with the write-ahead log in `wal_dir` when given.
    pub fn open_with_wal_dir(
        dir: &Path,
        wal_dir: Option<&Path>,
        durability: Durability,
        max_batch: usize,
        queue_capacity: usize,
    ) -> Result<(RocksStore, StoreGuard), StoreError> {
        Self::open_with_floor(dir, wal_dir, durability, max_batch, queue_capacity, 0)
    }

    /// Same as [`RocksStore::open_with_wal_dir`], refusing writes (`DiskFull`) while either
    /// directory's filesystem has less than `min_free_bytes` free (`disk_space`; 0 = never).
    pub fn open_with_floor(
        dir: &Path,
        wal_dir: Option<&Path>,
        durability: Durability,
        max_batch: usize,
        queue_capacity: usize,
        min_free_bytes: u64,
    ) -> Result<(RocksStore, StoreGuard), StoreError> {
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
        // Every column family's memtable is flushed together, so the WAL switches once per
        // flush instead of once per family's flush: the logs are all about as large as the
        // memtables (≈ 48 MiB instead of anything from 0 to 49), and a recycled log is big
        // enough for the next one — its appends overwrite written blocks for good, where a
        // small recycled log soon grew again and every fsync had to persist its new size and
        // extents too (`python3 load-tests/fsync_cost.py` on ext4 here: 76 µs of CPU and
        // 0.15 ms per 12 KiB write + fdatasync when overwriting, 123 µs and 0.28 ms when
        // appending).
        opts.set_atomic_flush(true);
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
        let db = DB::open_cf_descriptors(&opts, dir, families)
            .map_err(|e| open_error(dir, e.as_ref()))?;
        let db = Arc::new(db);
        let watched = std::iter::once(dir)
            .chain(wal_dir)
            .map(Path::to_path_buf)
            .collect();
        let (writer, thread) = Writer::spawn(
            db.clone(),
            durability == Durability::Fsync,
            max_batch,
            queue_capacity,
            disk_space::DiskSpace::new(watched, min_free_bytes),
        );
        let mut store = RocksStore {
            db,
            writer,
            owner: format!("{}:{}", crate::store::host_name(), std::process::id()),
            epoch: 0,
        };
        let guard = StoreGuard {
            thread: Some(thread),
        };
        store.epoch = store.take_next_epoch()?;
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
        F: FnOnce(&RocksStore) -> Result<T, StoreError> + Send + 'static,
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

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.writer.submit(ops, None).await.map(|_| ())
    }

    /// Reads, increments and durably stores the lease epoch (blocking; once, at open).
    fn take_next_epoch(&self) -> Result<u64, StoreError> {
        let current = self
            .db
            .get_cf(self.cf(Family::Meta), META_EPOCH)
            .map_err(|e| StoreError::Db(e.to_string()))?
            .map_or(Ok(0), |b| decode_i64("meta", &b))? as u64;
        let next = current + 1;
        // Written directly, synced: nothing else writes before the store is handed out, and
        // a blocking round trip through the writer is not allowed on an async thread.
        let mut sync = rocksdb::WriteOptions::default();
        sync.set_sync(true);
        self.db
            .put_cf_opt(
                self.cf(Family::Meta),
                META_EPOCH,
                (next as i64).to_le_bytes(),
                &sync,
            )
            .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok(next)
    }
}

fn put<T: Serialize>(family: Family, id: &str, value: &T) -> Op {
    Op::Put(family, id.as_bytes().to_vec(), codec::encode(value))
}

impl RocksStore {
    /// Shutdown, blocking: fsyncs the WAL, flushes memtables (a faster next start) and stops
    /// RocksDB's background work, so the process can exit without tearing down threads that
    /// are still running.
    pub fn close(&self) -> Result<(), StoreError> {
        self.db
            .flush_wal(true)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        // Every family: `DB::flush` alone flushes only the default one, which the store
        // does not use.
        let families: Vec<&rocksdb::ColumnFamily> =
            Family::ALL.iter().map(|&family| self.cf(family)).collect();
        if let Err(e) = self
            .db
            .flush_cfs_opt(&families, &rocksdb::FlushOptions::default())
        {
            tracing::warn!(error = %e, "flushing memtables at shutdown failed; the WAL has the data");
        }
        self.db.cancel_all_background_work(true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Execution, ExecutionStatus, ExecutionTrigger, StepRecord};
    use crate::store::ExecutionQuery;
    use serde_json::json;

    fn finished(workflow: &str, at_us: i64, status: ExecutionStatus) -> Execution {
        Execution {
            id: crate::ids::execution_id(at_us),
            account_id: "acct_1".into(),
            workflow_id: workflow.into(),
            workflow_version: Some(1),
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

    #[test]
    fn only_rocksdbs_lock_message_means_another_process_holds_the_directory() {
        let dir = Path::new("/d");
        let locked = "IO error: While lock file: /d/LOCK: Resource temporarily unavailable";
        assert!(matches!(open_error(dir, locked), StoreError::Locked(_)));
        for other in [
            "Corruption: block checksum mismatch: stored = 1, computed = 2",
            "IO error: No such file or directory: While opening a file for sequentially reading: /d/CURRENT",
        ] {
            assert!(
                matches!(open_error(dir, other), StoreError::Db(_)),
                "{other}"
            );
        }
        assert!(matches!(
            open_error(
                dir,
                "IO error: No space left on device: While appending to file"
            ),
            StoreError::DiskFull { .. }
        ));
    }

    /// A counter that cannot be read is an error, for readers and for the writer: counting on
    /// from 0 would overwrite the true total, and reading it as 0 would hide the damage.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_malformed_counter_is_reported_never_read_as_zero() {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 1024).unwrap();
        let key = layout::counter("wf_m", None);
        let writer = store.clone();
        tokio::task::spawn_blocking(move || {
            writer.writer_submit_blocking(vec![Op::Put(Family::Counters, key, b"bad".to_vec())])
        })
        .await
        .unwrap()
        .unwrap();
        assert!(matches!(
            store.counter("wf_m", None),
            Err(StoreError::Corrupt {
                family: "counters",
                ..
            })
        ));
        let execution = finished("wf_m", crate::timefmt::now_us(), ExecutionStatus::Success);
        let refused = store.accept_execution(&execution, None).await;
        assert!(
            matches!(refused, Err(StoreError::Corrupt { .. })),
            "{refused:?}"
        );
        // Nothing of the refused write landed, and other workflows are unaffected.
        assert!(store.execution(&execution.id).unwrap().is_none());
        let other = finished("wf_ok", crate::timefmt::now_us(), ExecutionStatus::Success);
        assert_eq!(
            store.accept_execution(&other, None).await.unwrap(),
            WriteOutcome::Written
        );
        assert_eq!(store.counter("wf_ok", None).unwrap(), 1);
        store.close().unwrap();
        drop(store);
        guard.join();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counters_stay_exact_when_many_events_share_a_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 1024).unwrap();
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
        let check = |store: &RocksStore| {
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
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 1024).unwrap();
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
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 64).unwrap();
        let now = crate::timefmt::now_ms();
        let mut exec = finished("wf_d", now * 1000, ExecutionStatus::Queued);
        store.accept_execution(&exec, None).await.unwrap();
        assert_eq!(
            store.due_now("acct_1", 0, now, 10).unwrap(),
            vec![exec.id.clone()]
        );
        assert!(store.due_now("acct_2", 0, now, 10).unwrap().is_empty());

        // A delay: due in a minute, so not due now.
        let before = exec.persisted();
        exec.status = ExecutionStatus::Running;
        exec.resume_at = Some(now + 60_000);
        store.save_execution(&exec, before).await.unwrap();
        assert!(store.due_now("acct_1", 0, now, 10).unwrap().is_empty());
        assert_eq!(store.earliest_due("acct_1", 0).unwrap(), Some(now + 60_000));
        assert_eq!(
            store.due_now("acct_1", 0, now + 60_000, 10).unwrap(),
            vec![exec.id.clone()]
        );
        assert_eq!(store.due_backlog().unwrap(), 1);

        // Finished: out of the index.
        let before = exec.persisted();
        exec.resume_at = None;
        exec.status = ExecutionStatus::Success;
        store.save_execution(&exec, before).await.unwrap();
        assert_eq!(store.earliest_due("acct_1", 0).unwrap(), None);
        assert_eq!(store.due_backlog().unwrap(), 0);
        store.close().unwrap();
        drop(store);
        guard.join();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_opening_takes_a_newer_lease_and_an_older_one_is_fenced_off() {
        use crate::store::{Store, StoreError};
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 8, 8).unwrap();
        let old = store.lease("wf_l").unwrap();
        let exec = finished("wf_l", crate::timefmt::now_us(), ExecutionStatus::Queued);
        store.accept_execution(&exec, None).await.unwrap();
        store.close().unwrap();
        drop(store);
        guard.join();

        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 8, 8).unwrap();
        let current = store.lease("wf_l").unwrap();
        assert_eq!(current.epoch, old.epoch + 1);
        let mut running = exec.clone();
        running.status = ExecutionStatus::Running;
        let refused = store.save_progress(&running, exec.persisted(), &old).await;
        assert!(matches!(refused, Err(StoreError::Fenced(_))), "{refused:?}");
        store
            .save_progress(&running, exec.persisted(), &current)
            .await
            .unwrap();
        RocksStore::close(&store).unwrap();
        drop(store);
        guard.join();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_flushes_every_column_familys_memtable() {
        let dir = tempfile::tempdir().unwrap();
        let (store, guard) = RocksStore::open(dir.path(), Durability::Wal, 8, 8).unwrap();
        let exec = finished("wf_c", crate::timefmt::now_us(), ExecutionStatus::Queued);
        store.accept_execution(&exec, None).await.unwrap();
        let in_memtables = |family: Family| {
            store
                .db
                .property_int_value_cf(store.cf(family), "rocksdb.num-entries-active-mem-table")
                .unwrap()
                .unwrap()
        };
        assert!(in_memtables(Family::Executions) > 0);
        store.close().unwrap();
        for family in [Family::Executions, Family::Due, Family::Counters] {
            assert_eq!(in_memtables(family), 0, "{family:?} was not flushed");
        }
        drop(store);
        guard.join();
    }

    #[test]
    fn retention_deletes_old_finished_executions_and_keeps_counts_exact() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 64).unwrap();
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
            ops.extend(RocksStore::finished_execution_ops(&finished(
                "wf_1", at, status,
            )));
        }
        store.writer_submit_blocking(ops).unwrap();
        assert_eq!(store.counter("wf_1", None).unwrap(), 10);

        let cutoff_ms = (now_us - 30 * day_us) / 1000;
        assert_eq!(store.purge(cutoff_ms, 0, 0).unwrap(), 5);

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
        let (store, _guard) = RocksStore::open(dir.path(), Durability::Wal, 64, 64).unwrap();
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
            ops.extend(RocksStore::finished_execution_ops(&e));
            // Another workflow's executions never show up.
            ops.extend(RocksStore::finished_execution_ops(&finished(
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
            RocksStore::open_with_wal_dir(data.path(), Some(wal.path()), Durability::Fsync, 8, 8)
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
