#!/usr/bin/env python3
"""Signatures checked by the other side's own code, against the real binary.

* Incoming: events signed with the official `standardwebhooks` libraries (PyPI and npm) with a
  hook's secret are accepted (202), with key rotation (several signatures in one header);
  tampered ones are refused (401).
* Outgoing: an `http_request` reaches a receiver here, which verifies it with the official
  libraries (Python and Node) and with the reference's JavaScript `verifySignature` under
  Node; a step retried after a 503 carries the same `webhook-id` on both attempts.

    python3 -m venv ~/.cache/botcadence/interop-venv
    ~/.cache/botcadence/interop-venv/bin/pip install -r tests/interop/requirements.txt
    npm ci --prefix tests/interop
    ~/.cache/botcadence/interop-venv/bin/python tests/interop/run.py

`scripts/test.sh` does all of this. Loopback only; takes a few seconds.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone

from standardwebhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "load-tests"))
import run as lt  # noqa: E402  (starting the daemon, HTTP helpers)

ADMIN = "interop-admin-token-0123456789abcdef"


def node(job):
    out = subprocess.run(["node", os.path.join(HERE, "node_check.mjs")], input=json.dumps(job),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records every request; `/flaky` answers 503 (Retry-After: 1) the first time."""
    seen = []
    flaky_calls = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Receiver.seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                              "body": body})
        if self.path == "/flaky":
            Receiver.flaky_calls += 1
            if Receiver.flaky_calls == 1:
                self.send_response(503)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_finished(base, key, execution_id, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        s, ex = lt.http("GET", f"{base}/v1/executions/{execution_id}", token=key)
        if s == 200 and ex["status"] in ("success", "failed"):
            return ex
        time.sleep(0.1)
    raise AssertionError(f"execution {execution_id} did not finish")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok  {what}")


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{receiver.server_address[1]}"
    env = {"BOTCADENCE_ADMIN_TOKEN": ADMIN, "RUST_LOG": "warn,botcadence::startup=info",
           "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.1/32"]'}
    proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], env)
    try:
        _, key, _, _ = lt.setup(base, ADMIN)
        s, wf = lt.http("POST", base + "/v1/workflows", {"name": "interop", "status": "active",
            "trigger": {"type": "webhook"},
            "actions": [{"type": "http_request", "config": {"url": target + "/notify", "method": "POST",
                                                            "body": {"user": "{{user}}"}}},
                        {"type": "http_request", "config": {"url": target + "/flaky", "method": "POST",
                                                            "body": {"again": True}}}]}, key)
        assert s == 201, wf
        s, hook = lt.http("POST", base + "/v1/webhooks", {"workflow_id": wf["id"], "event": "interop",
                                                          "verify": "hmac_sha256"}, key)
        assert s == 201, hook
        secret, url = hook["secret"], hook["url"]
        s, signing = lt.http("GET", base + "/v1/signing-secret", token=key)
        assert s == 200, signing
        account_secret = signing["secret"]

        # Incoming, signed by the official Python library.
        body = json.dumps({"user": "ada"}).encode()
        wh = Webhook(secret)
        now = datetime.now(tz=timezone.utc)
        sig = wh.sign("msg_py_1", now, body.decode())
        headers = {"webhook-id": "msg_py_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": sig}
        status, reply = post(url, body, headers)
        check(status == 202, f"an event signed by standardwebhooks (PyPI) is accepted: {status} {reply!r}")
        execution_id = json.loads(reply)["execution_id"]
        accepted = [execution_id]

        rotated = {**headers, "webhook-id": "msg_py_2",
                   "webhook-signature": Webhook(base64.b64encode(b"o" * 24).decode()).sign(
                       "msg_py_2", now, body.decode()) + " " + wh.sign("msg_py_2", now, body.decode())}
        status, reply = post(url, body, rotated)
        check(status == 202, f"a header with an old key's and the current key's signatures is accepted: {status} {reply!r}")
        accepted.append(json.loads(reply)["execution_id"])

        status, reply = post(url, body.replace(b"ada", b"eve"), {**headers, "webhook-id": "msg_py_1"})
        check(status == 401 and b"signature_invalid" in reply, f"a tampered body is refused: {status} {reply!r}")

        # Incoming, signed by the official npm package.
        signed = node({"mode": "sign", "secret": secret, "id": "msg_js_1", "body": body.decode()})
        status, reply = post(url, body, signed["headers"])
        check(status == 202, f"an event signed by standardwebhooks (npm) is accepted: {status} {reply!r}")
        accepted.append(json.loads(reply)["execution_id"])

        # Outgoing: what the receiver got, verified by the official libraries and the reference.
        statuses = [wait_finished(base, key, i)["status"] for i in accepted]
        check(statuses == ["success"] * 3, f"the executions calling the receiver succeeded: {statuses}")
        notify = [r for r in Receiver.seen if r["path"] == "/notify"]
        flaky = [r for r in Receiver.seen if r["path"] == "/flaky"]
        check(len(notify) >= 1 and len(flaky) >= 2, f"the receiver was called ({len(notify)} + {len(flaky)})")
        first = next(r for r in notify if execution_id in r["headers"]["webhook-id"])
        Webhook(account_secret).verify(first["body"], first["headers"])
        check(True, "an outgoing call verifies with standardwebhooks (PyPI)")
        res = node({"mode": "verify", "secret": account_secret, "headers": first["headers"],
                    "body_b64": base64.b64encode(first["body"]).decode()})
        check(res.get("standard") is True, f"an outgoing call verifies with standardwebhooks (npm): {res}")
        check(res.get("reference") is True, f"X-Botcadence-Signature verifies with the reference's verifySignature: {res}")
        forged = node({"mode": "verify", "secret": account_secret, "headers": first["headers"],
                       "body_b64": base64.b64encode(first["body"] + b" ").decode()})
        check(forged.get("standard") is False and forged.get("reference") is False,
              f"both checks refuse a changed body: {forged}")
        # Three executions reached /flaky; the first call overall got a 503 and was retried.
        per_id = {}
        for r in flaky:
            per_id.setdefault(r["headers"]["webhook-id"], []).append(r)
        retried = [calls for calls in per_id.values() if len(calls) == 2]
        check(len(per_id) == 3 and len(retried) == 1 and len(flaky) == 4,
              f"a retried step keeps its webhook-id: {[(i, len(c)) for i, c in per_id.items()]}")
        check(first["headers"]["webhook-id"] not in per_id, "two steps carry different webhook-ids")
        for attempt in retried[0]:
            Webhook(account_secret).verify(attempt["body"], attempt["headers"])
        check(True, "both attempts of the retried step verify")
        print("interop: all checks passed")
    finally:
        proc.kill()
        receiver.shutdown()


if __name__ == "__main__":
    main()
