//! The due index: one entry per unfinished execution, by account and due time.

use rocksdb::{IteratorMode, ReadOptions};

use super::layout::{self, Family};
use super::{Op, RocksStore, decode_i64};
use crate::model::Execution;
use crate::store::StoreError;

impl RocksStore {
    // ---- due work ----

    /// Ids of `account_id`'s executions due from `from_ms` to `now_ms`, oldest due first, looking
    /// at no more than `max_entries` entries (blocking).
    pub fn due_now(
        &self,
        account_id: &str,
        from_ms: i64,
        now_ms: i64,
        max_entries: usize,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = layout::due_prefix(account_id);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(layout::due(account_id, from_ms, ""));
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

    /// When `account_id`'s earliest execution due at or after `from_ms` is due, if it has any
    /// (blocking). Starting from a later `from_ms` skips what finished before it: deleted
    /// entries stay in RocksDB as tombstones until compaction, and a seek walks over them.
    pub fn earliest_due(&self, account_id: &str, from_ms: i64) -> Result<Option<i64>, StoreError> {
        let prefix = layout::due_prefix(account_id);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(layout::due(account_id, from_ms, ""));
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
            .map_err(|e| StoreError::Db(e.to_string()))?
            .map_or(Ok(0), |b| decode_i64("counters", &b))
    }

    /// Moves what a data directory written by an older version keeps in its pending set into
    /// the due index (blocking; once, at open). Returns how many entries moved.
    pub(super) fn fold_legacy_pending(&self) -> Result<usize, StoreError> {
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
}

/// Due-index ops for an execution whose due time was `previous` (None: new), and the count of
/// unfinished executions kept with them.
pub(super) fn due_ops(ops: &mut Vec<Op>, execution: &Execution, previous: Option<Option<i64>>) {
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
