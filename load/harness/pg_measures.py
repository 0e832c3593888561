"""pg_measures: what a run measures of its PostgreSQL cluster while and after
the load runs (backends.Postgres calls these from its measure hooks), beside
the server's own figures; pg_calibrate measures it before the load.

    LoadedCpu                    settled(ctx, dir), loaded(ctx, dir), wait(), stopped(ctx)
                             ->  [("PG_CPU_LOADED_MS", ms), ("PG_QUERY_MS", ms),
                                  ("PG_QUERY_SEEN_MS", ms)]
    query_time(dir)          ->  (queries, ms) the cluster timed itself (pg_stat_statements)
    server_query_time(ctx)   ->  (queries, ms) the server timed, sent to row in (/metrics)
    wait_drained(dir)        ->  seconds until the stopped server's backends are gone
    queries_per_request(route), cluster_cpu_ns(dir), cluster_pids(dir),
    client_backends(dir), pss_kb(pid)

Every CPU figure is the CPU of the cluster's processes (the postmaster and
every backend: cluster_cpu_ns, to the microsecond) over the queries they
answered. A figure that cannot be read is left out.
"""
import math
import os
import subprocess
import threading
import time

import readings
import stats
import usage

DRAIN_TIMEOUT_S = 180
READER_TIMEOUT_S = 15  # a starved loop answers /metrics seconds late


def queries_per_request(route):
    """Queries one request sends: one per task, none for a CPU route (its
    pure work, ?ms=0, waits for nothing)."""
    return route.tasks if route.cpu == "none" else 0


class LoadedCpu:
    """PG_CPU_LOADED_MS, beside the calibrated PG_CPU_MS: the cluster's CPU
    per query between the settled and the loaded instants of the run, its CPU
    rate over the queries' rate (the load generator's completions there, from
    its history, times the queries a request sends). Not the model's input:
    where the cores bind, it is whatever share PostgreSQL got of them. And
    PG_QUERY_MS, how long PostgreSQL itself timed each query over the same
    window (query_time): the task's sleep plus however late its backend
    woke and ran. And PG_QUERY_SEEN_MS, the same queries timed by the server,
    from sent to their row in (its /metrics): PostgreSQL's time plus the wire
    both ways and each side's wake-up."""

    def __init__(self):
        self.snap0 = self.snap1 = None
        self.readers = []

    def _snap(self, ctx, cluster_dir):
        """The cluster's CPU and the clocks at the hook's instant; the query
        counters (a psql session, a /metrics scrape: seconds each where the
        cores bind, 7 s in one gathered run) filled in by threads of their
        own, so that they do not delay the measures that read after this one
        (Usage's window shrank to 5.3 s of 9)."""
        snap = [cluster_cpu_ns(cluster_dir) / 1e9, time.monotonic(), time.time(), None, None]

        def fill(i, read, arg):
            snap[i] = read(arg)
        for i, read, arg in ((3, query_time, cluster_dir), (4, server_query_time, ctx)):
            self.readers.append(threading.Thread(target=fill, args=(i, read, arg), daemon=True))
            self.readers[-1].start()
        return snap

    def settled(self, ctx, cluster_dir):
        self.snap0 = self._snap(ctx, cluster_dir)

    def loaded(self, ctx, cluster_dir):
        self.snap1 = self._snap(ctx, cluster_dir)

    def wait(self):
        """Until the counters' readers are done (before the server stops:
        one of them asks it), READER_TIMEOUT_S at most."""
        end = time.monotonic() + READER_TIMEOUT_S
        for t in self.readers:
            t.join(max(0, end - time.monotonic()))

    def stopped(self, ctx):
        """The keys, once the load has written its last history row."""
        queries = queries_per_request(ctx.scenario.route)
        self.wait()
        s0, s1 = self.snap0, self.snap1
        self.snap0 = self.snap1 = None
        self.readers = []
        if not (queries and s0 and s1):
            return []
        history = readings.locust_history(ctx.dir / "load_stats_history.csv")
        rate = stats.rate_between(history, s0[2], s1[2]) * queries  # the history's clock is the wall's
        ms = stats.cpu_per_request_ms(s1[0] - s0[0], s1[1] - s0[1], rate)
        keys = [] if math.isnan(ms) else [("PG_CPU_LOADED_MS", "%.3f" % ms)]
        for key, i in (("PG_QUERY_MS", 3), ("PG_QUERY_SEEN_MS", 4)):
            if s0[i] and s1[i] and s1[i][0] > s0[i][0]:
                keys.append((key, "%.3f" % ((s1[i][1] - s0[i][1]) / (s1[i][0] - s0[i][0]))))
        return keys


def server_query_time(ctx):
    """(queries, ms): the tasks' queries the server has had answered so far
    and their time from sent to row in, summed (PREFIX_db_query_seconds_total),
    or None (no /metrics, or no answer within READER_TIMEOUT_S)."""
    if not ctx.metrics_url:
        return None
    try:
        text = readings.metrics(ctx.metrics_url, timeout=READER_TIMEOUT_S)
    except OSError:
        return None
    q = readings.series(text, "%s_db_queries_total" % ctx.scenario.world)
    s = readings.series(text, "%s_db_query_seconds_total" % ctx.scenario.world)
    return None if q is None or s is None else (q, s * 1000)


def query_time(cluster_dir):
    """(queries, ms): how many of the tasks' queries the cluster has run so
    far and the time it spent on them by its own clock (pg_stat_statements,
    which pg_cluster.sh loads: from a query's start to its result, its sleep
    and any wait for a core included), or None when it cannot be read."""
    argv = ["psql", "-X", "-A", "-t", "-q", "-F", " ", "-h", cluster_dir, "-U", "postgres",
            "-d", "postgres", "-c", "select coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0) "
            "from pg_stat_statements where query like '%pg_sleep%'"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        calls, ms = out.stdout.split()
        return int(calls), float(ms)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


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


def cluster_cpu_ns(cluster_dir):
    """The CPU the cluster's processes have used so far (the exited ones
    included): one read of its cgroup's cpu.stat, where pg_cluster.sh made
    one (DIR/cgroup), else the sum over its live processes (usage.pids_cpu_ns,
    which took 2 to 6 s with 1,500 backends at work)."""
    try:
        with open(os.path.join(cluster_dir, "cgroup", "cpu.stat")) as f:
            for line in f:
                key, value = line.split()
                if key == "usage_usec":
                    return int(value) * 1000
    except (OSError, ValueError):
        pass
    return usage.pids_cpu_ns(cluster_pids(cluster_dir))


def cluster_pids(cluster_dir):
    """The postmaster and its live children (every backend), or [] when down.
    A backend that has exited stays the postmaster's child, a zombie, until
    the postmaster reaps it (on a busy machine, a while): it is left out, as
    it has left the cluster's cgroup and has no memory or CPU to read."""
    try:
        with open(os.path.join(cluster_dir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        with open("/proc/%d/task/%d/children" % (postmaster, postmaster)) as f:
            children = [int(p) for p in f.read().split()]
    except (OSError, ValueError, TypeError):
        return []
    return [postmaster] + [p for p in children if not _zombie(p)]


def _zombie(pid):
    """True for an exited process not yet reaped, or one already gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            # the state follows the command's closing parenthesis
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


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
