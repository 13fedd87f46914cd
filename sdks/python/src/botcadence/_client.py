"""`Client` and its resources: one method per operation of the API (see `OPERATIONS`).

Every method takes the same keyword-only options at the end:

* `timeout` -- seconds for each attempt (connect, send, answer); the client's default if None.
* `max_retries` -- retries after the first attempt; the client's default if None.
* `extra_headers` -- headers added to this request.
* `idempotency_key` (POSTs under /v1, and `events.send`) -- sent as `Idempotency-Key` on
  every attempt of the call; a fresh UUID v4 per call when None.

Bodies can be given as a dict, as keyword fields, or both (fields win). Fields left out are
not sent; an explicit None is sent as JSON null (e.g. `limits=None` clears custom limits).
"""

from __future__ import annotations

import os
import ssl
import uuid
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, Literal, Mapping, Optional, Sequence, Union, cast

from ._signatures import sign_standard_webhook
from ._transport import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    Transport,
    path_segment,
    rfc3339,
)
from .types import (
    Accepted,
    Account,
    AccountList,
    Action,
    ApiKey,
    ApiKeyList,
    Execution,
    ExecutionList,
    ExecutionStatus,
    ExecutionSummary,
    Health,
    HookVerify,
    LimitsPatch,
    Plan,
    Replay,
    ReplayCount,
    ShadowDefinition,
    ShadowReplay,
    ShadowResult,
    ShadowResultList,
    SigningSecret,
    Trigger,
    Webhook,
    WebhookList,
    Workflow,
    WorkflowList,
    WorkflowStatus,
    WorkflowVersion,
    WorkflowVersionList,
)

Headers = Optional[Mapping[str, str]]
EventPayload = Union[bytes, bytearray, memoryview, str, Mapping[str, Any], Sequence[Any], int, float, bool, None]
When = Union[datetime, str, None]
ReplayOutcome = Literal["success", "failed"]


def _body(base: Optional[Mapping[str, Any]], **fields: Any) -> Dict[str, Any]:
    merged: Dict[str, Any] = dict(base or {})
    for name, value in fields.items():
        if value is not NOT_GIVEN:
            merged[name] = value
    return merged


def _replay_body(base: Optional[Mapping[str, Any]], status: Any, from_: Any, to: Any, limit: Any,
                 **fields: Any) -> Dict[str, Any]:
    """The body of a replay or shadow replay: its filters, with datetimes as RFC 3339."""
    payload = _body(base, status=status, to=to, limit=limit, **fields)
    if "from_" in payload:  # the keyword spelling, given inside the mapping
        payload["from"] = payload.pop("from_")
    if from_ is not NOT_GIVEN:
        payload["from"] = from_
    for key in ("from", "to"):
        if isinstance(payload.get(key), datetime):
            payload[key] = rfc3339(payload[key])
    return payload


def _version_segment(version: int) -> str:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"expected a version number >= 1, got {version!r}")
    return str(version)


def _pages(fetch: Callable[[int], Mapping[str, Any]]) -> Iterator[Any]:
    """Pages 1, 2, ... until `total` items have been seen or a page comes back empty (the
    second condition ends the walk even if `total` shrinks while it runs)."""
    page = 1
    seen = 0
    while True:
        result = fetch(page)
        items = result.get("data") or []
        yield result
        seen += len(items)
        total = result.get("total")
        if not items or (isinstance(total, int) and seen >= total):
            return
        page += 1


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


class Workflows(_Resource):
    """`/v1/workflows`."""

    def list(
        self,
        *,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        status: Optional[WorkflowStatus] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> WorkflowList:
        """One page of the account's workflows (listWorkflows)."""
        return cast(WorkflowList, self._t.request(
            "GET", "/v1/workflows", query={"page": page, "per_page": per_page, "status": status},
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def pages(
        self,
        *,
        per_page: Optional[int] = None,
        status: Optional[WorkflowStatus] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[WorkflowList]:
        """Every page, fetched as the loop reaches it."""
        return _pages(lambda n: self.list(page=n, per_page=per_page, status=status, timeout=timeout,
                                          max_retries=max_retries, extra_headers=extra_headers))

    def iterate(
        self,
        *,
        per_page: Optional[int] = None,
        status: Optional[WorkflowStatus] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[Workflow]:
        """Every workflow, page after page."""
        for page in self.pages(per_page=per_page, status=status, timeout=timeout,
                               max_retries=max_retries, extra_headers=extra_headers):
            yield from page["data"]

    def create(
        self,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Any = NOT_GIVEN,
        trigger: Union[Trigger, Any] = NOT_GIVEN,
        actions: Union[Sequence[Action], Any] = NOT_GIVEN,
        status: Union[WorkflowStatus, None, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Workflow:
        """Creates a workflow (createWorkflow); `status` is "draft" unless given."""
        payload = _body(body, name=name, trigger=trigger, actions=actions, status=status)
        return cast(Workflow, self._t.request(
            "POST", "/v1/workflows", json_body=payload, idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def get(
        self,
        workflow_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Workflow:
        """One workflow (getWorkflow)."""
        return cast(Workflow, self._t.request(
            "GET", f"/v1/workflows/{path_segment(workflow_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def update(
        self,
        workflow_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Any = NOT_GIVEN,
        trigger: Union[Trigger, Any] = NOT_GIVEN,
        actions: Union[Sequence[Action], Any] = NOT_GIVEN,
        status: Union[WorkflowStatus, None, Any] = NOT_GIVEN,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Workflow:
        """Changes the given fields of a workflow (updateWorkflow)."""
        payload = _body(body, name=name, trigger=trigger, actions=actions, status=status)
        return cast(Workflow, self._t.request(
            "PATCH", f"/v1/workflows/{path_segment(workflow_id)}", json_body=payload,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def delete(
        self,
        workflow_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> None:
        """Deletes a workflow for good (deleteWorkflow)."""
        self._t.request("DELETE", f"/v1/workflows/{path_segment(workflow_id)}",
                        timeout=timeout, max_retries=max_retries, extra_headers=extra_headers)


class Executions(_Resource):
    """Executions of a workflow."""

    @staticmethod
    def _filters(
        filters: Optional[Mapping[str, Any]],
        status: Optional[ExecutionStatus],
        from_: When,
        to: When,
    ) -> Dict[str, Any]:
        query: Dict[str, Any] = dict(filters or {})
        if "from_" in query:  # the keyword spelling, given inside the mapping
            query["from"] = query.pop("from_")
        for key, value in (("status", status), ("from", from_), ("to", to)):
            if value is not None:
                query[key] = value
        return query

    def list(
        self,
        workflow_id: str,
        filters: Optional[Mapping[str, Any]] = None,
        /,
        *,
        status: Optional[ExecutionStatus] = None,
        from_: When = None,
        to: When = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ExecutionList:
        """One page of a workflow's executions, newest first (listExecutions).

        `from_`/`to` (RFC 3339 strings or datetimes; naive datetimes are taken as UTC) bound
        when the event was received. The filters may also be given as a mapping with the API's
        names: `list(wf_id, {"status": "failed", "from": "2025-01-01T00:00:00Z"})`.
        """
        query = self._filters(filters, status, from_, to)
        if page is not None:
            query["page"] = page
        if per_page is not None:
            query["per_page"] = per_page
        return cast(ExecutionList, self._t.request(
            "GET", f"/v1/workflows/{path_segment(workflow_id)}/executions", query=query,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def pages(
        self,
        workflow_id: str,
        filters: Optional[Mapping[str, Any]] = None,
        /,
        *,
        status: Optional[ExecutionStatus] = None,
        from_: When = None,
        to: When = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[ExecutionList]:
        """Every page of `list` with these filters."""
        query = self._filters(filters, status, from_, to)
        query.pop("page", None)
        if per_page is not None:
            query["per_page"] = per_page
        return _pages(lambda n: self.list(workflow_id, dict(query, page=n), timeout=timeout,
                                          max_retries=max_retries, extra_headers=extra_headers))

    def iterate(
        self,
        workflow_id: str,
        filters: Optional[Mapping[str, Any]] = None,
        /,
        *,
        status: Optional[ExecutionStatus] = None,
        from_: When = None,
        to: When = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[ExecutionSummary]:
        """Every execution matching the filters, page after page."""
        for page in self.pages(workflow_id, filters, status=status, from_=from_, to=to,
                               per_page=per_page, timeout=timeout, max_retries=max_retries,
                               extra_headers=extra_headers):
            yield from page["data"]

    def get(
        self,
        execution_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Execution:
        """One execution with its input and steps (getExecution)."""
        return cast(Execution, self._t.request(
            "GET", f"/v1/executions/{path_segment(execution_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def replay(
        self,
        execution_id: str,
        *,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Execution:
        """Runs an execution's input again as a new execution (replayExecution)."""
        return cast(Execution, self._t.request(
            "POST", f"/v1/executions/{path_segment(execution_id)}/replay",
            idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class WorkflowVersions(_Resource):
    """A workflow's versions: every change to its trigger or actions makes a new, immutable
    one. Rolling back is an update with an old version's trigger and actions."""

    def list(
        self,
        workflow_id: str,
        *,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> WorkflowVersionList:
        """One page of a workflow's versions, newest first (listWorkflowVersions)."""
        return cast(WorkflowVersionList, self._t.request(
            "GET", f"/v1/workflows/{path_segment(workflow_id)}/versions",
            query={"page": page, "per_page": per_page},
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def pages(
        self,
        workflow_id: str,
        *,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[WorkflowVersionList]:
        """Every page, fetched as the loop reaches it."""
        return _pages(lambda n: self.list(workflow_id, page=n, per_page=per_page, timeout=timeout,
                                          max_retries=max_retries, extra_headers=extra_headers))

    def iterate(
        self,
        workflow_id: str,
        *,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[WorkflowVersion]:
        """Every version, newest first, page after page."""
        for page in self.pages(workflow_id, per_page=per_page, timeout=timeout,
                               max_retries=max_retries, extra_headers=extra_headers):
            yield from page["data"]

    def get(
        self,
        workflow_id: str,
        version: int,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> WorkflowVersion:
        """One version of a workflow (getWorkflowVersion)."""
        return cast(WorkflowVersion, self._t.request(
            "GET", f"/v1/workflows/{path_segment(workflow_id)}/versions/{_version_segment(version)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class Replays(_Resource):
    """Bulk replays: the inputs of a workflow's past executions run again, in the background.

    The filters: `status` ("success" or "failed"), `from_`/`to` (RFC 3339 strings or
    datetimes; naive ones are UTC), `limit` (1-100000, 10000 by default).
    """

    def create(
        self,
        workflow_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        status: Union[ReplayOutcome, Any] = NOT_GIVEN,
        from_: Union[When, Any] = NOT_GIVEN,
        to: Union[When, Any] = NOT_GIVEN,
        limit: Union[int, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Replay:
        """Starts replaying the executions the filters select (createReplay); follow it with
        `get`. The workflow must be active (409 `workflow_inactive` otherwise)."""
        return cast(Replay, self._t.request(
            "POST", f"/v1/workflows/{path_segment(workflow_id)}/replays",
            json_body=_replay_body(body, status, from_, to, limit),
            idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def count(
        self,
        workflow_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        status: Union[ReplayOutcome, Any] = NOT_GIVEN,
        from_: Union[When, Any] = NOT_GIVEN,
        to: Union[When, Any] = NOT_GIVEN,
        limit: Union[int, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ReplayCount:
        """A dry run of `create` (createReplay with `dry_run`): `{"count": n}`, how many
        executions it would replay; nothing is started."""
        return cast(ReplayCount, self._t.request(
            "POST", f"/v1/workflows/{path_segment(workflow_id)}/replays",
            json_body=_replay_body(body, status, from_, to, limit, dry_run=True),
            idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def get(
        self,
        replay_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Replay:
        """A replay's progress (getReplay)."""
        return cast(Replay, self._t.request(
            "GET", f"/v1/replays/{path_segment(replay_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def cancel(
        self,
        replay_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Replay:
        """Stops a running replay (cancelReplay); a finished one is answered unchanged."""
        return cast(Replay, self._t.request(
            "DELETE", f"/v1/replays/{path_segment(replay_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class ShadowReplays(_Resource):
    """Shadow replays: past executions' inputs run through another definition, each compared
    with what the original did. The same filters as `Replays` (`limit` 1-10000, 1000 by
    default)."""

    def create(
        self,
        workflow_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        definition: Union[ShadowDefinition, Any] = NOT_GIVEN,
        version: Union[int, Any] = NOT_GIVEN,
        status: Union[ReplayOutcome, Any] = NOT_GIVEN,
        from_: Union[When, Any] = NOT_GIVEN,
        to: Union[When, Any] = NOT_GIVEN,
        limit: Union[int, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ShadowReplay:
        """Starts a shadow replay (createShadowReplay) of exactly one of `definition`
        (`{"trigger": ..., "actions": ...}`, what is absent taken from the workflow) and
        `version` (a version number)."""
        payload = _replay_body(body, status, from_, to, limit, definition=definition, version=version)
        return cast(ShadowReplay, self._t.request(
            "POST", f"/v1/workflows/{path_segment(workflow_id)}/shadow-replays",
            json_body=payload, idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def get(
        self,
        shadow_replay_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ShadowReplay:
        """A shadow replay's state and summary (getShadowReplay)."""
        return cast(ShadowReplay, self._t.request(
            "GET", f"/v1/shadow-replays/{path_segment(shadow_replay_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def cancel(
        self,
        shadow_replay_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ShadowReplay:
        """Stops a running shadow replay (cancelShadowReplay); a finished one is answered
        unchanged."""
        return cast(ShadowReplay, self._t.request(
            "DELETE", f"/v1/shadow-replays/{path_segment(shadow_replay_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def results(
        self,
        shadow_replay_id: str,
        *,
        changed: Optional[bool] = None,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ShadowResultList:
        """One page of results, changed ones first (listShadowReplayResults); `changed=True`
        keeps only those that differ, `changed=False` only those that do not."""
        return cast(ShadowResultList, self._t.request(
            "GET", f"/v1/shadow-replays/{path_segment(shadow_replay_id)}/results",
            query={"changed": changed, "page": page, "per_page": per_page},
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def result_pages(
        self,
        shadow_replay_id: str,
        *,
        changed: Optional[bool] = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[ShadowResultList]:
        """Every page of `results`, fetched as the loop reaches it."""
        return _pages(lambda n: self.results(shadow_replay_id, changed=changed, page=n,
                                             per_page=per_page, timeout=timeout,
                                             max_retries=max_retries, extra_headers=extra_headers))

    def iterate_results(
        self,
        shadow_replay_id: str,
        *,
        changed: Optional[bool] = None,
        per_page: Optional[int] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[ShadowResult]:
        """Every result, page after page."""
        for page in self.result_pages(shadow_replay_id, changed=changed, per_page=per_page,
                                      timeout=timeout, max_retries=max_retries,
                                      extra_headers=extra_headers):
            yield from page["data"]


class Webhooks(_Resource):
    """`/v1/webhooks`: the URLs events are posted to."""

    def list(
        self,
        *,
        page: Optional[int] = None,
        per_page: Optional[int] = None,
        workflow_id: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> WebhookList:
        """One page of hooks, optionally of one workflow only (listWebhooks)."""
        return cast(WebhookList, self._t.request(
            "GET", "/v1/webhooks",
            query={"page": page, "per_page": per_page, "workflow_id": workflow_id},
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def pages(
        self,
        *,
        per_page: Optional[int] = None,
        workflow_id: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[WebhookList]:
        """Every page, fetched as the loop reaches it."""
        return _pages(lambda n: self.list(page=n, per_page=per_page, workflow_id=workflow_id,
                                          timeout=timeout, max_retries=max_retries,
                                          extra_headers=extra_headers))

    def iterate(
        self,
        *,
        per_page: Optional[int] = None,
        workflow_id: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Iterator[Webhook]:
        """Every hook, page after page."""
        for page in self.pages(per_page=per_page, workflow_id=workflow_id, timeout=timeout,
                               max_retries=max_retries, extra_headers=extra_headers):
            yield from page["data"]

    def create(
        self,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        workflow_id: Any = NOT_GIVEN,
        event: Any = NOT_GIVEN,
        verify: Union[HookVerify, None, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Webhook:
        """Creates a hook (createWebhook). The answer's `secret` is shown this once."""
        payload = _body(body, workflow_id=workflow_id, event=event, verify=verify)
        return cast(Webhook, self._t.request(
            "POST", "/v1/webhooks", json_body=payload, idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def get(
        self,
        webhook_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Webhook:
        """One hook (getWebhook)."""
        return cast(Webhook, self._t.request(
            "GET", f"/v1/webhooks/{path_segment(webhook_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def delete(
        self,
        webhook_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> None:
        """Deletes a hook; its URL stops accepting events (deleteWebhook)."""
        self._t.request("DELETE", f"/v1/webhooks/{path_segment(webhook_id)}",
                        timeout=timeout, max_retries=max_retries, extra_headers=extra_headers)


class ApiKeys(_Resource):
    """`/v1/api-keys`: the account's own keys."""

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ApiKeyList:
        """The account's keys, without their secrets (listApiKeys)."""
        return cast(ApiKeyList, self._t.request(
            "GET", "/v1/api-keys",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def create(
        self,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Union[str, None, Any] = NOT_GIVEN,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ApiKey:
        """A new key (createApiKey); its `key` is in this answer only."""
        return cast(ApiKey, self._t.request(
            "POST", "/v1/api-keys", json_body=_body(body, name=name),
            idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def delete(
        self,
        key_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> None:
        """Revokes one of the account's keys (deleteApiKey)."""
        self._t.request("DELETE", f"/v1/api-keys/{path_segment(key_id)}",
                        timeout=timeout, max_retries=max_retries, extra_headers=extra_headers)


class SigningSecretResource(_Resource):
    """`/v1/signing-secret`: the secret that signs outgoing `http_request` calls."""

    def get(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> SigningSecret:
        """The current secret (getSigningSecret)."""
        return cast(SigningSecret, self._t.request(
            "GET", "/v1/signing-secret",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def rotate(
        self,
        *,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> SigningSecret:
        """A new secret; the old one stops signing at once (rotateSigningSecret)."""
        return cast(SigningSecret, self._t.request(
            "POST", "/v1/signing-secret/rotate", idempotency_key=idempotency_key,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class Events(_Resource):
    """Posting events to a hook (no API key: the hook's URL is the credential)."""

    def send(
        self,
        hook: str,
        payload: EventPayload,
        *,
        idempotency_key: Optional[str] = None,
        headers: Headers = None,
        secret: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Accepted:
        """Posts an event to a hook (postEvent).

        `hook` is a hook id (`hook_...`) or the hook's full `url`. `payload` as bytes or str is
        sent exactly as given (it must be JSON); anything else is serialised as JSON. The
        answer is 202 (`status` queued, or already finished) or, when the same
        `idempotency_key` was sent to this hook within 24 h, the original execution with
        `duplicate: true`.

        `secret`: for hooks created with `"verify": "hmac_sha256"`, the hook's secret; the
        event then carries Standard Webhooks headers signed with it (fresh on each attempt,
        `webhook-id` equal to the idempotency key).
        """
        if isinstance(hook, str) and hook.startswith(("http://", "https://")):
            url: Optional[str] = hook
            path = ""
        else:
            url = None
            path = f"/webhooks/{path_segment(hook)}"
        if isinstance(payload, (bytes, bytearray, memoryview)):
            raw = bytes(payload)
        elif isinstance(payload, str):
            raw = payload.encode("utf-8")
        else:
            raw = None
        # The key is fixed here, before the first attempt, so a signer can name it too.
        key = idempotency_key or str(uuid.uuid4())
        sign: Optional[Callable[[bytes], Mapping[str, str]]] = None
        if secret is not None:
            signing_secret = secret
            sign = lambda body: sign_standard_webhook(body, signing_secret, msg_id=key)  # noqa: E731
        return cast(Accepted, self._t.request(
            "POST", path, url=url, raw_body=raw,
            json_body=payload if raw is None else NOT_GIVEN,
            auth=False, idempotency_key=key, headers_for_attempt=sign,
            timeout=timeout, max_retries=max_retries, extra_headers=headers))


class System(_Resource):
    """Health, readiness, metrics and the API description (no authentication)."""

    def health(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Health:
        """`{"status": "ok"}` while the process answers (getHealth)."""
        return cast(Health, self._t.request(
            "GET", "/healthz", auth=False,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def readiness(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Health:
        """`{"status": "ready"}`, or a BotcadenceError (503, `unavailable`) saying why not
        (getReadiness). A probe wanting the state right now passes `max_retries=0`."""
        return cast(Health, self._t.request(
            "GET", "/readyz", auth=False,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def metrics(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> str:
        """Prometheus text (getMetrics)."""
        return cast(str, self._t.request(
            "GET", "/metrics", auth=False, expect="text",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def openapi(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Dict[str, Any]:
        """The daemon's OpenAPI 3.1 document (getOpenApi)."""
        return cast(Dict[str, Any], self._t.request(
            "GET", "/openapi.json", auth=False,
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class AdminAccounts(_Resource):
    """`/admin/v1/accounts` (the client's key is the operator token).

    The operator API takes no `Idempotency-Key`, so its POSTs are retried only when the
    daemon surely did nothing (refused connection, 408, 429, 503).
    """

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> AccountList:
        """Every account (listAccounts)."""
        return cast(AccountList, self._t.request(
            "GET", "/admin/v1/accounts",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def create(
        self,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Any = NOT_GIVEN,
        plan: Union[Plan, None, Any] = NOT_GIVEN,
        limits: Union[LimitsPatch, None, Any] = NOT_GIVEN,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Account:
        """A new account (createAccount); `limits` only with plan "enterprise"."""
        return cast(Account, self._t.request(
            "POST", "/admin/v1/accounts", json_body=_body(body, name=name, plan=plan, limits=limits),
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def get(
        self,
        account_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Account:
        """One account (getAccount)."""
        return cast(Account, self._t.request(
            "GET", f"/admin/v1/accounts/{path_segment(account_id)}",
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def update(
        self,
        account_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Any = NOT_GIVEN,
        plan: Union[Plan, None, Any] = NOT_GIVEN,
        limits: Union[LimitsPatch, None, Any] = NOT_GIVEN,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> Account:
        """Changes name, plan or limits (updateAccount); `limits=None` clears custom limits."""
        return cast(Account, self._t.request(
            "PATCH", f"/admin/v1/accounts/{path_segment(account_id)}",
            json_body=_body(body, name=name, plan=plan, limits=limits),
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))

    def create_api_key(
        self,
        account_id: str,
        body: Optional[Mapping[str, Any]] = None,
        /,
        *,
        name: Union[str, None, Any] = NOT_GIVEN,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> ApiKey:
        """A key for an account (createAccountApiKey); its `key` is in this answer only."""
        return cast(ApiKey, self._t.request(
            "POST", f"/admin/v1/accounts/{path_segment(account_id)}/api-keys",
            json_body=_body(body, name=name),
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers))


class AdminApiKeys(_Resource):
    """`/admin/v1/api-keys`."""

    def revoke(
        self,
        key_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Headers = None,
    ) -> None:
        """Revokes any account's key (revokeApiKey)."""
        self._t.request("DELETE", f"/admin/v1/api-keys/{path_segment(key_id)}",
                        timeout=timeout, max_retries=max_retries, extra_headers=extra_headers)


class Admin:
    """The operator API: create the client with the admin token as its key."""

    def __init__(self, transport: Transport) -> None:
        self.accounts = AdminAccounts(transport)
        self.api_keys = AdminApiKeys(transport)


class Client:
    """A Botcadence API client.

        from botcadence import Client

        client = Client('YOUR_API_KEY')
        workflows = client.workflows.list()

    Args:
        api_key: the API key (`bc_live_...`), or the operator token for `client.admin`.
            Defaults to the `BOTCADENCE_API_KEY` environment variable.
        base_url: the daemon's address, with or without `/v1`. Defaults to the
            `BOTCADENCE_BASE_URL` environment variable, then https://api.botcadence.com.
        timeout: seconds for each attempt of a call (default 30); per call: `timeout=`.
        max_retries: retries after the first attempt (default 2); per call: `max_retries=`.
        default_headers: headers added to every request.
        ssl_context: for HTTPS, e.g. to trust a private CA.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Optional[Mapping[str, str]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("BOTCADENCE_API_KEY")
        self._transport = Transport(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            ssl_context=ssl_context,
        )
        self.workflows = Workflows(self._transport)
        self.workflow_versions = WorkflowVersions(self._transport)
        self.executions = Executions(self._transport)
        self.replays = Replays(self._transport)
        self.shadow_replays = ShadowReplays(self._transport)
        self.webhooks = Webhooks(self._transport)
        self.api_keys = ApiKeys(self._transport)
        self.signing_secret = SigningSecretResource(self._transport)
        self.events = Events(self._transport)
        self.system = System(self._transport)
        self.admin = Admin(self._transport)

    @property
    def base_url(self) -> str:
        """The normalised base URL (no trailing `/` or `/v1`)."""
        return self._transport.base_url

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs.
        return f"Client(base_url={self.base_url!r})"
