"""pg_calibrate: what a run measures of its PostgreSQL cluster before the load
(backends.Postgres calls these from its begin hook): the connections warmed,
PostgreSQL's CPU per query from a few connections, then the same in a
rehearsal of the run with the load's own backends at work.

    warm_up(ctx, threads)        the scenario's load for WARM_UP_S before the measured one
    calibrate_cpu(ctx, dir)  ->  [("PG_CPU_MS", ms)]: the cluster's CPU per query
    calibrate_busy(ctx, dir, threads)
                             ->  [("PG_CPU_BUSY_MS", ms), ("PG_BUSY", backends),
                                  ("PG_BUSY_OTHERS", cores)]: the same with as many
                                 backends at work as the load will have, and what the
                                 rest of the machine took of the cores meanwhile
    warm_up_users(scenario, threads)  the users the warm-up and the rehearsal run

A figure that cannot be read is left out (said on stderr).
"""
import math
import sys
import time
from collections import namedtuple

import calibrate
import readings
import stats
import usage
from pg_measures import cluster_cpu_ns, queries_per_request

WARM_UP_S = 2
CPU_QUERY_MS = 10


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
            text = readings.metrics(ctx.metrics_url, timeout=5)
            if sum(readings.series(text, b) or 0 for b in busy) == 0:
                return
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.1)
    print("compare: %s: the pool was still busy a minute after the warm-up" % ctx.dir,
          file=sys.stderr)


def calibrate_busy(ctx, cluster_dir, threads):
    """A rehearsal of the run: PG_CPU_BUSY_MS, the cluster's CPU per query
    with the load's own backends at work; PG_BUSY, how many were (the
    server's pool in use, the mean of two readings); PG_BUSY_OTHERS, the
    cores every other process took meanwhile (the load generator, this
    harness, the kernel's threads), neither the server nor the cluster.
    PG_CPU_MS, from 8 connections, cannot see what a query costs when
    hundreds of backends run at once: on this lab's machine (a PVM guest)
    1,500 of them made each query ten times dearer, and the kernel's memory
    monitor (kdamond) took a tenth of a core watching their memory
    (docs/POSTGRES.md). So the scenario's own load (warm_up_users of it) runs
    once more, after the warm-up (every backend's caches filled), for the
    run's length, read over the run's own window (from a third in to a
    second before the end, as measures.py's hooks are): the cluster's CPU
    over the queries the server counted (PREFIX_db_queries_total). Not the
    run: it sets no throughput, only what a query costs the cores and what
    the rest of the machine leaves of them (where the database binds, the
    run's throughput is those cores over that cost, as the model says)."""
    users = warm_up_users(ctx.scenario, threads)
    queries = queries_per_request(ctx.scenario.route)
    if not (users and queries):
        return []
    run_time = ctx.opt.run_time
    server_pids = usage.group_pids(ctx.server.pid)
    proc = ctx.procs.start("pg-busy", _load_argv(ctx, users, run_time), log=ctx.dir / "pg-busy.txt")
    start = time.monotonic()
    try:
        time.sleep(run_time // 3)
        a = _busy_reading(ctx, cluster_dir, server_pids)
        time.sleep(max(0, start + run_time - 1 - time.monotonic()))
        b = _busy_reading(ctx, cluster_dir, server_pids)
    finally:
        if proc.wait(run_time + 30) is None:
            ctx.procs.stop(proc)
        else:
            ctx.procs.forget(proc)
    _wait_idle(ctx)
    if not (a and b) or b.queries <= a.queries:
        print("compare: %s: PostgreSQL's CPU under the load's backends was not read" % ctx.dir,
              file=sys.stderr)
        return []
    cluster_ns = b.cluster_ns - a.cluster_ns
    others = (b.machine_s - a.machine_s - (cluster_ns + b.server_ns - a.server_ns) / 1e9) \
        / (b.mono - a.mono)
    return [("PG_CPU_BUSY_MS", "%.3f" % (cluster_ns / 1e6 / (b.queries - a.queries))),
            ("PG_BUSY", "%.0f" % ((a.in_use + b.in_use) / 2)),
            ("PG_BUSY_OTHERS", "%.3f" % max(0.0, others))]


Busy = namedtuple("Busy", "cluster_ns queries in_use machine_s server_ns mono")


def _busy_reading(ctx, cluster_dir, server_pids):
    """A Busy, or None. The cluster's CPU, the machine's busy time and the
    clock are read on both sides of the /metrics scrape and averaged, since
    a server busy with the load answers it late; the server's CPU after."""
    world = ctx.scenario.world
    before = usage.machine_busy_s(), time.monotonic(), cluster_cpu_ns(cluster_dir)
    try:
        text = readings.metrics(ctx.metrics_url, timeout=10)
    except OSError:
        return None
    after = usage.machine_busy_s(), time.monotonic(), cluster_cpu_ns(cluster_dir)
    machine_s, mono, cluster_ns = ((x + y) / 2 for x, y in zip(before, after))
    q = readings.series(text, "%s_db_queries_total" % world)
    used = readings.series(text, "%s_db_pool_in_use" % world)
    if q is None or used is None:
        return None
    return Busy(cluster_ns, q, used, machine_s, usage.pids_cpu_ns(server_pids), mono)


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
                                watch_ns=lambda: cluster_cpu_ns(cluster_dir))
    except OSError as e:
        print("compare: %s: PostgreSQL's CPU calibration failed: %s" % (ctx.dir, e),
              file=sys.stderr)
        return []
    ms = stats.ratio(c.watch_cpu_ms, queries)
    return [] if math.isnan(ms) else [("PG_CPU_MS", "%.3f" % ms)]
