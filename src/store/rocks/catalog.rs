//! Accounts, API keys, workflows and hooks: small, loaded whole at start into the catalog.

use super::layout::Family;
use super::{META_INITIALISED, Op, RocksStore, put};
use rocksdb::{Direction, IteratorMode, ReadOptions};

use super::layout;
use crate::model::{Account, ApiKey, Hook, Workflow, WorkflowVersion};
use crate::store::{CatalogSnapshot, StoreError, StoredReply};

impl RocksStore {
    // ---- catalog: accounts, keys, workflows, hooks ----

    /// Everything the in-memory catalog mirrors (blocking).
    pub fn load_catalog(&self) -> Result<CatalogSnapshot, StoreError> {
        Ok(CatalogSnapshot {
            accounts: self.all(Family::Accounts)?,
            api_keys: self.all(Family::ApiKeys)?,
            workflows: self.all(Family::Workflows)?,
            hooks: self.all(Family::Hooks)?,
        })
    }

    /// Whether this data directory has been initialised before (blocking).
    pub fn is_initialised(&self) -> Result<bool, StoreError> {
        self.db
            .get_cf(self.cf(Family::Meta), META_INITIALISED)
            .map(|v| v.is_some())
            .map_err(|e| StoreError::Db(e.to_string()))
    }

    /// Stores the first account and key together with the "initialised" marker, atomically.
    pub async fn initialise(&self, account: &Account, key: &ApiKey) -> Result<(), StoreError> {
        let ops = vec![
            put(Family::Accounts, &account.id, account),
            put(Family::ApiKeys, &key.id, key),
            Op::Put(Family::Meta, META_INITIALISED.to_vec(), b"1".to_vec()),
        ];
        self.writer.submit(ops, None).await.map(|_| ())
    }

    pub async fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.write(vec![put(Family::Accounts, &account.id, account)])
            .await
    }

    pub async fn put_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.write(vec![put(Family::ApiKeys, &key.id, key)]).await
    }

    pub async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Delete(Family::ApiKeys, id.as_bytes().to_vec())])
            .await
    }

    pub async fn put_workflow(
        &self,
        workflow: &Workflow,
        version: Option<&WorkflowVersion>,
    ) -> Result<(), StoreError> {
        let mut ops = vec![put(Family::Workflows, &workflow.id, workflow)];
        if let Some(v) = version {
            ops.push(Op::Put(
                Family::WorkflowVersions,
                layout::workflow_version(&v.workflow_id, v.version),
                super::codec::encode(v),
            ));
        }
        self.write(ops).await
    }

    /// Writes a version unless one with its number is stored (used at start, before
    /// anything else writes versions).
    pub async fn record_workflow_version(&self, v: &WorkflowVersion) -> Result<(), StoreError> {
        let (id, n) = (v.workflow_id.clone(), v.version);
        if self
            .read(move |s| s.workflow_version(&id, n))
            .await?
            .is_some()
        {
            return Ok(());
        }
        self.write(vec![Op::Put(
            Family::WorkflowVersions,
            layout::workflow_version(&v.workflow_id, v.version),
            super::codec::encode(v),
        )])
        .await
    }

    /// One version of a workflow (blocking).
    pub fn workflow_version(
        &self,
        workflow_id: &str,
        version: u64,
    ) -> Result<Option<WorkflowVersion>, StoreError> {
        self.get(
            Family::WorkflowVersions,
            &layout::workflow_version(workflow_id, version),
        )
    }

    /// Versions from `newest` down, newest first (blocking).
    pub fn workflow_versions(
        &self,
        workflow_id: &str,
        newest: u64,
        limit: usize,
    ) -> Result<Vec<WorkflowVersion>, StoreError> {
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(layout::workflow_versions_prefix(workflow_id));
        let start = layout::workflow_version(workflow_id, newest);
        let mut out = Vec::new();
        for item in self.db.iterator_cf_opt(
            self.cf(Family::WorkflowVersions),
            ro,
            IteratorMode::From(&start, Direction::Reverse),
        ) {
            if out.len() >= limit {
                break;
            }
            let (_, v) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            out.push(
                super::codec::decode(&v).map_err(|error| StoreError::Corrupt {
                    family: Family::WorkflowVersions.name(),
                    error,
                })?,
            );
        }
        Ok(out)
    }

    /// The versions stored of a workflow, as delete ops (blocking).
    fn version_deletes(&self, workflow_id: &str) -> Result<Vec<Op>, StoreError> {
        let prefix = layout::workflow_versions_prefix(workflow_id);
        let mut ops = Vec::new();
        for item in self.db.iterator_cf(
            self.cf(Family::WorkflowVersions),
            IteratorMode::From(&prefix, Direction::Forward),
        ) {
            let (k, _) = item.map_err(|e| StoreError::Db(e.to_string()))?;
            if !k.starts_with(&prefix) {
                break;
            }
            ops.push(Op::Delete(Family::WorkflowVersions, k.to_vec()));
        }
        Ok(ops)
    }

    /// Deletes a workflow, its versions and the hooks that trigger it, atomically.
    pub async fn delete_workflow(&self, id: &str, hook_ids: &[String]) -> Result<(), StoreError> {
        let owned = id.to_string();
        let mut ops = self.read(move |s| s.version_deletes(&owned)).await?;
        ops.push(Op::Delete(Family::Workflows, id.as_bytes().to_vec()));
        ops.extend(
            hook_ids
                .iter()
                .map(|h| Op::Delete(Family::Hooks, h.as_bytes().to_vec())),
        );
        self.write(ops).await
    }

    pub async fn put_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.write(vec![put(Family::Hooks, &hook.id, hook)]).await
    }

    pub async fn delete_hook(&self, id: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Delete(Family::Hooks, id.as_bytes().to_vec())])
            .await
    }

    // ---- answers to idempotent API requests ----

    /// The answer remembered under `key` (blocking).
    pub fn stored_reply(&self, key: &str) -> Result<Option<StoredReply>, StoreError> {
        self.get(Family::Replies, key.as_bytes())
    }

    pub async fn put_stored_reply(&self, key: &str, reply: &StoredReply) -> Result<(), StoreError> {
        self.write(vec![put(Family::Replies, key, reply)]).await
    }
}
