"""clients: the load generators the bench compares, each run once on the
client's CPU for a bounded time, its raw output kept in data/, its CPU time
counted by perf stat (data/TAG.cpu); each returns the rate it reached.
ServerCost attaches perf stat to a server for a run: CPU and context
switches per request, split into user and kernel time, and how busy the
server was (its CPU over the run's wall time: near 1, the server set the
pace; well under, the client did)."""
import contextlib
import os
import signal
import time

import readings
import stats
import usage
from pairs import alternate
from stats import NAN


def wrk(b, tag, url, secs=None, conns=None):
    """wrk, one thread: requests per second."""
    secs = secs or b.secs
    out = b.data / (tag + ".wrk.txt")
    argv = b.cli + b.perf(tag) + ["wrk", "-t1", "-c%d" % (conns or b.CONNS), "-d%ds" % secs,
                                  "--latency", url]
    b.procs.run("wrk", argv, log=out, timeout=secs + 30)
    errors = readings.wrk_errors(out)
    if errors:
        b.log("wrk %s: %s" % (tag, errors))
    return readings.wrk_rate(out)


def load(b, tag, host, path, users=None, threads=1, secs=None):
    """bin/load on one path, `users` connections: requests per second."""
    secs, users = secs or b.secs, users or b.CONNS
    js = b.data / (tag + ".json")
    argv = b.cli + b.perf(tag) + ["bin/load", "--headless", "-u", users, "-r", users, "-t", "%ds" % secs,
                                  "-H", host, "--path", path, "--threads", threads, "--json", js]
    b.procs.run("bin/load", argv, log=b.data / (tag + ".console.txt"), timeout=secs + 30,
                stdout="/dev/null")
    failures = readings.jget(js, "failures")
    if failures:
        b.log("bin/load %s: %s failures" % (tag, failures))
    return stats.num(readings.jget(js, "rps"))


def load_floor(b, tag, url, secs=None, conns=None):
    """build/bench/load_floor (one send and one recv a request, nothing else):
    requests per second, from its closing line (data/TAG.floor.txt)."""
    secs = secs or b.secs
    out = b.data / (tag + ".floor.txt")
    argv = b.cli + b.perf(tag) + [b.LOAD_FLOOR, "--url", url, "--conns", conns or b.CONNS, "--secs", secs]
    b.procs.run("load_floor", argv, log=out, timeout=secs + 30)
    rate = readings.floor_rate(out)
    if rate != rate:  # NaN: it stopped on an error, which its output names
        b.log("load_floor %s: %s" % (tag, (readings.text(out).strip().splitlines() or ["no output"])[-1]))
    return rate


def locust(b, tag, host, path, user_class):
    """Debian's Locust with the bench's locustfile (one GET of path, no
    wait), headless: requests per second from its Aggregated row."""
    out = b.data / (tag + ".locust.txt")
    argv = b.cli + b.perf(tag) + ["locust", "-f", "load/harness/bench/locustfile.py", "--headless",
                                  "--only-summary", "-u", b.CONNS, "-r", b.CONNS,
                                  "-t", "%ds" % b.locust_secs, "-H", host, user_class]
    b.procs.run("locust", argv, log=out, timeout=b.locust_secs + 30, env={"BENCH_PATH": path})
    return readings.aggregated(out)["rps"]


def cpu_ms(b, tag):
    """The client's CPU time (ms) perf stat counted for TAG."""
    return readings.perf_counts(b.data / (tag + ".cpu")).get("task-clock", NAN)


def per_cpu(b, tag, rate, secs):
    """Requests per client CPU-second for TAG at `rate` over `secs`."""
    return stats.per_cpu_second(rate, secs, cpu_ms(b, tag))


def per_request(b, tag, event, requests):
    """perf stat's count of `event` for a client (data/TAG.cpu) over
    `requests`; NaN without the count."""
    return stats.ratio(readings.perf_counts(b.data / (tag + ".cpu")).get(event, NAN), requests)


def syscalls_per_request(b, tag, requests):
    """Syscalls per request a client made (perf stat's raw_syscalls)."""
    return per_request(b, tag, "raw_syscalls", requests)


class ServerCost:
    """perf stat attached to a server (and its children) for one client run:
    start before the client, stop() right after it ends - the whole run and
    only it (a fixed sleep would miss its tail or add idle time)."""

    def __init__(self, b, tag, proc):
        self.b, self.tag, self.path = b, tag, b.data / (tag + ".srv.cpu")
        self.pids = pids = [proc.pid] + readings.children(proc.pid)
        self.proc = b.procs.start("perf stat " + tag, [
            "perf", "stat", "-x,", "-e", "task-clock,context-switches" + b.syscalls, "-p",
            ",".join(str(p) for p in pids), "-o", self.path], log=b.data / (tag + ".srv.log")) \
            if b.has_perf else None
        time.sleep(0.3)  # attached before the client starts
        self.split0, self.t0 = usage.cpu_split_s(pids), time.monotonic()

    def stop(self):
        self.split1, self.t1 = usage.cpu_split_s(self.pids), time.monotonic()
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGINT)  # perf stat writes its counts on SIGINT
            if self.proc.wait(10) is None:
                self.b.procs.stop(self.proc)
            self.b.procs.forget(self.proc)

    def requests(self, rate):
        """The run's requests: the client's own count (wrk's report, bin/load's
        JSON) when there is one, else rate x BENCH_SECS."""
        n = readings.wrk_requests(self.b.data / (self.tag + ".wrk.txt"))
        if not n > 0:
            n = stats.num(readings.jget(self.b.data / (self.tag + ".json"), "requests"))
        return n if n > 0 else stats.num(rate) * self.b.secs

    def split(self, rate):
        """(user µs, kernel µs) per request, from the server's utime and stime."""
        n = self.requests(rate)
        return tuple(stats.ratio((b - a) * 1e6, n) for a, b in zip(self.split0, self.split1))

    def busy(self):
        """The server's CPU seconds per second of the run (perf stat's
        task-clock over the wall time between attaching and stopping)."""
        return stats.ratio(readings.perf_counts(self.path).get("task-clock", NAN) / 1000, self.t1 - self.t0)

    def per_request(self, rate):
        """(CPU µs, context switches, syscalls) per request, over requests()."""
        c = readings.perf_counts(self.path)
        n = self.requests(rate)
        return (stats.ratio(c.get("task-clock", NAN) * 1000, n), stats.ratio(c.get("context-switches", NAN), n),
                stats.ratio(c.get("raw_syscalls", NAN), n))

    def per_cpu_second(self, rate):
        """Requests per server CPU-second."""
        return stats.ratio(1e6, self.per_request(rate)[0])


def load_costed(b, costs, name, tag, host, path, server, users, secs=None):
    """As wrk_costed, with bin/load (1 thread, `users` connections, `secs`
    seconds) as the client: its JSON is data/TAG-PAIR.json, which ServerCost
    counts from."""
    def one(i):
        cost = ServerCost(b, "%s-%d" % (tag, i), server)
        r = load(b, "%s-%d" % (tag, i), host, path, users=users, secs=secs)
        cost.stop()
        costs[(name, i)] = cost
        return r
    return name, one


def wrk_costed(b, costs, name, tag, url, server):
    """For pairs.alternate: (name, fn(pair)) running wrk with the server's
    cost counted, each pair's ServerCost kept in costs[(name, pair)]."""
    def one(i):
        cost = ServerCost(b, "%s-%d" % (tag, i), server)
        r = wrk(b, "%s-%d" % (tag, i), url)
        cost.stop()
        costs[(name, i)] = cost
        return r
    return name, one


def costed_pairs(b, pairs, costed, sides):
    """Alternated pairs of costed(b, costs, *side) (wrk_costed, load_costed)
    with perf's syscall tracepoint off (Bench.untraced: it slows every system
    call on the machine, so a CPU time meant to be compared is read without
    it), then one round per side with it on, whose CPU time is not used.
    Returns (alternate's results, costs[(name, pair)], syscalls[name]: the
    server's system calls per request in that round)."""
    costs, traced, syscalls = {}, {}, {}
    with b.untraced():
        got = alternate(pairs, [costed(b, costs, *side) for side in sides], b.log)
    for name, tag, *rest in sides:
        rate = costed(b, traced, name, tag + "-syscalls", *rest)[1](1)
        syscalls[name] = traced[(name, 1)].per_request(rate)[2]
    return got, costs, syscalls
