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
//! | `due`               | account id ∙ 0 ∙ due_at ∙ execution id | empty                  |
//! | `pending`           | execution id (legacy, folded into due) | empty                  |
//! | `dedupe`            | hook id ∙ 0 ∙ idempotency key          | DedupeEntry            |
//! | `replies`           | sha256(account id ∙ 0 ∙ Idempotency-Key) | StoredReply        |
//! | `counters`          | workflow id ∙ 0 ∙ status or `all`      | i64 LE (writer-owned)  |
//! | `meta`              | name                                   | bytes                  |
//! | `workflow_versions` | workflow id ∙ 0 ∙ version (u64 BE)     | WorkflowVersion        |
//! | `jobs`              | `j`/`c`/`r` ∙ 0 ∙ job id               | BackgroundJob / cancel request / running |
//! | `job_results`       | job id ∙ 0 ∙ `0` changed or `1` same ∙ 0 ∙ execution id | ShadowResult |
//!
//! `due` holds one entry per unfinished execution: when it next has work to do (`due_at`, in
//! ms since the epoch as 8 big-endian bytes, so keys sort by time within an account). A new
//! event is due when received; a `delay` or a long retry wait moves it to the time it ends.
//! Grouping by account first lets the dispatcher take ready work from each account in turn.
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
    Due,
    /// Read once at open, by versions that kept a pending set instead of the due index.
    Pending,
    Dedupe,
    Counters,
    Meta,
    /// Answers to `/v1` POSTs sent with an Idempotency-Key.
    Replies,
    WorkflowVersions,
    /// Bulk and shadow replays, and the cancel requests beside them.
    Jobs,
    /// Shadow replays' per-execution verdicts.
    JobResults,
}

impl Family {
    pub const ALL: [Family; 16] = [
        Family::Accounts,
        Family::ApiKeys,
        Family::Workflows,
        Family::Hooks,
        Family::Executions,
        Family::ExecByWorkflow,
        Family::ExecByStatus,
        Family::Due,
        Family::Pending,
        Family::Dedupe,
        Family::Counters,
        Family::Meta,
        Family::Replies,
        Family::WorkflowVersions,
        Family::Jobs,
        Family::JobResults,
    ];

    /// Position in [`Family::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Accounts => "accounts",
            Family::ApiKeys => "api_keys",
            Family::Workflows => "workflows",
            Family::Hooks => "hooks",
            Family::Executions => "executions",
            Family::ExecByWorkflow => "exec_by_workflow",
            Family::ExecByStatus => "exec_by_status",
            Family::Due => "due",
            Family::Pending => "pending",
            Family::Dedupe => "dedupe",
            Family::Counters => "counters",
            Family::Meta => "meta",
            Family::Replies => "replies",
            Family::WorkflowVersions => "workflow_versions",
            Family::Jobs => "jobs",
            Family::JobResults => "job_results",
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

/// Key of an execution's entry in `due`.
pub fn due(account_id: &str, due_at_ms: i64, execution_id: &str) -> Vec<u8> {
    let mut k = due_prefix(account_id);
    k.extend_from_slice(&(due_at_ms.max(0) as u64).to_be_bytes());
    k.extend_from_slice(execution_id.as_bytes());
    k
}

/// Prefix (ending in the separator) of one account's entries in `due`.
pub fn due_prefix(account_id: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(account_id.len() + 1 + 8 + 24);
    p.extend_from_slice(account_id.as_bytes());
    p.push(SEP);
    p
}

/// An upper bound above every key of one account in `due`.
pub fn due_prefix_end(account_id: &str) -> Vec<u8> {
    let mut p = due_prefix(account_id);
    *p.last_mut().expect("the prefix ends in the separator") = SEP + 1;
    p
}

/// The due time and execution id of a `due` key under `prefix`.
pub fn parse_due(prefix_len: usize, key: &[u8]) -> Option<(i64, &str)> {
    let rest = key.get(prefix_len..)?;
    let (at, id) = rest.split_at_checked(8)?;
    let at = u64::from_be_bytes(at.try_into().ok()?) as i64;
    Some((at, std::str::from_utf8(id).ok()?))
}

/// Key (in `counters`) of the number of unfinished executions. Workflow ids never start with
/// a control character, so it cannot collide with a workflow's counters.
pub const DUE_COUNTER: &[u8] = b"\x01due";

pub fn dedupe(hook_id: &str, key: &str) -> Vec<u8> {
    join(&[hook_id.as_bytes(), key.as_bytes()])
}

pub fn counter(workflow_id: &str, status: Option<ExecutionStatus>) -> Vec<u8> {
    join(&[
        workflow_id.as_bytes(),
        status.map_or("all", ExecutionStatus::as_str).as_bytes(),
    ])
}

/// Key of one version of a workflow; big-endian so versions sort in order.
pub fn workflow_version(workflow_id: &str, version: u64) -> Vec<u8> {
    let mut k = join(&[workflow_id.as_bytes(), b""]);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// Prefix (ending in the separator) of one workflow's versions.
pub fn workflow_versions_prefix(workflow_id: &str) -> Vec<u8> {
    join(&[workflow_id.as_bytes(), b""])
}

/// Key of a job's state in `jobs`.
pub fn job(id: &str) -> Vec<u8> {
    join(&[b"j", id.as_bytes()])
}

/// Key marking a job as running in `jobs` (removed when it finishes): what is resumed.
pub fn job_running(id: &str) -> Vec<u8> {
    join(&[b"r", id.as_bytes()])
}

/// Prefix of every running marker in `jobs`.
pub fn job_running_prefix() -> Vec<u8> {
    job_running("")
}

/// Key of a job's cancel request in `jobs`.
pub fn job_cancel(id: &str) -> Vec<u8> {
    join(&[b"c", id.as_bytes()])
}

/// Key of one shadow result: changed ones sort first within a job.
pub fn job_result(job_id: &str, changed: bool, execution_id: &str) -> Vec<u8> {
    let group: &[u8] = if changed { b"0" } else { b"1" };
    join(&[job_id.as_bytes(), group, execution_id.as_bytes()])
}

/// Prefix (ending in the separator) of one job's results, or of its changed ones only.
pub fn job_results_prefix(job_id: &str, changed_only: bool) -> Vec<u8> {
    let mut p = if changed_only {
        join(&[job_id.as_bytes(), b"0"])
    } else {
        join(&[job_id.as_bytes()])
    };
    p.push(SEP);
    p
}

pub use crate::ids::{exec_id_ceiling, exec_id_floor};

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
    fn a_familys_index_is_its_place_in_all() {
        for (i, family) in Family::ALL.iter().enumerate() {
            assert_eq!(family.index(), i, "{}", family.name());
        }
    }

    #[test]
    fn due_keys_sort_by_time_within_an_account_and_parse_back() {
        let early = due("acct_1", 1_000, "exec_b");
        let late = due("acct_1", 2_000, "exec_a");
        assert!(early < late);
        let prefix = due_prefix("acct_1");
        assert!(early.starts_with(&prefix));
        assert!(!due("acct_10", 1, "exec_a").starts_with(&prefix));
        assert_eq!(parse_due(prefix.len(), &late), Some((2_000, "exec_a")));
    }

    #[test]
    fn time_bounds_enclose_ids_of_that_time() {
        let id = crate::ids::execution_id(5_000);
        assert!(exec_id_floor(5_000) <= id && id < exec_id_ceiling(5_000));
        assert!(id < exec_id_floor(5_001));
    }
}
