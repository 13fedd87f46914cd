//! Schemas of workflow versions, bulk replays and shadow replays (documentation types, like
//! those of `openapi`).

use serde_json::Value;
use utoipa::ToSchema;

use super::openapi::{Action, ExecutionStatus, Trigger};

/// One immutable version of a workflow's definition.
#[derive(ToSchema)]
pub struct WorkflowVersion {
    pub workflow_id: String,
    #[schema(minimum = 1)]
    pub version: u64,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
    /// When this version was made.
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(ToSchema)]
pub struct WorkflowVersionList {
    pub data: Vec<WorkflowVersion>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FinishedStatus {
    Success,
    Failed,
}

/// `POST /v1/workflows/{id}/replays`: which past executions to run again.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReplay {
    /// Only executions that ended so; both `success` and `failed` when absent (executions
    /// still running are never replayed).
    pub status: Option<FinishedStatus>,
    /// Created at or after.
    #[schema(format = DateTime)]
    pub from: Option<String>,
    /// Created at or before (and never after the replay was asked for).
    #[schema(format = DateTime)]
    pub to: Option<String>,
    /// At most this many, oldest first; 10000 when absent.
    #[schema(minimum = 1, maximum = 100000)]
    pub limit: Option<u64>,
    /// Only count: answers 200 `{"count": N}` and starts nothing.
    pub dry_run: Option<bool>,
}

/// A dry run's answer: how many executions a replay with this filter would run.
#[derive(ToSchema)]
pub struct ReplayCount {
    pub count: u64,
}

/// The filter a job was started with (times frozen: `to` is never later than the start).
#[derive(ToSchema)]
pub struct ReplayFilter {
    pub status: Option<FinishedStatus>,
    #[schema(format = DateTime)]
    pub from: Option<String>,
    #[schema(format = DateTime)]
    pub to: Option<String>,
    pub limit: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ReplayStatus {
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// A bulk replay and its progress.
#[derive(ToSchema)]
pub struct Replay {
    #[schema(example = "rpl_000661a8dafdb586817fab93e77bfe96")]
    pub id: String,
    pub workflow_id: String,
    pub status: ReplayStatus,
    pub filter: ReplayFilter,
    /// How many executions the filter selected when the replay started.
    pub matched: u64,
    /// New executions started so far; each has `replay_of` set to its original.
    pub replayed: u64,
    /// Originals deleted (retention) before the replay reached them.
    pub skipped: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// A definition to try: like a PATCH's body; what is absent is the current workflow's.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowDefinition {
    pub trigger: Option<Trigger>,
    #[schema(min_items = 1, max_items = 100)]
    pub actions: Option<Vec<Action>>,
}

/// `POST /v1/workflows/{id}/shadow-replays`: exactly one of `definition` and `version`,
/// and which past executions to run it over.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShadowReplay {
    pub definition: Option<ShadowDefinition>,
    #[schema(minimum = 1)]
    pub version: Option<u64>,
    pub status: Option<FinishedStatus>,
    #[schema(format = DateTime)]
    pub from: Option<String>,
    #[schema(format = DateTime)]
    pub to: Option<String>,
    /// At most this many, oldest first; 1000 when absent.
    #[schema(minimum = 1, maximum = 10000)]
    pub limit: Option<u64>,
}

/// The definition a shadow replay runs.
#[derive(ToSchema)]
pub struct ShadowDraft {
    pub trigger: Trigger,
    pub actions: Vec<Action>,
}

/// Summary counts of a shadow replay.
#[derive(ToSchema)]
pub struct ShadowSummary {
    /// Executions the filter selected when it started.
    pub matched: u64,
    /// Compared so far (`changed` + `unchanged`).
    pub compared: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// A shadow replay: the draft run over past executions with every side effect stubbed.
#[derive(ToSchema)]
pub struct ShadowReplay {
    #[schema(example = "shr_000661a8dafdb586817fab93e77bfe96")]
    pub id: String,
    pub workflow_id: String,
    pub status: ReplayStatus,
    /// The version the draft was taken from, when `version` was given.
    pub version: Option<u64>,
    pub definition: ShadowDraft,
    pub filter: ReplayFilter,
    pub summary: ShadowSummary,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// One step of a run, as compared.
#[derive(ToSchema)]
pub struct ShadowStep {
    pub index: u64,
    pub r#type: String,
    /// `pending`, `running`, `success`, `failed`, `skipped`.
    pub status: String,
    /// A stubbed `send_email` or `http_request` shows what would have been sent
    /// (`{"stubbed": true, "email": …}` / `{"stubbed": true, "request": …}`).
    pub output: Option<Value>,
    pub error: Option<String>,
}

#[derive(ToSchema)]
pub struct ShadowRun {
    pub status: ExecutionStatus,
    pub steps: Vec<ShadowStep>,
    pub error: Option<String>,
}

/// One way the shadow run differs from what really happened.
#[derive(ToSchema)]
pub struct ShadowDifference {
    /// `status`, `steps[i].type`, `steps[i].status` or `steps[i].output` (outputs of
    /// `filter` and `transform` only).
    pub path: String,
    pub original: Value,
    pub shadow: Value,
}

/// A shadow replay's verdict on one past execution.
#[derive(ToSchema)]
pub struct ShadowResult {
    pub execution_id: String,
    pub changed: bool,
    pub original: ShadowRun,
    pub shadow: ShadowRun,
    pub differences: Vec<ShadowDifference>,
}

#[derive(ToSchema)]
pub struct ShadowResultList {
    pub data: Vec<ShadowResult>,
    /// Results matching (all, or the changed ones).
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}
