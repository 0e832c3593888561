"""loads: the load generators a scenario can be driven by. Each LOADS entry
starts its processes under the run's Procs and returns the one whose end
ends the scenario (it exits by itself at its run time), plus any helpers
(Locust workers) to stop after it. Every generator writes the run folder's
load_stats.csv (Locust's --csv prefix `load`) and console.txt.
Each generator process runs under load/harness/usage.py, which writes the
CPU it used to the scenario's .load-cpu-* files when it ends (LOAD_CPU_S).
Adding a load mode is one function and one line in LOADS.
"""
import socket
from pathlib import Path

USAGE = str(Path(__file__).resolve().parent / "usage.py")


def counted(d, tag, argv):
    """argv run under usage.py, its CPU seconds into d/.load-cpu-TAG."""
    return [USAGE, "run", d / (".load-cpu-%s" % tag)] + argv


def free_port():
    """A TCP port free on 127.0.0.1 right now (a Locust master cannot take 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bin_load(procs, opt, sc, d, host):
    argv = [opt.bin + "/load", "--headless", "-u", sc.users, "-r", opt.spawn_rate,
            "-t", "%ss" % opt.run_time, "-H", host, "--csv", d / "load", "--json", d / "load.json"]
    if opt.wait_max != "0":
        argv += ["--wait-time", "%s-%s" % (opt.wait_min, opt.wait_max)]
    return procs.start("bin/load", counted(d, 0, argv + [sc.cls]), log=d / "console.txt"), []


def locust(procs, opt, sc, d, host):
    """Debian's Locust with load/locustfile.py: one process, or a master with
    --locust-workers Python workers and (--load locust-master) --load-workers
    bin/load workers; the master writes the CSV files."""
    # The locustfile reads its think time from LAB_WAIT_TIME (default 0).
    wait = "%s-%s" % (opt.wait_min, opt.wait_max)
    env = {"LAB_WAIT_TIME": wait}
    argv = ["locust", "--headless", "--only-summary", "-f", "load/locustfile.py",
            "-u", sc.users, "-r", opt.spawn_rate, "-t", "%ss" % opt.run_time, "-H", host,
            "--csv", d / "load"]
    n, m = opt.locust_workers, opt.load_workers
    if n or m:
        port = free_port()
        argv += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
                 "--expect-workers", n + m]
    main = procs.start("locust", counted(d, 0, argv + [sc.cls]), log=d / "console.txt", env=env)
    workers = [procs.start("locust worker %d" % k,
                           counted(d, k, ["locust", "-f", "load/locustfile.py", "--worker",
                                          "--master-host", "127.0.0.1", "--master-port", port]),
                           log=d / ("locust-worker-%d.txt" % k), env=env)
               for k in range(1, n + 1)]
    workers += [procs.start("bin/load worker %d" % k,
                            counted(d, "w%d" % k, [opt.bin + "/load", "--worker", "--master-port", port,
                                                   "--wait-time", wait]),
                            log=d / ("load-worker-%d.txt" % k))
                for k in range(1, m + 1)]
    return main, workers


LOADS = {"bin/load": bin_load, "locust": locust, "locust-master": locust}
