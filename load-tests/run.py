#!/usr/bin/env python3
"""Whole-daemon load test: builds in release, measures a bare actix-web echo baseline and the
daemon's webhook ingest with the same client in the same run, and prints a report (also saved
as JSON and markdown).

    python3 load-tests/run.py            # full run, about 5 minutes after the build
    python3 load-tests/run.py --smoke    # ~20 s: every scenario, short, for CI

Loopback only. See load-tests/README.md for what each figure means.
"""
import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
DAEMON = os.path.join(TARGET, "release", "botcadence")
ECHO = os.path.join(TARGET, "release", "examples", "echo_server")
SEED = os.path.join(TARGET, "release", "examples", "seed")
# The 63-byte JSON event every scenario sends.
BODY = '{"user":{"email":"ada@example.com","name":"Ada"},"n":123456789}'
assert len(BODY) == 63, len(BODY)
CHILDREN = []


def log(msg):
    print(f"[load] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    if not shutil.which("wrk"):
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "wrk"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    cargo_bin = os.path.expanduser("~/.cargo/bin")
    os.environ["PATH"] = cargo_bin + os.pathsep + os.environ["PATH"]
    if not shutil.which("oha"):
        # Built in its own target directory so it never disturbs the project's build.
        run(["cargo", "install", "oha", "--locked"], env={**os.environ, "CARGO_TARGET_DIR": os.path.join(tempfile.gettempdir(), "oha-build")})
    run(["cargo", "build", "--release", "--bin", "botcadence", "--example", "echo_server", "--example", "seed"], cwd=ROOT)


def start(cmd, env=None, wait_for=r"listening on (http://[0-9.:]+)"):
    logf = tempfile.NamedTemporaryFile("w+", delete=False, prefix="load-", suffix=".log")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    CHILDREN.append(proc)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(logf.name) as f:
            m = re.search(wait_for, f.read())
        if m:
            return proc, m.group(1), logf.name
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited: " + open(logf.name).read()[-2000:])
        time.sleep(0.05)
    raise SystemExit(f"{cmd[0]} did not start")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metrics(base):
    _, text = http("GET", base + "/metrics")
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def completed(m):
    return sum(v for k, v in m.items() if k.startswith("botcadence_engine_executions_total{"))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


WRK_LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d duration_us=%%d non2xx=%%d sockerr=%%d p50=%%d p99=%%d p999=%%d\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
""" % BODY


def wrk(url, seconds):
    lua = tempfile.NamedTemporaryFile("w", delete=False, suffix=".lua")
    lua.write(WRK_LUA)
    lua.close()
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", lua.name, url], capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) sockerr=(\d+) p50=(\d+) p99=(\d+) p999=(\d+)", out)
    req, dur, non2xx, sockerr, p50, p99, p999 = (int(x) for x in m.groups())
    ok = req - non2xx - sockerr
    return {"client": "wrk -t2 -c32", "seconds": seconds, "requests": req, "non_2xx": non2xx, "socket_errors": sockerr,
            "rps": ok / (dur / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "p999_ms": p999 / 1000}


def oha_json_flag():
    help_text = subprocess.run(["oha", "--help"], capture_output=True, text=True).stdout
    return ["--output-format", "json"] if "--output-format" in help_text else ["--json"]


# Connections of the open-loop client. An open-loop client must never run out of
# connections, or it measures its own queue: at 14,700 req/s a daemon answering in ~1.1 ms
# keeps ~16 of 32 connections busy on average, and one slow group commit was enough to tip a
# 32-connection run into a backlog that never drained (p50 1,046 ms while the daemon's own
# p99 stayed under 10 ms); with 128 the same load measured p50 1.45 ms. Producers in the field
# are many clients, not one pool of 32.
OPEN_LOOP_CONNECTIONS = 128


def oha(url, rate, seconds):
    cmd = ["oha", "-z", f"{seconds}s", "-q", str(int(rate)), "--latency-correction", "-c", str(OPEN_LOOP_CONNECTIONS), "-m", "POST",
           "-H", "Content-Type: application/json", "-d", BODY, "--no-tui", *oha_json_flag(), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    pct = j.get("latencyPercentiles", {})
    codes = j.get("statusCodeDistribution", {})
    total = sum(codes.values()) or 1
    ok = sum(v for k, v in codes.items() if k.startswith("2"))
    return {"client": f"oha -q {int(rate)} --latency-correction -c{OPEN_LOOP_CONNECTIONS}", "seconds": seconds, "target_rps": int(rate),
            "rps": j["summary"]["requestsPerSec"] * ok / total, "non_2xx": total - ok,
            "p50_ms": (pct.get("p50") or 0) * 1000, "p99_ms": (pct.get("p99") or 0) * 1000,
            "p999_ms": (pct.get("p99.9") or 0) * 1000}


def timed_gets(url, token, seconds=None, count=None):
    lat = []
    end = time.time() + (seconds or 1e9)
    while time.time() < end and (count is None or len(lat) < count):
        t = time.perf_counter()
        status, _ = http("GET", url, token=token)
        lat.append((time.perf_counter() - t) * 1000)
        assert status == 200, status
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return {"requests": len(lat), "p50_ms": q(0.50), "p99_ms": q(0.99), "max_ms": lat[-1]}


def setup(base, admin):
    s, acct = http("POST", base + "/admin/v1/accounts", {"name": "load", "plan": "enterprise", "limits": {
        "requests_per_minute": 100000000, "requests_per_day": 100000000000, "webhooks_per_second": 10000000}}, admin)
    assert s == 201, acct
    s, key = http("POST", base + f"/admin/v1/accounts/{acct['id']}/api-keys", {"name": "load"}, admin)
    assert s == 201, key
    k = key["key"]
    s, wf = http("POST", base + "/v1/workflows", {"name": "load", "status": "active",
        "trigger": {"type": "webhook", "event": "load.test"},
        "actions": [{"type": "transform", "config": {"set": {"greeting": "hello {{user.name}}"}}}]}, k)
    assert s == 201, wf
    s, hook = http("POST", base + "/v1/webhooks", {"workflow_id": wf["id"], "event": "load.test"}, k)
    assert s == 201, hook
    return acct["id"], k, wf["id"], hook["url"]


def effectful_hook(base, key, receiver_url):
    """A second workflow that also calls an HTTP endpoint, so it takes the queued path:
    stored queued, run by its workflow actor, stored again when finished."""
    s, wf = http("POST", base + "/v1/workflows", {"name": "load-http", "status": "active",
        "trigger": {"type": "webhook", "event": "load.http"},
        "actions": [{"type": "transform", "config": {"set": {"greeting": "hello {{user.name}}"}}},
                    {"type": "http_request", "config": {"url": receiver_url, "method": "POST",
                                                        "body": {"greeting": "{{greeting}}"}}}]}, key)
    assert s == 201, wf
    s, hook = http("POST", base + "/v1/webhooks", {"workflow_id": wf["id"], "event": "load.http"}, key)
    assert s == 201, hook
    return hook["url"]


def server_share_within(before, after, seconds=0.005):
    """Share of ingest requests the daemon itself answered within `seconds`, from its own
    latency histogram: separates time spent in the daemon from time queued before it."""
    route = 'route="/webhooks/{hook_id}",method="POST"'
    le = f'botcadence_http_request_duration_seconds_bucket{{{route},le="{seconds}"}}'
    count = f'botcadence_http_request_duration_seconds_count{{{route}}}'
    n = after.get(count, 0) - before.get(count, 0)
    return (after.get(le, 0) - before.get(le, 0)) / n if n else None


def server_p99_le(before, after):
    """Upper bound of the daemon's own p99 for ingest: the smallest histogram bucket holding
    99 % of the requests it answered (seconds)."""
    route = 'route="/webhooks/{hook_id}",method="POST"'
    count = f'botcadence_http_request_duration_seconds_count{{{route}}}'
    n = after.get(count, 0) - before.get(count, 0)
    if not n:
        return None
    bounds = []
    for k, v in after.items():
        m = re.match(r'botcadence_http_request_duration_seconds_bucket\{' + re.escape(route) + r',le="([^"]+)"\}', k)
        if m and m.group(1) != "+Inf":
            bounds.append((float(m.group(1)), v - before.get(k, 0)))
    return next((le for le, c in sorted(bounds) if c >= 0.99 * n), None)


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fsync_share_over(before, after, seconds="0.01"):
    """Share of group commits (WAL write + fsync) slower than `seconds`."""
    le = f'botcadence_store_write_duration_seconds_bucket{{le="{seconds}"}}'
    count = "botcadence_store_write_duration_seconds_count"
    n = after.get(count, 0) - before.get(count, 0)
    return 1 - (after.get(le, 0) - before.get(le, 0)) / n if n else None


def slow_group_commits(before, after):
    """Group commits slower than 100 ms, and the bucket holding the slowest one."""
    buckets = []
    for k, v in after.items():
        m = re.match(r'botcadence_store_write_duration_seconds_bucket\{le="([^"]+)"\}', k)
        if m and m.group(1) != "+Inf":
            buckets.append((float(m.group(1)), v - before.get(k, 0)))
    buckets.sort()
    total = after.get("botcadence_store_write_duration_seconds_count", 0) - before.get("botcadence_store_write_duration_seconds_count", 0)
    over_100ms = total - next((n for le, n in buckets if le >= 0.1), total)
    slowest = next((le for le, n in buckets if n >= total), None)
    return over_100ms, slowest


def closed_loop(proc, base, url, seconds, drain_limit=30):
    """wrk against the daemon, with its CPU per request, executions completed per second,
    the backlog when the load stopped and the time to drain it."""
    before, t0, c0 = metrics(base), time.time(), cpu_seconds(proc.pid)
    r = wrk(url, seconds)
    after, t1 = metrics(base), time.time()
    r["cpu_us_per_request"] = (cpu_seconds(proc.pid) - c0) / max(1, r["requests"]) * 1e6
    r["completed_per_s"] = (completed(after) - completed(before)) / (t1 - t0)
    failed = 'botcadence_engine_executions_total{status="failed"}'
    r["failed"] = after.get(failed, 0) - before.get(failed, 0)
    r["backlog_at_end"] = after.get("botcadence_engine_executions_pending", 0)
    r["drain_seconds"] = wait_drained(base, drain_limit)
    return r


def queued_open_loop(base, url, rate, seconds):
    """The queued path at a fixed offered rate (open loop): whether completions keep pace with
    acceptance. Accepted and completed per second over the run, and the backlog left when the
    load stopped, also in seconds of work at the rate executions completed."""
    before, t0 = metrics(base), time.time()
    o = oha(url, rate, seconds)
    after, t1 = metrics(base), time.time()
    o["completed_per_s"] = (completed(after) - completed(before)) / (t1 - t0)
    o["completed_share_of_accepted"] = o["completed_per_s"] / max(1, o["rps"])
    o["backlog_at_end"] = after.get("botcadence_engine_executions_pending", 0)
    o["backlog_seconds_of_work"] = o["backlog_at_end"] / max(1, o["completed_per_s"])
    o["drain_seconds"] = wait_drained(base, 120)
    return o


def wait_for(what, check, seconds, interval=0.1, describe=None):
    """Polls `check` until it returns something true and returns that; fails the run naming
    `what` (and `describe()`, when given) after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"FAIL: {what} within {seconds} s" + (f"; {describe()}" if describe else ""))


def wait_drained(base, limit=30):
    t = time.time()
    while time.time() - t < limit:
        if metrics(base).get("botcadence_engine_executions_pending", 0) == 0:
            return time.time() - t
        time.sleep(0.1)
    return None


def daemon_peak(mode, d, smoke, out):
    data = tempfile.mkdtemp(prefix=f"botcadence-load-{mode}-")
    admin = secrets.token_hex(16)
    # Loopback is refused to http_request unless allowed: the effectful scenario calls a
    # receiver on 127.0.0.1.
    env = {"BOTCADENCE_ADMIN_TOKEN": admin, "BOTCADENCE_STORAGE__DURABILITY": mode, "RUST_LOG": "warn,botcadence=info",
           "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.1/32"]'}
    proc, base, logfile = start([DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", data], env)
    try:
        acct, key, wf, url = setup(base, admin)
        rss_start = rss_mib(proc.pid)
        r = closed_loop(proc, base, url, d)
        r["rss_start_mib"], r["rss_end_mib"] = rss_start, rss_mib(proc.pid)
        out[f"daemon_{mode}_peak"] = r
        log(f"{mode} peak: {r['rps']:.0f} req/s, completed {r['completed_per_s']:.0f}/s, p99 {r['p99_ms']:.2f} ms")
        if mode != "fsync":
            # The same offered load as the fsync 50% run, to show what fsync costs in latency.
            rate = out.get("daemon_fsync_open_loop_50pct", {}).get("target_rps")
            if rate:
                before = metrics(base)
                o = oha(url, rate, d)
                after = metrics(base)
                o["server_share_within_5ms"] = server_share_within(before, after)
                o["server_p99_le_s"] = server_p99_le(before, after)
                out["daemon_wal_open_loop_same_rate"] = o
                log(f"wal open loop at {rate}/s: p99 {o['p99_ms']:.2f} ms")
            return
        peak = r["rps"]
        rates = [0.5] if smoke else [0.5, 0.8]
        for share in rates:
            rate = max(1, peak * share)
            listing = {}
            if share == 0.5:
                t = threading.Thread(target=lambda: listing.update(timed_gets(f"{base}/v1/workflows/{wf}/executions?per_page=100", key, seconds=max(1, d - 1))))
                t.start()
            before, t0 = metrics(base), time.time()
            o = oha(url, rate, d)
            after, t1 = metrics(base), time.time()
            if share == 0.5:
                t.join()
                out["listing_during_ingest"] = listing
            o["completed_per_s"] = (completed(after) - completed(before)) / (t1 - t0)
            o["server_share_within_5ms"] = server_share_within(before, after)
            o["server_p99_le_s"] = server_p99_le(before, after)
            o["group_commits_over_10ms"] = fsync_share_over(before, after)
            o["group_commits_over_100ms"], o["slowest_group_commit_le_s"] = slow_group_commits(before, after)
            o["backlog_at_end"] = after.get("botcadence_engine_executions_pending", 0)
            o["drain_seconds"] = wait_drained(base)
            out[f"daemon_fsync_open_loop_{int(share * 100)}pct"] = o
            log(f"open loop {int(share*100)}%: p99 {o['p99_ms']:.2f} ms at {o['rps']:.0f} req/s")
        # The queued path: a workflow with an HTTP call, at peak, against an echo server as the
        # receiver (it shares the machine too). Completions must keep pace with acceptance.
        receiver, receiver_base, _ = start([ECHO])
        try:
            url_http = effectful_hook(base, key, receiver_base + "/webhooks/receiver")
            e = closed_loop(proc, base, url_http, d, drain_limit=120)
            out["daemon_fsync_peak_http_action"] = e
            log(f"http_request workflow peak: {e['rps']:.0f} req/s, completed {e['completed_per_s']:.0f}/s, "
                f"backlog {e['backlog_at_end']:.0f}, drained in {e['drain_seconds']} s")
            q = queued_open_loop(base, url_http, e["rps"] * 0.8, d)
            out["daemon_fsync_open_loop_80pct_http_action"] = q
            log(f"http_request workflow at 80% of its peak: {q['rps']:.0f} req/s accepted, completed {q['completed_per_s']:.0f}/s, "
                f"backlog {q['backlog_at_end']:.0f} ({q['backlog_seconds_of_work']:.2f} s of work)")
        finally:
            stop(receiver)
        if not smoke:
            rate = peak * 0.5
            samples = []
            before, t0 = metrics(base), time.time()
            runner = subprocess.Popen(["oha", "-z", "120s", "-q", str(int(rate)), "-c", str(OPEN_LOOP_CONNECTIONS), "-m", "POST", "-H",
                                       "Content-Type: application/json", "-d", BODY, "--no-tui", *oha_json_flag(), url],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            CHILDREN.append(runner)
            for i in range(12):
                time.sleep(10)
                m = metrics(base)
                samples.append({"t": 10 * (i + 1), "rss_mib": rss_mib(proc.pid), "pending": m.get("botcadence_engine_executions_pending", 0)})
            runner.wait()
            after, t1 = metrics(base), time.time()
            done_rate = (completed(after) - completed(before)) / (t1 - t0)
            first = samples[1]["rss_mib"]
            out["sustained_120s_at_50pct"] = {"target_rps": int(rate), "completed_per_s": done_rate, "samples": samples,
                "rss_growth_pct": (samples[-1]["rss_mib"] - first) / first * 100, "rss_end_mib": samples[-1]["rss_mib"],
                "backlog_at_end": samples[-1]["pending"]}
            log(f"sustained: RSS {first:.0f} → {samples[-1]['rss_mib']:.0f} MiB, backlog {samples[-1]['pending']}")
        # A workflow with many executions: stop, seed, restart, list.
        stop(proc)
        count = 20_000 if smoke else 1_000_000
        run([SEED, "--data-dir", data, "--account", acct, "--workflow", wf, "--count", str(count)])
        proc, base, _ = start([DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", data], env)
        timed_gets(f"{base}/v1/workflows/{wf}/executions?per_page=100", key, count=20)  # warm up
        lst = timed_gets(f"{base}/v1/workflows/{wf}/executions?per_page=100", key, count=50 if smoke else 500)
        _, page = http("GET", f"{base}/v1/workflows/{wf}/executions?per_page=100", token=key)
        lst["executions_in_workflow"] = page["total"]
        lst["status_filter"] = timed_gets(f"{base}/v1/workflows/{wf}/executions?per_page=100&status=failed", key, count=50 if smoke else 200)
        out["listing_seeded"] = lst
        log(f"listing with {page['total']} executions: p99 {lst['p99_ms']:.2f} ms")
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def targets(r):
    t = {}
    base = r["baseline_echo"]["rps"]
    fs = r.get("daemon_fsync_peak", {})
    t["ingest peak (fsync) ≥ 0.5 × baseline"] = (fs.get("rps", 0) / base, fs.get("rps", 0) / base >= 0.5)
    ol = r.get("daemon_fsync_open_loop_50pct", {})
    t["p99 ≤ 5 ms at 50% of peak, open loop"] = (ol.get("p99_ms"), ol.get("p99_ms", 1e9) <= 5)
    floor = r.get("baseline_echo_open_loop_same_rate")
    if floor:
        # Context, not a target: the echo server's p99 under the same open-loop load.
        t["(context) echo p99 ≤ 5 ms at that same rate"] = (floor["p99_ms"], floor["p99_ms"] <= 5)
    s = r.get("sustained_120s_at_50pct")
    if s:
        t["backlog after sustained run < 1 s of work"] = (s["backlog_at_end"], s["backlog_at_end"] < s["completed_per_s"])
        t["RSS growth ≤ 10% over 2 minutes"] = (s["rss_growth_pct"], s["rss_growth_pct"] <= 10)
        t["RSS < 256 MiB"] = (s["rss_end_mib"], s["rss_end_mib"] < 256)
    else:
        t["backlog after peak run < 1 s of work"] = (fs.get("backlog_at_end"), fs.get("backlog_at_end", 1e9) < max(1, fs.get("completed_per_s", 0)))
    q = r.get("daemon_fsync_open_loop_80pct_http_action")
    if q:
        t["queued path at 80% of its peak: backlog at end < 1 s of work"] = (q["backlog_seconds_of_work"], q["backlog_seconds_of_work"] < 1)
    ls = r.get("listing_seeded", {})
    t[f"list per_page=100 p99 ≤ 10 ms ({ls.get('executions_in_workflow', 0)} executions)"] = (ls.get("p99_ms"), ls.get("p99_ms", 1e9) <= 10)
    return {k: {"value": v, "pass": p} for k, (v, p) in t.items()}


def markdown(r):
    base = r["baseline_echo"]["rps"]
    lines = [f"# Load test {r['started']}", "", f"Machine: {r['machine']['cores']} cores, {r['machine']['cpu']}, Linux {r['machine']['kernel']}. "
             f"Event: {len(BODY)}-byte JSON POST; workflow: one `transform` (runs inside the request), except "
             f"`daemon_fsync_peak_http_action`: `transform` + `http_request` to an echo server (queued, run by the engine).", "",
             "| scenario | client | req/s | p50 ms | p99 ms | p99.9 ms | × baseline | server CPU µs/req | completed/s | backlog at end | drain s | RSS start→end MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in ["baseline_echo", "daemon_fsync_peak", "daemon_wal_peak", "daemon_fsync_open_loop_50pct", "daemon_fsync_open_loop_80pct",
                 "daemon_wal_open_loop_same_rate", "baseline_echo_open_loop_same_rate", "daemon_fsync_peak_http_action",
                 "daemon_fsync_open_loop_80pct_http_action"]:
        x = r.get(name)
        if not x:
            continue
        rss = f"{x['rss_start_mib']:.0f}→{x['rss_end_mib']:.0f}" if "rss_start_mib" in x else ""
        f = lambda k, fmt="{:.2f}": fmt.format(x[k]) if x.get(k) is not None else ""
        lines.append(f"| {name} | {x['client']} | {x['rps']:.0f} | {f('p50_ms')} | {f('p99_ms')} | {f('p999_ms')} | {x['rps']/base:.2f} | {f('cpu_us_per_request', '{:.1f}')} | "
                     f"{f('completed_per_s', '{:.0f}')} | {f('backlog_at_end', '{:.0f}')} | {f('drain_seconds')} | {rss} |")
    for name in ["daemon_fsync_open_loop_50pct", "daemon_fsync_open_loop_80pct", "daemon_wal_open_loop_same_rate"]:
        x = r.get(name, {})
        if x.get("server_share_within_5ms") is not None:
            extra = ""
            if x.get("group_commits_over_10ms") is not None:
                extra = (f"; group commits (WAL write + fsync) slower than 10 ms: {x['group_commits_over_10ms'] * 100:.2f}%, "
                         f"slower than 100 ms: {x['group_commits_over_100ms']:.0f}, slowest ≤ {x['slowest_group_commit_le_s']} s")
            p99 = f" (its p99 ≤ {x['server_p99_le_s'] * 1000:g} ms)" if x.get("server_p99_le_s") else ""
            lines += ["", f"{name}: the daemon's own histogram answered {x['server_share_within_5ms'] * 100:.2f}% of requests within 5 ms{p99}{extra}."]
    if "sustained_120s_at_50pct" in r:
        s = r["sustained_120s_at_50pct"]
        lines += ["", f"Sustained 120 s at {s['target_rps']} req/s: completed {s['completed_per_s']:.0f}/s, backlog at end {s['backlog_at_end']:.0f}, "
                  f"RSS growth {s['rss_growth_pct']:.1f}% (end {s['rss_end_mib']:.0f} MiB)."]
    if "listing_during_ingest" in r:
        l = r["listing_during_ingest"]
        lines += ["", f"Listing executions (per_page=100) during 50% ingest: p50 {l['p50_ms']:.2f} ms, p99 {l['p99_ms']:.2f} ms over {l['requests']} requests."]
    if "listing_seeded" in r:
        l = r["listing_seeded"]
        lines += [f"Listing with {l['executions_in_workflow']} executions in the workflow: p50 {l['p50_ms']:.2f} ms, p99 {l['p99_ms']:.2f} ms; "
                  f"status=failed: p99 {l['status_filter']['p99_ms']:.2f} ms."]
    lines += ["", "| target | value | pass |", "|---|---|---|"]
    for k, v in r["targets"].items():
        val = v["value"]
        lines.append(f"| {k} | {val:.2f} | {'yes' if v['pass'] else 'no'} |" if isinstance(val, (int, float)) else f"| {k} | {val} | {'yes' if v['pass'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true", help="short run of every scenario (CI)")
    ap.add_argument("--out", help="directory for report.json and report.md")
    a = ap.parse_args()
    d = 2 if a.smoke else 15
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    out_dir = a.out or os.path.join(ROOT, "load-tests", "results", started)
    os.makedirs(out_dir, exist_ok=True)
    ensure_tools()
    r = {"started": started, "smoke": a.smoke, "machine": machine(), "body_bytes": len(BODY)}
    proc, base, _ = start([ECHO])
    try:
        c0 = cpu_seconds(proc.pid)
        r["baseline_echo"] = wrk(base + "/webhooks/hook_baseline", d)
        r["baseline_echo"]["cpu_us_per_request"] = (cpu_seconds(proc.pid) - c0) / max(1, r["baseline_echo"]["requests"]) * 1e6
        log(f"baseline: {r['baseline_echo']['rps']:.0f} req/s")
    finally:
        stop(proc)
    daemon_peak("fsync", d, a.smoke, r)
    rate = r.get("daemon_fsync_open_loop_50pct", {}).get("target_rps")
    if rate:
        # The floor of the latency target: the bare echo server under the same open-loop load
        # from the same client; whatever it shows, the daemon cannot do better.
        proc, base, _ = start([ECHO])
        try:
            r["baseline_echo_open_loop_same_rate"] = oha(base + "/webhooks/hook_baseline", rate, d)
            log(f"echo open loop at {rate}/s: p99 {r['baseline_echo_open_loop_same_rate']['p99_ms']:.2f} ms")
        finally:
            stop(proc)
    daemon_peak("wal", d, a.smoke, r)
    r["targets"] = targets(r)
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(r, f, indent=2)
    md = markdown(r)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(md)
    print(md)
    log(f"report saved in {out_dir}")
    ok = all(x["rps"] > 0 for k, x in r.items() if isinstance(x, dict) and "rps" in x)
    if a.smoke and not ok:
        raise SystemExit("smoke run failed: a scenario answered no 2xx")


if __name__ == "__main__":
    try:
        main()
    finally:
        for c in CHILDREN:
            if c.poll() is None:
                c.kill()
