#!/usr/bin/python3
"""make live: one scenario to watch in Locust's web UI, fed by bin/load workers.

Starts the scenario's server on 127.0.0.1 (an ephemeral port), Debian's Locust
master with its web UI and load/locustfile.py, and N `bin/load --worker`
processes, prints the UI's URL, and runs until Ctrl-C (or until any of them
ends), then stops all of them, process group and all. Start, stop and change
the users in the UI; the users are bin/load's. Exit 0 on Ctrl-C, 1 when a
process ended by itself, 2 on bad usage or setup.

    load/harness/live.py --scenario AsyncConcurrentUser [--load-workers 2] [--web-port 8089]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scenarios  # noqa: E402
import targets  # noqa: E402
from loads import free_port  # noqa: E402
from procs import Interrupted, NotReady, Procs  # noqa: E402

READY_S = 60  # how long a program may take to say it is ready (Python, on a busy machine)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", required=True, help="a user class of the route table")
    ap.add_argument("--load-workers", type=int, default=1, help="bin/load workers [1]")
    ap.add_argument("--web-port", type=int, default=8089, help="the web UI's port [8089]")
    ap.add_argument("--task-ms", type=int, default=250)
    ap.add_argument("--threads", type=int, default=80, help="bin/blocking --threads")
    ap.add_argument("--workers", type=int, default=2, help="bin/evented --workers")
    ap.add_argument("--bin", default="bin")
    ap.add_argument("--log-dir", default=None, help="where the logs go [a new /tmp folder]")
    a = ap.parse_args()
    if a.load_workers < 1:
        ap.error("--load-workers must be at least 1")
    try:
        route = next((r for r in scenarios.routes(a.bin) if r.cls == a.scenario), None)
    except (OSError, subprocess.SubprocessError):
        ap.error(f"{a.bin}/load --routes failed")
    if route is None:
        ap.error(f"no user class {a.scenario} in the route table (bin/load --list)")
    log_dir = Path(a.log_dir or subprocess.run(["mktemp", "-d", "/tmp/live.XXXXXX"], text=True,
                                               capture_output=True, check=True).stdout.strip())
    log_dir.mkdir(parents=True, exist_ok=True)
    # The scenario's server as make compare starts it (targets.py), helpers unbound.
    opt = SimpleNamespace(bin=a.bin, threads=a.threads, helpers=None, workers=a.workers, task_ms=a.task_ms,
                          task_cpu_ms=3, offload_threads=2, io="epoll")  # compare's defaults
    server = targets.TARGETS["c"](scenarios.Scenario(route, 0), opt, log_dir)
    with Procs() as procs:  # every process below is stopped, group and all, on every path
        try:
            return watch(procs, a, route, server, log_dir)
        except NotReady as e:
            print(f"live: {e} (see {log_dir})", file=sys.stderr)
            return 2
        except Interrupted as e:
            print("live: %s: stopping the workers, the master and the server"
                  % ("Ctrl-C" if e.status == 130 else "SIGTERM"))
            # workers first, so the master sees them quit rather than go missing
            procs.stop_all()
            return 0


def watch(procs, a, route, server, log_dir):
    """Starts the server, the master and the workers; waits until one ends."""
    srv = procs.start("server", server.argv, log=log_dir / "server.log", grace=5)
    host = "http://127.0.0.1:" + srv.wait_ready(server.ready, READY_S).group(1)
    master_port = free_port()
    master = procs.start("master", ["/usr/bin/python3", "-m", "locust", "-f", "load/locustfile.py",
                                    "--master", "--web-host", "127.0.0.1", "--web-port", a.web_port,
                                    "--master-bind-host", "127.0.0.1", "--master-bind-port", master_port,
                                    "-H", host, a.scenario], log=log_dir / "master.log", grace=5)
    master.wait_ready("Starting web interface", READY_S)
    for k in range(1, a.load_workers + 1):
        procs.start(f"worker {k}", [os.path.join(a.bin, "load"), "--worker", "--master-port", master_port],
                    log=log_dir / f"load-worker-{k}.log", grace=5)
    master.wait_ready(f"{a.load_workers} workers connected", READY_S)
    print(f"live: {a.scenario} (GET {route.path} on {route.world} at {host}), {a.load_workers} bin/load "
          f"worker(s); logs in {log_dir}")
    print(f"live: open http://127.0.0.1:{a.web_port}/ and start a test there; Ctrl-C stops all",
          flush=True)
    while True:
        ended = [p for p in procs.procs if not p.alive()]
        if ended:
            print(f"live: the {ended[0].name} ended by itself (see {ended[0].log})", file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
