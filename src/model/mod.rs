//! The daemon's data: what is stored, what the API returns. No behaviour beyond small helpers.
//!
//! Timestamps are unix milliseconds in memory and RFC 3339 UTC on the wire and on disk.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::timefmt::{rfc3339_ms, rfc3339_ms_opt};

mod jobs;
pub use jobs::{
    BackgroundJob, Difference, JobKind, JobStatus, ReplayFilter, RunOutline, ShadowDraft,
    ShadowResult, StepOutline,
};

/// A plan from the reference's rate-limit table.
/// A secret shown to its owner (a hook's secret, an account's signing secret): stored and
/// serialised as the plain string, but never printed by `Debug`, so a logged or panicking
/// struct cannot leak it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(secret: String) -> SecretText {
        SecretText(secret)
    }

    /// The secret itself, for signing and for showing it to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Some(Plan::Free),
            "pro" => Some(Plan::Pro),
            "enterprise" => Some(Plan::Enterprise),
            _ => None,
        }
    }
}

/// Rate limits of a plan or of one Enterprise account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub requests_per_minute: u64,
    pub requests_per_day: u64,
    /// Webhook events accepted per second for the whole account (ingest quota).
    pub webhooks_per_second: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    /// Custom numbers; only honoured for Enterprise accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Key for signing outgoing `http_request` bodies. Never returned except by
    /// `GET /v1/signing-secret`.
    #[serde(default)]
    pub signing_secret: SecretText,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

/// A stored API key: only the SHA-256 of the secret is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// The first characters of the key, so a user can tell keys apart.
    pub prefix: String,
    /// Lowercase hex SHA-256 of the whole key.
    pub hash: String,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowStatus {
    Draft,
    Active,
    Paused,
}

impl WorkflowStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "active" => Some(Self::Active),
            "paused" => Some(Self::Paused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// One action as the user wrote it; `steps::spec` parses and validates `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workflow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub status: WorkflowStatus,
    /// Grows by one with every change to `trigger` or `actions` (see [`WorkflowVersion`]).
    #[serde(default = "first_version")]
    pub version: u64,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

/// Workflows stored before versions existed are at their first.
fn first_version() -> u64 {
    1
}

impl Workflow {
    /// The definition this workflow runs now, as an immutable version made at `at_ms`.
    pub fn current_version(&self, at_ms: i64) -> WorkflowVersion {
        WorkflowVersion {
            workflow_id: self.id.clone(),
            version: self.version,
            trigger: self.trigger.clone(),
            actions: self.actions.clone(),
            created_at: at_ms,
        }
    }

    /// This workflow running `version`'s definition: how an execution that started on an
    /// older version finishes on it.
    pub fn at_version(&self, version: &WorkflowVersion) -> Workflow {
        Workflow {
            version: version.version,
            trigger: version.trigger.clone(),
            actions: version.actions.clone(),
            ..self.clone()
        }
    }
}

/// One immutable version of a workflow's definition: what an execution of it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowVersion {
    pub workflow_id: String,
    pub version: u64,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

/// How an incoming webhook must prove where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookVerify {
    None,
    HmacSha256,
}

/// How a webhook answers the one who posted the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseMode {
    /// 202 once the event is stored (the default).
    Async,
    /// The execution's result once it finished, or 202 when it takes longer than `timeout_ms`.
    Sync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookResponse {
    pub mode: ResponseMode,
    /// How long a synchronous answer waits for the execution to finish.
    pub timeout_ms: u64,
    /// The step (0-based) whose output is the result; default: the last `transform`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hook {
    pub id: String,
    pub account_id: String,
    pub workflow_id: String,
    pub event: String,
    pub secret: SecretText,
    pub verify: HookVerify,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HookResponse>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Success,
    Failed,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 4] = [
        ExecutionStatus::Queued,
        ExecutionStatus::Running,
        ExecutionStatus::Success,
        ExecutionStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Success | Self::Failed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pending,
    Running,
    Success,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: StepStatus,
    pub attempts: u32,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub started_at: Option<i64>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionTrigger {
    pub hook_id: Option<String>,
    pub event: String,
    #[serde(with = "rfc3339_ms")]
    pub received_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    pub account_id: String,
    pub workflow_id: String,
    /// The workflow version this execution runs (absent on executions recorded before
    /// workflows had versions: they run the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_version: Option<u64>,
    pub status: ExecutionStatus,
    pub trigger: ExecutionTrigger,
    pub input: Value,
    pub steps: Vec<StepRecord>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub started_at: Option<i64>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// Set while a `delay` step (or a long wait between retries) holds the execution: when it
    /// may continue.
    #[serde(
        with = "rfc3339_ms_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resume_at: Option<i64>,
    /// The execution this one replays, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<String>,
}

/// What the executions list shows for one execution; kept in the list index so a page of 100
/// needs no read of the (possibly large) full records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub id: String,
    pub workflow_id: String,
    pub status: ExecutionStatus,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub started_at: Option<i64>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
}

/// What the store's indexes know of a stored execution: its status (status index, counters)
/// and when it is due (due index). Saving progress moves the entries from the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persisted {
    pub status: ExecutionStatus,
    pub due_at_ms: Option<i64>,
}

impl Execution {
    /// When this execution next has work to do: None once finished; the end of its delay or
    /// retry wait while one holds it; otherwise the time it was received (due since).
    pub fn due_at_ms(&self) -> Option<i64> {
        if self.status.is_terminal() {
            return None;
        }
        Some(self.resume_at.unwrap_or(self.trigger.received_at))
    }

    /// This execution's index state, as it would be stored now.
    pub fn persisted(&self) -> Persisted {
        Persisted {
            status: self.status,
            due_at_ms: self.due_at_ms(),
        }
    }

    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            id: self.id.clone(),
            workflow_id: self.workflow_id.clone(),
            status: self.status,
            started_at: self.started_at,
            completed_at: self.completed_at,
            duration_ms: self.duration_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stored_as_plain_strings_but_never_printed() {
        let hook = Hook {
            id: "hook_1".into(),
            account_id: "acct_1".into(),
            workflow_id: "wf_1".into(),
            event: "e".into(),
            secret: SecretText::new("whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ=".into()),
            verify: HookVerify::HmacSha256,
            created_at: 0,
            response: None,
        };
        let printed = format!("{hook:?} {hook:#?}");
        assert!(!printed.contains("c2VjcmV0"), "{printed}");
        let stored = serde_json::to_value(&hook).unwrap();
        assert_eq!(stored["secret"], "whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
        let back: Hook = serde_json::from_value(stored).unwrap();
        assert_eq!(back.secret, hook.secret);
    }
}
