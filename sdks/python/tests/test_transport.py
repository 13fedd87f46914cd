"""Offline behaviour of the transport: base URLs, backoff, retries, idempotency keys, errors,
timeouts, refused connections, paging and request encoding (against local servers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Iterator, List

import pytest

from botcadence import (
    NOT_GIVEN,
    BotcadenceConnectionError,
    BotcadenceError,
    BotcadenceTimeoutError,
    Client,
    verify_standard_webhook,
)
from botcadence._transport import (
    DEFAULT_BASE_URL,
    backoff_delay,
    normalize_base_url,
    parse_retry_after,
)
from support import Stub, no_sleep


# -- base URL -----------------------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    ("https://api.botcadence.com", "https://api.botcadence.com"),
    ("https://api.botcadence.com/", "https://api.botcadence.com"),
    ("https://api.botcadence.com/v1", "https://api.botcadence.com"),
    ("https://api.botcadence.com/v1/", "https://api.botcadence.com"),
    ("  http://127.0.0.1:8080/v1  ", "http://127.0.0.1:8080"),
    ("http://[::1]:8080/", "http://[::1]:8080"),
    ("https://example.com/botcadence/v1", "https://example.com/botcadence"),
    ("https://example.com/botcadence/", "https://example.com/botcadence"),
    ("https://example.com/v10", "https://example.com/v10"),
])
def test_base_url_normalisation(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("bad", ["api.botcadence.com", "ftp://x", "https://", "http://h/?a=1"])
def test_base_url_must_be_http(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_base_url(bad)


def test_base_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTCADENCE_BASE_URL", raising=False)
    assert Client("k").base_url == DEFAULT_BASE_URL
    monkeypatch.setenv("BOTCADENCE_BASE_URL", "http://127.0.0.1:1234/v1/")
    assert Client("k").base_url == "http://127.0.0.1:1234"
    assert Client("k", base_url="http://10.0.0.1/v1").base_url == "http://10.0.0.1"


def test_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, stub: Stub) -> None:
    monkeypatch.setenv("BOTCADENCE_API_KEY", "bc_live_env")
    Client(base_url=stub.url).workflows.list()
    assert stub.requests[0].headers["authorization"] == "Bearer bc_live_env"
    assert "bc_live_env" not in repr(Client(base_url=stub.url))


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Client("k", timeout=0)
    with pytest.raises(ValueError):
        Client("k", max_retries=-1)


# -- backoff and Retry-After -------------------------------------------------------------------

def test_backoff_bounds() -> None:
    for attempt in range(12):
        ceiling = min(0.5 * 2 ** attempt, 8.0)
        assert backoff_delay(attempt, lambda: 0.0) == pytest.approx(ceiling / 2)
        assert backoff_delay(attempt, lambda: 1.0) == pytest.approx(ceiling)
        for _ in range(50):
            assert ceiling / 2 <= backoff_delay(attempt) <= ceiling
    assert backoff_delay(0, lambda: 1.0) == 0.5
    assert backoff_delay(4, lambda: 1.0) == 8.0
    assert backoff_delay(30, lambda: 1.0) == 8.0


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    now = time.time()
    later = format_datetime(datetime.fromtimestamp(now + 30, tz=timezone.utc), usegmt=True)
    assert 28 <= (parse_retry_after(later, now=now) or 0) <= 31
    earlier = format_datetime(datetime.fromtimestamp(now - 30, tz=timezone.utc), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0


# -- errors ---------------------------------------------------------------------------------

def test_error_envelope_becomes_the_typed_error(stub: Stub) -> None:
    stub.reply(400, {"error": {"code": "invalid_request", "message": "The 'name' field is required",
                               "details": {"field": "name", "issue": "required"}}})
    with pytest.raises(BotcadenceError) as caught:
        Client("k", base_url=stub.url).workflows.create(trigger={"type": "webhook"}, actions=[])
    e = caught.value
    assert (e.status, e.code, e.details) == (400, "invalid_request", {"field": "name", "issue": "required"})
    assert e.message == "The 'name' field is required"
    assert e.request_id == "req_stub_1"
    assert e.retry_after is None and e.attempts == 1
    assert not isinstance(e, BotcadenceConnectionError)
    assert "invalid_request" in str(e) and "req_stub_1" in str(e)
    assert len(stub.requests) == 1  # a 400 is not retried


def test_non_envelope_error_still_typed(stub: Stub) -> None:
    stub.reply(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"})
    with pytest.raises(BotcadenceError) as caught:
        Client("k", base_url=stub.url, max_retries=0).workflows.get("wf_1")
    assert (caught.value.status, caught.value.code) == (502, "bad_gateway")
    assert "bad gateway" in caught.value.message
    assert caught.value.details is None


# -- retries ---------------------------------------------------------------------------------

def test_retry_after_is_honoured_and_the_idempotency_key_is_kept(stub: Stub) -> None:
    stub.reply(503, {"error": {"code": "unavailable", "message": "busy"}}, {"Retry-After": "2"})
    stub.reply(429, {"error": {"code": "rate_limited", "message": "slow"}}, {"Retry-After": "1"})
    stub.reply(201, {"id": "wf_1"})
    client = Client("k", base_url=stub.url)
    waits = no_sleep(client)
    assert client.workflows.create(name="n", trigger={"type": "webhook"}, actions=[]) == {"id": "wf_1"}
    assert waits == [2, 1]
    keys = {r.headers["idempotency-key"] for r in stub.requests}
    assert len(stub.requests) == 3 and len(keys) == 1
    assert len(keys.pop()) == 36  # a UUID


def test_each_call_has_its_own_idempotency_key_unless_given(stub: Stub) -> None:
    client = Client("k", base_url=stub.url)
    client.workflows.create(name="a")
    client.workflows.create(name="a")
    client.workflows.create(name="a", idempotency_key="mine-1")
    k1, k2, k3 = (r.headers["idempotency-key"] for r in stub.requests)
    assert k1 != k2 and k3 == "mine-1"


def test_backoff_without_retry_after_and_retries_exhausted(stub: Stub) -> None:
    for _ in range(3):
        stub.reply(500, {"error": {"code": "internal_error", "message": "x"}})
    client = Client("k", base_url=stub.url)
    waits = no_sleep(client)
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.list()
    assert caught.value.status == 500 and caught.value.attempts == 3
    assert len(waits) == 2
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0


def test_long_retry_after_is_raised_not_waited(stub: Stub) -> None:
    stub.reply(429, {"error": {"code": "rate_limited", "message": "x"}}, {"Retry-After": "61"})
    client = Client("k", base_url=stub.url)
    waits = no_sleep(client)
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.list()
    assert caught.value.retry_after == 61 and caught.value.code == "rate_limited"
    assert waits == [] and len(stub.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retried_statuses(stub: Stub, status: int) -> None:
    stub.reply(status, {"error": {"code": "x", "message": "x"}})
    client = Client("k", base_url=stub.url)
    no_sleep(client)
    assert client.workflows.get("wf_1") == {}
    assert len(stub.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 501])
def test_not_retried_statuses(stub: Stub, status: int) -> None:
    stub.reply(status, {"error": {"code": "x", "message": "x"}})
    client = Client("k", base_url=stub.url)
    no_sleep(client)
    with pytest.raises(BotcadenceError):
        client.workflows.get("wf_1")
    assert len(stub.requests) == 1


def test_max_retries_per_call_and_per_client(stub: Stub) -> None:
    stub.handler = lambda rec: (503, {"Content-Type": "application/json"}, b"{}")
    client = Client("k", base_url=stub.url, max_retries=4)
    no_sleep(client)
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.list()
    assert caught.value.attempts == 5
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.list(max_retries=0)
    assert caught.value.attempts == 1
    assert len(stub.requests) == 6


def test_operator_posts_are_retried_only_when_nothing_was_done(stub: Stub) -> None:
    # The operator API takes no Idempotency-Key: a 500 may have created the account.
    stub.reply(500, {"error": {"code": "internal_error", "message": "x"}})
    client = Client("admin", base_url=stub.url)
    no_sleep(client)
    with pytest.raises(BotcadenceError):
        client.admin.accounts.create(name="a")
    assert len(stub.requests) == 1
    # A 503 says nothing was stored: retried.
    stub.reply(503, {"error": {"code": "unavailable", "message": "x"}}, {"Retry-After": "0"})
    client.admin.accounts.create(name="a")
    assert len(stub.requests) == 3


# -- no answer ---------------------------------------------------------------------------------

def test_timeout_is_its_own_error_kind() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: List[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accepted, never answered
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        client = Client("k", base_url="http://127.0.0.1:%d" % listener.getsockname()[1])
        started = time.monotonic()
        with pytest.raises(BotcadenceTimeoutError) as caught:
            client.workflows.list(timeout=0.2, max_retries=0)
        elapsed = time.monotonic() - started
        assert 0.15 <= elapsed < 2
        assert caught.value.status == 0 and caught.value.code == "timeout"
        assert isinstance(caught.value, BotcadenceConnectionError)
        assert caught.value.request_id is None
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused_connection_is_retried_then_a_connection_error() -> None:
    client = Client("k", base_url="http://127.0.0.1:%d/v1" % closed_port())
    waits = no_sleep(client)
    with pytest.raises(BotcadenceConnectionError) as caught:
        client.workflows.create(name="x")
    e = caught.value
    assert not isinstance(e, BotcadenceTimeoutError)
    assert (e.status, e.code, e.attempts) == (0, "connection_error", 3)
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0


def test_refused_connection_really_waits() -> None:
    client = Client("k", base_url="http://127.0.0.1:%d" % closed_port(), max_retries=1)
    started = time.monotonic()
    with pytest.raises(BotcadenceConnectionError) as caught:
        client.workflows.list()
    assert caught.value.attempts == 2
    assert time.monotonic() - started >= 0.25


class DropFirst:
    """Answers nothing to the first request (reads it, then closes), 201 to the rest."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.requests: List[bytes] = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                rest += conn.recv(65536)
            self.requests.append(head)
            if len(self.requests) > 1:
                body = b'{"id":"wf_1"}'
                conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.close()


def idempotency_key_of(head: bytes) -> str:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"idempotency-key":
            return value.strip().decode()
    return ""


def test_dropped_answer_is_retried_with_the_same_key() -> None:
    server = DropFirst()
    try:
        client = Client("k", base_url=server.url)
        no_sleep(client)
        assert client.workflows.create(name="once") == {"id": "wf_1"}
        assert len(server.requests) == 2
        keys = [idempotency_key_of(h) for h in server.requests]
        assert keys[0] and keys[0] == keys[1]
    finally:
        server.listener.close()


def test_retry_finding_the_timed_out_attempt_still_running_waits_for_it(stub: Stub) -> None:
    # The first attempt times out while the daemon still works on it; the retry, same key,
    # is told 409 conflict ("still running"); the next one gets the stored answer.
    calls: List[str] = []

    def handler(rec: Any) -> Any:
        calls.append(rec.headers["idempotency-key"])
        if len(calls) == 1:
            time.sleep(0.5)
            return 201, {"Content-Type": "application/json"}, b'{"id":"wf_1"}'
        if len(calls) == 2:
            return 409, {"Content-Type": "application/json"}, json.dumps(
                {"error": {"code": "conflict", "message": "still running"}}).encode()
        return 201, {"Content-Type": "application/json", "Idempotent-Replayed": "true"}, b'{"id":"wf_1"}'

    stub.handler = handler
    client = Client("k", base_url=stub.url)
    no_sleep(client)
    assert client.workflows.create(name="slow", timeout=0.2) == {"id": "wf_1"}
    assert len(calls) == 3 and len(set(calls)) == 1


def test_conflict_on_a_first_attempt_is_not_retried(stub: Stub) -> None:
    stub.reply(409, {"error": {"code": "conflict", "message": "key used for another request"}})
    client = Client("k", base_url=stub.url)
    no_sleep(client)
    with pytest.raises(BotcadenceError) as caught:
        client.workflows.create(name="x", idempotency_key="reused")
    assert caught.value.code == "conflict" and len(stub.requests) == 1


def test_dropped_answer_to_an_operator_post_is_not_retried() -> None:
    server = DropFirst()
    try:
        client = Client("admin", base_url=server.url)
        no_sleep(client)
        with pytest.raises(BotcadenceConnectionError):
            client.admin.accounts.create(name="a")
        assert len(server.requests) == 1
    finally:
        server.listener.close()


# -- paging ------------------------------------------------------------------------------------

def paged(total: int) -> Any:
    def handler(rec: Any) -> Any:
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(rec.path).query)
        page, per_page = int(q.get("page", ["1"])[0]), int(q.get("per_page", ["20"])[0])
        items = [{"id": "wf_%d" % i} for i in range(total)][(page - 1) * per_page: page * per_page]
        body = {"data": items, "total": total, "page": page, "per_page": per_page}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
    return handler


def test_iterate_walks_every_page(stub: Stub) -> None:
    stub.handler = paged(7)
    client = Client("k", base_url=stub.url)
    assert [w["id"] for w in client.workflows.iterate(per_page=3)] == ["wf_%d" % i for i in range(7)]
    assert [r.path for r in stub.requests] == [
        "/v1/workflows?page=1&per_page=3", "/v1/workflows?page=2&per_page=3",
        "/v1/workflows?page=3&per_page=3"]
    assert [len(p["data"]) for p in client.workflows.pages(per_page=3)] == [3, 3, 1]
    assert len(list(client.workflow_versions.iterate("wf_1", per_page=2))) == 7
    assert [len(p["data"]) for p in client.shadow_replays.result_pages("shr_1", per_page=4)] == [4, 3]


def test_iterate_stops_on_an_empty_page(stub: Stub) -> None:
    stub.reply(200, {"data": [{"id": "a"}], "total": 5, "page": 1, "per_page": 1})
    stub.reply(200, {"data": [], "total": 5, "page": 2, "per_page": 1})
    assert [w["id"] for w in Client("k", base_url=stub.url).webhooks.iterate(per_page=1)] == ["a"]
    assert len(stub.requests) == 2


def test_iterate_is_lazy(stub: Stub) -> None:
    stub.handler = paged(7)
    it: Iterator[Any] = Client("k", base_url=stub.url).workflows.iterate(per_page=3)
    assert stub.requests == []
    next(it)
    assert len(stub.requests) == 1


def test_execution_filters_are_encoded(stub: Stub) -> None:
    stub.handler = paged(0)
    client = Client("k", base_url=stub.url)
    since = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    client.executions.list("wf 1/x", status="failed", from_=since, to="2025-02-01T00:00:00Z",
                           page=2, per_page=50)
    client.executions.list("wf_1", {"status": "success", "from": datetime(2025, 1, 1)})
    list(client.executions.iterate("wf_1", {"from_": since - timedelta(days=1)}, per_page=5))
    assert stub.requests[0].path == ("/v1/workflows/wf%201%2Fx/executions?status=failed"
                                     "&from=2025-01-02T03%3A04%3A05Z&to=2025-02-01T00%3A00%3A00Z"
                                     "&page=2&per_page=50")
    assert stub.requests[1].path == ("/v1/workflows/wf_1/executions?status=success"
                                     "&from=2025-01-01T00%3A00%3A00Z")
    assert stub.requests[2].path == ("/v1/workflows/wf_1/executions?from=2025-01-01T03%3A04%3A05Z"
                                     "&per_page=5&page=1")


# -- bodies --------------------------------------------------------------------------------

def test_bodies_from_dicts_and_fields(stub: Stub) -> None:
    client = Client("k", base_url=stub.url)
    client.workflows.create({"name": "a", "trigger": {"type": "webhook"}}, name="b", status="active")
    client.admin.accounts.update("acct_1", limits=None)
    client.admin.accounts.update("acct_1", {"plan": "pro"}, name=NOT_GIVEN)
    client.signing_secret.rotate()
    assert stub.requests[0].json() == {"name": "b", "trigger": {"type": "webhook"}, "status": "active"}
    assert stub.requests[0].headers["content-type"] == "application/json"
    assert stub.requests[1].json() == {"limits": None}
    assert stub.requests[2].json() == {"plan": "pro"}
    assert stub.requests[3].body == b"" and stub.requests[3].headers["content-length"] == "0"


def test_versions_replays_and_shadow_replays(stub: Stub) -> None:
    stub.handler = paged(0)
    client = Client("k", base_url=stub.url)
    since = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    client.workflow_versions.list("wf 1", page=2, per_page=5)
    client.workflow_versions.get("wf_1", 3)
    with pytest.raises(ValueError):
        client.workflow_versions.get("wf_1", 0)
    with pytest.raises(ValueError):
        client.workflow_versions.get("wf_1", True)
    client.replays.create("wf_1", status="failed", from_=since, limit=50)
    client.replays.count("wf_1", {"to": datetime(2025, 2, 1), "dry_run": False})
    client.replays.create("wf_1")
    client.replays.get("rpl_1")
    client.replays.cancel("rpl_1")
    client.shadow_replays.create("wf_1", definition={"actions": [{"type": "delay", "config": {"seconds": 0}}]},
                                 limit=10)
    client.shadow_replays.create("wf_1", {"version": 2, "from_": "2025-01-01T00:00:00Z"},
                                 idempotency_key="shadow-1")
    client.shadow_replays.get("shr_1")
    client.shadow_replays.cancel("shr_1")
    client.shadow_replays.results("shr_1", changed=True, per_page=10)
    assert list(client.shadow_replays.iterate_results("shr_1", changed=False)) == []

    assert ["%s %s" % (r.method, r.path) for r in stub.requests] == [
        "GET /v1/workflows/wf%201/versions?page=2&per_page=5",
        "GET /v1/workflows/wf_1/versions/3",
        "POST /v1/workflows/wf_1/replays",
        "POST /v1/workflows/wf_1/replays",
        "POST /v1/workflows/wf_1/replays",
        "GET /v1/replays/rpl_1",
        "DELETE /v1/replays/rpl_1",
        "POST /v1/workflows/wf_1/shadow-replays",
        "POST /v1/workflows/wf_1/shadow-replays",
        "GET /v1/shadow-replays/shr_1",
        "DELETE /v1/shadow-replays/shr_1",
        "GET /v1/shadow-replays/shr_1/results?changed=true&per_page=10",
        "GET /v1/shadow-replays/shr_1/results?changed=false&page=1",
    ]
    bodies = [r.json() if r.body else None for r in stub.requests]
    assert bodies[2] == {"status": "failed", "from": "2025-01-02T03:04:05Z", "limit": 50}
    assert bodies[3] == {"to": "2025-02-01T00:00:00Z", "dry_run": True}
    assert bodies[4] == {}
    assert bodies[7] == {"definition": {"actions": [{"type": "delay", "config": {"seconds": 0}}]}, "limit": 10}
    assert bodies[8] == {"version": 2, "from": "2025-01-01T00:00:00Z"}
    # Every POST carries its own Idempotency-Key; the others none.
    keys = [r.headers.get("idempotency-key") for r in stub.requests if r.method == "POST"]
    assert len(set(keys)) == 5 and keys[4] == "shadow-1" and all(keys)
    assert all("idempotency-key" not in r.headers for r in stub.requests if r.method != "POST")


def test_ids_cannot_escape_their_path_segment(stub: Stub) -> None:
    client = Client("k", base_url=stub.url)
    client.workflows.get("../admin/v1/accounts")
    assert stub.requests[0].path == "/v1/workflows/..%2Fadmin%2Fv1%2Faccounts"
    with pytest.raises(ValueError):
        client.workflows.get("")


def test_no_content_answers_none(stub: Stub) -> None:
    stub.reply(204, None)
    result = Client("k", base_url=stub.url)._transport.request("DELETE", "/v1/workflows/wf_1")
    assert result is None


def test_metrics_is_text(stub: Stub) -> None:
    stub.reply(200, b"# HELP x\nx 1\n", {"Content-Type": "text/plain; version=0.0.4"})
    assert Client("k", base_url=stub.url).system.metrics() == "# HELP x\nx 1\n"


# -- events ------------------------------------------------------------------------------------

def test_event_payloads_are_sent_exactly(stub: Stub) -> None:
    client = Client("k", base_url=stub.url)
    raw = b'{ "a" :1,"b":[1, 2] }'
    client.events.send("hook_1", raw)
    client.events.send("hook_1", '{"t":"é"}')
    client.events.send("hook_1", {"t": "é", "n": [1, 2]})
    client.events.send(stub.url + "/webhooks/hook_2", [1], idempotency_key="evt-1",
                       headers={"X-Trace": "t1"})
    r0, r1, r2, r3 = stub.requests
    assert r0.body == raw and r0.path == "/webhooks/hook_1"
    assert r1.body == '{"t":"é"}'.encode("utf-8")
    assert json.loads(r2.body) == {"t": "é", "n": [1, 2]}
    assert r3.path == "/webhooks/hook_2" and r3.headers["idempotency-key"] == "evt-1"
    assert r3.headers["x-trace"] == "t1"
    assert all("authorization" not in r.headers for r in stub.requests)
    assert all(r.headers["content-type"] == "application/json" for r in stub.requests)
    assert len({r.headers["idempotency-key"] for r in stub.requests}) == 4


def test_events_signed_for_verifying_hooks_keep_their_id_across_retries(stub: Stub) -> None:
    secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtMTIzNA=="
    stub.reply(503, {"error": {"code": "unavailable", "message": "x"}}, {"Retry-After": "0"})
    client = Client("k", base_url=stub.url)
    client.events.send("hook_1", {"n": 1}, secret=secret)
    first, second = stub.requests
    for rec in (first, second):
        verify_standard_webhook(rec.body, rec.headers, secret)
        assert rec.headers["webhook-id"] == rec.headers["idempotency-key"]
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
