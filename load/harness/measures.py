"""measures: what a scenario records beside the load generator's own files.
A measure is an object with any of these methods, each given the scenario's
context (ctx: dir, scenario, opt, target, server and load Procs, port, host,
metrics_url):
    begin(ctx)    the server is ready; the load is about to start
    settled(ctx)  a third of the run in: every user spawned, the server busy
    loaded(ctx)   a second before the load's end, while the server is loaded
    end(ctx)      the load has ended; the server still runs
    stopped(ctx)  the server has stopped
A measure writes its files into ctx.dir and appends its figures to
ctx.dir/scenario.env (rundir.append_env; a later line of a key wins).
Adding a measure is one class and one line in MEASURES.
"""
import math
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import rundir

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibrate  # noqa: E402  (the model's CPU per request, before the load)
import keepalive  # noqa: E402  (what a kept-alive connection adds to each answer)
import measure  # noqa: E402  (the order, waves and pauses of the peer's logs)
import readings  # noqa: E402
import shares  # noqa: E402  (workers, and each one's users)
import stats  # noqa: E402
import usage  # noqa: E402  (CPU, memory, threads, what others took)


class Metrics:
    """The server's /metrics, scraped while loaded, into metrics.txt (a failed
    scrape leaves a comment saying why; a target without /metrics, one line)."""

    def loaded(self, ctx):
        path = ctx.dir / "metrics.txt"
        if not ctx.metrics_url:
            path.write_text("# the original stack has no /metrics\n")
            return
        try:
            # The blocking mistake answers only when a loop wakes up: bounded.
            path.write_text(readings.metrics(ctx.metrics_url, timeout=5))
        except OSError as e:
            path.write_text("# scrape of %s failed: %s\n" % (ctx.metrics_url, e))


class Calibrate:
    """SERVER_CPU_MS, the model's CPU per request: the server's CPU over half a
    second of the route's requests with ?ms=0 from calibrate.CLIENTS kept-alive
    connections at once (as many as the users, if fewer) before the load starts
    (load/harness/calibrate.py says why not the run's own, and why not one at
    a time), with CALIBRATION_REQUESTS and CALIBRATION_MS, their median round
    trip. For bin/blocking also SERVER_CPU_HELD_MS, the part that ran on the
    worker threads a request holds: the rest (CivetWeb's accepting thread,
    the helpers of /sync_parallel) runs beside them, while the worker waits or
    before it takes the request, and the model does not hold a thread for it.
    A server that fails them is left for the load to show; no key is written."""

    # the threads a request holds, by name, where the model can tell them apart
    HELD = {("c", "blocking"): "civetweb-worker"}

    def begin(self, ctx):
        self.keys = []
        try:
            c = calibrate.calibrate("%s%s?ms=0" % (ctx.host, ctx.scenario.path), ctx.server.pid,
                                    min(calibrate.CLIENTS, ctx.scenario.users))
        except OSError as e:
            print("compare: %s: calibration failed: %s" % (ctx.dir, e), file=sys.stderr)
            return
        self.keys = [("SERVER_CPU_MS", "%.3f" % c.cpu_ms), ("CALIBRATION_REQUESTS", c.requests),
                     ("CALIBRATION_MS", "%.3f" % c.latency_ms)]
        held = self.HELD.get((ctx.target, ctx.scenario.world))
        if held:
            self.keys.append(("SERVER_CPU_HELD_MS", "%.3f" % c.by_thread_ms.get(held, 0.0)))

    def end(self, ctx):
        # after Stack's keys: readers of scenario.env expect those right after TARGET
        rundir.append_env(ctx.dir / "scenario.env", self.keys)


class KeepAlive:
    """KEEPALIVE_MS, for the original stack: the median round trip of the
    route's ?ms=0 requests one after another on one kept-alive connection,
    before the load (load/harness/keepalive.py says why: uvicorn's workers
    answer with Nagle's algorithm on). The model adds what it finds beyond the
    server's CPU to every answer. KEEPALIVE_FIRST_MS beside it: a fresh
    connection's first answer, which does not wait (keepalive.py), for each
    user's first request. The C servers set TCP_NODELAY (bin/blocking
    does not keep connections alive at all): not measured."""

    def begin(self, ctx):
        self.keys = []
        if ctx.target != "fastapi":
            return
        url = "%s%s?ms=0" % (ctx.host, ctx.scenario.path)
        try:
            ms = keepalive.round_trip_ms(url)
            first = keepalive.first_answer_ms(url)
        except OSError as e:
            print("compare: %s: keep-alive round trip failed: %s" % (ctx.dir, e), file=sys.stderr)
            return
        self.keys = [("KEEPALIVE_MS", "%.3f" % ms), ("KEEPALIVE_FIRST_MS", "%.3f" % first)]

    def end(self, ctx):
        # after Stack's keys, as Calibrate's: readers expect those right after TARGET
        rundir.append_env(ctx.dir / "scenario.env", self.keys)


class Stack:
    """The parameters the model takes from every run, read off the running
    server (load/harness/measure.py): its worker processes, each one's share
    of the users near the end of the load, the order it served waiting
    requests in, and its CPU per request (bin/evented's loops are threads of
    one process: their shares come from its /metrics, a third of the run in).
    For the original stack, WORKERS and
    THREADS as measured (the processes found, the threads their anyio
    limiters said they have)."""

    def begin(self, ctx):
        self.pids = shares.workers(ctx.server.pid)
        self.conns = ""
        self.loops, self.scrape = [], None  # this scenario's: a late scrape fills its own
        self.settled_ns = self.loaded_ns = None

    def settled(self, ctx):
        self.settled_ns = time.monotonic_ns()  # the peer stamps its logs on this clock
        # Every user is spawned and connected. Read now, not at the end, and
        # beside the run: a loop stalled by CPU work answers seconds late.
        if len(self.pids) == 1 and ctx.metrics_url:
            self.scrape = threading.Thread(target=self._loops, args=(ctx, self.loops),
                                           daemon=True)
            self.scrape.start()

    def _loops(self, ctx, into):
        try:
            # /async_cpu's loops answer between CPU tasks: seconds on a busy machine
            loops = shares.loop_connections(readings.metrics(ctx.metrics_url, timeout=15))
        except (OSError, ValueError):
            return
        # the scrape's own connection is in one of them; fewer than the users
        # means some had gone (the load ended first): no split to tell
        if len(loops) > 1 and sum(loops) >= ctx.scenario.users:
            into.extend(loops)

    def loaded(self, ctx):
        # every user spawned, each on its own keep-alive connection
        self.conns = ",".join(map(str, shares.connections(int(ctx.port), self.pids)))
        self.loaded_ns = time.monotonic_ns()

    def end(self, ctx):
        env = ctx.dir / "scenario.env"
        if ctx.target == "fastapi":
            threads = sum(int(p.read_text() or 0) for p in ctx.dir.glob("threads-*.txt"))
            rundir.append_env(env, [("WORKERS", len(self.pids)), ("THREADS", threads or None)])
        # One process: the split is the whole, unless the process runs several
        # event loops (bin/evented's workers), whose /metrics tells each one's.
        if self.scrape:
            # /async_blocking's loops answer after every queued request: none
            # before the run ends, so no split; waiting on would only cost time
            self.scrape.join(timeout=1)
        loops = list(self.loops) if not (self.scrape and self.scrape.is_alive()) else []
        conns = self.conns if len(self.pids) > 1 else ",".join(map(str, loops))
        try:
            # a thread starts again a service (three tasks) later: a task apart is two waves
            # the GC pauses of the settled load, from a third of it to its last second
            window = (self.settled_ns, self.loaded_ns) if self.settled_ns and self.loaded_ns \
                else None
            measure.record(str(ctx.dir), ctx.scenario.users, conns, self.pids,
                           float(ctx.opt.task_ms), window)
        except (OSError, ValueError) as e:
            print("compare: %s: measure.py record failed: %s" % (ctx.dir, e), file=sys.stderr)


class Usage:
    """What the server and the load generator used (load/harness/usage.py):
    SERVER_RSS_KB and SERVER_THREADS under full load; OTHER_CPU_S, what every
    other process (the generator, other builds) took of the machine's cores
    while the server ran, over WINDOW_S seconds, from a third of the run on,
    and SERVER_CPU_LOADED_MS, the server's CPU per request over that window
    (its CPU rate over the load generator's completion rate there), beside
    the calibrated SERVER_CPU_MS; LOAD_CPU_S, the generator processes' CPU,
    summed. Appended after measure.py's keys (its readers expect them right
    after TARGET); a figure that cannot be read is left out."""

    def begin(self, ctx):
        self.keys, self.snap0, self.snap1 = [], None, None

    Snap = namedtuple("Snap", "busy_s server_s mono_s wall_s")

    def _snap(self, ctx):
        try:
            # the whole group: uvicorn's workers are its supervisor's children.
            # Found first, by a scan of /proc that with 1,500 PostgreSQL
            # backends takes seconds (1.7 in a gathered run): the machine's
            # busy time, the clocks and the group's CPU are then read together.
            pids = usage.group_pids(ctx.server.pid)
            busy, mono, wall = usage.machine_busy_s(), time.monotonic(), time.time()
            return self.Snap(busy, usage.pids_cpu_s(pids), mono, wall)
        except (OSError, ValueError):
            return None

    def settled(self, ctx):
        self.snap0 = self._snap(ctx)

    def loaded(self, ctx):
        try:
            self.keys += zip(("SERVER_RSS_KB", "SERVER_THREADS"), usage.mem(ctx.server.pid))
        except (OSError, ValueError, KeyError):
            pass
        self.snap1 = snap1 = self._snap(ctx)
        if self.snap0 and snap1:
            self.keys += zip(("OTHER_CPU_S", "WINDOW_S"),
                             ("%.3f" % x for x in usage.others(self.snap0[:3], snap1[:3])))

    def end(self, ctx):
        # the load has written its last history row
        if not (self.snap0 and self.snap1):
            return
        history = readings.locust_history(ctx.dir / "load_stats_history.csv")
        s0, s1 = self.snap0, self.snap1
        rate = stats.rate_between(history, s0.wall_s, s1.wall_s)  # the history's clock is the wall's
        ms = stats.cpu_per_request_ms(s1.server_s - s0.server_s, s1.mono_s - s0.mono_s, rate)
        if not math.isnan(ms):
            self.keys.append(("SERVER_CPU_LOADED_MS", "%.3f" % ms))

    def stopped(self, ctx):
        files = sorted(ctx.dir.glob(".load-cpu-*"))
        try:
            if files:
                self.keys.append(("LOAD_CPU_S", "%.3f" % sum(float(f.read_text()) for f in files)))
        except (OSError, ValueError):
            pass
        for f in files:
            f.unlink()
        rundir.append_env(ctx.dir / "scenario.env", self.keys)


MEASURES = [Usage(), Stack(), Calibrate(), KeepAlive(), Metrics()]


def call(hook, ctx):
    """Runs every measure's `hook` (begin, loaded or end) that it has, the
    run's backend's first (ctx.backend: a pool must be ready before the
    calibration that uses it)."""
    for m in [getattr(ctx, "backend", None)] + MEASURES:
        f = getattr(m, hook, None)
        if f:
            f(ctx)
