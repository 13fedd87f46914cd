//! The in-memory mirror of the small, often-read data: accounts, API keys, workflows, hooks.
//!
//! Invariants: it is loaded from the store at start and changed only after the store
//! acknowledged the same change (write-through), under `write_lock()` so that two API calls
//! cannot interleave their store and memory updates. Ingest and auth read it without touching
//! RocksDB. Every entry is an `Arc`, cloned out before any `.await` — no map guard is ever held
//! across an await point.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{Mutex, MutexGuard};

use crate::fasthash::FastState;
use crate::model::{Account, ApiKey, Hook, Workflow};
use crate::store::CatalogSnapshot;

#[derive(Default)]
pub struct Catalog {
    accounts: DashMap<String, Arc<Account>, FastState>,
    keys_by_hash: DashMap<String, Arc<ApiKey>, FastState>,
    keys_by_id: DashMap<String, Arc<ApiKey>, FastState>,
    workflows: DashMap<String, Arc<Workflow>, FastState>,
    hooks: DashMap<String, Arc<Hook>, FastState>,
    /// When each API key was last used (ms), since this process started: kept in memory
    /// only, so authenticating a request never writes to the store.
    key_last_used: DashMap<String, i64, FastState>,
    writes: Mutex<()>,
}

impl Catalog {
    pub fn from_snapshot(s: CatalogSnapshot) -> Catalog {
        let c = Catalog::default();
        for a in s.accounts {
            c.put_account(a);
        }
        for k in s.api_keys {
            c.put_api_key(k);
        }
        for w in s.workflows {
            c.put_workflow(w);
        }
        for h in s.hooks {
            c.put_hook(h);
        }
        c
    }

    /// Serialises catalog writers (store write + memory update as one step).
    pub async fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    pub fn account(&self, id: &str) -> Option<Arc<Account>> {
        self.accounts.get(id).map(|a| a.clone())
    }

    pub fn accounts(&self) -> Vec<Arc<Account>> {
        let mut v: Vec<_> = self.accounts.iter().map(|a| a.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    pub fn put_account(&self, a: Account) {
        self.accounts.insert(a.id.clone(), Arc::new(a));
    }

    pub fn api_key_by_hash(&self, hash: &str) -> Option<Arc<ApiKey>> {
        self.keys_by_hash.get(hash).map(|k| k.clone())
    }

    pub fn api_key(&self, id: &str) -> Option<Arc<ApiKey>> {
        self.keys_by_id.get(id).map(|k| k.clone())
    }

    pub fn api_keys_of(&self, account_id: &str) -> Vec<Arc<ApiKey>> {
        let mut v: Vec<_> = self
            .keys_by_id
            .iter()
            .filter(|k| k.account_id == account_id)
            .map(|k| k.clone())
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Records that a key was just used.
    pub fn touch_api_key(&self, id: &str, now_ms: i64) {
        match self.key_last_used.get_mut(id) {
            Some(mut at) => *at = now_ms,
            None => {
                self.key_last_used.insert(id.to_string(), now_ms);
            }
        }
    }

    /// When a key was last used since this process started.
    pub fn api_key_last_used(&self, id: &str) -> Option<i64> {
        self.key_last_used.get(id).map(|at| *at)
    }

    pub fn put_api_key(&self, k: ApiKey) {
        let k = Arc::new(k);
        self.keys_by_hash.insert(k.hash.clone(), k.clone());
        self.keys_by_id.insert(k.id.clone(), k);
    }

    pub fn remove_api_key(&self, id: &str) {
        self.key_last_used.remove(id);
        if let Some((_, k)) = self.keys_by_id.remove(id) {
            self.keys_by_hash.remove(&k.hash);
        }
    }

    pub fn workflow(&self, id: &str) -> Option<Arc<Workflow>> {
        self.workflows.get(id).map(|w| w.clone())
    }

    /// Every workflow, in no particular order.
    pub fn all_workflows(&self) -> Vec<Arc<Workflow>> {
        self.workflows.iter().map(|w| w.clone()).collect()
    }

    /// An account's workflows, oldest first (ids are time-ordered).
    pub fn workflows_of(&self, account_id: &str) -> Vec<Arc<Workflow>> {
        let mut v: Vec<_> = self
            .workflows
            .iter()
            .filter(|w| w.account_id == account_id)
            .map(|w| w.clone())
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    pub fn put_workflow(&self, w: Workflow) -> Arc<Workflow> {
        let w = Arc::new(w);
        self.workflows.insert(w.id.clone(), w.clone());
        w
    }

    pub fn remove_workflow(&self, id: &str) {
        self.workflows.remove(id);
        self.hooks.retain(|_, h| h.workflow_id != id);
    }

    pub fn hook(&self, id: &str) -> Option<Arc<Hook>> {
        self.hooks.get(id).map(|h| h.clone())
    }

    pub fn hooks_of(&self, account_id: &str) -> Vec<Arc<Hook>> {
        let mut v: Vec<_> = self
            .hooks
            .iter()
            .filter(|h| h.account_id == account_id)
            .map(|h| h.clone())
            .collect();
        v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        v
    }

    pub fn hook_ids_of_workflow(&self, workflow_id: &str) -> Vec<String> {
        self.hooks
            .iter()
            .filter(|h| h.workflow_id == workflow_id)
            .map(|h| h.id.clone())
            .collect()
    }

    pub fn put_hook(&self, h: Hook) {
        self.hooks.insert(h.id.clone(), Arc::new(h));
    }

    pub fn remove_hook(&self, id: &str) {
        self.hooks.remove(id);
    }

    /// Brings the catalog to what `s` (a fresh read of the store) holds: what another daemon
    /// added, changed or removed on a shared database. Returns the ids of workflows whose
    /// definition changed or that are gone, so the engine can forget what it cached.
    /// Called under `write_lock()`, so no local change interleaves.
    pub fn sync_with(&self, s: CatalogSnapshot) -> CatalogChanges {
        let mut changes = CatalogChanges::default();
        let accounts: std::collections::HashSet<String> =
            s.accounts.iter().map(|a| a.id.clone()).collect();
        self.accounts.retain(|id, _| accounts.contains(id));
        for a in s.accounts {
            if self
                .account(&a.id)
                .is_none_or(|old| old.updated_at != a.updated_at)
            {
                self.put_account(a);
            }
        }
        let keys: std::collections::HashSet<String> =
            s.api_keys.iter().map(|k| k.id.clone()).collect();
        let gone: Vec<String> = self
            .keys_by_id
            .iter()
            .filter(|k| !keys.contains(k.key()))
            .map(|k| k.key().clone())
            .collect();
        for id in gone {
            self.remove_api_key(&id);
        }
        for k in s.api_keys {
            if self.api_key(&k.id).is_none() {
                self.put_api_key(k);
            }
        }
        let workflows: std::collections::HashSet<String> =
            s.workflows.iter().map(|w| w.id.clone()).collect();
        let gone: Vec<String> = self
            .workflows
            .iter()
            .filter(|w| !workflows.contains(w.key()))
            .map(|w| w.key().clone())
            .collect();
        for id in gone {
            self.workflows.remove(&id);
            changes.deleted_workflows.push(id);
        }
        for w in s.workflows {
            match self.workflow(&w.id) {
                Some(old) if old.updated_at == w.updated_at => {}
                Some(_) => {
                    changes.changed_workflows.push(w.id.clone());
                    self.put_workflow(w);
                }
                None => {
                    self.put_workflow(w);
                }
            }
        }
        let hooks: std::collections::HashSet<String> =
            s.hooks.iter().map(|h| h.id.clone()).collect();
        self.hooks.retain(|id, _| hooks.contains(id));
        for h in s.hooks {
            if self.hook(&h.id).is_none() {
                self.put_hook(h);
            }
        }
        changes
    }
}

/// What [`Catalog::sync_with`] changed that the engine caches.
#[derive(Debug, Default)]
pub struct CatalogChanges {
    pub changed_workflows: Vec<String>,
    pub deleted_workflows: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Trigger, WorkflowStatus};

    fn workflow(id: &str, updated_at: i64) -> Workflow {
        Workflow {
            id: id.into(),
            account_id: "acct_1".into(),
            name: "wf".into(),
            status: WorkflowStatus::Active,
            version: 1,
            trigger: Trigger {
                kind: "webhook".into(),
                event: None,
            },
            actions: Vec::new(),
            created_at: 1,
            updated_at,
        }
    }

    #[test]
    fn a_sync_adds_changes_and_removes_what_another_daemon_did() {
        let c = Catalog::from_snapshot(CatalogSnapshot {
            workflows: vec![
                workflow("wf_same", 1),
                workflow("wf_edited", 1),
                workflow("wf_gone", 1),
            ],
            ..Default::default()
        });
        let changes = c.sync_with(CatalogSnapshot {
            workflows: vec![
                workflow("wf_same", 1),
                workflow("wf_edited", 2),
                workflow("wf_new", 1),
            ],
            ..Default::default()
        });
        assert_eq!(changes.changed_workflows, vec!["wf_edited".to_string()]);
        assert_eq!(changes.deleted_workflows, vec!["wf_gone".to_string()]);
        assert_eq!(c.workflow("wf_edited").unwrap().updated_at, 2);
        assert!(c.workflow("wf_new").is_some() && c.workflow("wf_gone").is_none());
    }
}
