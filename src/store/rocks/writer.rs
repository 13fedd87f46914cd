//! The single writer thread: every write goes through it, so concurrent writers share one
//! RocksDB write and, with `durability = "fsync"`, one fsync (group commit).
//!
//! Invariants: callers never block on it — `submit` fails fast with `Busy` when the queue is
//! full; a reply is sent only after the batch holding the request is durable as configured;
//! idempotency checks run here, so two requests with the same key can never both be stored.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rocksdb::{DB, WriteBatch, WriteOptions};
use tokio::sync::oneshot;

use super::disk_space::{self, DiskSpace};
use super::layout::Family;
use crate::fasthash::{FastMap, FastSet};
use crate::store::{DedupeEntry, StoreError, WriteOutcome, codec};

/// One change to one column family.
#[derive(Debug, Clone)]
pub enum Op {
    Put(Family, Vec<u8>, Vec<u8>),
    Delete(Family, Vec<u8>),
    /// Adds an i64 to a counter (`counters` family only). The writer keeps counters in
    /// memory and writes their new absolute value, so a read is one lookup however many
    /// updates came before.
    Add(Family, Vec<u8>, i64),
}

/// "Store these ops unless this idempotency key was already seen recently."
#[derive(Debug, Clone)]
pub struct DedupeCheck {
    pub key: Vec<u8>,
    pub entry: DedupeEntry,
    /// Entries older than this (unix ms) no longer count.
    pub not_before_ms: i64,
}

pub struct WriteRequest {
    pub ops: Vec<Op>,
    pub dedupe: Option<DedupeCheck>,
    pub reply: oneshot::Sender<Result<WriteOutcome, StoreError>>,
}

/// Handle used to submit writes.
#[derive(Clone)]
pub struct Writer {
    tx: Sender<WriteRequest>,
}

impl Writer {
    pub fn spawn(
        db: Arc<DB>,
        fsync: bool,
        max_batch: usize,
        capacity: usize,
        disk: DiskSpace,
    ) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(db, rx, fsync, max_batch, disk))
            .expect("spawning the store writer thread");
        (Writer { tx }, handle)
    }

    /// Queues a write and waits until it is durable.
    pub async fn submit(
        &self,
        ops: Vec<Op>,
        dedupe: Option<DedupeCheck>,
    ) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(WriteRequest { ops, dedupe, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::Closed),
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Same as `submit`, from a blocking thread.
    pub fn submit_blocking(&self, ops: Vec<Op>) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriteRequest {
                ops,
                dedupe: None,
                reply,
            })
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }
}

/// A failed RocksDB write, as callers should see it.
fn write_error(e: &rocksdb::Error) -> StoreError {
    let message = e.to_string();
    if disk_space::is_no_space(&message) {
        StoreError::DiskFull {
            free_bytes: 0,
            min_free_bytes: 0,
        }
    } else {
        StoreError::Db(message)
    }
}

fn run(
    db: Arc<DB>,
    rx: Receiver<WriteRequest>,
    fsync: bool,
    max_batch: usize,
    mut disk: DiskSpace,
) {
    let mut write_options = WriteOptions::default();
    write_options.set_sync(fsync);
    let mut requests: Vec<WriteRequest> = Vec::with_capacity(max_batch);
    let mut counters = Counters::default();
    let cfs = Handles::of(&db);
    while let Ok(first) = rx.recv() {
        requests.push(first);
        while requests.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => requests.push(r),
                Err(_) => break,
            }
        }
        if let Err(full) = disk.check() {
            for req in requests.drain(..) {
                let _ = req.reply.send(Err(full.clone()));
            }
            continue;
        }
        let started = Instant::now();
        let mut batch = WriteBatch::default();
        let mut outcomes = Vec::with_capacity(requests.len());
        // Keys claimed earlier in this same batch, not yet visible to `get`.
        let mut claimed: FastMap<Vec<u8>, String> = FastMap::default();
        // Counters changed by this batch: each is written once, with its final value, however
        // many requests moved it (every event moves two).
        let mut touched: FastSet<Vec<u8>> = FastSet::default();
        for req in &requests {
            let outcome = match &req.dedupe {
                Some(check) => match find_duplicate(&db, &cfs, check, &claimed) {
                    Ok(Some(original)) => Ok(WriteOutcome::Duplicate(original)),
                    Ok(None) => {
                        add_ops(&db, &cfs, &mut batch, &req.ops, &mut counters, &mut touched).map(
                            |()| {
                                claimed.insert(check.key.clone(), check.entry.execution_id.clone());
                                let cf = cfs.get(Family::Dedupe);
                                batch.put_cf(cf, &check.key, codec::encode(&check.entry));
                                WriteOutcome::Written
                            },
                        )
                    }
                    Err(e) => Err(e),
                },
                None => add_ops(&db, &cfs, &mut batch, &req.ops, &mut counters, &mut touched)
                    .map(|()| WriteOutcome::Written),
            };
            outcomes.push(outcome);
        }
        let counters_cf = cfs.get(Family::Counters);
        for key in &touched {
            let value = counters.values[key.as_slice()];
            batch.put_cf(counters_cf, key, value.to_le_bytes());
        }
        disk.wrote(batch.size_in_bytes());
        let result = db.write_opt(batch, &write_options);
        if result.is_err() {
            // The batch did not land: forget counter values it would have written.
            counters.values.clear();
        }
        metrics::histogram!("botcadence_store_write_batch_size").record(requests.len() as f64);
        metrics::histogram!("botcadence_store_write_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        for (req, outcome) in requests.drain(..).zip(outcomes) {
            let reply = match (&result, outcome) {
                (Ok(()), outcome) => outcome,
                (Err(e), _) => Err(write_error(e)),
            };
            // The caller may have gone away (client disconnected); the write stands anyway.
            let _ = req.reply.send(reply);
        }
        if rx.is_empty() {
            // Idle: what this thread freed (large batches) goes back to the system.
            crate::alloc_budget::release_if_due();
        }
    }
    if let Err(e) = db.flush_wal(true) {
        tracing::error!(error = %e, "flushing the write-ahead log at shutdown failed");
    }
}

/// Every column family's handle, looked up once: `cf_handle` searches a map by name, and a
/// batch touches a handle for every op.
struct Handles<'a>([&'a rocksdb::ColumnFamily; Family::ALL.len()]);

impl<'a> Handles<'a> {
    fn of(db: &'a DB) -> Handles<'a> {
        Handles(Family::ALL.map(|family| {
            db.cf_handle(family.name())
                .expect("every column family is created when the store opens")
        }))
    }

    fn get(&self, family: Family) -> &'a rocksdb::ColumnFamily {
        self.0[family.index()]
    }
}

/// Current values of the counters (`counters` family) this writer has touched. Only the
/// writer thread writes counters, so its memory is the truth once a value was loaded.
#[derive(Default)]
struct Counters {
    values: FastMap<Vec<u8>, i64>,
}

impl Counters {
    /// Makes sure `key`'s current value is in memory. A read error or a malformed value fails
    /// the request: counting on from 0 would overwrite the true total with a wrong one.
    fn load(&mut self, db: &DB, cf: &rocksdb::ColumnFamily, key: &[u8]) -> Result<(), StoreError> {
        if self.values.contains_key(key) {
            return Ok(());
        }
        let stored = match db
            .get_cf(cf, key)
            .map_err(|e| StoreError::Db(e.to_string()))?
        {
            Some(bytes) => super::decode_i64("counters", &bytes)?,
            None => 0,
        };
        self.values.insert(key.to_vec(), stored);
        Ok(())
    }

    fn add(&mut self, key: &[u8], n: i64) {
        *self
            .values
            .get_mut(key)
            .expect("every counter is loaded before it is added to") += n;
    }
}

/// Adds `ops` to the batch; counter changes are applied in memory and the counter noted in
/// `touched`, for the caller to write once per batch. Counters are loaded first, so a request
/// whose counters cannot be read adds nothing at all.
fn add_ops(
    db: &DB,
    cfs: &Handles<'_>,
    batch: &mut WriteBatch,
    ops: &[Op],
    counters: &mut Counters,
    touched: &mut FastSet<Vec<u8>>,
) -> Result<(), StoreError> {
    for op in ops {
        if let Op::Add(_, k, _) = op {
            counters.load(db, cfs.get(Family::Counters), k)?;
        }
    }
    for op in ops {
        match op {
            Op::Put(f, k, v) => batch.put_cf(cfs.get(*f), k, v),
            Op::Delete(f, k) => batch.delete_cf(cfs.get(*f), k),
            Op::Add(f, k, n) => {
                debug_assert_eq!(*f, Family::Counters, "only counters are added to");
                counters.add(k, *n);
                if !touched.contains(k.as_slice()) {
                    touched.insert(k.clone());
                }
            }
        }
    }
    Ok(())
}

fn find_duplicate(
    db: &DB,
    cfs: &Handles<'_>,
    check: &DedupeCheck,
    claimed: &FastMap<Vec<u8>, String>,
) -> Result<Option<String>, StoreError> {
    if let Some(id) = claimed.get(&check.key) {
        return Ok(Some(id.clone()));
    }
    let found = db
        .get_cf(cfs.get(Family::Dedupe), &check.key)
        .map_err(|e| StoreError::Db(e.to_string()))?;
    Ok(found
        .and_then(|bytes| codec::decode::<DedupeEntry>(&bytes).ok())
        .filter(|entry| entry.at_ms >= check.not_before_ms)
        .map(|entry| entry.execution_id))
}
