"""Typed shapes of the API's JSON (components/schemas of openapi.json).

Answers are plain dicts; these TypedDicts describe them for type checkers and editors. Keys
marked optional in the API are in the `total=False` part of each shape.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

__all__ = [
    "Accepted", "Account", "AccountList", "Action", "ApiKey", "ApiKeyList", "CreateAccount",
    "CreateApiKey", "CreateWebhook", "CreateWorkflow", "DelayAction", "DelayConfig",
    "ErrorBody", "ErrorDetails", "ErrorEnvelope", "Execution", "ExecutionList",
    "ExecutionStatus", "ExecutionSummary", "ExecutionTrigger", "FilterAction", "FilterConfig",
    "Health", "HookResponse", "HookVerify", "HttpMethod", "HttpRequestAction",
    "HttpRequestConfig", "Limits", "LimitsPatch", "Plan", "Replay", "ReplayCount",
    "ReplayFilter", "ReplayStatus", "ResponseMode", "RetryPolicy", "SendEmailAction",
    "SendEmailConfig", "ShadowDefinition", "ShadowDifference", "ShadowReplay", "ShadowResult",
    "ShadowResultList", "ShadowRun", "ShadowStep", "ShadowSummary", "SigningSecret",
    "StepRecord", "TemplateValue", "TransformAction", "TransformConfig", "Trigger",
    "TriggerType", "UpdateAccount", "UpdateWorkflow", "Webhook", "WebhookList", "Workflow",
    "WorkflowList", "WorkflowStatus", "WorkflowVersion", "WorkflowVersionList",
]

ExecutionStatus = Literal["queued", "running", "success", "failed"]
WorkflowStatus = Literal["draft", "active", "paused"]
HookVerify = Literal["none", "hmac_sha256"]
ResponseMode = Literal["async", "sync"]
# A replay's or shadow replay's state; only "running" still changes.
ReplayStatus = Literal["running", "completed", "cancelled", "failed"]
Plan = Literal["free", "pro", "enterprise"]
TriggerType = Literal["webhook"]
HttpMethod = Literal[
    "GET", "get", "POST", "post", "PUT", "put", "PATCH", "patch", "DELETE", "delete", "HEAD", "head"
]
# Any JSON value; every string in it is a template.
TemplateValue = Any


class ErrorDetails(TypedDict):
    field: str
    issue: str


class _ErrorBodyRequired(TypedDict):
    code: str
    message: str


class ErrorBody(_ErrorBodyRequired, total=False):
    details: Optional[ErrorDetails]


class ErrorEnvelope(TypedDict):
    error: ErrorBody


class _TriggerRequired(TypedDict):
    type: TriggerType


class Trigger(_TriggerRequired, total=False):
    event: Optional[str]


class RetryPolicy(TypedDict, total=False):
    max_attempts: int
    backoff: Union[int, str]


_SendEmailConfigRequired = TypedDict(
    "_SendEmailConfigRequired", {"to": str, "subject": str, "body": str}
)
_SendEmailConfigOptional = TypedDict(
    "_SendEmailConfigOptional",
    {"from": Optional[str], "cc": Optional[Union[str, List[str]]]},
    total=False,
)


class SendEmailConfig(_SendEmailConfigRequired, _SendEmailConfigOptional):
    pass


class _HttpRequestConfigRequired(TypedDict):
    url: str


class HttpRequestConfig(_HttpRequestConfigRequired, total=False):
    method: Optional[HttpMethod]
    headers: Optional[Dict[str, str]]
    body: TemplateValue
    timeout_ms: Optional[int]


class DelayConfig(TypedDict):
    seconds: int


class FilterConfig(TypedDict):
    condition: str


class TransformConfig(TypedDict):
    set: Dict[str, TemplateValue]


class _SendEmailActionRequired(TypedDict):
    type: Literal["send_email"]
    config: SendEmailConfig


class SendEmailAction(_SendEmailActionRequired, total=False):
    retry: Optional[RetryPolicy]


class _HttpRequestActionRequired(TypedDict):
    type: Literal["http_request"]
    config: HttpRequestConfig


class HttpRequestAction(_HttpRequestActionRequired, total=False):
    retry: Optional[RetryPolicy]


class _DelayActionRequired(TypedDict):
    type: Literal["delay"]
    config: DelayConfig


class DelayAction(_DelayActionRequired, total=False):
    retry: Optional[RetryPolicy]


class _FilterActionRequired(TypedDict):
    type: Literal["filter"]
    config: FilterConfig


class FilterAction(_FilterActionRequired, total=False):
    retry: Optional[RetryPolicy]


class _TransformActionRequired(TypedDict):
    type: Literal["transform"]
    config: TransformConfig


class TransformAction(_TransformActionRequired, total=False):
    retry: Optional[RetryPolicy]


Action = Union[SendEmailAction, HttpRequestAction, DelayAction, FilterAction, TransformAction]


class _CreateWorkflowRequired(TypedDict):
    name: str
    trigger: Trigger
    actions: List[Action]


class CreateWorkflow(_CreateWorkflowRequired, total=False):
    status: Optional[WorkflowStatus]


class UpdateWorkflow(TypedDict, total=False):
    name: Optional[str]
    trigger: Optional[Trigger]
    actions: Optional[List[Action]]
    status: Optional[WorkflowStatus]


class Workflow(TypedDict):
    id: str
    name: str
    status: WorkflowStatus
    version: int
    trigger: Trigger
    actions: List[Action]
    created_at: str
    updated_at: str


class WorkflowList(TypedDict):
    data: List[Workflow]
    total: int
    page: int
    per_page: int


class WorkflowVersion(TypedDict):
    """One immutable version of a workflow's trigger and actions (1, then one more per change)."""

    workflow_id: str
    version: int
    trigger: Trigger
    actions: List[Action]
    created_at: str


class WorkflowVersionList(TypedDict):
    data: List[WorkflowVersion]
    total: int
    page: int
    per_page: int


class _CreateWebhookRequired(TypedDict):
    workflow_id: str
    event: str


class _HookResponseRequired(TypedDict):
    mode: ResponseMode


class HookResponse(_HookResponseRequired, total=False):
    """How a webhook answers: "sync" waits for the execution (up to timeout_ms, 1-30000,
    default 10000) and answers 200 with its result; "async" (the default) answers 202."""

    timeout_ms: Optional[int]
    step: Optional[int]


class CreateWebhook(_CreateWebhookRequired, total=False):
    verify: Optional[HookVerify]
    response: Optional[HookResponse]


class _WebhookRequired(TypedDict):
    id: str
    url: str
    workflow_id: str
    event: str
    verify: HookVerify
    created_at: str


class Webhook(_WebhookRequired, total=False):
    secret: Optional[str]
    response: Optional[HookResponse]


class WebhookList(TypedDict):
    data: List[Webhook]
    total: int
    page: int
    per_page: int


class _ExecutionTriggerRequired(TypedDict):
    event: str
    received_at: str


class ExecutionTrigger(_ExecutionTriggerRequired, total=False):
    hook_id: Optional[str]


class _StepRecordRequired(TypedDict):
    index: int
    type: str
    status: str
    attempts: int


class StepRecord(_StepRecordRequired, total=False):
    started_at: Optional[str]
    completed_at: Optional[str]
    duration_ms: Optional[int]
    output: Any
    error: Optional[str]


class _ExecutionSummaryRequired(TypedDict):
    id: str
    workflow_id: str
    status: ExecutionStatus


class ExecutionSummary(_ExecutionSummaryRequired, total=False):
    started_at: Optional[str]
    completed_at: Optional[str]
    duration_ms: Optional[int]
    error: Optional[str]


class _ExecutionRequired(_ExecutionSummaryRequired):
    trigger: ExecutionTrigger
    input: Any
    steps: List[StepRecord]


class Execution(_ExecutionRequired, total=False):
    started_at: Optional[str]
    completed_at: Optional[str]
    duration_ms: Optional[int]
    error: Optional[str]
    resume_at: Optional[str]
    replay_of: Optional[str]
    # Absent on executions recorded before workflows had versions.
    workflow_version: Optional[int]


class ExecutionList(TypedDict):
    data: List[ExecutionSummary]
    total: int
    page: int
    per_page: int


class _AcceptedRequired(TypedDict):
    execution_id: str
    status: ExecutionStatus


class Accepted(_AcceptedRequired, total=False):
    duplicate: Optional[bool]
    result: Any
    error: Optional[str]


class CreateApiKey(TypedDict, total=False):
    name: Optional[str]


class _ApiKeyRequired(TypedDict):
    id: str
    name: str
    prefix: str
    account_id: str
    created_at: str


class ApiKey(_ApiKeyRequired, total=False):
    key: Optional[str]


class ApiKeyList(TypedDict):
    data: List[ApiKey]
    total: int


class SigningSecret(TypedDict):
    secret: str


class Health(TypedDict):
    status: str


class Limits(TypedDict):
    requests_per_minute: int
    requests_per_day: int
    webhooks_per_second: int


class LimitsPatch(TypedDict, total=False):
    requests_per_minute: Optional[int]
    requests_per_day: Optional[int]
    webhooks_per_second: Optional[int]


class _CreateAccountRequired(TypedDict):
    name: str


class CreateAccount(_CreateAccountRequired, total=False):
    plan: Optional[Plan]
    limits: Optional[LimitsPatch]


class UpdateAccount(TypedDict, total=False):
    name: Optional[str]
    plan: Optional[Plan]
    limits: Optional[LimitsPatch]


class _AccountRequired(TypedDict):
    id: str
    name: str
    plan: Plan
    limits: Limits
    created_at: str
    updated_at: str


class Account(_AccountRequired, total=False):
    custom_limits: Optional[Limits]


class AccountList(TypedDict):
    data: List[Account]
    total: int


# Which past executions a replay or shadow replay goes over ("from" is a keyword, hence the
# functional form).
ReplayFilter = TypedDict("ReplayFilter", {
    "status": Optional[Literal["success", "failed"]],
    "from": Optional[str],
    "to": Optional[str],
    "limit": int,
})


class ReplayCount(TypedDict):
    """A dry run's answer: how many executions the replay would run again."""

    count: int


class Replay(TypedDict):
    """A bulk replay: `matched` is what the filter selected, `replayed` the new executions
    started so far (each with `replay_of` set), `skipped` the originals gone before."""

    id: str
    workflow_id: str
    status: ReplayStatus
    filter: ReplayFilter
    matched: int
    replayed: int
    skipped: int
    created_at: str
    updated_at: str
    finished_at: Optional[str]
    error: Optional[str]


class ShadowDefinition(TypedDict, total=False):
    """A definition to try; what is absent is taken from the current workflow."""

    trigger: Trigger
    actions: List[Action]


class ShadowSummary(TypedDict):
    matched: int
    compared: int
    changed: int
    unchanged: int


class ShadowReplay(TypedDict):
    """Past executions' inputs run through another definition and compared with what they did.
    `version` is the version tried, or None when a definition was given."""

    id: str
    workflow_id: str
    status: ReplayStatus
    version: Optional[int]
    definition: ShadowDefinition
    filter: ReplayFilter
    summary: ShadowSummary
    created_at: str
    updated_at: str
    finished_at: Optional[str]
    error: Optional[str]


class _ShadowStepRequired(TypedDict):
    index: int
    type: str
    status: str


class ShadowStep(_ShadowStepRequired, total=False):
    output: Any
    error: str


class _ShadowRunRequired(TypedDict):
    status: ExecutionStatus
    steps: List[ShadowStep]


class ShadowRun(_ShadowRunRequired, total=False):
    error: Optional[str]


class ShadowDifference(TypedDict):
    """E.g. `{"path": "steps[1].status", "original": "skipped", "shadow": "success"}`; the
    values are any JSON, None included."""

    path: str
    original: Any
    shadow: Any


class ShadowResult(TypedDict):
    execution_id: str
    changed: bool
    original: ShadowRun
    shadow: ShadowRun
    differences: List[ShadowDifference]


class ShadowResultList(TypedDict):
    data: List[ShadowResult]
    total: int
    page: int
    per_page: int
