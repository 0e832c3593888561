"""Row 9: bin/load as a worker of Debian's Locust master, beside bin/load
alone and beside one Python FastHttpUser worker under the same kind of
master, alternated in one run.

Target: bin/evented (1 loop, pinned like every server here) answering
/async_concurrent with 0 ms tasks, the route a bin/load worker's class
requests. The rate of a master's run is the master's own figure (its stats
CSV, Aggregated Requests/s); bin/load alone gives its --json rps. Goals
(issue 13): the worker >= 0.9x bin/load alone, >= 5x the Python worker.
"""
import clients
import readings
import servers
import table
from loads import free_port
from pairs import Pairs, alternate

NAME, NUMBER = "locust-worker", 9
NEEDS, TOOLS = ("bin/load",), ("locust",)
PATH = "/async_concurrent"


def under_master(b, tag, secs, locustfile, user_class, worker, host):
    """A headless master expecting one worker, and that worker (argv, given
    --master-port); the master's Aggregated Requests/s."""
    port, env = free_port(), {"BENCH_PATH": PATH}
    master = b.procs.start("locust master", b.cli + [
        "locust", "-f", locustfile, "--master", "--headless", "--expect-workers", "1", "-u", b.CONNS,
        "-r", b.CONNS, "-t", "%ds" % secs, "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
        "-H", host, "--csv", b.data / tag, user_class], log=b.data / (tag + ".master.txt"), env=env)
    w = b.procs.start("worker", b.cli + worker + ["--master-port", port], log=b.data / (tag + ".worker.txt"),
                      env=env)
    if master.wait(secs + 40) is None:
        b.procs.stop(master)
    b.procs.forget(master)
    if w.wait(5) is None:  # a worker quits when its master does; else stop it
        b.procs.stop(w)
    b.procs.forget(w)
    return readings.locust_csv(b.data / (tag + "_stats.csv"))


def run(b):
    f = b.findings
    b.log("row 9: bin/load as a Locust worker vs bin/load alone vs a Python FastHttpUser worker")
    srv, host = servers.ours(b, "evented", ["bin/evented", "--listen", "127.0.0.1:0", "--workers", "1",
                                            "--task-ms", "0"], b.data / "r9-evented.log")
    got = alternate(b.pairs, [
        ("bin/load worker", lambda i: under_master(b, "r9-worker-%d" % i, b.secs, "load/locustfile.py",
                                                   "AsyncConcurrentUser", ["bin/load", "--worker", "--threads", "1"],
                                                   host)),
        ("bin/load alone", lambda i: clients.load(b, "r9-alone-%d" % i, host, PATH))], b.log)
    alone = Pairs.of(got, "bin/load worker", "bin/load alone").save(b.data / "r9-alone.dat")
    f.row("bin/load as a Locust worker, 1 thread, %d users (target: bin/evented, 0 ms tasks)" % b.CONNS,
          "%s req/s" % table.rate(alone.a()[0]), "bin/load alone: %s req/s" % table.rate(alone.b()[0]),
          table.ratio_cell(*alone.ratio()), "≥ 0.9", table.met(alone.ratio()[0], 0.9, ">="))
    f.rate_pair("bin/load worker vs bin/load alone", alone.a(), alone.b())
    # the Python worker against this run's own bin/load worker rates, pair by pair
    rows = []
    for i, a, _, _ in alone.rows:
        py = under_master(b, "r9-python-%d" % i, b.locust_secs, "load/harness/bench/locustfile.py",
                          "BenchFastHttpUser", ["locust", "-f", "load/harness/bench/locustfile.py", "--worker"], host)
        rows.append((i, a, py))
        b.log("  pair %d: bin/load worker %s  Python FastHttpUser worker %s" % (i, table.rate(a), table.rate(py)))
    python = Pairs("bin/load-worker", "python-worker", rows).save(b.data / "r9-python.dat")
    f.row("… the same worker vs one Python FastHttpUser worker under the master",
          "%s req/s" % table.rate(python.a()[0]), "Locust FastHttpUser worker: %s req/s" % table.rate(python.b()[0]),
          table.ratio_cell(*python.ratio()), "≥ 5", table.met(python.ratio()[0], 5, ">="))
    f.rate_pair("bin/load worker vs Python worker", python.a(), python.b())
    b.procs.stop(srv)
