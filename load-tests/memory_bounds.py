#!/usr/bin/env python3
"""What hostile inputs cost the daemon's memory (RSS), measured from outside:

* `bomb`: a 300-byte `transform` template that would build a 256 MiB string (a string
  concatenated with itself eight times, eight levels deep): one event, then three rounds of
  two at once. Each ends its step `failed` ("the template exceeded its memory budget").
* `burst`: 200 events of 1 MiB posted at once by one account (200 client threads): how many
  are accepted, how many refused (503, the account's share of body memory), RSS right after
  and 12 s later (idle threads hand freed memory back), and what RocksDB's memtables hold.

    cargo build --release --bin botcadence
    python3 load-tests/memory_bounds.py bomb [BOTCADENCE_…=… settings]
    python3 load-tests/memory_bounds.py burst

Loopback only; each takes about 15 s.
"""
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as lt  # noqa: E402  (the shared load-test helpers)

ADMIN = "memory-bounds-admin-token-0123456789"


def post(url, body, codes, lock):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        status = urllib.request.urlopen(req, timeout=30).status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError as e:  # a reset after an early answer, before the whole body was sent
        status = type(e).__name__
    with lock:
        codes[status] = codes.get(status, 0) + 1


def bomb(proc, base, key):
    source = "{% set a = '0123456789abcdef' %}"
    names = "abcdefghi"
    for x, y in zip(names, names[1:]):
        source += "{% set " + y + " = " + "~".join([x] * 8) + " %}"
    source += "{{ i|length }}"
    s, wf = lt.http("POST", base + "/v1/workflows", {"name": "bomb", "status": "active", "trigger": {"type": "webhook"},
                                                      "actions": [{"type": "transform", "config": {"set": {"n": source}}}]}, key)
    assert s == 201, wf
    s, hook = lt.http("POST", base + "/v1/webhooks", {"workflow_id": wf["id"], "event": "bomb"}, key)
    assert s == 201, hook
    rss = [round(lt.rss_mib(proc.pid), 1)]
    codes, lock = {}, threading.Lock()
    for round_ in range(4):
        threads = [threading.Thread(target=post, args=(hook["url"], b"{}", codes, lock)) for _ in range(2 if round_ else 1)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        time.sleep(1.5)
        rss.append(round(lt.rss_mib(proc.pid), 1))
    return {"template_bytes": len(source), "answers": codes, "rss_mib_start_then_after_each_round": rss}


def burst(proc, base, key, url):
    body = json.dumps({"blob": "x" * (1024 * 1024 - 100)}).encode()
    codes, lock = {}, threading.Lock()
    start = round(lt.rss_mib(proc.pid), 1)
    threads = [threading.Thread(target=post, args=(url, body, codes, lock)) for _ in range(200)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    after = round(lt.rss_mib(proc.pid), 1)
    time.sleep(12)
    memtables = sum(v for k, v in lt.metrics(base).items() if k.startswith('botcadence_store_memory_bytes{kind="memtables"'))
    return {"answers": codes, "rss_mib_start": start, "rss_mib_after": after,
            "rss_mib_12s_later": round(lt.rss_mib(proc.pid), 1),
            "memtables_mib_12s_later": round(memtables / 1048576, 1)}


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "bomb"
    overrides = dict(arg.split("=", 1) for arg in sys.argv[2:])
    env = {"BOTCADENCE_ADMIN_TOKEN": ADMIN, "RUST_LOG": "warn,botcadence::startup=info", **overrides}
    proc, base, _ = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir", tempfile.mkdtemp()], env)
    try:
        _, key, _, url = lt.setup(base, ADMIN)
        result = bomb(proc, base, key) if what == "bomb" else burst(proc, base, key, url)
        print(json.dumps({"measure": what, "settings": overrides, **result}, indent=2))
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
