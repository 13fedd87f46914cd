//! Health and metrics: the probe write, sizes, memory, write stalls.

use super::layout::Family;
use super::{META_PROBE, Op, RocksStore};
use crate::store::{StoreError, StoreMemory};

impl RocksStore {
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
}
