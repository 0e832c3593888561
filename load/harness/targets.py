"""targets: how each server under test is started, and how to know it is
ready. A target maps a scenario (its route's world: blocking | evented) to a
Server: its command line, its ready line (a regex whose group 1 is the port,
or a function of the started Proc returning the port, or None), where its
/metrics is (a regex over its log, or None for none), the scenario.env keys it
sets (THREADS, HELPERS, WORKERS as it runs them). Folders of a target other
than c end in -TARGET. Adding a target is one function and one line in TARGETS.
"""
import subprocess
import time
import urllib.request
from collections import namedtuple

from compare_options import pools
from loads import free_port

Server = namedtuple("Server", "argv ready metrics env")

READY = r"listening on http://[^ ]*:(\d+)"
# bin/blocking serves /metrics on threads of its own (a scrape on the main port
# would wait in the same queue as the load, behind hundreds of requests).
METRICS_ALSO = r"metrics also on (http://\S*/metrics)"


def c_servers(sc, opt, d):
    """bin/blocking or bin/evented with the run's options, on 127.0.0.1:0."""
    b = opt.bin
    threads, helpers = pools(opt, sc.users)
    if sc.world == "blocking":
        argv = [b + "/blocking", "--listen", "127.0.0.1:0", "--threads", threads,
                "--helpers", helpers, "--task-ms", opt.task_ms, "--task-cpu-ms", opt.task_cpu_ms,
                "--metrics-listen", "127.0.0.1:0"]
    else:
        argv = [b + "/evented", "--listen", "127.0.0.1:0", "--workers", opt.workers,
                "--task-ms", opt.task_ms, "--task-cpu-ms", opt.task_cpu_ms,
                "--offload-threads", opt.offload_threads, "--io", opt.io]
    return Server(argv, READY, METRICS_ALSO, {"THREADS": threads, "HELPERS": helpers, "WORKERS": opt.workers})


# The original ran `fastapi run --workers 2 app.py`: uvicorn with two worker
# processes sharing one listening socket, each with anyio's default limiter of
# 40 threads for plain `def` routes. Debian 12 has no `fastapi run` (FastAPI
# 0.92), so uvicorn is started as that command starts it; /usr/bin/python3 is
# Debian's, the one with FastAPI and uvicorn.
FASTAPI_PY = "/usr/bin/python3"
FASTAPI_WORKERS = 2
FASTAPI_THREADS = 40  # anyio's default limiter, per worker


def fastapi_missing():
    """Why the original stack cannot run here, or None."""
    if subprocess.call([FASTAPI_PY, "-c", "import fastapi, uvicorn"], stderr=subprocess.DEVNULL) != 0:
        return "needs Debian's uvicorn and python3-fastapi: run make deps"
    return None


def fastapi(sc, opt, d):
    """load/peers/app.py on uvicorn, 2 workers. uvicorn cannot listen on :0
    and tell the port at --log-level warning, so the port is picked free just
    before; the peer's order log goes into the scenario's folder."""
    port = free_port()
    argv = ["env", "TASK_MS=%s" % opt.task_ms, "LAB_ORDER_LOG=%s" % d.resolve(), FASTAPI_PY, "-m", "uvicorn",
            "--workers", FASTAPI_WORKERS, "--host", "127.0.0.1", "--port", port, "--app-dir", "load/peers",
            "--no-access-log", "--log-level", "warning", "app:app"]

    # With --backend postgres a worker serves once its pool is open (hundreds of
    # connections, one by one): load/peers/pg_tasks.py.
    wait_s = 10 if opt.backend == "sleep" else 300
    probe = "/async_independent" if opt.backend != "sleep" and peer_pool_kind(sc.route) == "async" \
        else "/sync_baseline"

    def ready(proc, timeout=wait_s):
        """The port once both workers run and a route (one of the scenario's
        pool) answers 200."""
        import shares
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.alive():
            if len(shares.workers(proc.pid)) >= FASTAPI_WORKERS:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d%s?ms=0" % (port, probe), timeout=1):
                        return str(port)
                except OSError:
                    pass
            time.sleep(0.1)
        return None

    # The original stack's own: 40 threads and 120 helpers per worker process.
    return Server(argv, ready, None, {"THREADS": FASTAPI_THREADS * FASTAPI_WORKERS, "HELPERS": 120 * FASTAPI_WORKERS,
                                      "WORKERS": FASTAPI_WORKERS})


def peer_pool_kind(route):
    """The peer's pool (load/peers/pg_tasks.py's LAB_POOLS) a route's tasks
    take from: the blocking one for the threadpool's routes and for
    /async_blocking's mistake, the async one for the others."""
    return "sync" if route.world == "blocking" or route.plan == "blocking-loop" else "async"


TARGETS = {"c": c_servers, "fastapi": fastapi}


def serves(target, route):
    """Whether the target has the route: the original app (load/peers/app.py)
    has the sleep routes, not the lab's CPU routes (their CPU would run under
    CPython's GIL, which the model does not hold)."""
    return target == "c" or route.cpu == "none"


def suffix(target):
    return "" if target == "c" else "-" + target
