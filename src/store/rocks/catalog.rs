//! Accounts, API keys, workflows and hooks: small, loaded whole at start into the catalog.

use super::layout::Family;
use super::{META_INITIALISED, Op, RocksStore, put};
use crate::model::{Account, ApiKey, Hook, Workflow};
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

    pub async fn put_workflow(&self, workflow: &Workflow) -> Result<(), StoreError> {
        self.write(vec![put(Family::Workflows, &workflow.id, workflow)])
            .await
    }

    /// Deletes a workflow and the hooks that trigger it, atomically.
    pub async fn delete_workflow(&self, id: &str, hook_ids: &[String]) -> Result<(), StoreError> {
        let mut ops = vec![Op::Delete(Family::Workflows, id.as_bytes().to_vec())];
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
