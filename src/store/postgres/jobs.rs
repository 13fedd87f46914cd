//! Workflow versions, background jobs and their results, and the oldest-first walk over a
//! workflow's finished executions that the jobs go through.

use super::writer::Statement;
use super::{PgStore, db_error};
use crate::ids::exec_id_window;
use crate::model::{BackgroundJob, ExecutionStatus, ShadowResult, Workflow, WorkflowVersion};
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

/// A new definition: its version row and the workflow row, in one statement, unless that
/// version number is taken already (another daemon's change, from the same cached state).
const PUT_NEW_VERSION: &str = "
    WITH v AS (
        INSERT INTO workflow_versions (workflow_id, version, value) VALUES ($1, $2, $3)
        ON CONFLICT (workflow_id, version) DO NOTHING
        RETURNING 1)
    INSERT INTO workflows (id, value, updated_at_ms) SELECT $1, $4, $5 FROM v
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, updated_at_ms = EXCLUDED.updated_at_ms
    RETURNING 1";

/// Another change (a rename, a status): only while the stored definition is still the
/// version the change was based on.
const PUT_SAME_VERSION: &str = "
    INSERT INTO workflows (id, value, updated_at_ms) VALUES ($1, $2, $4)
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, updated_at_ms = EXCLUDED.updated_at_ms
        WHERE (SELECT COALESCE(max(version), $3) FROM workflow_versions WHERE workflow_id = $1) = $3
    RETURNING 1";

/// An update of a workflow read as it was at `updated_at` $6: only while it still is (the
/// row is locked first, so of two updates from one state the second finds it changed). A new
/// definition's version row is written only then, in the same statement.
const UPDATE_CHECKED: &str = "
    WITH current AS (
        SELECT id FROM workflows
        WHERE id = $1::text AND COALESCE(updated_at_ms, $6::bigint) = $6::bigint
        FOR UPDATE),
    v AS (
        INSERT INTO workflow_versions (workflow_id, version, value)
        SELECT $1::text, $2::bigint, $3::bytea FROM current WHERE $2::bigint IS NOT NULL
        ON CONFLICT (workflow_id, version) DO NOTHING
        RETURNING 1)
    UPDATE workflows SET value = $4::bytea, updated_at_ms = $5::bigint
    WHERE id = $1::text AND id IN (SELECT id FROM current)
      AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM v))
    RETURNING 1";

impl PgStore {
    /// Writes a workflow as a compare-and-set on its version: each daemon works from a
    /// cached catalog (refreshed every second), so two daemons changing one workflow at once
    /// must not both win, nor undo the other's definition. The loser gets
    /// `StoreError::Conflict` (409) and nothing is written.
    pub(super) async fn put_workflow_checked(
        &self,
        workflow: &Workflow,
        version: Option<&WorkflowVersion>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let value = codec::encode(workflow);
        let row = match version {
            Some(v) => {
                client
                    .query_opt(
                        PUT_NEW_VERSION,
                        &[
                            &v.workflow_id,
                            &(v.version as i64),
                            &codec::encode(v),
                            &value,
                            &workflow.updated_at,
                        ],
                    )
                    .await
            }
            None => {
                client
                    .query_opt(
                        PUT_SAME_VERSION,
                        &[
                            &workflow.id,
                            &value,
                            &(workflow.version as i64),
                            &workflow.updated_at,
                        ],
                    )
                    .await
            }
        }
        .map_err(db_error)?;
        changed_meanwhile(row.is_some(), workflow)
    }

    /// `update_workflow` on a shared database (`UPDATE_CHECKED`).
    pub(super) async fn update_workflow_checked(
        &self,
        before: &Workflow,
        workflow: &Workflow,
        version: Option<&WorkflowVersion>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let number = version.map(|v| v.version as i64);
        let encoded_version = version.map(codec::encode);
        let row = client
            .query_opt(
                UPDATE_CHECKED,
                &[
                    &workflow.id,
                    &number,
                    &encoded_version,
                    &codec::encode(workflow),
                    &workflow.updated_at,
                    &before.updated_at,
                ],
            )
            .await
            .map_err(db_error)?;
        changed_meanwhile(row.is_some(), workflow)
    }
}

fn changed_meanwhile(written: bool, workflow: &Workflow) -> Result<(), StoreError> {
    if written {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "workflow {} was changed on another node meanwhile",
            workflow.id
        )))
    }
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
