#!/usr/bin/env python3
"""PostgreSQL primary + synchronous standby under Patroni and etcd, in network namespaces on
this machine; the primary is killed under load. Reports acknowledged events lost (must be 0),
the time to recover, and what senders saw meanwhile.

    sudo python3 load-tests/cluster/patroni_failover.py [--seconds 40] [--kill-at 12]

Needs root (network namespaces) and Debian's `patroni`, `etcd-server` and `postgresql`
(installed when missing). Not part of the test suite: a Patroni failover takes tens of
seconds by design (its TTL).

1. A bridge `bcfo0` (10.231.0.1/24) in the root namespace, and three namespaces `bcfo-pg1`
   … `bcfo-pg3` (10.231.0.11 … 13), each linked to it by a veth pair.
2. etcd on the bridge address; Patroni with PostgreSQL 15 in each namespace, run as the
   `postgres` user, `synchronous_mode: true` and `synchronous_mode_strict: true` (a commit
   returns only once the standby has it), ttl 10 s, loop_wait 2 s.
3. Two Botcadence daemons in the root namespace (`[storage] backend = "postgres"`) on
   `host=10.231.0.11,10.231.0.12,10.231.0.13 … target_session_attrs=read-write`.
4. Senders post events to both daemons for `--seconds`; at `--kill-at` every process of the
   primary's namespace is killed with SIGKILL (Patroni and PostgreSQL at once, as a machine
   dying would). Patroni promotes the synchronous standby once the leader key expires.
5. Afterwards every event that got a 202 is looked up on both daemons: each must exist, and
   reach `success`. Reported: acknowledged, lost, refused (503) and failed connections during
   the failover, and the time from the kill to the first 202 written on the new primary.
"""
import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run as lt  # noqa: E402  (starting daemons, HTTP helpers)

BRIDGE = "bcfo0"
NET = "10.231.0"
# Three nodes: under strict synchronous mode a new primary commits only once a standby is
# synchronous again, so surviving the primary's loss takes a third node.
NODES = {"pg1": f"{NET}.11", "pg2": f"{NET}.12", "pg3": f"{NET}.13"}
ETCD = f"{NET}.1"
ADMIN = "failover-admin-token-0123456789"
PG_BIN = "/usr/lib/postgresql/15/bin"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def ensure_packages():
    missing = [p for p, probe in [("patroni", "patroni"), ("etcd-server", "etcd"),
                                  ("postgresql", f"{PG_BIN}/postgres")]
               if not (shutil.which(probe) or os.path.exists(probe))]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    # Debian starts a cluster and an etcd of its own on install; ours are separate.


def netns(name):
    return f"bcfo-{name}"


def setup_network():
    teardown_network()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{ETCD}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for i, (name, addr) in enumerate(NODES.items()):
        ns, host_end, ns_end = netns(name), f"bcfo{i}h", f"bcfo{i}n"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
        sh("ip", "link", "set", host_end, "master", BRIDGE)
        sh("ip", "link", "set", host_end, "up")
        sh("ip", "link", "set", ns_end, "netns", ns)
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", ns_end)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_end, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")


def kill_namespace(name):
    """SIGKILL every process in the namespace: the machine dies."""
    pids = sh("ip", "netns", "pids", netns(name), check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def teardown_network():
    for name in NODES:
        if os.path.exists(f"/run/netns/{netns(name)}"):
            kill_namespace(name)
            sh("ip", "netns", "del", netns(name), check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


def patroni_config(name, addr, work):
    data = os.path.join(work, name, "data")
    return f"""
scope: botcadence-failover
name: {name}
restapi:
  listen: {addr}:8008
  connect_address: {addr}:8008
etcd3:
  hosts: {ETCD}:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 0
    synchronous_mode: true
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 100
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - host replication replicator {NET}.0/24 trust
    - host all all {NET}.0/24 trust
    - local all all trust
postgresql:
  listen: {addr}:5432
  connect_address: {addr}:5432
  data_dir: {data}
  bin_dir: {PG_BIN}
  pgpass: {os.path.join(work, name, "pgpass")}
  authentication:
    replication:
      username: replicator
      password: replicator
    superuser:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: {os.path.join(work, name)}
"""


def start_patroni(work):
    procs = {}
    pg = pwd.getpwnam("postgres")
    for name, addr in NODES.items():
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "patroni.yml")
        with open(cfg, "w") as f:
            f.write(patroni_config(name, addr, work))
        os.chown(d, pg.pw_uid, pg.pw_gid)
        os.chown(cfg, pg.pw_uid, pg.pw_gid)
        log = open(os.path.join(d, "patroni.log"), "w")
        procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", netns(name), "runuser", "-u", "postgres", "--", "patroni", cfg],
            stdout=log, stderr=subprocess.STDOUT)
        time.sleep(3)  # the first node bootstraps; the others then clone it
    return procs


def cluster_state():
    """Patroni's view: {name: (role, state)} from any node's REST API that answers."""
    for addr in NODES.values():
        try:
            with urllib.request.urlopen(f"http://{addr}:8008/cluster", timeout=2) as r:
                members = json.load(r)["members"]
                return {m["name"]: (m["role"], m.get("state")) for m in members}
        except (OSError, ValueError, KeyError):
            continue
    return {}


def wait_for(what, check, seconds):
    return lt.wait_for(what, check, seconds, interval=0.5, describe=lambda: f"cluster: {cluster_state()}")


def leader_and_sync():
    state = cluster_state()
    leader = [n for n, (role, _) in state.items() if role == "leader"]
    sync = [n for n, (role, st) in state.items() if role == "sync_standby" and st in ("streaming", "running")]
    streaming = [n for n, (role, st) in state.items() if role != "leader" and st in ("streaming", "running")]
    return leader and sync and len(streaming) == len(NODES) - 1 and (leader[0], sync[0])


def start_daemons(n):
    url = (f"host={','.join(NODES.values())} port=5432 user=postgres dbname=postgres "
           "target_session_attrs=read-write connect_timeout=2")
    env = {
        "BOTCADENCE_STORAGE__BACKEND": "postgres",
        "BOTCADENCE_STORAGE__POSTGRES_URL": url,
        "BOTCADENCE_STORAGE__POSTGRES_LEASE_MS": "5000",
        "BOTCADENCE_ADMIN_TOKEN": ADMIN,
        "RUST_LOG": "warn,botcadence::startup=info,botcadence::store=info",
    }
    return [lt.start([lt.DAEMON, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                      tempfile.mkdtemp(prefix=f"failover-{i}-")], env) for i in range(n)]


class Senders:
    """Threads posting events in turn to every daemon; each outcome is recorded with its time."""

    def __init__(self, bases, hook_id, threads=6):
        self.bases, self.hook_id = bases, hook_id
        self.lock = threading.Lock()
        self.acked = []          # (time, execution id)
        self.refused = []        # times of 503s
        self.failed = []         # times of connection errors and other answers
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(threads)]

    def run(self, t):
        n = 0
        while not self.stop.is_set():
            base = self.bases[(t + n) % len(self.bases)]
            n += 1
            body = json.dumps({"n": f"{t}-{n}"}).encode()
            req = urllib.request.Request(f"{base}/webhooks/{self.hook_id}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    answer = json.load(r)
                    with self.lock:
                        self.acked.append((time.time(), answer["execution_id"]))
            except urllib.error.HTTPError as e:
                with self.lock:
                    (self.refused if e.code == 503 else self.failed).append(time.time())
                time.sleep(0.05)
            except OSError:
                with self.lock:
                    self.failed.append(time.time())
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--kill-at", type=float, default=12)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: network namespaces")
    ensure_packages()
    work = tempfile.mkdtemp(prefix="bcfo-")
    os.chmod(work, 0o755)
    etcd = None
    daemons = []
    try:
        setup_network()
        etcd_dir = os.path.join(work, "etcd")
        etcd = subprocess.Popen(
            ["etcd", "--name", "bcfo", "--data-dir", etcd_dir,
             "--listen-client-urls", f"http://{ETCD}:2379",
             "--advertise-client-urls", f"http://{ETCD}:2379",
             "--listen-peer-urls", f"http://{ETCD}:2380",
             "--initial-advertise-peer-urls", f"http://{ETCD}:2380",
             "--initial-cluster", f"bcfo=http://{ETCD}:2380", "--enable-v2=true"],
            stdout=open(os.path.join(work, "etcd.log"), "w"), stderr=subprocess.STDOUT)
        start_patroni(work)  # stopped with its network namespace (kill_namespace)
        primary, standby = wait_for("a leader and a synchronous standby", leader_and_sync, 120)
        print(f"ok  Patroni: {primary} leads, {standby} is the synchronous standby (strict)")

        daemons = start_daemons(2)
        bases = [base for _, base, _ in daemons]
        s, acct = lt.http("POST", bases[0] + "/admin/v1/accounts", {"name": "failover", "plan": "enterprise", "limits": {
            "requests_per_minute": 1000000, "requests_per_day": 100000000, "webhooks_per_second": 100000}}, ADMIN)
        assert s == 201, acct
        s, key = lt.http("POST", bases[0] + f"/admin/v1/accounts/{acct['id']}/api-keys", {"name": "k"}, ADMIN)
        key = key["key"]
        s, wf = lt.http("POST", bases[0] + "/v1/workflows", {
            "name": "failover", "status": "active", "trigger": {"type": "webhook"},
            "actions": [{"type": "delay", "config": {"seconds": 1}},
                        {"type": "transform", "config": {"set": {"done": "yes"}}}]}, key)
        assert s == 201, wf
        s, hook = lt.http("POST", bases[0] + "/v1/webhooks", {"workflow_id": wf["id"], "event": "e"}, key)
        assert s == 201, hook
        wait_for("the hook reaching the second daemon",
                 lambda: lt.http("GET", f"{bases[1]}/v1/webhooks/{hook['id']}", token=key)[0] == 200, 10)

        senders = Senders(bases, hook["id"])
        started = time.time()
        senders.start()
        time.sleep(args.kill_at)
        killed_at = time.time()
        n = kill_namespace(primary)
        print(f"    killed the primary's machine ({primary}: {n} processes, SIGKILL) at {killed_at - started:.1f} s")
        new_primary = wait_for("the standby's promotion",
                               lambda: next((m for m, (role, _) in cluster_state().items()
                                             if role == "leader" and m != primary), None), 90)
        promoted_at = time.time()
        time.sleep(max(0.0, started + args.seconds - time.time()))
        senders.finish()

        acked = senders.acked
        refused = [t for t in senders.refused if t >= killed_at]
        failed = [t for t in senders.failed if t >= killed_at]
        # Recovered: the first 202 after the last refusal or failure of the outage.
        last_bad = max(refused + failed, default=killed_at)
        recovered = min((a for a, _ in acked if a > last_bad), default=None)

        def lookup(execution_id):
            for base in bases:
                s, body = lt.http("GET", f"{base}/v1/executions/{execution_id}", token=key)
                if s == 200:
                    return body["status"]
            return None

        def totals():
            _, every = lt.http("GET", f"{bases[0]}/v1/workflows/{wf['id']}/executions?per_page=1", token=key)
            _, ok = lt.http("GET", f"{bases[0]}/v1/workflows/{wf['id']}/executions?per_page=1&status=success",
                            token=key)
            return every["total"], ok["total"]

        # Every acknowledged event is stored on the new primary: look each one up.
        lost = [i for _, i in acked if lookup(i) is None]
        stored, succeeded = wait_for("every stored execution finishing",
                                     lambda: (lambda t: t[0] == t[1] and t)(totals()), 120)
        not_succeeded = [i for _, i in acked[:: max(1, len(acked) // 500)] if lookup(i) != "success"]
        report = {
            "acknowledged": len(acked),
            "acknowledged_lost": len(lost),
            "primary_killed_at_s": round(killed_at - started, 1),
            "standby_promoted_after_s": round(promoted_at - killed_at, 1),
            "recovered_after_s": round(recovered - killed_at, 1) if recovered is not None else None,
            "refused_503_during_failover": len(refused),
            "failed_connections_or_other_answers": len(failed),
            "stored": stored,
            "succeeded": succeeded,
        }
        print(json.dumps(report, indent=2))
        if lost:
            raise SystemExit(f"FAIL: {len(lost)} acknowledged events lost, e.g. {lost[:5]}")
        if not_succeeded or stored < len(acked):
            raise SystemExit(f"FAIL: acknowledged executions not succeeded: {not_succeeded[:5]}")
        print(f"failover: 0 acknowledged events lost of {len(acked)}; {new_primary} took over")
    finally:
        for proc, _, _ in daemons:
            lt.stop(proc)
        for name in NODES:
            kill_namespace(name)
        if etcd:
            etcd.kill()
        teardown_network()


if __name__ == "__main__":
    main()
