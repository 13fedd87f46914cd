//! Reads: the catalog, execution records and lists, due work, sizes.

use serde::de::DeserializeOwned;

use super::{PgStore, db_error};
use crate::ids::exec_id_window;
use crate::model::{Execution, ExecutionStatus, ExecutionSummary};
use crate::store::codec;
use crate::store::{CatalogSnapshot, DueAccount, DueRequest, ExecutionQuery, StoreError};

fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    codec::decode(bytes).map_err(|error| StoreError::Corrupt {
        family: table,
        error,
    })
}

impl PgStore {
    async fn all<T: DeserializeOwned>(&self, table: &'static str) -> Result<Vec<T>, StoreError> {
        let sql = match table {
            "accounts" => "SELECT value FROM accounts",
            "api_keys" => "SELECT value FROM api_keys",
            "workflows" => "SELECT value FROM workflows",
            "hooks" => "SELECT value FROM hooks",
            other => unreachable!("no catalog table {other}"),
        };
        let client = self.client().await?;
        let rows = client.query(sql, &[]).await.map_err(db_error)?;
        rows.iter()
            .map(|r| decode(table, r.get::<_, &[u8]>(0)))
            .collect()
    }

    pub(super) async fn load_catalog(&self) -> Result<CatalogSnapshot, StoreError> {
        Ok(CatalogSnapshot {
            accounts: self.all("accounts").await?,
            api_keys: self.all("api_keys").await?,
            workflows: self.all("workflows").await?,
            hooks: self.all("hooks").await?,
        })
    }

    pub(super) async fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT value FROM meta WHERE name = $1", &[&name])
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }

    pub(super) async fn executions(
        &self,
        ids: Vec<String>,
    ) -> Result<Vec<Option<Execution>>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, record FROM executions WHERE id = ANY($1)",
                &[&ids],
            )
            .await
            .map_err(db_error)?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            found.insert(
                r.get::<_, String>(0),
                decode::<Execution>("executions", r.get::<_, &[u8]>(1))?,
            );
        }
        Ok(ids.iter().map(|id| found.remove(id)).collect())
    }

    /// A page, newest first, and the exact number matching (an index range count).
    pub(super) async fn list_executions(
        &self,
        workflow_id: String,
        q: ExecutionQuery,
    ) -> Result<(Vec<ExecutionSummary>, u64), StoreError> {
        if let (Some(from), Some(to)) = (q.from_ms, q.to_ms)
            && from > to
        {
            return Ok((Vec::new(), 0));
        }
        let (lower, upper) = exec_id_window(q.from_ms, q.to_ms);
        let status = q.status.map(ExecutionStatus::as_str);
        let client = self.client().await?;
        let (limit, offset) = (q.limit as i64, q.offset as i64);
        let rows = if limit > 0 {
            client
                .query(
                    "SELECT summary FROM executions
                     WHERE workflow_id = $1 AND ($2::text IS NULL OR status = $2)
                       AND id >= $3 AND id < $4
                     ORDER BY id DESC LIMIT $5 OFFSET $6",
                    &[&workflow_id, &status, &lower, &upper, &limit, &offset],
                )
                .await
                .map_err(db_error)?
        } else {
            Vec::new()
        };
        let page = rows
            .iter()
            .map(|r| decode("executions", r.get::<_, &[u8]>(0)))
            .collect::<Result<Vec<ExecutionSummary>, _>>()?;
        let total: i64 = client
            .query_one(
                "SELECT count(*) FROM executions
                 WHERE workflow_id = $1 AND ($2::text IS NULL OR status = $2)
                   AND id >= $3 AND id < $4",
                &[&workflow_id, &status, &lower, &upper],
            )
            .await
            .map_err(db_error)?
            .get(0);
        Ok((page, total.max(0) as u64))
    }

    pub(super) async fn due_work(
        &self,
        accounts: Vec<DueRequest>,
        now_ms: i64,
    ) -> Result<Vec<DueAccount>, StoreError> {
        // Only the shards new work may start on here: the rest is another daemon's.
        let shards = self.lease.workable();
        let mut out = Vec::with_capacity(accounts.len());
        if shards.is_empty() {
            out.extend(accounts.into_iter().map(|request| DueAccount {
                account_id: request.account_id,
                earliest_due_ms: None,
                due_now: Vec::new(),
            }));
            return Ok(out);
        }
        let client = self.client().await?;
        for request in accounts {
            let earliest: Option<i64> = client
                .query_one(
                    "SELECT min(due_at_ms) FROM executions
                     WHERE account_id = $1 AND due_at_ms >= $2 AND shard = ANY($3)",
                    &[&request.account_id, &request.from_ms, &shards],
                )
                .await
                .map_err(db_error)?
                .get(0);
            let due_now = match earliest {
                Some(at) if at <= now_ms && request.max_entries > 0 => client
                    .query(
                        "SELECT id FROM executions
                         WHERE account_id = $1 AND due_at_ms >= $2 AND due_at_ms <= $3
                           AND shard = ANY($5)
                         ORDER BY due_at_ms, id LIMIT $4",
                        &[
                            &request.account_id,
                            &request.from_ms,
                            &now_ms,
                            &(request.max_entries as i64),
                            &shards,
                        ],
                    )
                    .await
                    .map_err(db_error)?
                    .iter()
                    .map(|r| r.get(0))
                    .collect(),
                _ => Vec::new(),
            };
            out.push(DueAccount {
                account_id: request.account_id,
                earliest_due_ms: earliest,
                due_now,
            });
        }
        Ok(out)
    }

    pub(super) async fn due_backlog(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_one(
                "SELECT count(*) FROM executions WHERE due_at_ms IS NOT NULL",
                &[],
            )
            .await
            .map_err(db_error)?
            .get(0))
    }

    pub(super) async fn size_bytes(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let size: i64 = client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .await
            .map_err(db_error)?
            .get(0);
        Ok(size.max(0) as u64)
    }

    pub(super) async fn stored_reply_bytes(
        &self,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT value FROM replies WHERE key = $1", &[&key])
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }
}
