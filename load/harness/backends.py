"""backends: what the servers' tasks wait on. A backend is started once per
run, under the run's Procs, and stopped when the run ends (normally, on a
failure or on Ctrl-C); per scenario it names the flags the server gets and the
keys scenario.env records, and it may measure as a measure does (its begin,
loaded... hooks run before the others'; see measures.py). `sleep` (the
servers' timers) needs nothing; `postgres` is a throwaway PostgreSQL 15
cluster (load/harness/pg_cluster.sh). Adding a backend is one class and one
line in BACKENDS.
"""
import math
import os
import subprocess
import sys
import time

import calibrate
import pg_calibrate
import pg_measures
import readings
import rundir
import targets
from pg_measures import cluster_pids, pss_kb  # noqa: F401  (rows/postgres.py reads them here)

PG_CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg_cluster.sh")


class BackendError(Exception):
    """The backend could not start: the message says why."""


class Sleep:
    """The default: each task is a timer or a nanosleep inside the server."""

    def start(self, procs, run_dir, opt, runs):
        pass

    def stop(self):
        pass

    def flags(self, sc, opt, target="c"):
        """Extra server flags for scenario sc."""
        return []

    def environ(self, sc, opt, target="c"):
        """Extra environment variables for the server of scenario sc."""
        return {}

    def env(self, sc, opt, target="c"):
        """scenario.env keys for scenario sc."""
        return {}


# What a plan does with connections, as shared/routes.c's route_critical_tasks
# and reports/model.c's model_conns_per_request say for the route table's
# plans (bin/load --routes gives the plan's name): queries one request waits
# for in a row, and connections it holds at once.
IN_ORDER = ("sequential", "dependent", "blocking-loop")


def critical_queries(route):
    return route.tasks if route.plan in IN_ORDER else 1


def conns_per_request(route):
    return 1 if route.plan in IN_ORDER else route.tasks


class Postgres:
    """Each task one query on a private PostgreSQL 15: one cluster per run,
    max_connections sized to the largest pool the run's servers open (plus
    PostgreSQL's reserved slots and one for psql), its version and non-default
    settings in the run folder (postgres.txt; PG_VERSION, MAX_CONNECTIONS and
    PG_CPU_GROUP, the CPU group pg_cluster.sh put it in or none, in run.env).
    Per scenario: --pool POOL (blocking: in all; evented: per worker),
    or, without POOL, enough never to bind; before the load, a wait until the
    pool has opened every connection (hundreds of backends start one by one),
    then the scenario's own load for a moment, so that every connection the
    load will use has run its first query; QUERY_RTT_MS, the ?ms=0 round trip
    per query on the request's critical path (the model adds it to each
    task); PG_CPU_MS, the CPU the cluster's processes spend per query, which
    the model charges to the cores beside the server's own; under load,
    PostgreSQL's memory (PG_PSS_KB over PG_PROCS processes) and
    PG_CPU_LOADED_MS, its CPU per query under the load; before it, a
    rehearsal of the load gives PG_CPU_BUSY_MS, PG_BUSY and PG_BUSY_OTHERS
    (pg_calibrate.py, pg_measures.py).

    The FastAPI peer (target fastapi, load/peers/pg_tasks.py) gets the same in
    its environment: LAB_DB, LAB_POOL (per worker process) and LAB_POOLS, the
    one pool its scenario's route takes from (sync: the threadpool's routes
    and /async_blocking; async: the others); its warm pool is counted in
    pg_stat_activity by the LAB_APP_NAME it was given. Its POOL in scenario.env is, like its THREADS, what the
    model reads: for a sync route the two workers' pools together."""

    WARM_TIMEOUT_S = 300
    RESERVED = 10  # superuser_reserved_connections (3), psql, headroom

    def __init__(self):
        self.dir = self.conninfo = None
        self.version = ""
        self.max_connections = 0
        self.cpu_group = "none"
        self.peers, self.peer_name = 0, None
        self.cpu = pg_measures.LoadedCpu()

    # -- pool sizes
    def pool(self, sc, opt, target="c"):
        """--pool, or LAB_POOL: per worker process for the peer."""
        if opt.pool:
            return opt.pool
        if target == "fastapi" and sc.world == "blocking":
            # a worker's threadpool threads, each holding (through /sync_parallel's helpers) its
            # plan's connections at once
            return targets.FASTAPI_THREADS * conns_per_request(sc.route)
        if target == "fastapi":
            return math.ceil(sc.users * conns_per_request(sc.route) * 1.2 / targets.FASTAPI_WORKERS) + 4
        if sc.world == "blocking":
            threads, helpers = pools_of(opt, sc.users)
            return threads + helpers
        # each worker's share of the users, x1.2 for an uneven spread over the
        # SO_REUSEPORT sockets, times the connections a request holds
        return math.ceil(sc.users * conns_per_request(sc.route) * 1.2 / opt.workers) + 4

    def connections(self, sc, opt, target="c"):
        if target == "fastapi":
            return self.pool(sc, opt, target) * targets.FASTAPI_WORKERS
        return self.pool(sc, opt) * (opt.workers if sc.world == "evented" else 1)

    # -- the run
    def start(self, procs, run_dir, opt, runs):
        from scenarios import Scenario
        most = max(self.connections(Scenario(r, u), opt, t) for t, r, u in runs)
        self.max_connections = most + self.RESERVED
        out = run_dir / "postgres.log"
        # The watcher (our pid) stops the cluster even if this process is killed.
        p = procs.run("postgres", [PG_CLUSTER, "start", self.max_connections, os.getpid()],
                      log=out, stdout=run_dir / "postgres.conninfo", timeout=120)
        info = (run_dir / "postgres.conninfo").read_text().strip()
        (run_dir / "postgres.conninfo").unlink()
        if p.returncode() != 0 or not info.startswith("host="):
            raise BackendError("PostgreSQL did not start (max_connections=%d): see %s" % (
                self.max_connections, out))
        self.conninfo, self.dir = info, info.split()[0][len("host="):]
        settings = subprocess.run([PG_CLUSTER, "settings", self.dir], capture_output=True,
                                  text=True, timeout=60)
        (run_dir / "postgres.txt").write_text(settings.stdout + settings.stderr)
        first = settings.stdout.split("\n", 1)[0].split()
        self.version = first[1] if len(first) > 1 and first[0] == "PostgreSQL" else "unknown"
        # pg_cluster.sh's CPU group (DIR/cpu-group), or none: whether the
        # scheduler weighed the cluster as one task or each backend as one
        link = os.path.join(self.dir, "cpu-group")
        self.cpu_group = os.readlink(link) if os.path.islink(link) else "none"
        rundir.append_env(run_dir / "run.env", [("BACKEND", "postgres"), ("PG_VERSION", self.version),
                                                ("MAX_CONNECTIONS", self.max_connections),
                                                ("PG_CPU_GROUP", self.cpu_group)])
        print("compare: PostgreSQL %s at %s, max_connections %d, CPU group %s" % (
            self.version, self.dir, self.max_connections, self.cpu_group), flush=True)

    def stop(self):
        if self.dir:
            subprocess.run([PG_CLUSTER, "stop", self.dir], timeout=60)
            self.dir = None

    def flags(self, sc, opt, target="c"):
        if target == "fastapi":
            return []
        return ["--backend", "postgres", "--db", self.conninfo, "--pool", self.pool(sc, opt)]

    def environ(self, sc, opt, target="c"):
        if target != "fastapi":
            return {}
        # A name of its own per server, so the warm-up never counts the
        # connections of the scenario before, still closing.
        self.peers += 1
        self.peer_name = "%s-%d" % (PEER_APP_NAME, self.peers)
        return {"LAB_DB": self.conninfo, "LAB_POOL": str(self.pool(sc, opt, target)),
                "LAB_POOLS": targets.peer_pool_kind(sc.route), "LAB_APP_NAME": self.peer_name}

    def env(self, sc, opt, target="c"):
        pool = self.pool(sc, opt, target)
        if target == "fastapi" and sc.world == "blocking":
            pool *= targets.FASTAPI_WORKERS  # one pool in all, to the model, as THREADS is
        return {"BACKEND": "postgres", "POOL": pool, "PG_VERSION": self.version,
                "MAX_CONNECTIONS": self.max_connections}

    # -- measures (hooks called before measures.MEASURES')
    def begin(self, ctx):
        env = ctx.dir / "scenario.env"
        want = self.connections(ctx.scenario, ctx.opt, ctx.target)
        if not self._warm(ctx, want):
            return
        route = ctx.scenario.route
        if ctx.target == "c" and route.cpu == "none":
            pg_calibrate.warm_up(ctx, pools_of(ctx.opt, ctx.scenario.users)[0])
        if route.cpu != "none":  # pure CPU work (?ms=0) sends no query
            rundir.append_env(env, [("QUERY_RTT_MS", "0.000"), ("PG_CPU_MS", "0.000")])
            return
        try:
            # the peer's kept-alive answers wait ~40 ms for a delayed ACK that the
            # model adds apart (KEEPALIVE_MS): its round trip is read on fresh ones
            c = calibrate.calibrate("%s%s?ms=0" % (ctx.host, ctx.scenario.path), ctx.server.pid,
                                    fresh=ctx.target == "fastapi")
        except OSError as e:
            print("compare: %s: query calibration failed: %s" % (ctx.dir, e), file=sys.stderr)
            return
        rundir.append_env(env, [("QUERY_RTT_MS", "%.3f" % (c.latency_ms / critical_queries(route)))])
        rundir.append_env(env, pg_calibrate.calibrate_cpu(ctx, self.dir))
        if ctx.target == "c":  # the model's PostgreSQL CPU: PG_CPU_BUSY_MS when read
            rundir.append_env(env, pg_calibrate.calibrate_busy(
                ctx, self.dir, pools_of(ctx.opt, ctx.scenario.users)[0]))

    def settled(self, ctx):
        self.cpu.settled(ctx, self.dir)

    def loaded(self, ctx):
        self.cpu.loaded(ctx, self.dir)

    def end(self, ctx):
        self.cpu.wait()
        # after the load, not in its window: reading 326-614 backends'
        # smaps_rollup a second before its end took the cores from a CPU
        # route's server (others' CPU 1.8 CPU-s against 0.9-1.3 after)
        procs = cluster_pids(self.dir)
        rundir.append_env(ctx.dir / "scenario.env", [
            ("PG_PROCS", len(procs)), ("PG_PSS_KB", sum(pss_kb(p) for p in procs))])

    def stopped(self, ctx):
        # after measure.py's keys, which its readers expect right after TARGET
        rundir.append_env(ctx.dir / "scenario.env", self.cpu.stopped(ctx))
        drained = pg_measures.wait_drained(self.dir)
        if drained is None:
            print("compare: %s: PostgreSQL still had the server's backends %d s after it stopped"
                  % (ctx.dir, pg_measures.DRAIN_TIMEOUT_S), file=sys.stderr)
        else:
            rundir.append_env(ctx.dir / "scenario.env", [("PG_DRAIN_S", "%.1f" % drained)])

    def _warm(self, ctx, want):
        """Waits until PREFIX_db_connects_total (the peer: its connections in
        pg_stat_activity) reaches want; False (said on stderr) when it does
        not within WARM_TIMEOUT_S."""
        name = "%s_db_connects_total" % ctx.scenario.world
        if ctx.target == "fastapi":
            name = "connections of %s" % self.peer_name
        seen, end = None, time.monotonic() + self.WARM_TIMEOUT_S
        while time.monotonic() < end:
            try:
                if ctx.target == "fastapi":
                    seen = connected(self.conninfo, self.peer_name)
                else:
                    seen = readings.series(readings.metrics(ctx.metrics_url, timeout=5), name)
            except OSError as e:
                seen = "no answer (%s)" % e
            if isinstance(seen, float) and seen >= want:
                return True
            time.sleep(0.1)
        print("compare: %s: %s %s, wanted %d within %d s" % (
            ctx.dir, name, seen, want, self.WARM_TIMEOUT_S), file=sys.stderr)
        return False


def pools_of(opt, users):
    from compare_options import pools
    return pools(opt, users)


PEER_APP_NAME = "lab-fastapi"  # load/peers/pg_tasks.py's application_name, LAB_APP_NAME


def connected(conninfo, app_name):
    """Connections to the cluster whose application_name is app_name (a
    float, as readings.series gives); OSError when psql cannot tell."""
    p = subprocess.run(["psql", conninfo, "-Atc", "select count(*) from pg_stat_activity "
                        "where application_name = '%s'" % app_name],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0 or not p.stdout.strip().isdigit():
        raise OSError("psql: %s" % (p.stderr.strip() or "exit %d" % p.returncode))
    return float(p.stdout)


BACKENDS = {"sleep": Sleep, "postgres": Postgres}
