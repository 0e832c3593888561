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
import signal
import socket
import subprocess
import sys
import time

READY_S = 60  # how long a program may take to say it is ready (Python, on a busy machine)


class Proc:
    """A program this run started, in its own session, with its output in a log."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def wait_for(self, text):
        """Waits until the log holds text; returns the line holding it, or None."""
        end = time.monotonic() + READY_S
        while time.monotonic() < end:
            with open(self.log_path, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    if text in line:
                        return line
            if not self.alive():
                return None
            time.sleep(0.1)
        return None

    def stop(self):
        """SIGTERM to the group, SIGKILL after 5 s."""
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
            except ProcessLookupError:
                pass
        self.log.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def route_of(bin_dir, scenario):
    """(path, world) of a user class, from the route table (bin/load --routes)."""
    out = subprocess.run([os.path.join(bin_dir, "load"), "--routes"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        cls, path, world = line.split("\t")[:3]
        if cls == scenario:
            return path, world
    return None


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
    route = route_of(a.bin, a.scenario)
    if route is None:
        ap.error(f"no user class {a.scenario} in the route table (bin/load --list)")
    path, world = route
    log_dir = a.log_dir or subprocess.run(["mktemp", "-d", "/tmp/live.XXXXXX"], text=True,
                                          capture_output=True, check=True).stdout.strip()
    os.makedirs(log_dir, exist_ok=True)

    procs = []
    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append("Ctrl-C"))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("SIGTERM"))
    rc = 2
    try:
        if world == "blocking":
            server = [os.path.join(a.bin, "blocking"), "--listen", "127.0.0.1:0", "--threads",
                      str(a.threads), "--task-ms", str(a.task_ms)]
        else:
            server = [os.path.join(a.bin, "evented"), "--listen", "127.0.0.1:0", "--workers",
                      str(a.workers), "--task-ms", str(a.task_ms)]
        srv = Proc("server", server, os.path.join(log_dir, "server.log"))
        procs.append(srv)
        line = srv.wait_for("listening on http://")
        if line is None:
            print(f"live: {server[0]} printed no ready line (see {srv.log_path})", file=sys.stderr)
            return 2
        host = line.split("listening on ")[1].split()[0]
        master_port = free_port()
        master = Proc("master", ["/usr/bin/python3", "-m", "locust", "-f", "load/locustfile.py",
                                 "--master", "--web-host", "127.0.0.1", "--web-port", str(a.web_port),
                                 "--master-bind-host", "127.0.0.1", "--master-bind-port",
                                 str(master_port), "-H", host, a.scenario],
                      os.path.join(log_dir, "master.log"))
        procs.append(master)
        if master.wait_for("Starting web interface") is None:
            print(f"live: the Locust master did not start (see {master.log_path})", file=sys.stderr)
            return 2
        for k in range(1, a.load_workers + 1):
            procs.append(Proc(f"worker {k}", [os.path.join(a.bin, "load"), "--worker",
                                              "--master-port", str(master_port)],
                              os.path.join(log_dir, f"load-worker-{k}.log")))
        if master.wait_for(f"{a.load_workers} workers connected") is None:
            print(f"live: the bin/load workers did not connect (see {log_dir})", file=sys.stderr)
            return 2
        print(f"live: {a.scenario} (GET {path} on {world} at {host}), {a.load_workers} bin/load "
              f"worker(s); logs in {log_dir}")
        print(f"live: open http://127.0.0.1:{a.web_port}/ and start a test there; Ctrl-C stops all",
              flush=True)
        while not stopping:
            ended = [p for p in procs if not p.alive()]
            if ended:
                print(f"live: the {ended[0].name} ended by itself (see {ended[0].log_path})",
                      file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"live: {stopping[0]}: stopping the workers, the master and the server")
        rc = 0
        return rc
    finally:
        # workers first, so the master sees them quit rather than go missing
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    sys.exit(main())
