"""Against the real daemon (sdks/live.py starts it): every operation, paging, errors, the rate
limit, an idempotent retry after a lost answer, and signatures on real deliveries. Each test
works in accounts of its own, created through the SDK's operator methods."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest

from botcadence import (
    BotcadenceError,
    Client,
    WebhookVerificationError,
    sign_payload,
    verify_signature,
    verify_standard_webhook,
)
from support import account_client, live, unique

pytestmark = live

EMAIL = {"type": "send_email", "config": {"to": "{{user.email}}", "subject": "Welcome!",
                                          "body": "Thanks for joining!"}}
TRANSFORM = {"type": "transform", "config": {"set": {"doubled": "{{ n * 2 }}"}}}
DONE = ("success", "failed")


def wait_execution(client: Client, execution_id: str, limit: float = 30) -> Dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        execution = client.executions.get(execution_id)
        if execution["status"] in DONE:
            return dict(execution)
        assert time.monotonic() < deadline, f"execution still {execution['status']}"
        time.sleep(0.1)


def wait_job(get: Any, job_id: str, limit: float = 20) -> Dict[str, Any]:
    """Polls a replay or shadow replay (`get(job_id)`) until it is no longer running."""
    deadline = time.monotonic() + limit
    while True:
        job = get(job_id)
        if job["status"] != "running":
            return dict(job)
        assert time.monotonic() < deadline, f"{job_id} still running"
        time.sleep(0.2)


def active_workflow(client: Client, actions: List[Any], event: str = "evt") -> Tuple[dict, dict]:
    workflow = client.workflows.create(name=unique("wf"), trigger={"type": "webhook", "event": event},
                                       actions=actions, status="active")
    hook = client.webhooks.create(workflow_id=workflow["id"], event=event)
    return dict(workflow), dict(hook)


# -- entry point -----------------------------------------------------------------------------

def test_reference_snippet_runs_unchanged(admin: Client) -> None:
    key = admin.admin.accounts.create_api_key(
        admin.admin.accounts.create(name=unique("snippet"), plan="pro")["id"])["key"]
    assert key
    YOUR_API_KEY = key  # noqa: N806 - the reference's placeholder

    # The reference's Python snippet, with the key filled in; BOTCADENCE_BASE_URL points it
    # at this daemon.
    from botcadence import Client

    client = Client(YOUR_API_KEY)
    workflows = client.workflows.list()

    assert workflows == {"data": [], "total": 0, "page": 1, "per_page": 20}


# -- CRUD -------------------------------------------------------------------------------------

def test_workflows_create_get_update_list_delete(client: Client) -> None:
    created = client.workflows.create(name=unique("New Workflow"),
                                      trigger={"type": "webhook", "event": "user.created"},
                                      actions=[EMAIL])
    assert created["id"].startswith("wf_") and created["status"] == "draft"
    assert client.workflows.get(created["id"]) == created

    updated = client.workflows.update(created["id"], {"name": created["name"] + "-2"}, status="active")
    assert updated["name"] == created["name"] + "-2" and updated["status"] == "active"
    assert updated["actions"] == created["actions"]

    listed = client.workflows.list(per_page=100)
    assert updated["id"] in [w["id"] for w in listed["data"]]
    assert updated["id"] in [w["id"] for w in client.workflows.list(status="active", per_page=100)["data"]]
    assert updated["id"] not in [w["id"] for w in client.workflows.list(status="draft", per_page=100)["data"]]

    client.workflows.delete(created["id"])
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.get(created["id"])
    assert caught.value.status == 404


def test_webhooks_create_get_list_delete(client: Client) -> None:
    workflow = client.workflows.create(name=unique("hooks"), trigger={"type": "webhook"}, actions=[TRANSFORM])
    hook = client.webhooks.create(workflow_id=workflow["id"], event="user.created")
    assert hook["id"].startswith("hook_") and hook["url"].endswith("/webhooks/" + hook["id"])
    assert hook["secret"] and hook["verify"] == "none"
    got = client.webhooks.get(hook["id"])
    assert got["id"] == hook["id"] and not got.get("secret")  # the secret is shown once

    second = client.webhooks.create({"workflow_id": workflow["id"], "event": "user.deleted"})
    of_workflow = client.webhooks.list(workflow_id=workflow["id"])
    assert {h["id"] for h in of_workflow["data"]} == {hook["id"], second["id"]}
    assert {h["id"] for h in client.webhooks.iterate(per_page=1)} >= {hook["id"], second["id"]}

    client.webhooks.delete(hook["id"])
    with pytest.raises(BotcadenceError) as caught:
        client.webhooks.get(hook["id"])
    assert caught.value.code == "not_found"
    assert [h["id"] for h in client.webhooks.list(workflow_id=workflow["id"])["data"]] == [second["id"]]


def test_api_keys_create_use_delete(client: Client) -> None:
    made = client.api_keys.create(name="second")
    assert made["key"] and made["key"].startswith("bc_live_") and made["name"] == "second"
    other = Client(made["key"])
    assert "data" in other.workflows.list()
    assert made["id"] in [k["id"] for k in client.api_keys.list()["data"]]
    assert all(not k.get("key") for k in client.api_keys.list()["data"])

    client.api_keys.delete(made["id"])
    with pytest.raises(BotcadenceError) as caught:
        other.workflows.list(max_retries=0)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert made["id"] not in [k["id"] for k in client.api_keys.list()["data"]]


def test_signing_secret_get_and_rotate(admin: Client) -> None:
    _, own = account_client(admin)  # rotating would disturb other tests' deliveries
    first = own.signing_secret.get()["secret"]
    assert first.startswith("whsec_")
    rotated = own.signing_secret.rotate()["secret"]
    assert rotated.startswith("whsec_") and rotated != first
    assert own.signing_secret.get()["secret"] == rotated


def test_admin_accounts_and_key_revocation(admin: Client) -> None:
    account = admin.admin.accounts.create(name=unique("admin"), plan="pro")
    assert account["plan"] == "pro" and account["limits"]["requests_per_minute"] > 0
    assert admin.admin.accounts.get(account["id"]) == account
    assert account["id"] in [a["id"] for a in admin.admin.accounts.list()["data"]]

    renamed = admin.admin.accounts.update(account["id"], name=account["name"] + "-2", plan="enterprise",
                                          limits={"requests_per_minute": 1234})
    assert renamed["name"] == account["name"] + "-2" and renamed["plan"] == "enterprise"
    assert renamed["limits"]["requests_per_minute"] == 1234
    cleared = admin.admin.accounts.update(account["id"], limits=None)
    assert cleared["custom_limits"] is None

    key = admin.admin.accounts.create_api_key(account["id"], {"name": "ops"})
    user = Client(key["key"])
    assert user.api_keys.list()["total"] == 1
    admin.admin.api_keys.revoke(key["id"])
    with pytest.raises(BotcadenceError) as caught:
        user.workflows.list(max_retries=0)
    assert caught.value.status == 401


def test_system_endpoints(client: Client) -> None:
    assert client.system.health() == {"status": "ok"}
    assert client.system.readiness() == {"status": "ready"}
    assert "botcadence_" in client.system.metrics()
    served = client.system.openapi()
    import pathlib

    committed = json.loads((pathlib.Path(__file__).resolve().parents[3] / "openapi.json")
                           .read_text(encoding="utf-8"))
    assert served["paths"].keys() == committed["paths"].keys()
    # Without any key at all, too.
    assert Client(None).system.health() == {"status": "ok"}


# -- executions ------------------------------------------------------------------------------

def test_events_executions_filters_and_replay(client: Client) -> None:
    workflow, hook = active_workflow(client, [TRANSFORM])
    ids = []
    for n in range(3):
        accepted = client.events.send(hook["id"], {"n": n})
        assert accepted["status"] in ("queued", "running", "success", "failed")
        ids.append(accepted["execution_id"])
    # By URL, and as raw bytes sent exactly.
    ids.append(client.events.send(hook["url"], b'{"n": 10}')["execution_id"])
    finished = [wait_execution(client, i) for i in ids]
    assert [e["status"] for e in finished] == ["success"] * 4
    assert finished[3]["input"] == {"n": 10}
    assert finished[1]["steps"][0]["output"] in ({"doubled": 2}, {"doubled": "2"})

    listed = client.executions.list(workflow["id"], status="success")
    assert listed["total"] == 4 and {e["id"] for e in listed["data"]} == set(ids)
    assert client.executions.list(workflow["id"], {"status": "failed"})["total"] == 0
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert client.executions.list(workflow["id"], from_=future)["total"] == 0
    assert client.executions.list(workflow["id"], to=future)["total"] == 4
    pages = list(client.executions.pages(workflow["id"], status="success", per_page=3))
    assert [len(p["data"]) for p in pages] == [3, 1]
    assert {e["id"] for e in client.executions.iterate(workflow["id"], per_page=2)} == set(ids)

    replay = client.executions.replay(ids[0])
    assert replay["id"] not in ids and replay["replay_of"] == ids[0]
    assert wait_execution(client, replay["id"])["input"] == {"n": 0}
    assert client.executions.list(workflow["id"])["total"] == 5


def test_versions_shadow_replay_and_bulk_replay(client: Client) -> None:
    double = {"type": "transform", "config": {"set": {"doubled": "{{ n * 2 }}"}}}
    workflow, hook = active_workflow(client, [double])
    assert workflow["version"] == 1

    # Changing the actions makes version 2; version 1 stays as it was.
    updated = client.workflows.update(workflow["id"],
                                      actions=[{"type": "filter", "config": {"condition": "n > 1"}}, double])
    assert updated["version"] == 2
    versions = client.workflow_versions.list(workflow["id"])
    assert versions["total"] == 2 and [v["version"] for v in versions["data"]] == [2, 1]
    assert all(v["workflow_id"] == workflow["id"] for v in versions["data"])
    assert versions["data"][0]["actions"] == updated["actions"]
    first = client.workflow_versions.get(workflow["id"], 1)
    assert first["version"] == 1
    assert (first["trigger"], first["actions"]) == (workflow["trigger"], workflow["actions"])
    assert [v["version"] for v in client.workflow_versions.iterate(workflow["id"], per_page=1)] == [2, 1]
    with pytest.raises(BotcadenceError) as caught:
        client.workflow_versions.get(workflow["id"], 3)
    assert (caught.value.status, caught.value.code) == (404, "not_found")

    # n = 1 stops at the filter; n = 2 and 3 reach the transform. All succeed, on version 2.
    ids = [client.events.send(hook["id"], {"n": n})["execution_id"] for n in (1, 2, 3)]
    for execution_id in ids:
        execution = wait_execution(client, execution_id)
        assert execution["status"] == "success" and execution["workflow_version"] == 2

    # Shadow: with the filter at n > 2, only n = 2 ends differently (its transform skipped).
    shadow = client.shadow_replays.create(
        workflow["id"], definition={"actions": [{"type": "filter", "config": {"condition": "n > 2"}}, double]})
    assert shadow["id"].startswith("shr_") and shadow["workflow_id"] == workflow["id"]
    assert shadow["version"] is None
    done = wait_job(client.shadow_replays.get, shadow["id"])
    assert done["status"] == "completed", done["error"]
    assert done["finished_at"]
    assert done["summary"] == {"matched": 3, "compared": 3, "changed": 1, "unchanged": 2}
    assert done["definition"]["actions"][0]["config"]["condition"] == "n > 2"
    assert done["definition"]["trigger"] == workflow["trigger"]

    results = client.shadow_replays.results(shadow["id"])
    assert results["total"] == 3
    assert [r["changed"] for r in results["data"]] == [True, False, False]  # changed ones first
    changed = results["data"][0]
    assert changed["execution_id"] == ids[1]
    assert changed["original"]["status"] == "success" and changed["shadow"]["status"] == "success"
    assert len(changed["original"]["steps"]) == 2
    assert {"path": "steps[1].status", "original": "success", "shadow": "skipped"} in changed["differences"]
    assert [r["differences"] for r in results["data"][1:]] == [[], []]
    assert [r["execution_id"] for r in client.shadow_replays.results(shadow["id"], changed=True)["data"]] == [ids[1]]
    assert len(list(client.shadow_replays.iterate_results(shadow["id"], per_page=1))) == 3
    assert client.shadow_replays.cancel(shadow["id"])["status"] == "completed"  # finished: unchanged

    # Bulk replay: the dry run counts, the replay starts that many new executions.
    count = client.replays.count(workflow["id"], status="success")["count"]
    assert count == 3
    replay = client.replays.create(workflow["id"], status="success")
    assert replay["id"].startswith("rpl_") and replay["workflow_id"] == workflow["id"]
    assert replay["filter"]["status"] == "success"
    done = wait_job(client.replays.get, replay["id"])
    assert done["status"] == "completed", done["error"]
    assert (done["matched"], done["replayed"], done["skipped"]) == (count, count, 0)
    assert done["finished_at"]
    assert client.executions.list(workflow["id"])["total"] == 3 + count
    assert client.replays.cancel(replay["id"])["status"] == "completed"

    # Only an active workflow is replayed.
    client.workflows.update(workflow["id"], status="paused")
    with pytest.raises(BotcadenceError) as caught:
        client.replays.create(workflow["id"])
    assert (caught.value.status, caught.value.code) == (409, "workflow_inactive")


def test_events_with_the_same_idempotency_key_run_once(client: Client) -> None:
    _, hook = active_workflow(client, [TRANSFORM])
    first = client.events.send(hook["id"], {"n": 1}, idempotency_key="evt-" + unique("k"))
    key = unique("evt")
    a = client.events.send(hook["id"], {"n": 2}, idempotency_key=key)
    b = client.events.send(hook["id"], {"n": 2}, idempotency_key=key)
    assert a["execution_id"] == b["execution_id"] != first["execution_id"]
    assert b.get("duplicate") is True and not a.get("duplicate")


def test_inactive_workflow_refuses_events(client: Client) -> None:
    workflow = client.workflows.create(name=unique("draft"), trigger={"type": "webhook"}, actions=[TRANSFORM])
    hook = client.webhooks.create(workflow_id=workflow["id"], event="e")
    with pytest.raises(BotcadenceError) as caught:
        client.events.send(hook["id"], {"n": 1})
    assert (caught.value.status, caught.value.code) == (409, "workflow_inactive")
    assert caught.value.attempts == 1


# -- paging -----------------------------------------------------------------------------------

def test_iterate_seven_workflows_three_per_page(admin: Client) -> None:
    _, own = account_client(admin)
    made = {own.workflows.create(name=unique("page"), trigger={"type": "webhook"}, actions=[TRANSFORM])["id"]
            for _ in range(7)}
    pages = list(own.workflows.pages(per_page=3))
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [p["page"] for p in pages] == [1, 2, 3] and all(p["total"] == 7 for p in pages)
    seen = [w["id"] for w in own.workflows.iterate(per_page=3)]
    assert len(seen) == 7 and set(seen) == made


# -- errors -----------------------------------------------------------------------------------

def test_not_found_is_the_typed_error(client: Client) -> None:
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.get("wf_does_not_exist")
    e = caught.value
    assert (e.status, e.code) == (404, "not_found")
    assert e.message and e.request_id and e.attempts == 1 and e.retry_after is None


def test_invalid_request_names_the_field(client: Client) -> None:
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.create(trigger={"type": "webhook"}, actions=[TRANSFORM])
    e = caught.value
    assert (e.status, e.code) == (400, "invalid_request")
    assert e.details == {"field": "name", "issue": "required"}
    assert e.request_id


def test_idempotency_key_replays_and_conflicts(client: Client) -> None:
    key = unique("idem")
    first = client.workflows.create(name=unique("idem"), trigger={"type": "webhook"}, actions=[TRANSFORM],
                                    idempotency_key=key)
    again = client.workflows.create({"name": first["name"], "trigger": {"type": "webhook"},
                                     "actions": [TRANSFORM]}, idempotency_key=key)
    assert again == first
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.create(name="something else", trigger={"type": "webhook"}, actions=[TRANSFORM],
                                idempotency_key=key)
    assert (caught.value.status, caught.value.code) == (409, "conflict")


def test_rate_limit_is_honoured(admin: Client) -> None:
    rpm = int(os.environ.get("BOTCADENCE_FREE_RPM", "60"))
    account = admin.admin.accounts.create(name=unique("free"), plan="free")
    key = admin.admin.accounts.create_api_key(account["id"])["key"]
    hasty = Client(key, max_retries=0)
    limited: Optional[BotcadenceError] = None
    for _ in range(rpm + 5):
        try:
            hasty.workflows.list()
        except BotcadenceError as e:
            limited = e
            break
    assert limited is not None, f"no 429 after {rpm + 5} calls"
    assert (limited.status, limited.code) == (429, "rate_limited")
    assert limited.retry_after is not None and limited.retry_after > 0
    assert limited.attempts == 1 and limited.request_id

    patient = Client(key)  # default retries
    started = time.monotonic()
    assert "data" in patient.workflows.list()
    assert time.monotonic() - started >= limited.retry_after - 1


# -- an idempotent retry after a lost answer -----------------------------------------------------

class LosingProxy:
    """Forwards each connection's request to the daemon. The first time it reads the daemon's
    whole answer and then closes the client's connection without relaying it: the object
    exists, the client saw nothing. Later requests are relayed. Request heads are recorded."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.split("://", 1)[1].split("/", 1)[0].rpartition(":")
        self.upstream = (host, int(port))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.heads: List[Dict[str, str]] = []
        self.answers: List[bytes] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def read_message(sock: socket.socket) -> Tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the head ended")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            assert name.strip().lower() != b"transfer-encoding", "chunked bodies are not handled here"
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the body ended")
            body += chunk
        return head, body

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            head, body = self.read_message(conn)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            headers[":request-line"] = lines[0]
            with self.lock:
                self.heads.append(headers)
                first = len(self.heads) == 1
            with socket.create_connection(self.upstream) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                answer_head, answer_body = self.read_message(up)
            with self.lock:
                self.answers.append(answer_head)
            if first:
                return  # the answer is dropped: the client's connection just closes
            conn.sendall(answer_head + b"\r\n\r\n" + answer_body)

    def close(self) -> None:
        self.listener.close()


def test_create_retried_after_a_lost_answer_creates_one_workflow(admin: Client) -> None:
    _, direct = account_client(admin)
    proxy = LosingProxy(direct.base_url)
    try:
        via_proxy = Client(direct._transport.api_key, base_url=proxy.url + "/v1")
        name = unique("once")
        made = via_proxy.workflows.create(name=name, trigger={"type": "webhook"}, actions=[TRANSFORM])
        assert made["name"] == name
        assert len(proxy.heads) == 2
        assert all(h[":request-line"].startswith("POST /v1/workflows ") for h in proxy.heads)
        keys = [h.get("idempotency-key") for h in proxy.heads]
        assert keys[0] and keys[0] == keys[1]
        assert b"201" in proxy.answers[0].split(b"\r\n")[0]
        assert b"idempotent-replayed: true" in proxy.answers[1].lower()
        named = [w for w in direct.workflows.iterate(per_page=100) if w["name"] == name]
        assert len(named) == 1 and named[0]["id"] == made["id"]
    finally:
        proxy.close()


# -- signatures on real deliveries -----------------------------------------------------------------

class Receiver:
    """A loopback HTTP server recording each request's raw body and headers."""

    def __init__(self) -> None:
        self.seen: List[Tuple[bytes, Dict[str, str]]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.seen.append((body, {k.lower(): v for k, v in self.headers.items()}))
                receiver.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_outgoing_deliveries_verify(admin: Client) -> None:
    _, own = account_client(admin)
    receiver = Receiver()
    try:
        action = {"type": "http_request", "config": {
            "url": "http://127.0.0.1:%d/hook" % receiver.port, "method": "POST", "body": {"n": "{{n}}"}}}
        _, hook = active_workflow(own, [action])
        execution = own.events.send(hook["id"], {"n": 7})
        assert receiver.arrived.wait(30), "no delivery arrived"
        assert wait_execution(own, execution["execution_id"])["status"] == "success"
        body, headers = receiver.seen[0]
        assert json.loads(body) == {"n": "7"} or json.loads(body) == {"n": 7}
        secret = own.signing_secret.get()["secret"]

        assert verify_signature(body, headers["x-botcadence-signature"], secret)
        verify_standard_webhook(body, headers, secret)
        standardwebhooks = pytest.importorskip("standardwebhooks")
        standardwebhooks.Webhook(secret).verify(body, headers)

        tampered = bytearray(body)
        tampered[-2] ^= 1
        assert not verify_signature(bytes(tampered), headers["x-botcadence-signature"], secret)
        with pytest.raises(WebhookVerificationError):
            verify_standard_webhook(bytes(tampered), headers, secret)
        assert not verify_signature(body, headers["x-botcadence-signature"], secret + "x")
    finally:
        receiver.close()


def test_incoming_events_to_a_verifying_hook(client: Client) -> None:
    workflow, _ = active_workflow(client, [TRANSFORM])
    hook = client.webhooks.create(workflow_id=workflow["id"], event="evt", verify="hmac_sha256")
    secret = hook.get("secret")
    assert secret is not None and secret.startswith("whsec_")
    assert hook["verify"] == "hmac_sha256"

    with pytest.raises(BotcadenceError) as caught:
        client.events.send(hook["id"], {"n": 1})
    assert (caught.value.status, caught.value.code) == (401, "signature_invalid")

    # Signed by the SDK (Standard Webhooks headers).
    assert client.events.send(hook["id"], {"n": 2}, secret=secret)["execution_id"]
    # X-Botcadence-Signature computed with sign_payload.
    raw = b'{"n": 3}'
    assert client.events.send(hook["id"], raw,
                              headers={"X-Botcadence-Signature": sign_payload(raw, secret)})["execution_id"]
    # Signed by the official library.
    standardwebhooks = pytest.importorskip("standardwebhooks")
    now = datetime.now(timezone.utc)
    body = '{"n": 4}'
    msg_id = unique("msg")
    official = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": standardwebhooks.Webhook(secret).sign(msg_id, now, body)}
    assert client.events.send(hook["id"], body, headers=official)["execution_id"]
    # Signed with another secret: refused.
    with pytest.raises(BotcadenceError) as caught:
        client.events.send(hook["id"], {"n": 5}, secret="whsec_" + "QUJD" * 8)
    assert caught.value.code == "signature_invalid"
