package botcadence

// Operation ties an operationId of the API's OpenAPI document to the method of this package
// that calls it.
type Operation struct {
	// ID is the operationId.
	ID string
	// Method and Path are as in the OpenAPI document.
	Method string
	Path   string
	// Call is the method, as a path from a *Client: "Workflows.ListContext".
	Call string
}

// Operations lists every operation of the API. Each Call also has a variant without the
// context argument (Workflows.List, ...). A test checks this table against openapi.json
// and that every Call names a real method.
var Operations = []Operation{
	{"listWorkflows", "GET", "/v1/workflows", "Workflows.ListContext"},
	{"createWorkflow", "POST", "/v1/workflows", "Workflows.CreateContext"},
	{"getWorkflow", "GET", "/v1/workflows/{id}", "Workflows.GetContext"},
	{"updateWorkflow", "PATCH", "/v1/workflows/{id}", "Workflows.UpdateContext"},
	{"deleteWorkflow", "DELETE", "/v1/workflows/{id}", "Workflows.DeleteContext"},
	{"listExecutions", "GET", "/v1/workflows/{id}/executions", "Executions.ListContext"},
	{"getExecution", "GET", "/v1/executions/{id}", "Executions.GetContext"},
	{"replayExecution", "POST", "/v1/executions/{id}/replay", "Executions.ReplayContext"},
	{"listWorkflowVersions", "GET", "/v1/workflows/{id}/versions", "WorkflowVersions.ListContext"},
	{"getWorkflowVersion", "GET", "/v1/workflows/{id}/versions/{version}", "WorkflowVersions.GetContext"},
	// A dry run of createReplay (its 200 answer, ReplayCount) is Replays.CountContext.
	{"createReplay", "POST", "/v1/workflows/{id}/replays", "Replays.CreateContext"},
	{"getReplay", "GET", "/v1/replays/{id}", "Replays.GetContext"},
	{"cancelReplay", "DELETE", "/v1/replays/{id}", "Replays.CancelContext"},
	{"createShadowReplay", "POST", "/v1/workflows/{id}/shadow-replays", "ShadowReplays.CreateContext"},
	{"getShadowReplay", "GET", "/v1/shadow-replays/{id}", "ShadowReplays.GetContext"},
	{"cancelShadowReplay", "DELETE", "/v1/shadow-replays/{id}", "ShadowReplays.CancelContext"},
	{"listShadowReplayResults", "GET", "/v1/shadow-replays/{id}/results", "ShadowReplays.ResultsContext"},
	{"listWebhooks", "GET", "/v1/webhooks", "Webhooks.ListContext"},
	{"createWebhook", "POST", "/v1/webhooks", "Webhooks.CreateContext"},
	{"getWebhook", "GET", "/v1/webhooks/{id}", "Webhooks.GetContext"},
	{"deleteWebhook", "DELETE", "/v1/webhooks/{id}", "Webhooks.DeleteContext"},
	{"listApiKeys", "GET", "/v1/api-keys", "APIKeys.ListContext"},
	{"createApiKey", "POST", "/v1/api-keys", "APIKeys.CreateContext"},
	{"deleteApiKey", "DELETE", "/v1/api-keys/{id}", "APIKeys.DeleteContext"},
	{"getSigningSecret", "GET", "/v1/signing-secret", "SigningSecret.GetContext"},
	{"rotateSigningSecret", "POST", "/v1/signing-secret/rotate", "SigningSecret.RotateContext"},
	{"postEvent", "POST", "/webhooks/{hook_id}", "Events.SendContext"},
	{"getHealth", "GET", "/healthz", "System.HealthContext"},
	{"getReadiness", "GET", "/readyz", "System.ReadinessContext"},
	{"getMetrics", "GET", "/metrics", "System.MetricsContext"},
	{"getOpenApi", "GET", "/openapi.json", "System.OpenAPIContext"},
	{"listAccounts", "GET", "/admin/v1/accounts", "Admin.Accounts.ListContext"},
	{"createAccount", "POST", "/admin/v1/accounts", "Admin.Accounts.CreateContext"},
	{"getAccount", "GET", "/admin/v1/accounts/{id}", "Admin.Accounts.GetContext"},
	{"updateAccount", "PATCH", "/admin/v1/accounts/{id}", "Admin.Accounts.UpdateContext"},
	{"createAccountApiKey", "POST", "/admin/v1/accounts/{id}/api-keys", "Admin.Accounts.CreateAPIKeyContext"},
	{"revokeApiKey", "DELETE", "/admin/v1/api-keys/{id}", "Admin.APIKeys.RevokeContext"},
}
