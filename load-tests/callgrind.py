#!/usr/bin/env python3
"""Instructions per event, counted by callgrind: the daemon's webhook ingest against the bare
echo server (`load-tests/echo_server.rs`) under the same client. Instruction counts do not move
with the noise of a shared machine, so this is how a change to the hot path is judged.

    cargo build --release --bin botcadence --example echo_server
    python3 load-tests/callgrind.py              # 3,000 events each, about 2 minutes
    python3 load-tests/callgrind.py --top 25     # also the largest self costs in the daemon
    python3 load-tests/callgrind.py --queued     # the queued path instead (see below)

Method, for each server: start it under `valgrind --tool=callgrind` (instrumentation off for
the start), send 200 warm-up posts, zero the counters (`callgrind_control -z`), send 3,000
posts of the 63-byte body from 8 client threads with a connection per request, dump
(`callgrind_control -d`), and divide the instructions of the dump by the posts. The daemon's
workflow is one `transform` (the fast path: run in place, stored finished in one write), with
`durability = "wal"` so the count is the daemon's work and not the kernel's fsync.

With `--queued` the daemon's workflow is `transform` + `http_request` to an echo server
(started normally, outside valgrind): each event is stored queued, run by its workflow actor
and stored again; the dump is taken once every execution has finished, so the count is the
whole life of an event.
"""
import argparse
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as lt  # noqa: E402  (the shared load-test helpers)

WARMUP = 200


def post_many(base, path, count, threads=8):
    host, port = base.removeprefix("http://").split(":")
    failures = []

    def worker(n):
        for _ in range(n):
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.request("POST", path, body=lt.BODY, headers={"Content-Type": "application/json", "Connection": "close"})
            status = conn.getresponse().status
            conn.close()
            if status // 100 != 2:
                failures.append(status)

    per = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    ts = [threading.Thread(target=worker, args=(n,)) for n in per]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} posts failed, e.g. HTTP {failures[0]}")


def callgrind_instructions(outfile):
    total = 0
    with open(outfile) as f:
        for line in f:
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                total = max(total, int(m.group(2)))
    return total


def wait_finished(base, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        if lt.metrics(base).get("botcadence_engine_executions_pending", 0) == 0:
            return
        time.sleep(0.2)
    raise SystemExit("executions did not finish")


def measure(cmd, env, setup, posts, workdir, drain=False):
    out = os.path.join(workdir, "callgrind.out.%p")
    vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
          "--collect-atstart=yes", "--separate-threads=no"]
    proc, base, _ = lt.start(vg + cmd, env, wait_for=r"listening on (http://[0-9.:]+)")
    try:
        path = setup(base)
        post_many(base, path, WARMUP)
        if drain:
            wait_finished(base)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        post_many(base, path, posts)
        if drain:
            wait_finished(base)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(1)
        dumps = sorted(glob.glob(os.path.join(workdir, f"callgrind.out.{proc.pid}.*")), key=os.path.getmtime)
        if not dumps:
            raise SystemExit("callgrind wrote no dump")
        return callgrind_instructions(dumps[-1]) / posts, dumps[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=3000)
    ap.add_argument("--top", type=int, default=0, help="print the daemon's largest self costs")
    ap.add_argument("--queued", action="store_true", help="measure the queued path (transform + http_request)")
    args = ap.parse_args()
    for binary in (lt.DAEMON, lt.ECHO):
        if not os.path.exists(binary):
            raise SystemExit(f"build first: cargo build --release --bin botcadence --example echo_server ({binary} missing)")
    work = tempfile.mkdtemp(prefix="botcadence-callgrind-")

    echo, echo_dump = measure([lt.ECHO], {}, lambda base: "/webhooks/hook_echo", args.posts, work)

    data = os.path.join(work, "data")
    admin = "callgrind-admin-token-0123456789"
    env = {"BOTCADENCE_ADMIN_TOKEN": admin, "BOTCADENCE_STORAGE__DURABILITY": "wal",
           "RUST_LOG": "warn,botcadence::startup=info"}

    receiver = None
    if args.queued:
        env["BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS"] = '["127.0.0.1/32"]'
        receiver, receiver_base, _ = lt.start([lt.ECHO])

    def setup(base):
        _, key, _, url = lt.setup(base, admin)
        if args.queued:
            url = lt.effectful_hook(base, key, receiver_base + "/webhooks/receiver")
        return url.removeprefix(base)

    try:
        daemon, dump = measure([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", data], env, setup,
                               args.posts, work, drain=args.queued)
    finally:
        if receiver:
            receiver.kill()
    report = {"path": "queued" if args.queued else "fast", "posts": args.posts, "echo_instructions_per_event": round(echo), "daemon_instructions_per_event": round(daemon),
              "ratio": round(daemon / echo, 3), "echo_dump": echo_dump, "daemon_dump": dump}
    print(json.dumps(report, indent=2))
    if args.top:
        out = subprocess.run(["callgrind_annotate", "--inclusive=no", dump], capture_output=True, text=True).stdout
        lines = [l for l in out.splitlines() if re.match(r"\s*[\d,]+ \(", l)]
        print("\n".join(lines[: args.top]))


if __name__ == "__main__":
    main()
