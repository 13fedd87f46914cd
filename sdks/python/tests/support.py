"""Test support: a scripted local HTTP server, and accounts on the real daemon (live tests
are skipped unless BOTCADENCE_BASE_URL and BOTCADENCE_ADMIN_TOKEN are set, as sdks/live.py
sets them)."""

from __future__ import annotations

import http.server
import json
import os
import threading
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from botcadence import Client


class Recorded:
    def __init__(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers  # lower-case names
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


Reply = Tuple[int, Dict[str, str], bytes]


class Stub:
    """A loopback HTTP server answering from a script: each request takes the next scripted
    reply (or calls `handler`), and is recorded."""

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.replies: List[Reply] = []
        self.handler: Optional[Callable[[Recorded], Reply]] = None
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path,
                               {k.lower(): v for k, v in self.headers.items()}, body)
                stub.requests.append(rec)
                if stub.replies:
                    status, headers, payload = stub.replies.pop(0)
                elif stub.handler is not None:
                    status, headers, payload = stub.handler(rec)
                else:
                    status, headers, payload = 200, {"Content-Type": "application/json"}, b"{}"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Request-Id", "req_stub_%d" % len(stub.requests))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def reply(self, status: int, body: Any = None, headers: Optional[Dict[str, str]] = None) -> None:
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        if isinstance(body, bytes):
            payload = body
        elif body is None:
            payload = b""
        else:
            payload = json.dumps(body).encode()
        self.replies.append((status, hdrs, payload))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def no_sleep(client: Client, waits: Optional[List[float]] = None) -> List[float]:
    """Makes the client record its waits instead of sleeping."""
    recorded = waits if waits is not None else []
    client._transport._sleep = recorded.append
    return recorded


# -- the real daemon ----------------------------------------------------------------------

LIVE = bool(os.environ.get("BOTCADENCE_BASE_URL") and os.environ.get("BOTCADENCE_ADMIN_TOKEN"))
live = pytest.mark.skipif(not LIVE, reason="needs a daemon: run through sdks/live.py")

BIG_LIMITS = {"requests_per_minute": 1_000_000, "requests_per_day": 100_000_000,
              "webhooks_per_second": 100_000}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def account_client(admin: Client, plan: str = "enterprise", **client_options: Any) -> Tuple[dict, Client]:
    """A fresh account (enterprise with large limits unless told otherwise) and a client
    holding a key of it."""
    if plan == "enterprise":
        account = admin.admin.accounts.create(name=unique("py-sdk"), plan="enterprise", limits=BIG_LIMITS)
    else:
        account = admin.admin.accounts.create(name=unique("py-sdk"), plan=plan)
    key = admin.admin.accounts.create_api_key(account["id"], name="py-sdk-tests")
    return dict(account), Client(key["key"], **client_options)
