//! Execution records, the two list indexes (by workflow, by status) and their counters, all
//! written in one batch with every change.

use rocksdb::{IteratorMode, ReadOptions};

use super::DedupeCheck;
use super::due::due_ops;
use super::layout::{self, Family};
use super::{Op, RocksStore, WriteOutcome, codec, decode_i64, put};
use crate::model::{Execution, ExecutionStatus, ExecutionSummary, Persisted};
use crate::store::{Dedupe, ExecutionQuery, ExecutionScan, StoreError};

impl RocksStore {
    // ---- executions ----

    /// Stores a newly accepted execution and, unless it already finished, its entry in the due
    /// index; nothing is stored when `dedupe` finds its idempotency key already used. Returns
    /// once durable.
    pub async fn accept_execution(
        &self,
        execution: &Execution,
        dedupe: Option<Dedupe>,
    ) -> Result<WriteOutcome, StoreError> {
        let mut ops = Vec::with_capacity(8);
        ops.push(put(Family::Executions, &execution.id, execution));
        index_ops(&mut ops, execution, None);
        due_ops(&mut ops, execution, None);
        let dedupe = dedupe.map(|d| DedupeCheck {
            key: layout::dedupe(&d.hook_id, &d.key),
            entry: d.entry,
            not_before_ms: d.not_before_ms,
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

    /// Several executions by id, in order (blocking).
    pub fn executions(&self, ids: &[String]) -> Result<Vec<Option<Execution>>, StoreError> {
        let cf = self.cf(Family::Executions);
        self.db
            .multi_get_cf(ids.iter().map(|id| (cf, id.as_bytes())))
            .into_iter()
            .map(|found| match found {
                Ok(Some(bytes)) => {
                    codec::decode(&bytes)
                        .map(Some)
                        .map_err(|error| StoreError::Corrupt {
                            family: Family::Executions.name(),
                            error,
                        })
                }
                Ok(None) => Ok(None),
                Err(e) => Err(StoreError::Db(e.to_string())),
            })
            .collect()
    }

    /// One execution (blocking).
    pub fn execution(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        self.get(Family::Executions, id.as_bytes())
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
        if let (Some(from), Some(to)) = (q.from_ms, q.to_ms)
            && from > to
        {
            // An empty window (and iterator bounds must not cross).
            return Ok((Vec::new(), 0));
        }
        let (from, to) = crate::ids::exec_id_window(q.from_ms, q.to_ms);
        let lower = [prefix.as_slice(), from.as_bytes()].concat();
        let upper = [prefix.as_slice(), to.as_bytes()].concat();
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

    /// Ids of a workflow's finished executions matching `scan`, oldest first (blocking).
    /// One status walks that status's index; both finished ones walk the summaries and
    /// leave out the unfinished.
    pub fn scan_executions(
        &self,
        workflow_id: &str,
        scan: &ExecutionScan,
    ) -> Result<Vec<String>, StoreError> {
        let (family, prefix) = match scan.status {
            Some(s) => (
                Family::ExecByStatus,
                layout::exec_list_prefix(workflow_id, Some(s)),
            ),
            None => (
                Family::ExecByWorkflow,
                layout::exec_list_prefix(workflow_id, None),
            ),
        };
        let (from, to) = crate::ids::exec_id_window(scan.from_ms, scan.to_ms);
        let lower = [prefix.as_slice(), from.as_bytes()].concat();
        let upper = [prefix.as_slice(), to.as_bytes()].concat();
        if lower >= upper {
            return Ok(Vec::new());
        }
        let start = match &scan.after_id {
            // Just past the cursor: the same key with one more byte.
            Some(after) => {
                let mut k = prefix.clone();
                k.extend_from_slice(after.as_bytes());
                k.push(0);
                k.max(lower.clone())
            }
            None => lower.clone(),
        };
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(upper);
        ro.fill_cache(false);
        let mut ids = Vec::with_capacity(scan.limit.min(1024));
        for item in self.db.iterator_cf_opt(
            self.cf(family),
            ro,
            IteratorMode::From(&start, rocksdb::Direction::Forward),
        ) {
            if ids.len() >= scan.limit {
                break;
            }
            let (k, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if scan.status.is_none() && !decode_summary(&v)?.status.is_terminal() {
                continue;
            }
            let id = k.get(prefix.len()..).unwrap_or_default();
            ids.push(String::from_utf8_lossy(id).into_owned());
        }
        Ok(ids)
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
            .map_err(|e| StoreError::Db(e.to_string()))?
            .map_or(Ok(0), |b| decode_i64("counters", &b))
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

pub(super) fn decode_summary(bytes: &[u8]) -> Result<ExecutionSummary, StoreError> {
    codec::decode(bytes).map_err(|error| StoreError::Corrupt {
        family: Family::ExecByWorkflow.name(),
        error,
    })
}

/// Index and counter ops for an execution whose status was `previous` (None: new).
pub(super) fn index_ops(
    ops: &mut Vec<Op>,
    execution: &Execution,
    previous: Option<ExecutionStatus>,
) {
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
