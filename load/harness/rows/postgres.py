"""Row 12: what a PostgreSQL query and connection cost the lab's servers
(--backend postgres), on a private cluster (load/harness/pg_cluster.sh) the row
starts and stops. For each server, one at a time:
  - the per-query overhead: the median ?ms=0 round trip of the three-task
    in-order route (three queries) minus that of the same world's CPU route
    with ?ms=0&cpu_ms=0 (the same request and answer with no query and no
    work: a sleep-backend ?ms=0 would not do, bin/blocking's nanosleep(0)
    waits out its timer slack), over the three queries (calibrate.py's
    requests: one at a time, a fresh connection each);
  - memory per connection: proportional memory (PSS) of the server and the sum
    over PostgreSQL's processes with a pool of 1 and of POOL, once every
    connection is open, the difference over the extra connections.
Then the FastAPI peer (load/peers/app.py on uvicorn, 2 workers, its tasks over
psycopg_pool: load/peers/pg_tasks.py), where Debian's psycopg is installed:
the same overhead (on a fresh connection per request: a kept-alive one adds a
delayed ACK's 40 ms to each) for its sync route (ConnectionPool, on the threadpool) and
its async one (AsyncConnectionPool), against the same route with no query (the
sleep backend, ?ms=0), and its memory per connection with both pools of both
workers at 1 and at POOL / 4 (POOL connections in all).
Last, a short pool-bound run of both (load/harness/compare.py --target both
--backend postgres, BOUND): bin/evented and the peer with the same
connections, each scenario's requests beside the model's (bin/report's
summary.txt).
"""
import os
import re
import subprocess
import time
from pathlib import Path

import backends
import calibrate
import readings
import servers
import shares
import table
import targets
import usage
from loads import free_port

NAME, NUMBER = "postgres", 12
NEEDS, TOOLS = ("bin/blocking", "bin/evented"), ("psql",)
POOL = 200
SIDES = {  # the in-order route, the same world's route of nothing, flags
    "blocking": ("/sync_baseline", "/sync_cpu", ["--threads", "8", "--helpers", "8"]),
    "evented": ("/async_independent", "/async_cpu", ["--workers", "1"]),
}


def warm(url, name, want, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        seen = readings.series((servers.get(url + "/metrics") or b"").decode(), name + "_db_connects_total")
        if seen is not None and seen >= want:
            return
        time.sleep(0.1)
    raise RuntimeError("%s: the pool of %d did not open within %d s" % (name, want, timeout))


def measure(b, name, cluster, conninfo):
    route, nothing, flags = SIDES[name]
    argv = ["bin/" + name, "--listen", "127.0.0.1:0", "--task-ms", "0"] + flags
    got = {}
    for n in (1, POOL):
        p, url = servers.ours(b, name, argv + ["--backend", "postgres", "--db", conninfo, "--pool", n],
                              b.data / ("r12-%s-pool%d.log" % (name, n)))
        warm(url, name, n)
        if n == 1:
            got["http"] = calibrate.calibrate(url + nothing + "?ms=0&cpu_ms=0", p.pid).latency_ms
            got["postgres"] = calibrate.calibrate(url + route + "?ms=0", p.pid).latency_ms
        pg = backends.cluster_pids(cluster)
        got[n] = (backends.pss_kb(p.pid), sum(backends.pss_kb(q) for q in pg))
        b.procs.stop(p, grace=5)
        time.sleep(0.5)  # the backends end after their client
    return got


PEER_SIDES = {"sync": "/sync_baseline", "async": "/async_independent"}
PEER_POOL = POOL // 4  # per pool, per worker: 2 pools x 2 workers


# Two workers each, POOL_BOUND connections a worker: 10 in all, far fewer than the users.
POOL_BOUND = 5
BOUND = ["--users", "100", "--spawn-rate", "1000", "--run-time", "8", "--task-ms", "50", "--workers", "2",
         "--pool", str(POOL_BOUND), "--scenarios", "AsyncIndependentUser,AsyncConcurrentUser"]


def summary_counts(text):
    """bin/report's summary: {scenario folder: (measured reqs, predicted reqs)}."""
    got, sc, measured = {}, None, None
    for line in text.splitlines():
        if re.match(r"[0-9][0-9]-", line):
            sc, measured = line.split()[0], None
        f = line.split()
        if sc and len(f) > 1 and f[0] == "measured":
            measured = float(f[1])
        elif sc and len(f) > 1 and f[0] == "predicted" and measured is not None:
            got[sc] = (measured, float(f[1]))
    return got


def count_cell(v):
    return "%g / %g = %s" % (v[0], v[1], table.ratio(v[0] / v[1])) if v and v[1] else "not run"


def pool_bound(b):
    """The short pool-bound compare of bin/evented and the peer, into b.out/r12-runs."""
    runs = b.out / "r12-runs"
    p = b.procs.run("compare (pool-bound)", ["load/harness/compare.py", "--profile", "r12-pool-bound",
                                             "--target", "both", "--backend", "postgres"] + BOUND
                    + ["--runs-dir", runs], log=b.data / "r12-compare.txt", timeout=600, grace=10)
    summary = Path(runs) / "latest" / "summary.txt"
    if p.returncode() not in (0, 1) or not summary.exists():
        b.findings.note("- Row 12: the pool-bound compare failed (exit %s, see data/r12-compare.txt)." % p.returncode())
        return
    got = summary_counts(summary.read_text())
    for cls, path in (("AsyncIndependentUser", "/async_independent"), ("AsyncConcurrentUser", "/async_concurrent")):
        ours = next((v for k, v in got.items() if k.endswith("-" + cls)), None)
        peer_ = next((v for k, v in got.items() if k.endswith("-%s-fastapi" % cls)), None)
        b.findings.row("pool-bound `%s`: 100 users, 2 workers x %d connections, 50 ms tasks, 8 s: "
                       "# reqs / predicted" % (path, POOL_BOUND),
                       "bin/evented %s" % count_cell(ours), "FastAPI peer %s" % count_cell(peer_), "", "shown", "—")
        b.results.setdefault(NAME, {})["bound-" + cls] = (ours, peer_)
    b.findings.note("- Row 12, pool-bound: `load/harness/compare.py --target both --backend postgres %s`" % " ".join(BOUND),
                    "(data/r12-compare.txt, r12-runs/): each world's requests beside bin/report's prediction, where",
                    "10 connections, not the users or the threads, set the throughput.")


def peer_missing():
    if subprocess.call([targets.FASTAPI_PY, "-c", "import fastapi, uvicorn, psycopg, psycopg_pool"],
                       stderr=subprocess.DEVNULL) != 0:
        return "needs Debian's uvicorn, python3-fastapi, python3-psycopg and python3-psycopg-pool (make deps)"
    return None


def peer(b, conninfo, cluster, pool):
    """The peer started with LAB_POOL=pool (None: the sleep backend):
    (Proc, base URL) once both workers answer and every connection is open."""
    port = free_port()
    env = {"TASK_MS": "0"}
    if pool:
        env.update({"LAB_DB": conninfo, "LAB_POOL": str(pool), "LAB_POOLS": "sync,async",
                    "LAB_APP_NAME": "lab-fastapi-r12-%d" % pool})
    argv = [targets.FASTAPI_PY, "-m", "uvicorn", "--workers", targets.FASTAPI_WORKERS, "--host", "127.0.0.1",
            "--port", port, "--app-dir", "load/peers", "--no-access-log", "--log-level", "warning", "app:app"]
    p = b.procs.start("fastapi", b.srv + argv, log=b.data / ("r12-fastapi-pool%s.log" % (pool or 0)), env=env)
    url = "http://127.0.0.1:%d" % port
    want = 4 * pool if pool else 0
    end = time.monotonic() + 300
    while time.monotonic() < end and p.alive():
        # a worker answers once its pools are open; both must be
        if len(shares.workers(p.pid)) >= targets.FASTAPI_WORKERS and \
                servers.get(url + "/async_independent?ms=0", timeout=1) is not None and \
                (not pool or backends.connected(conninfo, env["LAB_APP_NAME"]) >= want):
            return p, url
        time.sleep(0.2)
    b.procs.stop(p, grace=5)
    raise RuntimeError("the FastAPI peer with LAB_POOL=%s did not open %d connections (see %s)" % (
        pool, want, p.log))


def measure_peer(b, conninfo, cluster):
    got = {}
    p, url = peer(b, conninfo, cluster, None)
    for kind, route in PEER_SIDES.items():
        got[kind, "http"] = calibrate.calibrate(url + route + "?ms=0", p.pid, fresh=True).latency_ms
    b.procs.stop(p, grace=5)
    for n in (1, PEER_POOL):
        p, url = peer(b, conninfo, cluster, n)
        # memory first: a Python heap grown by the calibration's requests would
        # outweigh the connections
        pg = backends.cluster_pids(cluster)
        got[n] = (sum(backends.pss_kb(q) for q in usage.group_pids(p.pid)),
                  sum(backends.pss_kb(q) for q in pg))
        if n == 1:
            for kind, route in PEER_SIDES.items():
                got[kind, "postgres"] = calibrate.calibrate(url + route + "?ms=0", p.pid, fresh=True).latency_ms
        b.procs.stop(p, grace=5)
        time.sleep(0.5)
    return got


def run(b):
    f = b.findings
    b.log("row 12: PostgreSQL: per-query overhead and memory per connection, pool 1 vs %d" % POOL)
    # the watcher (our pid) stops the cluster even if the bench is killed
    start = b.procs.run("postgres", [backends.PG_CLUSTER, "start", POOL + 10, os.getpid()], log=b.data / "r12-postgres.log",
                        stdout=b.data / "r12-conninfo.txt", timeout=120)
    conninfo = (b.data / "r12-conninfo.txt").read_text().strip()
    if start.returncode() != 0 or not conninfo.startswith("host="):
        f.row("PostgreSQL backend", "", "", "", "shown", "—")
        f.note("- Row 12: the private cluster did not start (see data/r12-postgres.log).")
        return
    cluster = conninfo.split()[0][len("host="):]
    missing = peer_missing()
    try:
        got = {name: measure(b, name, cluster, conninfo) for name in SIDES}
        peer_got = None if missing else measure_peer(b, conninfo, cluster)
    finally:
        b.procs.run("postgres stop", [backends.PG_CLUSTER, "stop", cluster], log=b.data / "r12-postgres-stop.log",
                    timeout=60)
    extra = POOL - 1
    for name, g in got.items():
        per_query = (g["postgres"] - g["http"]) / 3
        srv_kb = (g[POOL][0] - g[1][0]) / extra
        pg_kb = (g[POOL][1] - g[1][1]) / extra
        f.row("%s `%s?ms=0`, one request at a time: per-query overhead of `--backend postgres`" % (
                  name, SIDES[name][0]),
              "%s ms a query" % table.fixed(per_query, 3),
              "request %s ms with 3 queries vs %s ms with none (`%s?ms=0&cpu_ms=0`)" % (
                  table.fixed(g["postgres"], 3), table.fixed(g["http"], 3), SIDES[name][1]),
              "", "shown", "—")
        f.row("… memory per connection, pool 1 vs %d (PSS)" % POOL,
              "server %s KiB" % table.fixed(srv_kb, 1),
              "PostgreSQL %s KiB (its processes, summed)" % table.fixed(pg_kb, 0), "", "shown", "—")
        b.results.setdefault(NAME, {})[name] = (per_query, srv_kb, pg_kb)
    if peer_got is not None:
        report_peer(b, peer_got)
        pool_bound(b)
    else:
        f.note("- Row 12: the FastAPI peer over psycopg_pool was not measured: %s." % missing)
    f.note("- Row 12: a private PostgreSQL 15 on a Unix socket (`load/harness/pg_cluster.sh`); the",
           "overhead is the median `?ms=0` round trip of the in-order route (calibrate.py: one request at a",
           "time, a fresh connection each) minus the same world's CPU route doing nothing, over its three",
           "queries (`make compare BACKEND=postgres`'s QUERY_RTT_MS keeps the HTTP round trip in); memory is PSS (`/proc/PID/smaps_rollup`), shared pages split among the processes that",
           "map them, so PostgreSQL's shared buffers are not counted once per backend. Each connection is a",
           "backend process: that, not the server, is where a pool's memory goes.")


def report_peer(b, g):
    f = b.findings
    extra = 4 * (PEER_POOL - 1)
    for kind, route in PEER_SIDES.items():
        per_query = (g[kind, "postgres"] - g[kind, "http"]) / 3
        f.row("FastAPI peer `%s?ms=0` over psycopg_pool's %s, one request at a time: per-query overhead" % (
                  route, "ConnectionPool (on the threadpool)" if kind == "sync" else "AsyncConnectionPool"),
              "%s ms a query" % table.fixed(per_query, 3),
              "request %s ms with 3 queries vs %s ms with none (the sleep backend, `?ms=0`)" % (
                  table.fixed(g[kind, "postgres"], 3), table.fixed(g[kind, "http"], 3)),
              "", "shown", "—")
        b.results.setdefault(NAME, {})["fastapi-" + kind] = per_query
    srv_kb = (g[PEER_POOL][0] - g[1][0]) / extra
    pg_kb = (g[PEER_POOL][1] - g[1][1]) / extra
    f.row("… FastAPI peer's memory per connection, 4 vs %d connections (2 workers x 2 pools, PSS)" % (
              4 * PEER_POOL),
          "server %s KiB" % table.fixed(srv_kb, 1),
          "PostgreSQL %s KiB (its processes, summed)" % table.fixed(pg_kb, 0), "", "shown", "—")
    b.results[NAME]["fastapi-memory"] = (srv_kb, pg_kb)
    f.note("- Row 12, FastAPI peer: `load/peers/pg_tasks.py`, the C servers' query text over psycopg 3",
           "(unprepared, autocommit); its overhead is against the same route on the sleep backend, whose",
           "three `?ms=0` tasks are Python's sleep(0), both on a fresh connection per request (a kept-alive",
           "one waits ~40 ms for the client's delayed ACK: docs/ORIGINAL.md fact 4); its memory is the",
           "uvicorn process group's PSS.")
