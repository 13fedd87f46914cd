#!/usr/bin/env python3
"""The queued path's CPU per event, closed loop: a workflow of `transform` + `http_request`
to the echo server, `wrk -t2 -c32` for 3 rounds of 8 s after a warm-up; for each round, the
daemon's CPU time divided by the events it accepted (2xx), events completed per second, and
the refusals (429 at `[engine] max_pending_per_account`).

    cargo build --release --bin botcadence --example echo_server
    python3 load-tests/queued_cpu.py                               # default settings
    python3 load-tests/queued_cpu.py BOTCADENCE_ENGINE__WORKERS=2  # any setting to compare

Loopback only.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as lt  # noqa: E402  (the shared load-test helpers)


def main():
    overrides = dict(arg.split("=", 1) for arg in sys.argv[1:])
    admin = "queued-cpu-admin-token-0123456789"
    env = {"BOTCADENCE_ADMIN_TOKEN": admin, "RUST_LOG": "warn,botcadence::startup=info",
           "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.1/32"]', **overrides}
    echo, echo_base, _ = lt.start([lt.ECHO])
    proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], env)
    try:
        _, key, _, _ = lt.setup(base, admin)
        url = lt.effectful_hook(base, key, echo_base + "/webhooks/receiver")
        lt.wrk(url, 3)
        lt.wait_drained(base)
        rounds = []
        for _ in range(3):
            r = lt.closed_loop(proc, base, url, 8)
            accepted = max(1, r["requests"] - r["non_2xx"])
            rounds.append({"accepted_per_s": round(r["rps"]), "refused": r["non_2xx"],
                           "cpu_us_per_accepted_event": round(r["cpu_us_per_request"] * r["requests"] / accepted, 1),
                           "completed_per_s": round(r["completed_per_s"])})
            lt.wait_drained(base)
        print(json.dumps({"settings": overrides, "rounds": rounds}, indent=2))
    finally:
        proc.kill()
        echo.kill()


if __name__ == "__main__":
    main()
