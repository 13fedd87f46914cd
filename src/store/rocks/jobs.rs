//! Background jobs (bulk and shadow replays): their state, the cancel requests kept beside
//! them, and shadow replays' results.

use rocksdb::{Direction, IteratorMode, ReadOptions};

use super::layout::{self, Family};
use super::{Op, RocksStore, codec};
use crate::model::{BackgroundJob, ShadowResult};
use crate::store::StoreError;

impl RocksStore {
    /// A job's state with its latest batch of results, in one atomic write.
    pub async fn put_job(
        &self,
        job: &BackgroundJob,
        results: &[ShadowResult],
    ) -> Result<(), StoreError> {
        let mut ops = Vec::with_capacity(2 * results.len() + 2);
        ops.push(Op::Put(
            Family::Jobs,
            layout::job(&job.id),
            codec::encode(job),
        ));
        // The running marker is what `unfinished_jobs` reads: no scan of every job.
        let running = layout::job_running(&job.id);
        ops.push(match job.status.is_finished() {
            false => Op::Put(Family::Jobs, running, Vec::new()),
            true => Op::Delete(Family::Jobs, running),
        });
        for r in results {
            ops.push(Op::Put(
                Family::JobResults,
                layout::job_result(&job.id, r.changed, &r.execution_id),
                codec::encode(r),
            ));
            // A batch redone after a crash may judge differently: one verdict per execution.
            ops.push(Op::Delete(
                Family::JobResults,
                layout::job_result(&job.id, !r.changed, &r.execution_id),
            ));
        }
        self.write(ops).await
    }

    pub async fn cancel_job(&self, id: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Put(
            Family::Jobs,
            layout::job_cancel(id),
            Vec::new(),
        )])
        .await
    }

    /// A job, with its cancel request folded in (blocking).
    pub fn job(&self, id: &str) -> Result<Option<BackgroundJob>, StoreError> {
        let Some(mut job) = self.get::<BackgroundJob>(Family::Jobs, &layout::job(id))? else {
            return Ok(None);
        };
        job.cancel_requested = self
            .db
            .get_pinned_cf(self.cf(Family::Jobs), layout::job_cancel(id))
            .map_err(|e| StoreError::Db(e.to_string()))?
            .is_some();
        Ok(Some(job))
    }

    /// Every job's state (blocking; retention only). Jobs are few: one per request that
    /// started one, kept as long as executions are.
    fn all_jobs(&self) -> Result<Vec<BackgroundJob>, StoreError> {
        let prefix = layout::job("");
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            self.cf(Family::Jobs),
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (k, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(
                codec::decode::<BackgroundJob>(&v).map_err(|error| StoreError::Corrupt {
                    family: Family::Jobs.name(),
                    error,
                })?,
            );
        }
        Ok(out)
    }

    /// The jobs still running, found by their markers (blocking).
    pub fn unfinished_jobs(&self) -> Result<Vec<BackgroundJob>, StoreError> {
        let prefix = layout::job_running_prefix();
        let mut ids = Vec::new();
        for item in self.db.iterator_cf(
            self.cf(Family::Jobs),
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if !k.starts_with(&prefix) {
                break;
            }
            ids.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
        }
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            jobs.extend(self.job(&id)?.filter(|j| !j.status.is_finished()));
        }
        Ok(jobs)
    }

    /// A page of a job's results, changed ones first (blocking).
    pub fn job_results(
        &self,
        job_id: &str,
        changed_only: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ShadowResult>, StoreError> {
        let prefix = layout::job_results_prefix(job_id, changed_only);
        let mut upper = prefix.clone();
        *upper.last_mut().expect("the prefix ends in the separator") += 1;
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(upper);
        let mut out = Vec::with_capacity(limit.min(100));
        for item in self
            .db
            .iterator_cf_opt(
                self.cf(Family::JobResults),
                ro,
                IteratorMode::From(&prefix, Direction::Forward),
            )
            .skip(offset)
            .take(limit)
        {
            let (_, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            out.push(codec::decode(&v).map_err(|error| StoreError::Corrupt {
                family: Family::JobResults.name(),
                error,
            })?);
        }
        Ok(out)
    }

    /// Delete ops for finished jobs created before `cutoff_ms`, with their results and
    /// cancel requests (blocking).
    pub(super) fn expired_job_ops(&self, cutoff_ms: i64) -> Result<Vec<Op>, StoreError> {
        let mut ops = Vec::new();
        for job in self.all_jobs()? {
            if !job.status.is_finished() || job.created_at >= cutoff_ms {
                continue;
            }
            ops.push(Op::Delete(Family::Jobs, layout::job(&job.id)));
            ops.push(Op::Delete(Family::Jobs, layout::job_cancel(&job.id)));
            ops.push(Op::Delete(Family::Jobs, layout::job_running(&job.id)));
            let prefix = layout::job_results_prefix(&job.id, false);
            for item in self.db.iterator_cf(
                self.cf(Family::JobResults),
                IteratorMode::From(&prefix, Direction::Forward),
            ) {
                let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
                if !k.starts_with(&prefix) {
                    break;
                }
                ops.push(Op::Delete(Family::JobResults, k.to_vec()));
            }
        }
        Ok(ops)
    }
}
