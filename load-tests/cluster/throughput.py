#!/usr/bin/env python3
"""Ingest throughput and latency: the embedded store, one daemon on PostgreSQL, three daemons
on one PostgreSQL — in the same run, same client, same 63-byte event, same workflow (one
`transform`, which runs inside the intake: one durable write per event).

    eval "$(scripts/start-test-postgres.sh)"; python3 load-tests/cluster/throughput.py [--seconds 10] [--runs 3]

Closed loop: wrk with 30 connections in all (one wrk of 30 against one daemon; three wrk of 10,
one per daemon, against three). Prints each run and the median of the runs per setup, and the
ratios to the embedded store measured in the same run.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run as lt  # noqa: E402

ADMIN = "throughput-admin-token-0123456789"


def wrk(url, seconds, connections, threads):
    lua = tempfile.NamedTemporaryFile("w", delete=False, suffix=".lua")
    lua.write(lt.WRK_LUA)
    lua.close()
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", lua.name, url],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) sockerr=(\d+) p50=(\d+) p99=(\d+) p999=(\d+)", out)
    req, dur, non2xx, sockerr, p50, p99, _ = (int(x) for x in m.groups())
    return {"ok": req - non2xx - sockerr, "errors": non2xx + sockerr, "seconds": dur / 1e6, "p99_ms": p99 / 1000}


def start(n, env):
    daemons = []
    for i in range(n):
        proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                                  tempfile.mkdtemp(prefix=f"tp-{i}-")],
                                 {**env, "BOTCADENCE_ADMIN_TOKEN": ADMIN, "RUST_LOG": "warn,botcadence::startup=info"})
        daemons.append((proc, base))
    return daemons


def measure(daemons, seconds):
    _, key, _, url = lt.setup(daemons[0][1], ADMIN)
    path = url[url.index("/webhooks/"):]
    # Catalog changes reach the other daemons within a second.
    for _, base in daemons[1:]:
        for _ in range(50):
            if lt.http("POST", base + path, {"warm": 1})[0] == 202:
                break
            time.sleep(0.1)
    results = [None] * len(daemons)
    per = 30 // len(daemons)

    def one(i):
        results[i] = wrk(daemons[i][1] + path, seconds, per, 1 if per < 15 else 2)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(daemons))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return {"rps": sum(r["ok"] / r["seconds"] for r in results), "p99_ms": max(r["p99_ms"] for r in results),
            "errors": sum(r["errors"] for r in results)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    url = os.environ.get("BOTCADENCE_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("set BOTCADENCE_TEST_POSTGRES_URL (scripts/start-test-postgres.sh)")
    setups = {"embedded (RocksDB)": (1, False), "1 daemon, PostgreSQL": (1, True), "3 daemons, one PostgreSQL": (3, True)}
    got = {name: [] for name in setups}
    for run in range(args.runs):
        for name, (n, pg) in setups.items():
            env = {}
            if pg:
                db = f"tp_{os.getpid()}_{run}_{n}"
                subprocess.run(["psql", url, "-qAtc", f"CREATE DATABASE {db}"], check=True, capture_output=True)
                env = {"BOTCADENCE_STORAGE__BACKEND": "postgres",
                       "BOTCADENCE_STORAGE__POSTGRES_URL": url.replace("dbname=postgres", f"dbname={db}")}
            daemons = start(n, env)
            try:
                r = measure(daemons, args.seconds)
            finally:
                for proc, _ in daemons:
                    lt.stop(proc)
            got[name].append(r)
            print(f"run {run + 1} {name}: {r['rps']:.0f} events/s, p99 {r['p99_ms']:.1f} ms, errors {r['errors']}", flush=True)
    base = statistics.median(r["rps"] for r in got["embedded (RocksDB)"])
    print("\n| setup | events/s (median) | p99 ms (median) | vs embedded |\n|---|---|---|---|")
    for name, rs in got.items():
        rps = statistics.median(r["rps"] for r in rs)
        p99 = statistics.median(r["p99_ms"] for r in rs)
        print(f"| {name} | {rps:,.0f} | {p99:.1f} | {rps / base:.2f}× |")


if __name__ == "__main__":
    main()
