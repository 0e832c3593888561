#!/usr/bin/python3
"""bench: `make bench` - the lab's programs measured beside what people would
pick instead (wrk, Locust, nginx, FastAPI on uvicorn) and beside the model.
Each row is a unit of its own in rows/ (ROWS lists them) and runs alone:
    load/harness/bench.py --rows timer,load-vs-wrk
Every comparison is a ratio of two things measured in this run, alternated
(A B, B A, ...) BENCH_PAIRS times; the table shows the median ratio and its
min-max. Client and server are pinned to different CPUs when there are two.
Writes reports/bench/<UTC timestamp>/BENCH.md, data/ (raw outputs, .dat
files) and SVG charts drawn by gnuplot; prints the table. Only 127.0.0.1,
every run bounded, every process started here stopped on every exit path.

Environment: BENCH_PAIRS (3), BENCH_SECS (5, each rate run), BENCH_R3_PAIRS
(7) and BENCH_R3_SECS (2): row 3's pairs, shorter and more of them,
BENCH_LOCUST_SECS (10), BENCH_C10K_SECS (20), BENCH_C10K_IO (epoll: bin/evented's
I/O engine in row 6, uring for io_uring), BENCH_C10K_SCHED (row 6's server
and client: fifo, under `chrt -f 1`, the default where permitted; other, the
normal policy), BENCH_ROWS (names or numbers,
comma- or space-separated; all by default; --rows overrides), BENCH_OUT (the
output folder). Expects `make all` and build/bench/sleep_probe,
build/bench/epoll_floor and build/bench/load_floor built.
Exit 0 when it ran (goals missed are findings, reported in BENCH.md), 2 on
bad usage or setup, 130/143 interrupted.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_md  # noqa: E402
import charts  # noqa: E402
import readings  # noqa: E402
import rows  # noqa: E402
import servers  # noqa: E402
from procs import Interrupted, NotReady, Procs, raise_fd_limit  # noqa: E402
from table import Findings  # noqa: E402


class Bench:
    """One bench run: its knobs, folders, processes, CPU pinning, the servers
    rows share, the findings, and figures rows leave for later rows."""

    CONNS = 50
    BODY_PATH = "/async_concurrent"  # the body every "same body" comparison serves
    PROBE = "build/bench/sleep_probe"
    FLOOR = "build/bench/epoll_floor"
    LOAD_FLOOR = "build/bench/load_floor"

    def __init__(self, procs, selected, env=os.environ):
        self.procs, self.selected = procs, selected
        self.pairs = int(env.get("BENCH_PAIRS", "3"))
        self.secs = int(env.get("BENCH_SECS", "5"))
        self.locust_secs = int(env.get("BENCH_LOCUST_SECS", "10"))
        self.c10k_secs = int(env.get("BENCH_C10K_SECS", "20"))
        self.r3_pairs = int(env.get("BENCH_R3_PAIRS", "7"))
        self.r3_secs = int(env.get("BENCH_R3_SECS", "2"))
        self.c10k_io = env.get("BENCH_C10K_IO", "epoll")
        self.c10k_sched = env.get("BENCH_C10K_SCHED", "")  # row 6 resolves the default
        self.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.out = Path(env.get("BENCH_OUT") or "reports/bench/" + self.stamp)
        self.data = self.out / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        # Marks every process the bench starts, so a test can prove none outlived it.
        procs.env = {"LAB_RUN_DIR": str(self.out.resolve())}
        self.t0 = time.monotonic()
        self.load_start = readings.loadavg()
        if (os.cpu_count() or 1) >= 2:
            self.srv, self.cli = ["taskset", "-c", "0"], ["taskset", "-c", "1"]
            self.pinning = "server on CPU 0, client on CPU 1 (taskset)"
        else:
            self.srv, self.cli, self.pinning = [], [], "not pinned (one CPU)"
        # perf stat counts each client's CPU time (task-clock), so a rate can be
        # read per CPU-second too: the fair measure when the server sets the pace.
        self.has_perf = perf_can("task-clock")
        # Syscalls are counted too (the raw_syscalls:sys_enter tracepoint, when the
        # kernel lets perf read it): per request, beside the CPU time.
        self.syscalls = ",raw_syscalls:sys_enter" if self.has_perf and perf_can("raw_syscalls:sys_enter") else ""
        self.findings = Findings()
        self.results = {}  # row name -> what later rows or the charts read
        self.summaries = []  # run folders whose summary.txt BENCH.md shows
        self.fds = raise_fd_limit()  # ten thousand connections need the descriptors
        self._shared = {}
        self._body = None

    def log(self, msg):
        print("[bench %3ds] %s" % (time.monotonic() - self.t0, msg), file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def untraced(self):
        """perf stat without the syscall tracepoint inside the block. Any
        syscall tracepoint, once enabled, sends every system call of every
        task on the machine through the kernel's slow entry path (0.3-0.8 µs
        a request more for either server here), so a CPU time meant to be
        compared is read with it off, and system calls are counted apart."""
        saved, self.syscalls = self.syscalls, ""
        try:
            yield
        finally:
            self.syscalls = saved

    def perf(self, tag):
        """The prefix that counts a client's CPU into data/TAG.cpu."""
        # context switches: a software counter, no tracepoint; how often the client slept
        return ["perf", "stat", "-x,", "-e", "task-clock,context-switches" + self.syscalls,
                "-o", self.data / (tag + ".cpu"),
                "--"] if self.has_perf else []

    @property
    def body(self):
        """The body bin/evented serves for BODY_PATH?ms=0, read from it (the
        route table holds it; nothing here repeats it)."""
        if self._body is None:
            self._body = servers.body_of_route(self, self.BODY_PATH)
        return self._body

    def shared(self, name):
        """A server several rows use (nginx, a one-worker bin/evented): started
        on first use, stopped once no row still to run needs it. Returns
        (Proc, base URL)."""
        if name not in self._shared:
            self._shared[name] = servers.SHARED[name](self)
        return self._shared[name]

    def release(self, still_to_run):
        for name in list(self._shared):
            if not any(name in getattr(r, "SHARES", ()) for r in still_to_run):
                self.procs.stop(self._shared.pop(name)[0], grace=5)

    def elapsed(self):
        return int(time.monotonic() - self.t0)


def perf_can(event):
    """Whether perf stat may count event here."""
    return shutil.which("perf") is not None and subprocess.call(
        ["perf", "stat", "-x,", "-e", event, "-o", "/dev/null", "--", "true"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def selection(argv, env):
    """The rows asked for (--rows A,B or BENCH_ROWS), in the table's order."""
    spec = env.get("BENCH_ROWS", "")
    if len(argv) == 2 and argv[0] == "--rows":
        spec = argv[1]
    elif argv:
        ok = argv[0] in ("-h", "--help")
        print(__doc__.split("\n\n")[0] + "\n\nusage: load/harness/bench.py [--rows NAME,...]\nrows: "
              + ", ".join("%d %s" % (r.NUMBER, r.NAME) for r in rows.ALL), file=sys.stdout if ok else sys.stderr)
        sys.exit(0 if ok else 2)
    try:
        return rows.select(spec)
    except ValueError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)


def main(argv):
    selected = selection(argv, os.environ)
    os.chdir(HERE.parent.parent)
    if not os.access("bin/evented", os.X_OK):
        print("bench: bin/evented is missing: run make first", file=sys.stderr)
        return 2
    for t in sorted({t for r in selected for t in getattr(r, "TOOLS", ())} | {"taskset", "gnuplot"}):
        if shutil.which(t) is None:
            print("bench: %s is not installed: run make deps DEPS_BENCH (make bench does)" % t,
                  file=sys.stderr)
            return 2
    with Procs() as procs:
        try:
            b = Bench(procs, selected)
            b.log("writing %s; %s; %d pairs of %ds runs; load average %s" % (
                b.out, b.pinning, b.pairs, b.secs, b.load_start))
            for i, r in enumerate(selected):
                missing = [p for p in getattr(r, "NEEDS", ()) if not os.access(p, os.X_OK)]
                if missing:
                    b.findings.note("- Row %d skipped: %s is missing." % (r.NUMBER, missing[0]))
                    b.log("row %d skipped: %s is missing" % (r.NUMBER, missing[0]))
                else:
                    r.run(b)
                b.release(selected[i + 1:])
                rows.finish_after(r, selected[i + 1:], b)
            b.log("charts and BENCH.md")
            chart_names = charts.draw(b)
            bench_md.write(b, chart_names)
        except Interrupted as e:
            print("[bench] interrupted", file=sys.stderr)
            procs.stop_all()
            return e.status
        except (NotReady, RuntimeError, OSError) as e:  # a server or tool that cannot start
            print("bench: %s" % e, file=sys.stderr)
            return 2
    print()
    print(b.findings.table())
    print("bench: %s/BENCH.md (%d s)" % (b.out, b.elapsed()))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
