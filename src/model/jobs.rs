//! Background jobs over past executions: a bulk replay (run them again, for real) and a
//! shadow replay (run a draft definition over them with every side effect stubbed, and
//! compare). Stored, so progress survives a restart and any daemon can report it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, ExecutionStatus, StepStatus, Trigger};
use crate::timefmt::{rfc3339_ms, rfc3339_ms_opt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Replay,
    ShadowReplay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Completed,
    Cancelled,
    Failed,
}

impl JobStatus {
    pub fn is_finished(self) -> bool {
        self != JobStatus::Running
    }
}

/// Which past executions of a workflow a job goes over: finished ones (of one status, or
/// both), created within `[from, to]`, oldest first, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayFilter {
    pub status: Option<ExecutionStatus>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub from: Option<i64>,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub to: Option<i64>,
    pub limit: u64,
}

/// The definition a shadow replay tries: a stored version, or a draft like a PATCH's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowDraft {
    /// The version it was taken from, when it was one.
    pub version: Option<u64>,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackgroundJob {
    pub id: String,
    pub account_id: String,
    pub workflow_id: String,
    pub kind: JobKind,
    pub status: JobStatus,
    pub filter: ReplayFilter,
    /// Shadow replays only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<ShadowDraft>,
    /// How many executions the filter selected when the job started.
    pub matched: u64,
    /// Replays: new executions started.
    #[serde(default)]
    pub replayed: u64,
    /// Originals gone (retention) by the time the job reached them.
    #[serde(default)]
    pub skipped: u64,
    /// Shadow replays: compared, with and without a difference.
    #[serde(default)]
    pub changed: u64,
    #[serde(default)]
    pub unchanged: u64,
    /// The last original handled (ids are time-ordered): the next batch starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
    #[serde(with = "rfc3339_ms_opt", default)]
    pub finished_at: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    /// A cancel was asked for (stored beside the job, so the job's own progress writes never
    /// undo it); the job stops before its next batch.
    #[serde(skip)]
    pub cancel_requested: bool,
}

impl BackgroundJob {
    /// Originals handled so far.
    pub fn processed(&self) -> u64 {
        self.replayed + self.skipped + self.changed + self.unchanged
    }

    /// The status a reader sees: a running job with a cancel requested is cancelled.
    pub fn visible_status(&self) -> JobStatus {
        if self.cancel_requested && self.status == JobStatus::Running {
            JobStatus::Cancelled
        } else {
            self.status
        }
    }
}

/// One step of a run, as compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutline {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a run ended and what its steps did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutline {
    pub status: ExecutionStatus,
    pub steps: Vec<StepOutline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One way a shadow run differs from what really happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// `status`, `steps[i].status`, `steps[i].output`, `steps[i].type`.
    pub path: String,
    pub original: Value,
    pub shadow: Value,
}

/// A shadow replay's verdict on one past execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowResult {
    pub execution_id: String,
    pub changed: bool,
    pub original: RunOutline,
    pub shadow: RunOutline,
    pub differences: Vec<Difference>,
}
