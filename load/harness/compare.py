#!/usr/bin/python3
"""compare: the lab's main job (`make compare`, `make sweep`). Every scenario
of the route table against a freshly started server, one after another, into
a new run folder; then bin/report on it. See --help (USAGE below).

Exit: 0 every scenario ran (failed requests are results, not failures to
run), 1 a scenario failed to run or the report failed, 2 bad usage or setup,
130/143 interrupted (everything it started is stopped first).
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import backends  # noqa: E402
import loads  # noqa: E402
import measures  # noqa: E402
import rundir  # noqa: E402
import scenarios  # noqa: E402
import targets  # noqa: E402
from compare_options import parse  # noqa: E402
from procs import Interrupted, NotReady, Procs, raise_fd_limit  # noqa: E402

PROG = "compare"


def say(*args):
    print(*args, flush=True)


def warn(msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr, flush=True)


def scenario_env(sc, opt, sweeping, server, extra, target):
    return ([("CLASS", sc.cls), ("PATH", sc.path), ("WORLD", sc.world), ("USERS", sc.users),
             ("SPAWN_RATE", opt.spawn_rate), ("RUN_TIME_S", opt.run_time), ("TASK_MS", opt.task_ms)]
            + [(k, server.env[k]) for k in ("THREADS", "HELPERS", "WORKERS")]
            + [("WAIT_MIN_S", opt.wait_min), ("WAIT_MAX_S", opt.wait_max), ("SWEEP", 1 if sweeping else 0),
               ("TASK_CPU_MS", opt.task_cpu_ms), ("OFFLOAD_THREADS", opt.offload_threads),
               ("CORES", os.cpu_count()), ("IO", opt.io)]
            + list(extra.items()) + [("TARGET", target)])


def run_scenario(procs, opt, sc, d, server, backend, target):
    """One scenario: server, load, measures, stop. Returns None when it ran
    (failed requests are results), or why it failed to run."""
    ctx = SimpleNamespace(dir=d, scenario=sc, opt=opt, target=target, load=None, helpers=[],
                          backend=backend, procs=procs)
    flags = backend.flags(sc, opt, target)
    try:
        ctx.server = procs.start("server", server.argv + flags, log=d / "server.log",
                                 env=backend.environ(sc, opt, target))
    except OSError as e:  # not executable, gone: this scenario cannot run
        (d / "server.log").write_text("%s: %s\n" % (server.argv[0], e))
        return "%s cannot start: %s" % (server.argv[0], e.strerror)
    try:
        if callable(server.ready):
            ctx.port = server.ready(ctx.server)
            if ctx.port is None:
                raise NotReady("no answer")
        else:
            ctx.port = ctx.server.wait_ready(server.ready, timeout=10).group(1)
    except NotReady:
        procs.stop(ctx.server, grace=1)
        return "%s printed no ready line (see its server.log)" % server.argv[0]
    ctx.host = "http://127.0.0.1:%s" % ctx.port
    m = server.metrics and re.search(server.metrics, (d / "server.log").read_text(errors="replace"))
    ctx.metrics_url = None if server.metrics is None else m.group(1) if m else ctx.host + "/metrics"

    measures.call("begin", ctx)
    ctx.load, ctx.helpers = loads.LOADS[opt.load](procs, opt, sc, d, ctx.host)
    start = time.monotonic()
    for hook, at in (("settled", opt.run_time // 3), ("loaded", opt.run_time - 1)):
        while ctx.load.alive() and time.monotonic() < start + at:
            time.sleep(0.2)
        measures.call(hook, ctx)
    # The load ends by itself at its run time; allow start-up and shutdown
    # (Locust takes seconds to start), then it is hung: stop it.
    rc = ctx.load.wait(30)
    hung = rc is None
    if hung:
        procs.stop(ctx.load, grace=2)
    else:
        procs.forget(ctx.load)
    # Workers quit when their master does; whatever did not is stopped here.
    for h in ctx.helpers:
        procs.stop(h, grace=2)
    measures.call("end", ctx)
    # Nothing is measured after the load ends, so the server need not drain: a
    # blocking server with hundreds of queued requests would take seconds to
    # minutes to finish them, and each scenario starts a fresh server anyway.
    procs.stop(ctx.server, grace=1)
    measures.call("stopped", ctx)
    # Exit 1 means requests failed: a result. Anything else is a failure to run.
    if hung:
        return "the load generator did not end on time; stopped it"
    if rc not in (0, 1):
        return "%s exited %d (see its console.txt)" % (opt.load, rc)
    stats = d / "load_stats.csv"
    if not stats.exists() or stats.stat().st_size == 0:
        return "%s wrote no load_stats.csv" % opt.load
    return None


def set_aside(d):
    """A scenario that failed to run keeps its folder for diagnosis, renamed
    failed-NN-NAME so that bin/report (which reads NN-NAME) reports the rest."""
    kept = d.parent / ("failed-" + d.name)
    d.rename(kept)
    warn("kept as %s" % kept)


def check_setup(opt):
    for p in ("blocking", "evented", "load", "report"):
        if not os.access("%s/%s" % (opt.bin, p), os.X_OK):
            return "%s/%s is missing: run make first" % (opt.bin, p)
    if opt.load != "bin/load" and shutil.which("locust") is None:
        return "locust is not installed: run make deps (python3-locust)"
    if "fastapi" in opt.targets and targets.fastapi_missing():
        return "--target %s %s" % (opt.target, targets.fastapi_missing())
    return None


def main(argv):
    opt = parse(argv)
    os.chdir(HERE.parent.parent)
    why = check_setup(opt)
    if why:
        warn(why)
        return 2
    try:
        table = scenarios.select(scenarios.routes(opt.bin), opt.scenarios)
    except (OSError, subprocess.SubprocessError):
        warn("%s/load --routes failed" % opt.bin)
        return 2
    except ValueError as e:
        warn(str(e))
        warn("see load/harness/compare.py --help")
        return 2
    if not table:
        warn("no scenario to run")
        return 2
    sweeping = bool(opt.sweep)
    for t in opt.targets:
        absent = [r.path for r in table if not targets.serves(t, r)]
        if absent and opt.scenarios:
            warn("--target %s: the original app has no %s (the lab's CPU routes); not run on it"
                 % (opt.target, ", ".join(absent)))
    runs = [(t, r, u) for t in opt.targets for r in table if targets.serves(t, r)
            for u in (opt.sweep or [opt.users])]
    if not runs:
        warn("no scenario to run: --target %s serves none of them" % opt.target)
        return 2
    raise_fd_limit()
    try:
        run_dir = rundir.create(opt.runs_dir)
    except OSError as e:
        warn(str(e))
        return 2
    # Marks every process this run starts, so a test can prove none outlived it.
    mark = {"LAB_RUN_DIR": str(run_dir.resolve())}
    extra = {"LOCUST_WORKERS": opt.locust_workers or None, "LOAD_WORKERS": opt.load_workers or None}
    rundir.write_env(run_dir / "run.env", rundir.machine_env(opt.profile, opt.load, extra))

    total, failed, begin = len(runs), 0, time.monotonic()
    say("compare: %d scenarios, profile %s, load %s, target %s, into %s" % (
        total, opt.profile, opt.load, opt.target, run_dir))
    backend = backends.BACKENDS[opt.backend]()
    with Procs(env=mark) as procs:
        try:
            backend.start(procs, run_dir, opt, runs)
            for index, (target, route, users) in enumerate(runs, 1):
                elapsed = int(time.monotonic() - begin)
                per_run = elapsed // (index - 1) if index > 1 else opt.run_time + 3
                label = route.cls + ("-u%d" % users if sweeping else "") + targets.suffix(target)
                d = run_dir / ("%02d-%s" % (index, label))
                d.mkdir()
                say("scenario %d/%d %s (%s %s %s, %d users, %ds) ... elapsed %ds, about %ds left" % (
                    index, total, label, target, route.world, route.path, users, opt.run_time, elapsed,
                    (total - index + 1) * per_run))
                sc = scenarios.Scenario(route, users)
                server = targets.TARGETS[target](sc, opt, d)
                rundir.write_env(d / "scenario.env", scenario_env(sc, opt, sweeping, server,
                                                                  backend.env(sc, opt, target), target))
                why = run_scenario(procs, opt, sc, d, server, backend, target)
                if why:
                    warn("%s: %s" % (label, why))
                    set_aside(d)
                    failed += 1
        except backends.BackendError as e:
            warn(str(e))
            return 1
        except Interrupted as e:
            warn("interrupted, stopping what it started")
            procs.stop_all()
            return e.status
        finally:
            # after the servers (a backend outlives every scenario's server)
            procs.stop_all()
            backend.stop()
    say("compare: ran %d scenarios in %ds%s" % (total, time.monotonic() - begin,
                                                ", %d failed to run" % failed if failed else ""))
    report_rc = subprocess.call([opt.bin + "/report", str(run_dir)])
    if report_rc == 0:
        say("compare: report in %s/REPORT.md and %s/report.html" % (run_dir, run_dir))
        # report.png: the page as Chromium draws it, for whoever wants an image. A
        # run without it is still a run: say so and go on.
        if subprocess.call(["/usr/bin/python3", "reports/render.py", "--png", str(run_dir / "report.png"),
                            str(run_dir / "report.html")], stdout=subprocess.DEVNULL) != 0:
            warn("no report.png (reports/render.py failed; see above)")
    else:
        warn("%s/report exited %d" % (opt.bin, report_rc))
    return 1 if failed or report_rc else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # outside a run (setup, bin/report): nothing of ours runs
        sys.exit(130)
