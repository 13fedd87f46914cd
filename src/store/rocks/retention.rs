//! Retention: old finished executions and jobs, expired idempotency keys and API replies go.

use rocksdb::{IteratorMode, ReadOptions};

use super::layout::{self, Family};
use super::{Op, RocksStore, codec};
use crate::model::Execution;
use crate::store::{DedupeEntry, StoreError, StoredReply};

impl RocksStore {
    /// Deletes finished executions created before `cutoff_ms`, webhook idempotency keys
    /// older than `dedupe_cutoff_ms` and API replies older than `replies_cutoff_ms`, then
    /// compacts the freed ranges (blocking). Returns the number of executions deleted.
    pub fn purge(
        &self,
        cutoff_ms: i64,
        dedupe_cutoff_ms: i64,
        replies_cutoff_ms: i64,
    ) -> Result<usize, StoreError> {
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
        for item in self
            .db
            .iterator_cf(self.cf(Family::Replies), IteratorMode::Start)
        {
            let (k, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            let old =
                codec::decode::<StoredReply>(&v).map_or(true, |r| r.at_ms < replies_cutoff_ms);
            if old {
                ops.push(Op::Delete(Family::Replies, k.to_vec()));
            }
            if ops.len() >= CHUNK * 5 {
                self.writer.submit_blocking(std::mem::take(&mut ops))?;
            }
        }
        for chunk in self.expired_job_ops(cutoff_ms)?.chunks(CHUNK * 5) {
            self.writer.submit_blocking(chunk.to_vec())?;
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
}
