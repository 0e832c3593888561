"""compare_options: compare.py's command line, checked as load/compare.sh
checked it (the same flags, defaults, messages and exit status 2)."""
import re
import sys
from types import SimpleNamespace

USAGE = """\
usage: load/harness/compare.py [options]

Runs each route of the route table (bin/load --routes) against a fresh server
(bin/blocking or bin/evented on 127.0.0.1:0), writes RUNS_DIR/<timestamp>/ and
points RUNS_DIR/latest at it, then runs bin/report on it.

  --profile NAME       recorded in run.env (the values come from the flags)  [quick]
  --users N            Locust -u                                             [500]
  --spawn-rate R       Locust -r, users per second                           [1000]
  --run-time S         Locust -t, seconds per scenario                       [15]
  --task-ms MS         the servers' --task-ms                                [250]
  --task-cpu-ms MS     the servers' --task-cpu-ms (the CPU routes' work)     [3]
  --offload-threads N  bin/evented --offload-threads                         [2]
  --threads N          bin/blocking --threads; "users": one per user at each
                       sweep point (what a thread costs)                    [80]
  --helpers N          bin/blocking --helpers      [3 x threads: never binds]
  --workers N          bin/evented --workers                                 [2]
  --io ENGINE          bin/evented --io: epoll (readiness) or uring (io_uring,
                       completion; docs/LAB.md 4l)                       [epoll]
  --wait MIN[-MAX]     think time between a user's requests, seconds         [0]
  --scenarios A,B      user classes to run                          [all routes]
  --target T           c (bin/blocking, bin/evented), fastapi (the original
                       stack: load/peers/app.py on Debian's uvicorn, 2 worker
                       processes of 40 threads; folders NN-CLASS-fastapi; the
                       sleep routes only, it has no CPU routes) or both, one
                       after the other in one run folder                  [c]
  --load TOOL          bin/load, locust (Debian's, with load/locustfile.py), or
                       locust-master (Locust's master, bin/load workers) [bin/load]
  --locust-workers N   with --load locust: a master and N worker processes on
                       127.0.0.1 (Locust's distributed mode), for more load than
                       one Locust process (one core) makes; 0 = one process [0]
  --load-workers N     with --load locust-master: bin/load --worker processes  [1]
  --sweep "N N ..."    run each scenario at each of these user counts
                       (folders NN-CLASS-uN, SWEEP=1); --users is then unused
  --backend B          what a task is: sleep (a timer or nanosleep) or postgres
                       (one query on a private PostgreSQL 15 cluster the run
                       starts and stops; see load/harness/backends.py)  [sleep]
  --pool N             with --backend postgres: the servers' --pool (blocking:
                       in all; evented: per worker; the FastAPI peer: per
                       worker process)               [large enough never to bind]
  --runs-dir DIR       where run folders go                       [reports/runs]
  --bin DIR            where the programs are                              [bin]
  --help               this text

Exit: 0 all scenarios ran, 1 a scenario failed to run or the report failed,
2 bad usage or setup, 130 interrupted. Load tests only ever target 127.0.0.1.
"""

DEFAULTS = {"profile": "quick", "users": "500", "spawn_rate": "1000", "run_time": "15",
            "task_ms": "250", "task_cpu_ms": "3", "offload_threads": "2", "threads": "80", "helpers": "", "workers": "2", "io": "epoll", "wait": "0",
            "scenarios": "", "load": "bin/load", "locust_workers": "0", "load_workers": "", "target": "c", "sweep": "", "backend": "sleep", "pool": "",
            "runs_dir": "reports/runs", "bin": "bin"}


def die_usage(msg):
    print("compare: %s" % msg, file=sys.stderr)
    print("compare: see load/harness/compare.py --help", file=sys.stderr)
    sys.exit(2)


def whole(v, what, positive=True, unit="a whole number"):
    if not re.fullmatch(r"[0-9]+", v) or (positive and int(v) == 0):
        die_usage("%s must be %s%s, not '%s'" % (what, unit, " > 0" if positive else "", v))
    return int(v)


def parse(argv):
    """The options as a namespace of checked values; exits 0 on --help and
    2 (with a one-line reason) on bad usage."""
    raw = dict(DEFAULTS)
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--help", "-h"):
            sys.stdout.write(USAGE)
            sys.exit(0)
        key = a[2:].replace("-", "_") if a.startswith("--") else None
        if key not in DEFAULTS:
            die_usage("unknown argument '%s'" % a)
        if not args:
            die_usage("%s needs a value" % a)
        raw[key] = args.pop(0)
    o = SimpleNamespace(**raw)
    o.users = whole(o.users, "--users")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", o.spawn_rate):
        die_usage("--spawn-rate must be a number, not '%s'" % o.spawn_rate)
    o.run_time = whole(o.run_time, "--run-time", unit="whole seconds")
    o.task_ms = whole(o.task_ms, "--task-ms", positive=False)
    o.task_cpu_ms = whole(o.task_cpu_ms, "--task-cpu-ms", positive=False)
    o.offload_threads = whole(o.offload_threads, "--offload-threads")
    if o.threads != "users" and not re.fullmatch(r"[0-9]*[1-9][0-9]*", o.threads):
        die_usage("--threads must be a whole number > 0 or 'users', not '%s'" % o.threads)
    o.workers = whole(o.workers, "--workers")
    if o.io not in ("epoll", "uring"):
        die_usage("--io must be epoll or uring, not '%s'" % o.io)
    o.helpers = whole(o.helpers, "--helpers") if o.helpers else None
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(?:-([0-9]+(?:\.[0-9]+)?))?", o.wait)
    if not m:
        die_usage("--wait must be MIN or MIN-MAX seconds, not '%s'" % o.wait)
    o.wait_min, o.wait_max = m.group(1), m.group(2) or m.group(1)
    if o.load not in ("bin/load", "locust", "locust-master"):
        die_usage("--load must be bin/load, locust or locust-master, not '%s'" % o.load)
    # locust-master: Locust's master (headless, its CSV files) and bin/load workers
    if o.load_workers and o.load != "locust-master":
        die_usage("--load-workers needs --load locust-master")
    o.load_workers = whole(o.load_workers or "1", "--load-workers") if o.load == "locust-master" else 0
    o.locust_workers = whole(o.locust_workers, "--locust-workers", positive=False)
    if o.locust_workers and o.load != "locust":
        die_usage("--locust-workers needs --load locust")
    targets = {"c": ["c"], "fastapi": ["fastapi"], "both": ["c", "fastapi"]}
    if o.target not in targets:
        die_usage("--target must be c, fastapi or both, not '%s'" % o.target)
    o.targets = targets[o.target]
    o.sweep = [whole(u, "--sweep user counts", unit="whole numbers") for u in o.sweep.split()]
    if o.backend not in ("sleep", "postgres"):  # backends.BACKENDS
        die_usage("--backend must be sleep or postgres, not '%s'" % o.backend)
    if o.pool and o.backend != "postgres":
        die_usage("--pool needs --backend postgres")
    o.pool = whole(o.pool, "--pool") if o.pool else None
    return o


def pools(opt, users):
    """bin/blocking's (threads, helpers) for a scenario of `users`: --threads
    users gives one thread per user; helpers default to 3 x threads (never
    binds), at most bin/blocking's limit of 10,000."""
    threads = users if opt.threads == "users" else int(opt.threads)
    return threads, min(opt.helpers or 3 * threads, 10000)
