//! Key layout of every column family. Keys are byte strings ordered so that each read we serve
//! is one contiguous range:
//!
//! | column family       | key                                    | value                  |
//! |---------------------|----------------------------------------|------------------------|
//! | `accounts`          | account id                             | Account                |
//! | `api_keys`          | key id                                 | ApiKey (hash only)     |
//! | `workflows`         | workflow id                            | Workflow               |
//! | `hooks`             | hook id                                | Hook                   |
//! | `executions`        | execution id (time-ordered)            | Execution              |
//! | `exec_by_workflow`  | workflow id ∙ 0 ∙ execution id         | ExecutionSummary       |
//! | `exec_by_status`    | workflow id ∙ 0 ∙ status ∙ 0 ∙ exec id | empty                  |
//! | `pending`           | execution id                           | empty                  |
//! | `dedupe`            | hook id ∙ 0 ∙ idempotency key          | DedupeEntry            |
//! | `counters`          | workflow id ∙ 0 ∙ status or `all`      | i64 LE (writer-owned)  |
//! | `meta`              | name                                   | bytes                  |
//!
//! Execution ids start with their creation time in hex, so a reverse scan of
//! `exec_by_workflow` within one workflow's prefix is "newest first", and a time window is a
//! key range.

use crate::model::ExecutionStatus;

pub const SEP: u8 = 0;

/// Column families, named by the data they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Accounts,
    ApiKeys,
    Workflows,
    Hooks,
    Executions,
    ExecByWorkflow,
    ExecByStatus,
    Pending,
    Dedupe,
    Counters,
    Meta,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::Accounts,
        Family::ApiKeys,
        Family::Workflows,
        Family::Hooks,
        Family::Executions,
        Family::ExecByWorkflow,
        Family::ExecByStatus,
        Family::Pending,
        Family::Dedupe,
        Family::Counters,
        Family::Meta,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Accounts => "accounts",
            Family::ApiKeys => "api_keys",
            Family::Workflows => "workflows",
            Family::Hooks => "hooks",
            Family::Executions => "executions",
            Family::ExecByWorkflow => "exec_by_workflow",
            Family::ExecByStatus => "exec_by_status",
            Family::Pending => "pending",
            Family::Dedupe => "dedupe",
            Family::Counters => "counters",
            Family::Meta => "meta",
        }
    }
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(SEP);
        }
        k.extend_from_slice(p);
    }
    k
}

pub fn exec_by_workflow(workflow_id: &str, execution_id: &str) -> Vec<u8> {
    join(&[workflow_id.as_bytes(), execution_id.as_bytes()])
}

pub fn exec_by_status(workflow_id: &str, status: ExecutionStatus, execution_id: &str) -> Vec<u8> {
    join(&[
        workflow_id.as_bytes(),
        status.as_str().as_bytes(),
        execution_id.as_bytes(),
    ])
}

/// Prefix (ending in the separator) of one workflow's entries in `exec_by_workflow`, or of
/// one status's entries in `exec_by_status`.
pub fn exec_list_prefix(workflow_id: &str, status: Option<ExecutionStatus>) -> Vec<u8> {
    let mut p = match status {
        None => join(&[workflow_id.as_bytes()]),
        Some(s) => join(&[workflow_id.as_bytes(), s.as_str().as_bytes()]),
    };
    p.push(SEP);
    p
}

pub fn dedupe(hook_id: &str, key: &str) -> Vec<u8> {
    join(&[hook_id.as_bytes(), key.as_bytes()])
}

pub fn counter(workflow_id: &str, status: Option<ExecutionStatus>) -> Vec<u8> {
    join(&[
        workflow_id.as_bytes(),
        status.map_or("all", ExecutionStatus::as_str).as_bytes(),
    ])
}

/// Lowest execution id created at or after `micros`.
pub fn exec_id_floor(micros: i64) -> String {
    format!("exec_{:016x}", micros.max(0) as u64)
}

/// An id greater than every execution id created at or before `micros`.
pub fn exec_id_ceiling(micros: i64) -> String {
    // '~' sorts after every hex digit.
    format!("exec_{:016x}~", micros.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_workflows_entries_do_not_share_a_prefix_with_anothers() {
        let p = exec_list_prefix("wf_1", None);
        assert!(exec_by_workflow("wf_1", "exec_a").starts_with(&p));
        assert!(!exec_by_workflow("wf_10", "exec_a").starts_with(&p));
    }

    #[test]
    fn time_bounds_enclose_ids_of_that_time() {
        let id = crate::ids::execution_id(5_000);
        assert!(exec_id_floor(5_000) <= id && id < exec_id_ceiling(5_000));
        assert!(id < exec_id_floor(5_001));
    }
}
