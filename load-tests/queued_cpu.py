#!/usr/bin/env python3
"""The queued path's CPU per event, closed loop: a workflow of `transform` + `http_request`
to the echo server, `wrk -t2 -c32` for 3 rounds of 8 s after a warm-up; for each round, the
daemon's CPU time divided by the events it accepted (2xx), events completed per second, and
the refusals (429 at `[engine] max_pending_per_account`); then user and system time apart and
the context switches of all its threads, per accepted event, counted until the backlog drained
(the kernel's share is invisible to instruction counts), and the CPU per accepted event of each
kind of thread (HTTP workers, engine, store writer, RocksDB's background threads).

Each round is followed by the same client against the queued path's floor, measured in the same
run: `echo_server --forward`, which takes the event over HTTP (actix-web, like the daemon) and
POSTs it to the same echo receiver with hyper's pooled client (the daemon's `http_request`
client) before answering — two HTTP exchanges per event, nothing stored, nothing run. The
ratio of the daemon's CPU per accepted event to the forwarder's per request is what the queued
path's own work costs (two durable writes, dispatcher, workflow actor, signatures, records).

Last, whether completions keep pace below the peak: `oha` at 80 % of the rounds' median
accepted rate for 15 s (open loop, 128 connections; `OPEN_LOOP_SECONDS=60` for a longer
one), completions per second, and the backlog left when it stopped, also in seconds of work.

    cargo build --release --bin botcadence --example echo_server
    python3 load-tests/queued_cpu.py                               # default settings
    python3 load-tests/queued_cpu.py BOTCADENCE_ENGINE__WORKERS=2  # any setting to compare

Loopback only.
"""
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as lt  # noqa: E402  (the shared load-test helpers)


def user_system_seconds(pid):
    """User and system CPU time of a process so far, apart: the kernel's share (sockets,
    wake-ups between threads, the WAL) is not seen by instruction counts."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def context_switches(pid):
    """Voluntary + involuntary context switches of every thread of a process so far."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


def cpu_seconds_by_thread(pid):
    """CPU time so far of each thread of a process, by thread id: (name, seconds). Summed by
    name between two readings (HTTP workers, engine, store writer, RocksDB's flush and
    compaction threads), it says where an event's CPU goes."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_seconds_by_thread_name(before, after):
    """CPU time each thread name spent between two readings of `cpu_seconds_by_thread`, per
    thread id: a thread that ended meanwhile (an idle blocking-pool thread) drops out of both
    sides instead of having its whole life subtracted; one that started counts from 0."""
    out = {}
    for tid, (name, seconds) in after.items():
        spent = seconds - before.get(tid, (name, 0.0))[1]
        out[name] = out.get(name, 0.0) + spent
    return out


def main():
    overrides = dict(arg.split("=", 1) for arg in sys.argv[1:])
    admin = "queued-cpu-admin-token-0123456789"
    env = {"BOTCADENCE_ADMIN_TOKEN": admin, "RUST_LOG": "warn,botcadence::startup=info",
           "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.1/32"]', **overrides}
    echo, echo_base, _ = lt.start([lt.ECHO])
    proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], env)
    forwarder, forwarder_base, _ = lt.start([lt.ECHO, "127.0.0.1:0", "--forward", echo_base + "/webhooks/receiver"])
    try:
        _, key, _, _ = lt.setup(base, admin)
        url = lt.effectful_hook(base, key, echo_base + "/webhooks/receiver")
        lt.wrk(url, 3)
        lt.wait_drained(base)
        forwarder_url = forwarder_base + "/webhooks/floor"
        lt.wrk(forwarder_url, 3)
        rounds = []
        for _ in range(3):
            (u0, s0), cs0 = user_system_seconds(proc.pid), context_switches(proc.pid)
            threads0 = cpu_seconds_by_thread(proc.pid)
            r = lt.closed_loop(proc, base, url, 8)
            (u1, s1), cs1 = user_system_seconds(proc.pid), context_switches(proc.pid)
            threads1 = cpu_seconds_by_thread(proc.pid)
            accepted = max(1, r["requests"] - r["non_2xx"])
            rounds.append({"accepted_per_s": round(r["rps"]), "refused": r["non_2xx"],
                           "cpu_us_per_accepted_event": round(r["cpu_us_per_request"] * r["requests"] / accepted, 1),
                           "user_us_per_accepted_event": round((u1 - u0) / accepted * 1e6, 1),
                           "system_us_per_accepted_event": round((s1 - s0) / accepted * 1e6, 1),
                           "context_switches_per_accepted_event": round((cs1 - cs0) / accepted, 2),
                           "cpu_us_per_accepted_event_by_thread": {
                               name: round(seconds / accepted * 1e6, 1)
                               for name, seconds in sorted(cpu_seconds_by_thread_name(threads0, threads1).items())
                               if seconds > 0},
                           "completed_per_s": round(r["completed_per_s"])})
            lt.wait_drained(base)
            c0, fcs0 = lt.cpu_seconds(forwarder.pid), context_switches(forwarder.pid)
            f = lt.wrk(forwarder_url, 8)
            floor_us = (lt.cpu_seconds(forwarder.pid) - c0) / max(1, f["requests"]) * 1e6
            rounds[-1]["floor_context_switches_per_event"] = round((context_switches(forwarder.pid) - fcs0) / max(1, f["requests"]), 2)
            rounds[-1]["floor_cpu_us_per_event"] = round(floor_us, 1)
            rounds[-1]["floor_events_per_s"] = round(f["rps"])
            rounds[-1]["cpu_x_floor"] = round(rounds[-1]["cpu_us_per_accepted_event"] / floor_us, 2)
        # Whether completions keep pace below the peak: an open-loop load at 80 % of the
        # median accepted rate above, and the backlog left when it stops.
        peak = statistics.median(r["accepted_per_s"] for r in rounds)
        q = lt.queued_open_loop(base, url, 0.8 * peak, int(os.environ.get("OPEN_LOOP_SECONDS", "15")))
        keep_pace = {"offered_per_s": q["target_rps"], "accepted_per_s": round(q["rps"]), "refused": q["non_2xx"],
                     "completed_per_s": round(q["completed_per_s"]), "p99_ms": round(q["p99_ms"], 2),
                     "backlog_at_end": q["backlog_at_end"], "backlog_seconds_of_work": round(q["backlog_seconds_of_work"], 3),
                     "drain_seconds": q["drain_seconds"]}
        print(json.dumps({"settings": overrides, "rounds": rounds, "open_loop_at_80pct_of_peak": keep_pace}, indent=2))
    finally:
        proc.kill()
        echo.kill()
        forwarder.kill()


if __name__ == "__main__":
    main()
