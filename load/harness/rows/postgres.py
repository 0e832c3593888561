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
"""
import os
import time

import backends
import calibrate
import servers
import table

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
        seen = backends.series((servers.get(url + "/metrics") or b"").decode(), name + "_db_connects_total")
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
    try:
        got = {name: measure(b, name, cluster, conninfo) for name in SIDES}
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
    f.note("- Row 12: a private PostgreSQL 15 on a Unix socket (`load/harness/pg_cluster.sh`); the",
           "overhead is the median `?ms=0` round trip of the in-order route (calibrate.py: one request at a",
           "time, a fresh connection each) minus the same world's CPU route doing nothing, over its three",
           "queries (`make compare BACKEND=postgres`'s QUERY_RTT_MS keeps the HTTP round trip in); memory is PSS (`/proc/PID/smaps_rollup`), shared pages split among the processes that",
           "map them, so PostgreSQL's shared buffers are not counted once per backend. Each connection is a",
           "backend process: that, not the server, is where a pool's memory goes.")
