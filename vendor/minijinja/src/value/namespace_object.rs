use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::value::{Enumerator, Object, Value};

/// This object exists for the `namespace` function.
///
/// It's special in that it behaves like a dictionary in many ways but it's the only
/// object that can be used with `{% set %}` assignments.  This is used internally
/// in the vm via downcasting.
#[derive(Debug, Default)]
pub(crate) struct Namespace {
    data: Mutex<BTreeMap<Arc<str>, Value>>,
}

impl Object for Namespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.data.lock().unwrap().get(some!(key.as_str())).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let data = self.data.lock().unwrap();
        let keys = data.keys().cloned().map(Value::from);
        Enumerator::Values(keys.collect())
    }
}

impl Namespace {
    pub(crate) fn set_value(&self, key: &str, value: Value) {
        self.data.lock().unwrap().insert(key.into(), value);
    }

    /// Drops every value: breaks cycles when the render that made it ends.
    pub(crate) fn clear(&self) {
        let values = std::mem::take(&mut *self.data.lock().unwrap());
        drop(values);
    }
}

/// The namespaces one render made, emptied when the render ends.
///
/// `{% set ns.a = (ns, 1) %}` stores a namespace inside itself: a reference
/// cycle that would outlive the render and leak on every render (found by
/// fuzzing). Values never leave a render except as its output, so emptying
/// every namespace at the end is safe, like the closure tracker for macros.
#[derive(Default)]
pub(crate) struct NamespaceTracker {
    namespaces: Mutex<Vec<Arc<Namespace>>>,
}

impl NamespaceTracker {
    pub(crate) fn track(&self, namespace: Arc<Namespace>) {
        self.namespaces.lock().unwrap().push(namespace);
    }
}

impl Drop for NamespaceTracker {
    fn drop(&mut self) {
        for namespace in self.namespaces.lock().unwrap().iter() {
            namespace.clear();
        }
    }
}
