"""pg_measures: what a run measures of its PostgreSQL cluster (backends.Postgres
calls these from its measure hooks), beside the server's own figures.

    warm_up(ctx)                 the scenario's load for WARM_UP_S before the measured one
    calibrate_cpu(ctx, dir)  ->  [("PG_CPU_MS", ms)]: the cluster's CPU per query
    calibrate_busy(ctx, dir, threads)
                             ->  [("PG_CPU_BUSY_MS", ms), ("PG_BUSY", backends)]: the same
                                 with as many backends at work as the load will have
    LoadedCpu                    settled(dir), loaded(dir), stopped(ctx) -> [("PG_CPU_LOADED_MS", ms)]
    wait_drained(dir)        ->  seconds until the stopped server's backends are gone
    cluster_pids(dir), client_backends(dir), pss_kb(pid)

Every figure is the CPU of the cluster's processes (the postmaster and every
backend: usage.pids_cpu_ns, schedstat to the nanosecond) over the queries
they answered. A figure that cannot be read is left out.
"""
import math
import os
import sys
import time
import urllib.request

import calibrate
import readings
import stats
import usage

WARM_UP_S = 2
CPU_QUERY_MS = 10
BUSY_S = 9           # calibrate_busy's load; its first seconds are the first wave's (with
BUSY_FROM_S = 4.0    # 1,500 backends at work, every query of it arriving at once took 2-3 s),
BUSY_TO_S = 8.0      # so the reading spans the next 4
DRAIN_TIMEOUT_S = 180


def queries_per_request(route):
    """Queries one request sends: one per task, none for a CPU route (its
    pure work, ?ms=0, waits for nothing)."""
    return route.tasks if route.cpu == "none" else 0


def warm_up_users(scenario, threads):
    """Users the warm-up needs: as many as the load has requests in the
    server at once (every user on an event loop; for bin/blocking one per
    thread, so that no request is left queued behind the warm-up), none for
    the blocking mistake (one query at a time per worker: a queue of its
    users would take minutes to drain, and two connections warm up in the
    calibration anyway)."""
    if scenario.route.plan == "blocking-loop":
        return 0
    return min(scenario.users, threads) if scenario.world == "blocking" else scenario.users


def warm_up(ctx, threads):
    """The scenario's own load (bin/load, warm_up_users of it, the run's spawn
    rate) for WARM_UP_S, before the measured one, so that every connection
    the load will use has run its first query: a backend's first query fills
    its caches, about 2 ms of PostgreSQL's CPU here against 0.2 for the next
    ones, and the hundreds of first queries of the first wave stall the
    cores. The pools hand out the lowest free slot (bin/evented) or the last
    freed one (bin/blocking), so the same load takes the same connections.
    Then waits, up to a minute, until the pool is idle again."""
    users = warm_up_users(ctx.scenario, threads)
    if not users:
        return
    argv = _load_argv(ctx, users, WARM_UP_S)
    ctx.procs.run("warm-up", argv, log=ctx.dir / "warm-up.txt", timeout=WARM_UP_S + 30)
    _wait_idle(ctx)


def _load_argv(ctx, users, seconds):
    o = ctx.opt
    return [o.bin + "/load", "--headless", "-u", users, "-r", o.spawn_rate,
            "-t", "%ds" % seconds, "-H", ctx.host, ctx.scenario.cls]


def _wait_idle(ctx):
    """Waits, up to a minute, until the server's pool holds no connection and
    has no waiter (the load's last requests answered)."""
    busy = ["%s_db_pool_%s" % (ctx.scenario.world, k) for k in ("in_use", "waiters")]
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(ctx.metrics_url, timeout=5) as r:
                text = r.read().decode()
            if sum(readings.series(text, b) or 0 for b in busy) == 0:
                return
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.1)
    print("compare: %s: the pool was still busy a minute after the warm-up" % ctx.dir,
          file=sys.stderr)


def calibrate_busy(ctx, cluster_dir, threads):
    """PG_CPU_BUSY_MS: the cluster's CPU per query with the load's own
    backends at work, and PG_BUSY, how many were (the server's pool in use,
    the mean of two readings). PG_CPU_MS, from 8 connections, cannot see
    what a query costs when hundreds of backends run at once: on this lab's
    machine (a PVM guest) 1,500 of them made each query ten times dearer
    (docs/LAB.md 4k). So the scenario's own load (warm_up_users of it) runs
    again for BUSY_S, after the warm-up (every backend's caches filled);
    between BUSY_FROM_S (its users have arrived) and BUSY_TO_S, the
    cluster's CPU over the queries the server counted
    (PREFIX_db_queries_total). Not the run: it sets no throughput, only
    what a query costs the cores (where the database binds, the run's
    throughput is the cores over it, as the model says)."""
    users = warm_up_users(ctx.scenario, threads)
    queries = queries_per_request(ctx.scenario.route)
    if not (users and queries):
        return []
    proc = ctx.procs.start("pg-busy", _load_argv(ctx, users, BUSY_S), log=ctx.dir / "pg-busy.txt")
    try:
        time.sleep(BUSY_FROM_S)
        a = _busy_reading(ctx, cluster_dir)
        time.sleep(BUSY_TO_S - BUSY_FROM_S)
        b = _busy_reading(ctx, cluster_dir)
    finally:
        if proc.wait(BUSY_S + 30) is None:
            ctx.procs.stop(proc)
        else:
            ctx.procs.forget(proc)
    _wait_idle(ctx)
    if not (a and b) or b[1] <= a[1]:
        print("compare: %s: PostgreSQL's CPU under the load's backends was not read" % ctx.dir,
              file=sys.stderr)
        return []
    ms = (b[0] - a[0]) / 1e6 / (b[1] - a[1])
    return [("PG_CPU_BUSY_MS", "%.3f" % ms), ("PG_BUSY", "%.0f" % ((a[2] + b[2]) / 2))]


def _busy_reading(ctx, cluster_dir):
    """(cluster CPU ns, queries answered, connections in use), or None: the
    CPU is read on both sides of the scrape and averaged, since a server
    busy with the load answers /metrics late."""
    world = ctx.scenario.world
    pids = cluster_pids(cluster_dir)
    cpu0 = usage.pids_cpu_ns(pids)
    try:
        with urllib.request.urlopen(ctx.metrics_url, timeout=10) as r:
            text = r.read().decode()
    except (OSError, ValueError):
        return None
    cpu1 = usage.pids_cpu_ns(cluster_pids(cluster_dir))
    q = readings.series(text, "%s_db_queries_total" % world)
    used = readings.series(text, "%s_db_pool_in_use" % world)
    if q is None or used is None:
        return None
    return (cpu0 + cpu1) / 2, q, used


def calibrate_cpu(ctx, cluster_dir):
    """PG_CPU_MS: the cluster's CPU over half a second of the route's requests
    from calibrate.CLIENTS connections at once, per query. The queries sleep
    CPU_QUERY_MS, as the load's do: a query that sleeps costs its backend a
    timer and a wake-up more than pg_sleep(0), which on this lab's machine (a
    virtual one) is two to four times the work of the query itself."""
    queries = queries_per_request(ctx.scenario.route)
    if not queries:
        return [("PG_CPU_MS", "0.000")]
    try:
        c = calibrate.calibrate("%s%s?ms=%d" % (ctx.host, ctx.scenario.path, CPU_QUERY_MS),
                                ctx.server.pid, min(calibrate.CLIENTS, ctx.scenario.users),
                                watch=cluster_pids(cluster_dir))
    except OSError as e:
        print("compare: %s: PostgreSQL's CPU calibration failed: %s" % (ctx.dir, e),
              file=sys.stderr)
        return []
    ms = stats.ratio(c.watch_cpu_ms, queries)
    return [] if math.isnan(ms) else [("PG_CPU_MS", "%.3f" % ms)]


class LoadedCpu:
    """PG_CPU_LOADED_MS, beside the calibrated PG_CPU_MS: the cluster's CPU
    per query between the settled and the loaded instants of the run, its CPU
    rate over the queries' rate (the load generator's completions there, from
    its history, times the queries a request sends). Not the model's input:
    where the cores bind, it is whatever share PostgreSQL got of them."""

    def __init__(self):
        self.snap0 = self.snap1 = None

    @staticmethod
    def _snap(cluster_dir):
        return usage.pids_cpu_ns(cluster_pids(cluster_dir)) / 1e9, time.monotonic(), time.time()

    def settled(self, cluster_dir):
        self.snap0 = self._snap(cluster_dir)

    def loaded(self, cluster_dir):
        self.snap1 = self._snap(cluster_dir)

    def stopped(self, ctx):
        """The key, once the load has written its last history row."""
        queries = queries_per_request(ctx.scenario.route)
        s0, s1 = self.snap0, self.snap1
        self.snap0 = self.snap1 = None
        if not (queries and s0 and s1):
            return []
        history = readings.locust_history(ctx.dir / "load_stats_history.csv")
        rate = stats.rate_between(history, s0[2], s1[2]) * queries  # the history's clock is the wall's
        ms = stats.cpu_per_request_ms(s1[0] - s0[0], s1[1] - s0[1], rate)
        return [] if math.isnan(ms) else [("PG_CPU_LOADED_MS", "%.3f" % ms)]


def client_backends(cluster_dir):
    """The cluster's backends that serve a client (process title "postgres:
    USER DB ..."), not its own processes (checkpointer, walwriter ...)."""
    n = 0
    for pid in cluster_pids(cluster_dir)[1:]:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                title = f.read().split(b"\0")[0]
        except OSError:
            continue
        n += title.startswith(b"postgres: postgres ")
    return n


def wait_drained(cluster_dir, timeout=DRAIN_TIMEOUT_S):
    """Waits until the stopped server's backends have all exited; the
    seconds that took, or None after timeout. On this lab's machine 1,500
    backends take tens of seconds to exit, on both cores (each exit's
    copy-on-write faults and TLB flushes): the next scenario must not start
    beside them, or its server's connections time out (the blocking server
    then serves 503 to a route that needs no query) and its load shares the
    cores with them."""
    t0 = time.monotonic()
    while client_backends(cluster_dir):
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.2)
    return time.monotonic() - t0


def cluster_pids(cluster_dir):
    """The postmaster and its children (every backend), or [] when down."""
    try:
        with open(os.path.join(cluster_dir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        with open("/proc/%d/task/%d/children" % (postmaster, postmaster)) as f:
            return [postmaster] + [int(p) for p in f.read().split()]
    except (OSError, ValueError, TypeError):
        return []


def pss_kb(pid):
    """Proportional resident memory (shared pages split among their users)."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
