"""Each operationId of openapi.json and the method that performs it (attribute path from a
`Client`). The tests check this table against the spec in both directions, so an operation
added to the API without a method here fails the suite."""

from __future__ import annotations

from typing import Any, Callable, Dict, cast

OPERATIONS: Dict[str, str] = {
    "listWorkflows": "workflows.list",
    "createWorkflow": "workflows.create",
    "getWorkflow": "workflows.get",
    "updateWorkflow": "workflows.update",
    "deleteWorkflow": "workflows.delete",
    "listExecutions": "executions.list",
    "getExecution": "executions.get",
    "replayExecution": "executions.replay",
    "listWorkflowVersions": "workflow_versions.list",
    "getWorkflowVersion": "workflow_versions.get",
    "createReplay": "replays.create",
    "getReplay": "replays.get",
    "cancelReplay": "replays.cancel",
    "createShadowReplay": "shadow_replays.create",
    "getShadowReplay": "shadow_replays.get",
    "cancelShadowReplay": "shadow_replays.cancel",
    "listShadowReplayResults": "shadow_replays.results",
    "listWebhooks": "webhooks.list",
    "createWebhook": "webhooks.create",
    "getWebhook": "webhooks.get",
    "deleteWebhook": "webhooks.delete",
    "listApiKeys": "api_keys.list",
    "createApiKey": "api_keys.create",
    "deleteApiKey": "api_keys.delete",
    "getSigningSecret": "signing_secret.get",
    "rotateSigningSecret": "signing_secret.rotate",
    "postEvent": "events.send",
    "getHealth": "system.health",
    "getReadiness": "system.readiness",
    "getMetrics": "system.metrics",
    "getOpenApi": "system.openapi",
    "listAccounts": "admin.accounts.list",
    "createAccount": "admin.accounts.create",
    "getAccount": "admin.accounts.get",
    "updateAccount": "admin.accounts.update",
    "createAccountApiKey": "admin.accounts.create_api_key",
    "revokeApiKey": "admin.api_keys.revoke",
}


def resolve_operation(client: Any, operation_id: str) -> Callable[..., Any]:
    """The bound method of `client` performing `operation_id` (KeyError if there is none)."""
    target: Any = client
    for name in OPERATIONS[operation_id].split("."):
        target = getattr(target, name)
    if not callable(target):
        raise TypeError(f"{OPERATIONS[operation_id]} is not callable")
    return cast(Callable[..., Any], target)
