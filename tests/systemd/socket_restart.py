#!/usr/bin/env python3
"""Restarts that drop nothing: the daemon takes its listening socket the way systemd passes it
(socket activation: descriptor 3, LISTEN_FDS=1, LISTEN_PID=its pid), and is restarted twice
(SIGTERM, then a new process on the same socket) under a steady load of webhook posts. This
script holds the socket in between, as systemd does. Counts refused connections, other
connection errors and non-2xx answers: all must be 0, and every acknowledged event must be
stored.

    python3 tests/systemd/socket_restart.py     # needs the release binary (CARGO_TARGET_DIR)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DAEMON = os.environ.get("BOTCADENCE_BIN", os.path.join(TARGET, "release", "botcadence"))
LOAD_THREADS = 4


def start(sock, data_dir):
    """A daemon on the inherited socket; returns the process once it serves."""
    log = tempfile.NamedTemporaryFile("w+", delete=False, prefix="socket-restart-", suffix=".log")
    out = tempfile.NamedTemporaryFile("w+", delete=False, prefix="socket-restart-", suffix=".out")
    fd = sock.fileno()
    # The shell moves the socket to descriptor 3 and names itself (its pid is the daemon's
    # after exec) in LISTEN_PID, as systemd does.
    script = f'exec 3<&{fd}; export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"'
    proc = subprocess.Popen(
        ["sh", "-c", script, "sh", DAEMON, "serve", "--listen", "127.0.0.1:1", "--data-dir", data_dir],
        pass_fds=[fd], stdout=out, stderr=log,
        env={**os.environ, "BOTCADENCE_ADMIN_TOKEN": "socket-restart-admin-token", "RUST_LOG": "warn,botcadence::startup=info",
             "BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND": "100000", "BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE": "100000"})
    deadline = time.time() + 30
    while time.time() < deadline:
        text = open(log.name).read()
        if "listening on http://" in text:
            return proc, out.name, text
        if proc.poll() is not None:
            raise SystemExit("FAIL: the daemon exited: " + text[-2000:])
        time.sleep(0.02)
    raise SystemExit("FAIL: the daemon did not start")


def call(method, url, body=None, key=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                                 headers={"Content-Type": "application/json", "Connection": "close"})
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    data_dir = tempfile.mkdtemp(prefix="socket-restart-")
    proc, out, log = start(sock, data_dir)
    assert f"listening on {base}" in log, log
    key = None
    for _ in range(100):
        m = re.search(r"bc_live_[0-9a-f]{64}", open(out).read())
        if m:
            key = m.group(0)
            break
        time.sleep(0.05)
    assert key, "the first start prints a key"
    _, wf = call("POST", base + "/v1/workflows", {"name": "restart", "status": "active", "trigger": {"type": "webhook"},
                                                  "actions": [{"type": "transform", "config": {"set": {"n": "{{n}}"}}}]}, key)
    _, hook = call("POST", base + "/v1/webhooks", {"workflow_id": wf["id"], "event": "e"}, key)
    print(f"ok  the daemon serves on a socket it was given ({base})")

    counts = {"ok": 0, "non_2xx": 0, "refused": 0, "other_errors": 0}
    acked, lock, stop, errors = [], threading.Lock(), threading.Event(), []

    def load(t):
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status, body = call("POST", hook["url"], {"n": n, "t": t})
                kind = "ok" if 200 <= status < 300 else "non_2xx"
                if kind == "ok":
                    with lock:
                        acked.append(body["execution_id"])
            except urllib.error.HTTPError:
                kind = "non_2xx"
            except urllib.error.URLError as e:
                kind = "refused" if isinstance(e.reason, ConnectionRefusedError) else "other_errors"
                errors.append(repr(e))
            except (ConnectionError, OSError) as e:
                kind = "other_errors"
                errors.append(repr(e))
            with lock:
                counts[kind] += 1

    threads = [threading.Thread(target=load, args=(t,)) for t in range(LOAD_THREADS)]
    for t in threads:
        t.start()
    restarts = []
    try:
        for _ in range(2):
            time.sleep(1.5)
            began = time.time()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            proc, out, _ = start(sock, data_dir)
            restarts.append(time.time() - began)
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    _, listed = call("GET", base + f"/v1/workflows/{wf['id']}/executions?per_page=1", key=key)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    print(f"    {counts['ok']} events acknowledged across 2 restarts (each {', '.join(f'{r:.2f} s' for r in restarts)} "
          f"from SIGTERM to the new process serving); non-2xx {counts['non_2xx']}, refused {counts['refused']}, "
          f"other connection errors {counts['other_errors']}; {listed['total']} executions stored")
    assert counts["refused"] == 0 and counts["other_errors"] == 0 and counts["non_2xx"] == 0, (counts, errors[:5])
    assert counts["ok"] > 0
    assert listed["total"] == len(acked), f"{listed['total']} stored for {len(acked)} acknowledged"
    print("socket restart: all checks passed")


if __name__ == "__main__":
    main()
