//! Workflow versions, background jobs and their results, and the oldest-first walk over a
//! workflow's finished executions that the jobs go through.

use super::writer::Statement;
use super::{PgStore, db_error};
use crate::ids::exec_id_window;
use crate::model::{BackgroundJob, ExecutionStatus, ShadowResult, WorkflowVersion};
use crate::store::codec;
use crate::store::{ExecutionScan, StoreError};

fn decode<T: serde::de::DeserializeOwned>(
    table: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    codec::decode(bytes).map_err(|error| StoreError::Corrupt {
        family: table,
        error,
    })
}

pub(super) fn put_version(v: &WorkflowVersion) -> Statement {
    Statement::new(
        "INSERT INTO workflow_versions (workflow_id, version, value) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_id, version) DO UPDATE SET value = EXCLUDED.value",
        vec![
            Box::new(v.workflow_id.clone()),
            Box::new(v.version as i64),
            Box::new(codec::encode(v)),
        ],
    )
}

/// A version, unless that number is recorded already.
pub(super) fn record_version(v: &WorkflowVersion) -> Statement {
    Statement::new(
        "INSERT INTO workflow_versions (workflow_id, version, value) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_id, version) DO NOTHING",
        vec![
            Box::new(v.workflow_id.clone()),
            Box::new(v.version as i64),
            Box::new(codec::encode(v)),
        ],
    )
}

/// A job's state; a finished job is never written again (a daemon that lost the work
/// cannot reopen what another one finished).
pub(super) fn put_job(job: &BackgroundJob) -> Statement {
    let status = serde_json::to_value(job.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Statement::new(
        "INSERT INTO jobs (id, status, created_at_ms, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, value = EXCLUDED.value
         WHERE jobs.status = 'running'",
        vec![
            Box::new(job.id.clone()),
            Box::new(status),
            Box::new(job.created_at),
            Box::new(codec::encode(job)),
        ],
    )
}

pub(super) fn put_result(job_id: &str, r: &ShadowResult) -> Statement {
    Statement::new(
        "INSERT INTO job_results (job_id, changed, execution_id, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job_id, execution_id)
         DO UPDATE SET changed = EXCLUDED.changed, value = EXCLUDED.value",
        vec![
            Box::new(job_id.to_string()),
            Box::new(r.changed),
            Box::new(r.execution_id.clone()),
            Box::new(codec::encode(r)),
        ],
    )
}

impl PgStore {
    pub(super) async fn workflow_versions(
        &self,
        workflow_id: String,
        newest: u64,
        limit: usize,
    ) -> Result<Vec<WorkflowVersion>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT value FROM workflow_versions WHERE workflow_id = $1 AND version <= $2
                 ORDER BY version DESC LIMIT $3",
                &[
                    &workflow_id,
                    &(newest.min(i64::MAX as u64) as i64),
                    &(limit as i64),
                ],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| decode("workflow_versions", r.get::<_, &[u8]>(0)))
            .collect()
    }

    pub(super) async fn scan_executions(
        &self,
        workflow_id: String,
        scan: ExecutionScan,
    ) -> Result<Vec<String>, StoreError> {
        let (lower, upper) = exec_id_window(scan.from_ms, scan.to_ms);
        let after = scan.after_id.unwrap_or_default();
        let statuses: Vec<&str> = match scan.status {
            Some(s) => vec![s.as_str()],
            None => vec![
                ExecutionStatus::Success.as_str(),
                ExecutionStatus::Failed.as_str(),
            ],
        };
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id FROM executions
                 WHERE workflow_id = $1 AND status = ANY($2)
                   AND id >= $3 AND id < $4 AND id > $5
                 ORDER BY id LIMIT $6",
                &[
                    &workflow_id,
                    &statuses,
                    &lower,
                    &upper,
                    &after,
                    &(scan.limit as i64),
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(super) async fn jobs_where(
        &self,
        sql: &'static str,
        id: Option<&str>,
    ) -> Result<Vec<BackgroundJob>, StoreError> {
        let client = self.client().await?;
        let rows = match id {
            Some(id) => client.query(sql, &[&id]).await,
            None => client.query(sql, &[]).await,
        }
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                let mut job: BackgroundJob = decode("jobs", r.get::<_, &[u8]>(0))?;
                job.cancel_requested = r.get(1);
                Ok(job)
            })
            .collect()
    }

    pub(super) async fn job_results(
        &self,
        job_id: String,
        changed_only: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ShadowResult>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT value FROM job_results WHERE job_id = $1 AND (changed OR NOT $2)
                 ORDER BY changed DESC, execution_id LIMIT $3 OFFSET $4",
                &[&job_id, &changed_only, &(limit as i64), &(offset as i64)],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| decode("job_results", r.get::<_, &[u8]>(0)))
            .collect()
    }

    /// Finished jobs created before `cutoff_ms` go, with their results, a thousand rows per
    /// statement.
    pub(super) async fn purge_jobs(&self, cutoff_ms: i64) -> Result<(), StoreError> {
        let client = self.client().await?;
        while client
            .execute(
                "DELETE FROM job_results WHERE ctid IN (
                    SELECT r.ctid FROM job_results r JOIN jobs j ON j.id = r.job_id
                    WHERE j.status <> 'running' AND j.created_at_ms < $1 LIMIT 1000)",
                &[&cutoff_ms],
            )
            .await
            .map_err(db_error)?
            >= 1000
        {}
        client
            .execute(
                "DELETE FROM jobs WHERE status <> 'running' AND created_at_ms < $1",
                &[&cutoff_ms],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
