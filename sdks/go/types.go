package botcadence

import (
	"encoding/json"
	"time"
)

// The types below follow the schemas of openapi.json (components.schemas), one Go type each;
// TestSchemasHaveTypes checks every property has a field. Optional strings that the API
// answers as null read as "".

// WorkflowStatus is a workflow's state: only active workflows accept events.
type WorkflowStatus string

// The workflow states.
const (
	WorkflowDraft  WorkflowStatus = "draft"
	WorkflowActive WorkflowStatus = "active"
	WorkflowPaused WorkflowStatus = "paused"
)

// ExecutionStatus is an execution's state.
type ExecutionStatus string

// The execution states.
const (
	ExecutionQueued  ExecutionStatus = "queued"
	ExecutionRunning ExecutionStatus = "running"
	ExecutionSuccess ExecutionStatus = "success"
	ExecutionFailed  ExecutionStatus = "failed"
)

// Finished reports whether the execution will not change any more.
func (s ExecutionStatus) Finished() bool {
	return s == ExecutionSuccess || s == ExecutionFailed
}

// TriggerType is what starts a workflow.
type TriggerType string

// TriggerWebhook: an event posted to one of the workflow's webhooks.
const TriggerWebhook TriggerType = "webhook"

// HookVerify is how a webhook checks incoming events.
type HookVerify string

// The verification modes of a webhook.
const (
	HookVerifyNone       HookVerify = "none"
	HookVerifyHMACSHA256 HookVerify = "hmac_sha256"
)

// ResponseMode is how a webhook answers whoever posts an event.
type ResponseMode string

// The response modes of a webhook.
const (
	// ResponseAsync answers 202 once the event is stored (the default).
	ResponseAsync ResponseMode = "async"
	// ResponseSync waits for the execution to finish and answers 200 with its result, or
	// 202 past the timeout.
	ResponseSync ResponseMode = "sync"
)

// HookResponse configures a synchronous webhook.
type HookResponse struct {
	Mode ResponseMode `json:"mode"`
	// TimeoutMS is 1–30000 milliseconds; 10000 when zero.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Step (0-based) names the step whose output is the result; the last transform's when nil.
	Step *int `json:"step,omitempty"`
}

// Plan is an account's plan.
type Plan string

// The plans.
const (
	PlanFree       Plan = "free"
	PlanPro        Plan = "pro"
	PlanEnterprise Plan = "enterprise"
)

// TemplateValue is any JSON value in which every string is a template, such as
// "{{user.email}}": a string, number, bool, nil, []interface{} or map[string]interface{}.
type TemplateValue = interface{}

// Trigger says which events start a workflow.
type Trigger struct {
	Type TriggerType `json:"type"`
	// Event: only events of this name start the workflow; any event when empty.
	Event string `json:"event,omitempty"`
}

// Workflow is a trigger and the actions it runs.
type Workflow struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Status WorkflowStatus `json:"status"`
	// Version grows by one with every change to Trigger or Actions (see WorkflowVersions).
	Version   int64     `json:"version"`
	Trigger   Trigger   `json:"trigger"`
	Actions   Actions   `json:"actions"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WorkflowList is one page of workflows.
type WorkflowList struct {
	Data    []Workflow `json:"data"`
	Total   int64      `json:"total"`
	Page    int64      `json:"page"`
	PerPage int64      `json:"per_page"`
}

// CreateWorkflowParams is the body of Workflows.Create (schema CreateWorkflow).
type CreateWorkflowParams struct {
	// Name is required; left out when empty, so that the daemon names it as missing.
	Name    string  `json:"name,omitempty"`
	Trigger Trigger `json:"trigger"`
	Actions Actions `json:"actions"`
	// Status is "draft" when empty; "active" accepts events at once.
	Status WorkflowStatus `json:"status,omitempty"`
}

// UpdateWorkflowParams is the body of Workflows.Update (schema UpdateWorkflow): only the
// fields set are changed.
type UpdateWorkflowParams struct {
	Name    string         `json:"name,omitempty"`
	Trigger *Trigger       `json:"trigger,omitempty"`
	Actions Actions        `json:"actions,omitempty"`
	Status  WorkflowStatus `json:"status,omitempty"`
}

// ListWorkflowsParams filters and pages Workflows.List. Zero values are left out.
type ListWorkflowsParams struct {
	Page    int
	PerPage int
	Status  WorkflowStatus
}

// WorkflowVersion is one immutable version of a workflow's trigger and actions.
type WorkflowVersion struct {
	WorkflowID string `json:"workflow_id"`
	// Version is 1 for the definition the workflow was created with, then one more per change.
	Version   int64     `json:"version"`
	Trigger   Trigger   `json:"trigger"`
	Actions   Actions   `json:"actions"`
	CreatedAt time.Time `json:"created_at"`
}

// WorkflowVersionList is one page of a workflow's versions, newest first.
type WorkflowVersionList struct {
	Data    []WorkflowVersion `json:"data"`
	Total   int64             `json:"total"`
	Page    int64             `json:"page"`
	PerPage int64             `json:"per_page"`
}

// ListWorkflowVersionsParams pages WorkflowVersions.List. Zero values are left out.
type ListWorkflowVersionsParams struct {
	Page    int
	PerPage int
}

// Webhook is a URL that receives events for a workflow.
type Webhook struct {
	ID         string     `json:"id"`
	URL        string     `json:"url"`
	WorkflowID string     `json:"workflow_id"`
	Event      string     `json:"event"`
	Verify     HookVerify `json:"verify"`
	CreatedAt  time.Time  `json:"created_at"`
	// Secret is only in the answer to the webhook's creation.
	Secret string `json:"secret,omitempty"`
	// Response is set when the webhook was created with one.
	Response *HookResponse `json:"response,omitempty"`
}

// WebhookList is one page of webhooks.
type WebhookList struct {
	Data    []Webhook `json:"data"`
	Total   int64     `json:"total"`
	Page    int64     `json:"page"`
	PerPage int64     `json:"per_page"`
}

// CreateWebhookParams is the body of Webhooks.Create (schema CreateWebhook).
type CreateWebhookParams struct {
	WorkflowID string `json:"workflow_id"`
	Event      string `json:"event"`
	// Verify is "none" when empty.
	Verify HookVerify `json:"verify,omitempty"`
	// Response makes the webhook synchronous; nil answers 202 once stored.
	Response *HookResponse `json:"response,omitempty"`
}

// ListWebhooksParams pages Webhooks.List. Zero values are left out.
type ListWebhooksParams struct {
	Page    int
	PerPage int
	// WorkflowID keeps only the hooks of that workflow.
	WorkflowID string
}

// Execution is what one event did, step by step.
type Execution struct {
	ID         string           `json:"id"`
	WorkflowID string           `json:"workflow_id"`
	Status     ExecutionStatus  `json:"status"`
	Trigger    ExecutionTrigger `json:"trigger"`
	// Input is the event's payload, as received.
	Input       json.RawMessage `json:"input"`
	Steps       []StepRecord    `json:"steps"`
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
	DurationMS  *int64          `json:"duration_ms,omitempty"`
	Error       string          `json:"error,omitempty"`
	// ResumeAt is when an execution held by a delay (or a long wait between retries)
	// continues.
	ResumeAt *time.Time `json:"resume_at,omitempty"`
	// ReplayOf is the execution this one replays.
	ReplayOf string `json:"replay_of,omitempty"`
	// WorkflowVersion is the version of the workflow this execution runs; 0 for executions
	// recorded before workflows had versions.
	WorkflowVersion int64 `json:"workflow_version,omitempty"`
}

// ExecutionTrigger is the event that started an execution.
type ExecutionTrigger struct {
	HookID     string    `json:"hook_id,omitempty"`
	Event      string    `json:"event"`
	ReceivedAt time.Time `json:"received_at"`
}

// StepRecord is one step of an execution.
type StepRecord struct {
	Index int64  `json:"index"`
	Type  string `json:"type"`
	// Status: pending, running, success, failed or skipped.
	Status      string          `json:"status"`
	Attempts    int64           `json:"attempts"`
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
	DurationMS  *int64          `json:"duration_ms,omitempty"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// ExecutionSummary is one execution in a list: no input, no step outputs.
type ExecutionSummary struct {
	ID          string          `json:"id"`
	WorkflowID  string          `json:"workflow_id"`
	Status      ExecutionStatus `json:"status"`
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
	DurationMS  *int64          `json:"duration_ms,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// ExecutionList is one page of executions, newest first.
type ExecutionList struct {
	Data    []ExecutionSummary `json:"data"`
	Total   int64              `json:"total"`
	Page    int64              `json:"page"`
	PerPage int64              `json:"per_page"`
}

// ListExecutionsParams filters and pages Executions.List. Zero values are left out.
type ListExecutionsParams struct {
	Page    int
	PerPage int
	Status  ExecutionStatus
	// From and To bound when the event was received (inclusive).
	From time.Time
	To   time.Time
}

// Accepted is the answer to an event (202, or 200 for a duplicate).
type Accepted struct {
	ExecutionID string          `json:"execution_id"`
	Status      ExecutionStatus `json:"status"`
	// Duplicate is true when the Idempotency-Key or webhook-id was seen before.
	Duplicate bool `json:"duplicate,omitempty"`
	// Result is a synchronous webhook's result (its execution finished in time).
	Result json.RawMessage `json:"result,omitempty"`
	// Error is why a synchronous webhook's execution failed, when it did.
	Error string `json:"error,omitempty"`
}

// ReplayStatus is the state of a bulk or shadow replay.
type ReplayStatus string

// The replay states.
const (
	ReplayRunning   ReplayStatus = "running"
	ReplayCompleted ReplayStatus = "completed"
	ReplayCancelled ReplayStatus = "cancelled"
	ReplayFailed    ReplayStatus = "failed"
)

// Finished reports whether the replay will not change any more.
func (s ReplayStatus) Finished() bool {
	return s == ReplayCompleted || s == ReplayCancelled || s == ReplayFailed
}

// ReplayFilter is which past executions a replay or shadow replay went over; nil or zero
// fields did not filter.
type ReplayFilter struct {
	// Status is ExecutionSuccess or ExecutionFailed.
	Status ExecutionStatus `json:"status,omitempty"`
	From   *time.Time      `json:"from,omitempty"`
	To     *time.Time      `json:"to,omitempty"`
	Limit  int64           `json:"limit"`
}

// CreateReplayParams is the body of Replays.Create and Replays.Count: which finished
// executions to replay. Zero values are left out.
type CreateReplayParams struct {
	// Status keeps only executions that ended so: ExecutionSuccess or ExecutionFailed.
	Status ExecutionStatus `json:"status,omitempty"`
	// From and To bound when the executions were received.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// Limit is 1–100000; 10000 when zero.
	Limit int64 `json:"limit,omitempty"`
}

// ReplayCount is the answer of a dry run: how many executions the replay would run again.
type ReplayCount struct {
	Count int64 `json:"count"`
}

// Replay is a bulk replay: new executions of past executions' inputs.
type Replay struct {
	ID         string       `json:"id"`
	WorkflowID string       `json:"workflow_id"`
	Status     ReplayStatus `json:"status"`
	Filter     ReplayFilter `json:"filter"`
	// Matched is how many executions the filter selected when the replay started.
	Matched int64 `json:"matched"`
	// Replayed is how many new executions were started so far; each has ReplayOf set.
	Replayed int64 `json:"replayed"`
	// Skipped counts the originals gone by the time they were reached.
	Skipped    int64      `json:"skipped"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ShadowDefinition is a definition for a shadow replay to try. In a request, what is left
// out is taken from the workflow; in an answer, both are set.
type ShadowDefinition struct {
	Trigger *Trigger `json:"trigger,omitempty"`
	Actions Actions  `json:"actions,omitempty"`
}

// CreateShadowReplayParams is the body of ShadowReplays.Create: exactly one of Definition
// and Version, and which finished executions to go over. Zero values are left out.
type CreateShadowReplayParams struct {
	Definition *ShadowDefinition `json:"definition,omitempty"`
	// Version names a stored version of the workflow to try.
	Version int64 `json:"version,omitempty"`
	// Status keeps only executions that ended so: ExecutionSuccess or ExecutionFailed.
	Status ExecutionStatus `json:"status,omitempty"`
	From   *time.Time      `json:"from,omitempty"`
	To     *time.Time      `json:"to,omitempty"`
	// Limit is 1–10000; 1000 when zero.
	Limit int64 `json:"limit,omitempty"`
}

// ShadowSummary counts a shadow replay's comparisons.
type ShadowSummary struct {
	Matched   int64 `json:"matched"`
	Compared  int64 `json:"compared"`
	Changed   int64 `json:"changed"`
	Unchanged int64 `json:"unchanged"`
}

// ShadowReplay runs past executions' inputs through another definition and compares.
type ShadowReplay struct {
	ID         string       `json:"id"`
	WorkflowID string       `json:"workflow_id"`
	Status     ReplayStatus `json:"status"`
	// Version is the version tried; 0 when a definition was given.
	Version int64 `json:"version,omitempty"`
	// Definition is the definition tried, in full.
	Definition ShadowDefinition `json:"definition"`
	Filter     ReplayFilter     `json:"filter"`
	Summary    ShadowSummary    `json:"summary"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	FinishedAt *time.Time       `json:"finished_at,omitempty"`
	Error      string           `json:"error,omitempty"`
}

// ShadowStep is one step of a run, as compared.
type ShadowStep struct {
	Index int64  `json:"index"`
	Type  string `json:"type"`
	// Status: success, failed or skipped.
	Status string          `json:"status"`
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ShadowRun is how a run ended and what its steps did.
type ShadowRun struct {
	Status ExecutionStatus `json:"status"`
	Steps  []ShadowStep    `json:"steps"`
	Error  string          `json:"error,omitempty"`
}

// ShadowDifference is one way the shadow run differs from the original, e.g. Path
// "steps[1].status". Original and Shadow are any JSON value ("null" included).
type ShadowDifference struct {
	Path     string          `json:"path"`
	Original json.RawMessage `json:"original"`
	Shadow   json.RawMessage `json:"shadow"`
}

// ShadowResult is a shadow replay's verdict on one past execution.
type ShadowResult struct {
	ExecutionID string             `json:"execution_id"`
	Changed     bool               `json:"changed"`
	Original    ShadowRun          `json:"original"`
	Shadow      ShadowRun          `json:"shadow"`
	Differences []ShadowDifference `json:"differences"`
}

// ShadowResultList is one page of a shadow replay's results, changed ones first.
type ShadowResultList struct {
	Data    []ShadowResult `json:"data"`
	Total   int64          `json:"total"`
	Page    int64          `json:"page"`
	PerPage int64          `json:"per_page"`
}

// ListShadowResultsParams filters and pages ShadowReplays.Results. Zero values are left out.
type ListShadowResultsParams struct {
	Page    int
	PerPage int
	// Changed, when set, keeps only the results that differ (true) or those that do not.
	Changed *bool
}

// APIKey is an account's API key (schema ApiKey).
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Prefix is the key's first characters, to tell keys apart.
	Prefix    string    `json:"prefix"`
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
	// Key is the secret itself, only in the answer to its creation.
	Key string `json:"key,omitempty"`
}

// APIKeyList is an account's keys (schema ApiKeyList).
type APIKeyList struct {
	Data  []APIKey `json:"data"`
	Total int64    `json:"total"`
}

// CreateAPIKeyParams is the body of APIKeys.Create and Admin.Accounts.CreateAPIKey
// (schema CreateApiKey).
type CreateAPIKeyParams struct {
	Name string `json:"name,omitempty"`
}

// SigningSecret signs outgoing http_request calls: "whsec_" + base64.
type SigningSecret struct {
	Secret string `json:"secret"`
}

// Health is the answer of the health and readiness probes.
type Health struct {
	Status string `json:"status"`
}

// Limits are an account's rate limits.
type Limits struct {
	RequestsPerMinute int64 `json:"requests_per_minute"`
	RequestsPerDay    int64 `json:"requests_per_day"`
	WebhooksPerSecond int64 `json:"webhooks_per_second"`
}

// LimitsPatch sets custom limits (Enterprise accounts only); zero fields keep the plan's.
type LimitsPatch struct {
	RequestsPerMinute int64 `json:"requests_per_minute,omitempty"`
	RequestsPerDay    int64 `json:"requests_per_day,omitempty"`
	WebhooksPerSecond int64 `json:"webhooks_per_second,omitempty"`
}

// Account is a tenant of the daemon (operator API).
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan Plan   `json:"plan"`
	// Limits are the limits in force.
	Limits Limits `json:"limits"`
	// CustomLimits are the Enterprise custom limits, or nil.
	CustomLimits *Limits   `json:"custom_limits,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// AccountList is every account.
type AccountList struct {
	Data  []Account `json:"data"`
	Total int64     `json:"total"`
}

// CreateAccountParams is the body of Admin.Accounts.Create (schema CreateAccount).
type CreateAccountParams struct {
	Name string `json:"name"`
	// Plan is the daemon's default plan when empty; Limits need PlanEnterprise.
	Plan   Plan         `json:"plan,omitempty"`
	Limits *LimitsPatch `json:"limits,omitempty"`
}

// UpdateAccountParams is the body of Admin.Accounts.Update (schema UpdateAccount): only the
// fields set are changed.
type UpdateAccountParams struct {
	Name   string
	Plan   Plan
	Limits *LimitsPatch
	// ClearLimits removes the custom limits (sends "limits": null); Limits must be nil.
	ClearLimits bool
}

// MarshalJSON writes only the fields set, and an explicit null for ClearLimits.
func (p UpdateAccountParams) MarshalJSON() ([]byte, error) {
	m := map[string]interface{}{}
	if p.Name != "" {
		m["name"] = p.Name
	}
	if p.Plan != "" {
		m["plan"] = p.Plan
	}
	if p.Limits != nil {
		m["limits"] = p.Limits
	} else if p.ClearLimits {
		m["limits"] = nil
	}
	return json.Marshal(m)
}

// ErrorDetails names the field of a field error.
type ErrorDetails struct {
	Field string `json:"field"`
	// Issue: required, invalid, unknown or template.
	Issue string `json:"issue"`
}

// ErrorBody is the inside of the error envelope; Error carries the same, parsed.
type ErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details,omitempty"`
}

// ErrorEnvelope is what every 4xx and 5xx answer carries.
type ErrorEnvelope struct {
	Error ErrorBody `json:"error"`
}
