#!/usr/bin/env python3
"""The served OpenAPI document holds against the server: schemathesis (PyPI) runs every
operation of `GET /openapi.json` against the real binary with all its checks (server errors,
documented status codes, content types, response schemas and headers, positive data accepted,
negative data refused) and fails on any finding.

    python3 -m venv ~/.cache/botcadence/interop-venv
    ~/.cache/botcadence/interop-venv/bin/pip install -r tests/contract/requirements.txt
    ~/.cache/botcadence/interop-venv/bin/python tests/contract/run.py [--max-examples N]

The account is on a plan with limits far above what the run sends, so no answer is a 429;
`/admin` is tested with the operator token in a second pass. Loopback only.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "load-tests"))
import run as lt  # noqa: E402  (starting the daemon, HTTP helpers)

ADMIN = "contract-admin-token-0123456789abcdef"


def seeded_execution(base, key, hook_url):
    """An execution to read and replay: executions come from events, which no `/v1` operation
    creates, so schemathesis is given this one's id."""
    s, body = lt.http("POST", hook_url, {"event": "load.test", "data": {"user": {"name": "Ada"}}})
    assert s == 202, body
    return body["execution_id"]


def config_file(execution_id):
    """schemathesis.toml in a fresh directory: the execution's id for the operations taking one."""
    d = tempfile.mkdtemp(prefix="st-")
    with open(os.path.join(d, "schemathesis.toml"), "w") as f:
        for name in ("GET /v1/executions/{id}", "POST /v1/executions/{id}/replay"):
            f.write(f'[[operations]]\ninclude-name = "{name}"\nparameters = {{ "id" = "{execution_id}" }}\n\n')
    return d


def schemathesis(base, token, include, max_examples, seed, cwd):
    st = os.path.join(os.path.dirname(sys.executable), "st")
    cmd = [st, "run", f"{base}/openapi.json", "--url", base,
           "--header", f"Authorization: Bearer {token}",
           "--checks", "all", "--max-examples", str(max_examples), "--seed", str(seed),
           "--include-path-regex", include, "--workers", "1", "--no-color"]
    # One worker: hypothesis describes strategies with Python's `ast`, which is not thread-safe
    # on 3.11 ("AST constructor recursion depth mismatch" with two workers).
    lt.log("$ " + " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer …" for c in cmd))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": HERE}
    return subprocess.run(cmd, env=env, cwd=cwd).returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-examples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20261202)
    args = ap.parse_args()
    env = {"BOTCADENCE_ADMIN_TOKEN": ADMIN, "RUST_LOG": "warn,botcadence::startup=info"}
    proc, base, log = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], env)
    try:
        _, key, _, hook_url = lt.setup(base, ADMIN)
        cwd = config_file(seeded_execution(base, key, hook_url))
        failures = schemathesis(base, key, "^/(v1|webhooks|healthz|readyz|metrics|openapi)", args.max_examples,
                                args.seed, cwd)
        failures += schemathesis(base, ADMIN, "^/admin/", args.max_examples, args.seed, cwd)
    finally:
        lt.stop(proc)
    if proc.returncode not in (0, None):
        print(open(log).read()[-3000:], file=sys.stderr)
        raise SystemExit("the daemon did not exit cleanly")
    if failures:
        raise SystemExit("schemathesis found failures (above)")
    print("contract: the server matches its OpenAPI document")


if __name__ == "__main__":
    main()
