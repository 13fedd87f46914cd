#!/usr/bin/env python3
"""`/docs` in a real browser: Debian's Chromium (headless) loads the page from a daemon on the
loopback, Redoc renders the served `/openapi.json` with the assets compiled into the binary,
and the rendered DOM holds the API's operations. Any asset from elsewhere would be blocked by
the page's Content-Security-Policy, so a page that renders proves it needs nothing else.

    python3 tests/browser/docs.py     # scripts/test.sh runs it; needs `chromium`
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "load-tests"))
import run as lt  # noqa: E402  (starting the daemon)

EXPECTED = ["Botcadence API", "List workflows", "Create workflow", "List executions", "Create webhook",
            "Rotate signing secret"]


def main():
    proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()],
                             {"RUST_LOG": "warn,botcadence::startup=info"})
    try:
        out = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tempfile.mkdtemp()}", "--virtual-time-budget=10000", "--dump-dom", base + "/docs"],
            capture_output=True, text=True, timeout=120)
        missing = [w for w in EXPECTED if w not in out.stdout]
        if missing:
            print(out.stdout[:2000])
            raise SystemExit(f"FAIL: /docs rendered without {missing}")
        print(f"ok  /docs rendered by Chromium: {len(out.stdout)} bytes of DOM, with {EXPECTED}")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
