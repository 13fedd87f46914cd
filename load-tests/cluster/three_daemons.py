#!/usr/bin/env python3
"""Three daemons on one PostgreSQL: the work moves when its holder dies, and a paused holder's
late writes are refused.

    eval "$(scripts/start-test-postgres.sh)"; python3 load-tests/cluster/three_daemons.py

1. Three daemons (`[storage] backend = "postgres"`, a 2 s work lease), each on its own port,
   share a fresh database. A workflow calls this script's HTTP receiver (which counts calls
   per step id and calls at once) and then transforms.
2. The 16 shards spread over the three daemons. Events are posted round-robin to all three
   from several threads. Mid-load, the daemon holding the workflow's shard is killed (-9).
3. Every event that got a 202 reaches `success` (served by the survivors; events the killed
   daemon stored but could not answer any more run too); each step ran once,
   except for executions the killed daemon had in flight (at least once: counted); the
   workflow's concurrency bound held across the cluster; every survivor lists the same totals.
4. Plan limits hold across the daemons: a free account's requests and events, sent to all
   three in turn, are admitted up to the plan's numbers in all, not three times over. One
   Idempotency-Key sent to the three at once creates one workflow.
5. The shard's new holder is paused (SIGSTOP) past its lease while its calls are in flight, another
   takes the work over, the paused one is resumed (SIGCONT): its late progress writes are
   refused by the epoch (its metric counts them), and no execution is recorded twice.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run as lt  # noqa: E402  (starting daemons, HTTP helpers, metrics)

LEASE_MS = 2000
CONCURRENCY = 4
EVENTS = 300
ADMIN = "cluster-admin-token-0123456789"
FREE_PER_MINUTE = 40
FREE_PER_SECOND = 20


class Receiver:
    """An HTTP endpoint that records each call's step id and the most calls it saw at once."""

    def __init__(self, delay=0.02):
        self.lock = threading.Lock()
        self.calls = {}
        self.now = 0
        self.peak = 0
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                step = self.headers.get("webhook-id", "?")
                with receiver.lock:
                    receiver.calls[step] = receiver.calls.get(step, 0) + 1
                    receiver.now += 1
                    receiver.peak = max(receiver.peak, receiver.now)
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.now -= 1
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the calling daemon was killed mid-call

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def psql(url, sql):
    subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True)


def start_daemons(db_url, n):
    env = {
        "BOTCADENCE_STORAGE__BACKEND": "postgres",
        "BOTCADENCE_STORAGE__POSTGRES_URL": db_url,
        "BOTCADENCE_STORAGE__POSTGRES_LEASE_MS": str(LEASE_MS),
        "BOTCADENCE_ENGINE__WORKFLOW_CONCURRENCY": str(CONCURRENCY),
        "BOTCADENCE_ADMIN_TOKEN": ADMIN,
        "BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS": '["127.0.0.0/8"]',
        # Small free-plan numbers, for the cluster-wide limits check.
        "BOTCADENCE_PLANS__FREE__REQUESTS_PER_MINUTE": str(FREE_PER_MINUTE),
        "BOTCADENCE_PLANS__FREE__WEBHOOKS_PER_SECOND": str(FREE_PER_SECOND),
        "RUST_LOG": "warn,botcadence::startup=info,botcadence::store=info",
    }
    daemons = []
    for i in range(n):
        proc, base, logf = lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                                     tempfile.mkdtemp(prefix=f"cluster-{i}-")], env)
        daemons.append({"proc": proc, "base": base, "log": logf, "alive": True})
    return daemons


def shard_of(workflow_id):
    """The daemon's `store::shard_of`: the first byte of SHA-256(id), modulo 16."""
    return hashlib.sha256(workflow_id.encode()).digest()[0] % 16


def holder(daemons, shard):
    """The live daemon holding `shard`'s lease, if any."""
    for d in daemons:
        if d["alive"] and lt.metrics(d["base"]).get(f'botcadence_store_shard_held{{shard="{shard}"}}', 0) == 1:
            return d
    return None


def shards_spread(daemons):
    """Shards held by each live daemon, when every shard has one holder and none is idle."""
    held = [int(lt.metrics(d["base"]).get("botcadence_store_leases_held", 0)) for d in daemons if d["alive"]]
    return sum(held) == 16 and min(held) > 0 and held


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def post_round_robin(daemons, hook_id, count, threads=6, on_progress=None):
    acked, lock, sent = [], threading.Lock(), [0]

    def worker(t):
        i = t
        while i < count:
            alive = [d for d in daemons if d["alive"]]
            d = alive[i % len(alive)]
            status, body = post(f"{d['base']}/webhooks/{hook_id}", {"n": i})
            if status == 202:
                with lock:
                    acked.append(body["execution_id"])
            with lock:
                sent[0] += 1
                if on_progress:
                    on_progress(sent[0])
            i += threads

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return acked


def check_each_acknowledged(d, key, ids):
    """Every acknowledged event's execution is stored and succeeded."""
    for i in ids:
        status, e = lt.http("GET", f"{d['base']}/v1/executions/{i}", token=key)
        assert status == 200 and e["status"] == "success", (i, status, e)


def totals(d, key, wf):
    _, body = lt.http("GET", f"{d['base']}/v1/workflows/{wf}/executions?per_page=1", token=key)
    _, ok = lt.http("GET", f"{d['base']}/v1/workflows/{wf}/executions?per_page=1&status=success", token=key)
    return body["total"], ok["total"]


def check_limits_across_daemons(daemons):
    """A free account's minute window and ingest quota, shared by the three daemons."""
    first = daemons[0]["base"]
    s, acct = lt.http("POST", first + "/admin/v1/accounts", {"name": "free", "plan": "free"}, ADMIN)
    assert s == 201, acct
    s, key = lt.http("POST", first + f"/admin/v1/accounts/{acct['id']}/api-keys", {"name": "k"}, ADMIN)
    key = key["key"]
    s, wf = lt.http("POST", first + "/v1/workflows", {
        "name": "free", "status": "active", "trigger": {"type": "webhook"},
        "actions": [{"type": "transform", "config": {"set": {"ok": "yes"}}}]}, key)
    assert s == 201, wf
    s, hook = lt.http("POST", first + "/v1/webhooks", {"workflow_id": wf["id"], "event": "e"}, key)
    assert s == 201, hook
    time.sleep(2.5)  # the key and hook reach the other daemons' catalogs (1 s refresh)
    statuses = [lt.http("GET", f"{daemons[i % 3]['base']}/v1/workflows", token=key)[0] for i in range(90)]
    allowed = statuses.count(200)
    # Two requests above already counted; one unit per chunk at this size: exact.
    assert allowed == FREE_PER_MINUTE - 2, f"{allowed} requests allowed across 3 daemons (plan: {FREE_PER_MINUTE}/min)"
    assert statuses.count(429) == 90 - allowed, statuses
    print(f"ok  a free account's minute window holds across the daemons: {allowed + 2} of "
          f"{FREE_PER_MINUTE} allowed, then 429 from every daemon")

    stop, lock, accepted = time.time() + 3.0, threading.Lock(), [0]
    started = time.time()

    def flood(t):
        i = t
        while time.time() < stop:
            status, _ = post(f"{daemons[i % 3]['base']}/webhooks/{hook['id']}", {"n": i})
            if status == 202:
                with lock:
                    accepted[0] += 1
            i += 1

    ts = [threading.Thread(target=flood, args=(t,)) for t in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    seconds = time.time() - started
    # Whole seconds of the database's clock: the run touches at most ceil(seconds) + 1.
    most = FREE_PER_SECOND * (int(seconds) + 2)
    assert accepted[0] <= most, f"{accepted[0]} events accepted in {seconds:.1f} s (plan: {FREE_PER_SECOND}/s in all)"
    assert accepted[0] >= FREE_PER_SECOND * (int(seconds) - 1), f"only {accepted[0]} accepted in {seconds:.1f} s"
    print(f"ok  a free account's ingest quota holds across the daemons: {accepted[0]} events accepted in "
          f"{seconds:.1f} s from 3 daemons (plan: {FREE_PER_SECOND}/s in all; each alone would take as many)")


def check_idempotency_across_daemons(daemons, key):
    """The same Idempotency-Key sent to all three daemons at once creates one workflow: the
    others answer 409 (still running) or replay the first answer."""
    rounds, created_twice, conflicts, replays = 10, 0, 0, 0
    for r in range(rounds):
        idem = f"cluster-idem-{os.getpid()}-{r}"
        body = json.dumps({"name": idem, "trigger": {"type": "webhook"},
                           "actions": [{"type": "transform", "config": {"set": {"r": r}}}]}).encode()
        answers = [None] * len(daemons)
        barrier = threading.Barrier(len(daemons))

        def send(i):
            req = urllib.request.Request(daemons[i]["base"] + "/v1/workflows", data=body, method="POST", headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {key}", "Idempotency-Key": idem})
            barrier.wait()
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    answers[i] = (resp.status, json.load(resp)["id"], resp.headers.get("Idempotent-Replayed"))
            except urllib.error.HTTPError as e:
                answers[i] = (e.code, json.loads(e.read()).get("error", {}).get("code"), None)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(daemons))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = {a[1] for a in answers if a[0] == 201}
        assert all(a[0] in (201, 409) for a in answers), answers
        assert all(a[1] == "conflict" for a in answers if a[0] == 409), answers
        created_twice += len(ids) > 1
        conflicts += sum(a[0] == 409 for a in answers)
        replays += sum(1 for a in answers if a[0] == 201 and a[2] == "true")
    assert created_twice == 0, f"{created_twice} keys answered with two different workflows"
    time.sleep(1.5)  # every daemon's catalog has caught up
    _, listed = lt.http("GET", daemons[0]["base"] + "/v1/workflows?per_page=100", token=key)
    for r in range(rounds):
        idem = f"cluster-idem-{os.getpid()}-{r}"
        named = [w["id"] for w in listed["data"] if w["name"] == idem]
        assert len(named) == 1, f"{idem}: {len(named)} workflows created"
    print(f"ok  one Idempotency-Key sent to the 3 daemons at once, {rounds} times: one workflow each time "
          f"({conflicts} answers 409 while the first ran, {replays} replayed the first answer)")


def main():
    url = os.environ.get("BOTCADENCE_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("set BOTCADENCE_TEST_POSTGRES_URL (scripts/start-test-postgres.sh)")
    db = f"cluster_{os.getpid()}_{int(time.time())}"
    psql(url, f"CREATE DATABASE {db}")
    db_url = url.replace("dbname=postgres", f"dbname={db}")
    receiver = Receiver()
    daemons = start_daemons(db_url, 3)
    try:
        first = daemons[0]["base"]
        s, acct = lt.http("POST", first + "/admin/v1/accounts", {"name": "cluster", "plan": "enterprise", "limits": {
            "requests_per_minute": 1000000, "requests_per_day": 100000000, "webhooks_per_second": 100000}}, ADMIN)
        assert s == 201, acct
        s, key = lt.http("POST", first + f"/admin/v1/accounts/{acct['id']}/api-keys", {"name": "k"}, ADMIN)
        key = key["key"]
        s, wf = lt.http("POST", first + "/v1/workflows", {
            "name": "cluster", "status": "active", "trigger": {"type": "webhook"},
            "actions": [{"type": "http_request", "config": {"url": receiver.url, "method": "POST", "body": {"n": "{{n}}"}}},
                        {"type": "transform", "config": {"set": {"done": "yes"}}}]}, key)
        assert s == 201, wf
        s, hook = lt.http("POST", first + "/v1/webhooks", {"workflow_id": wf["id"], "event": "e"}, key)
        assert s == 201, hook
        # The other daemons see the new key, workflow and hook within their catalog refresh.
        for d in daemons[1:]:
            lt.wait_for("the hook reaching every daemon",
                        lambda d=d: lt.http("GET", f"{d['base']}/v1/webhooks/{hook['id']}", token=key)[0] == 200, 5)
        print("ok  3 daemons on one database; changes made on one reach the others")

        check_limits_across_daemons(daemons)
        check_idempotency_across_daemons(daemons, key)

        spread = lt.wait_for("the 16 shards spreading over the daemons", lambda: shards_spread(daemons), 15)
        print(f"ok  the 16 shards spread over the daemons: {spread} held")

        # --- kill -9 the holder of the workflow's shard mid-load
        shard = shard_of(wf["id"])
        victim = lt.wait_for("a daemon holding the workflow's shard", lambda: holder(daemons, shard), 10)
        killed = {}

        def kill_mid_load(sent):
            if sent == EVENTS // 3 and not killed:
                victim["proc"].send_signal(signal.SIGKILL)
                victim["alive"] = False
                killed["at"] = time.time()
                with receiver.lock:
                    killed["in_flight"] = receiver.now

        acked = post_round_robin(daemons, hook["id"], EVENTS, on_progress=kill_mid_load)
        victim["proc"].wait()
        survivors = [d for d in daemons if d["alive"]]
        new = lt.wait_for("a survivor taking the shard over", lambda: holder(survivors, shard), LEASE_MS / 1000 * 3 + 5)
        moved_after = time.time() - killed["at"]
        survivors_spread = lt.wait_for("the survivors sharing all 16 shards", lambda: shards_spread(survivors), 15)
        print(f"ok  killed the shard's holder after {EVENTS // 3} posts; the shard moved in {moved_after:.1f} s "
              f"(lease {LEASE_MS} ms), the survivors hold {survivors_spread}; "
              f"{len(acked)} events acknowledged of {EVENTS}")

        def all_done():
            t, ok = totals(survivors[0], key, wf["id"])
            return ok == t and t >= len(acked) and (t, ok)

        t, ok = lt.wait_for("every stored event reaching success", all_done, 90)
        check_each_acknowledged(survivors[0], key, acked)
        # The killed daemon may have committed events it could not answer any more: stored,
        # never acknowledged (the sender retries them). Never the other way round.
        unanswered = t - len(acked)
        views = {totals(d, key, wf["id"]) for d in survivors}
        assert len(views) == 1, f"daemons disagree on totals: {views}"
        step_ids = {f"msg_{e}_0" for e in acked}
        missing = [s for s in step_ids if s not in receiver.calls]
        repeated = {s: n for s, n in receiver.calls.items() if n > 1}
        assert not missing, f"{len(missing)} acknowledged executions never called the receiver"
        # At least once: only calls in flight on the killed daemon may be repeated.
        assert len(repeated) <= max(killed.get("in_flight", 0), CONCURRENCY), repeated
        assert receiver.peak <= CONCURRENCY, f"{receiver.peak} calls at once, bound {CONCURRENCY}"
        print(f"ok  all {len(acked)} acknowledged executions succeeded ({unanswered} more stored but never "
              f"answered by the killed daemon); steps run twice: {len(repeated)} "
              f"(in flight at the kill: {killed.get('in_flight', 0)}); most calls at once {receiver.peak} "
              f"(bound {CONCURRENCY}); every daemon lists {t} / {ok}")

        # --- SIGSTOP the new holder past its lease, with calls in flight; then SIGCONT
        receiver.delay = 1.0
        before = len(acked)
        more = post_round_robin(survivors, hook["id"], 8, threads=2)
        time.sleep(0.5)  # its calls are now waiting in the receiver
        new["proc"].send_signal(signal.SIGSTOP)
        others = [d for d in survivors if d is not new]
        other = lt.wait_for("another daemon taking over from the paused one", lambda: holder(others, shard), LEASE_MS / 1000 * 3 + 5)
        receiver.delay = 0.02
        new["proc"].send_signal(signal.SIGCONT)
        time.sleep(3)
        fenced = lt.metrics(new["base"]).get("botcadence_store_fenced_writes_total", 0)
        acked += more

        def all_done_again():
            t, ok = totals(other, key, wf["id"])
            return ok == t and t >= len(acked) and (t, ok)

        t, ok = lt.wait_for("the paused daemon's work finishing on the new holder", all_done_again, 60)
        check_each_acknowledged(other, key, more)
        assert t == len(acked) + unanswered, f"{t} executions stored for {len(acked)} acknowledged events"
        assert fenced >= 1, "the resumed daemon's late writes were not refused"
        print(f"ok  paused the holder past its lease with {len(acked) - before} calls in flight: the work moved, "
              f"its {int(fenced)} late progress writes were refused by the epoch, and every event is recorded "
              f"once ({t} executions: {len(acked)} acknowledged + {unanswered} unanswered at the kill)")
    finally:
        for d in daemons:
            try:
                d["proc"].send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            lt.stop(d["proc"])
        receiver.server.shutdown()
    print("cluster: all checks passed")


if __name__ == "__main__":
    main()
