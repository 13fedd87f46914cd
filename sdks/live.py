#!/usr/bin/env python3
"""Runs the SDKs' own test suites against a real daemon.

Starts the built `botcadence` binary on 127.0.0.1:0 with a temporary data directory, then runs
each SDK's suite (`node --test`, `pytest`, `go test`) with the daemon's address in the
environment, all three at once (each creates its own accounts through the operator API, so
they never share a rate limit). Prints each suite's output and fails if any failed.

    python3 sdks/live.py [js] [python] [go]

Environment given to the suites:
  BOTCADENCE_BASE_URL     http://127.0.0.1:<port>
  BOTCADENCE_ADMIN_TOKEN  the operator token (accounts and keys are created with it)
  BOTCADENCE_FREE_RPM     requests per minute of the free plan on this daemon (small, so a
                          suite can hammer a free-plan key past its limit quickly)
"""

import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
FREE_RPM = 20
TIMEOUT_SECS = 600


def binary():
    explicit = os.environ.get("BOTCADENCE_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return os.path.join(target, "release", "botcadence")


def start_daemon(data_dir, admin_token):
    env = dict(os.environ)
    env.update({
        "BOTCADENCE_ADMIN_TOKEN": admin_token,
        "BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE": str(FREE_RPM),
        # Deliveries to the suites' own receivers on loopback (signature tests).
        "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.0/8"]',
        # The address is announced at info level by the startup module.
        "BOTCADENCE_LOG__LEVEL": "warn,botcadence::startup=info",
    })
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen(
        [binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = {}
    ready = threading.Event()

    def pump():
        for line in proc.stderr:
            if "listening on http://" in line and "url" not in found:
                rest = line[line.index("listening on ") + len("listening on "):]
                found["url"] = rest.split()[0]
                ready.set()
            elif "url" in found and ("ERROR" in line or "panicked" in line):
                sys.stderr.write("daemon: " + line)
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    ready.wait(30)
    if "url" not in found:
        proc.kill()
        raise SystemExit("the daemon did not start")
    return proc, found["url"]


def suites(python):
    go_env = {"GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    return {
        "js": (["node", "--test", "--test-concurrency=1", "test/"], ROOT / "sdks/js", {}),
        "python": ([python, "-m", "pytest", "-q", "tests"], ROOT / "sdks/python", {}),
        "go": (["go", "test", "-count=1", "./..."], ROOT / "sdks/go", go_env),
    }


def main():
    wanted = sys.argv[1:] or ["js", "python", "go"]
    python = os.environ.get("SDK_PYTHON", shutil.which("python3"))
    known = suites(python)
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SystemExit(f"unknown suites: {unknown}; choose from {list(known)}")
    admin = "sdk-admin-" + secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = start_daemon(data_dir, admin)
        try:
            runs = {}
            for name in wanted:
                cmd, cwd, extra = known[name]
                env = dict(os.environ, BOTCADENCE_BASE_URL=url, BOTCADENCE_ADMIN_TOKEN=admin,
                           BOTCADENCE_FREE_RPM=str(FREE_RPM), **extra)
                out = tempfile.TemporaryFile(mode="w+")
                runs[name] = (subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,
                                               stderr=subprocess.STDOUT, text=True), out, time.monotonic())
            failed = []
            for name, (p, out, started) in runs.items():
                try:
                    code = p.wait(TIMEOUT_SECS)
                except subprocess.TimeoutExpired:
                    p.kill()
                    code = "timeout"
                out.seek(0)
                print(f"---- {name} SDK suite ({time.monotonic() - started:.1f} s): exit {code}")
                print(out.read())
                if code != 0:
                    failed.append(name)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    if failed:
        raise SystemExit(f"SDK suites failed: {failed}")
    print(f"SDK suites passed: {wanted}")


if __name__ == "__main__":
    main()
