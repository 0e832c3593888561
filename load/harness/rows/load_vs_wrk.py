"""Row 1: bin/load's top rate beside wrk's, one thread, 50 connections,
against nginx; the same per client CPU-second; instructions per request
(callgrind).

A third client takes part in every pair: build/bench/load_floor, the least an
epoll client does for a request (one send, one recv, nothing parsed, timed or
counted but the answers). Its CPU per request is the floor bin/load and wrk
stand on; wrk beside it is the most any such client could be ahead of wrk in
that minute, bin/load beside it what bin/load's own work costs."""
import shutil

import clients
import readings
import stats
import table
from pairs import Pairs, alternate
from rows import goals

NAME, NUMBER = "load-vs-wrk", 1
NEEDS, TOOLS, SHARES = ("bin/load", "build/bench/load_floor"), ("wrk", "nginx"), ("nginx",)


def run(b):
    f = b.findings
    _, ng = b.shared("nginx")
    b.log("row 1: bin/load vs wrk, 1 thread, %d connections, against nginx" % b.CONNS)
    with b.untraced():  # CPU time without the syscall tracepoint, which slows every syscall (bench.py)
        got = alternate(b.pairs, [("bin/load", lambda i: clients.load(b, "r1-load-%d" % i, ng, "/")),
                                  ("load_floor", lambda i: clients.load_floor(b, "r1-floor-%d" % i, ng + "/")),
                                  ("wrk", lambda i: clients.wrk(b, "r1-wrk-%d" % i, ng + "/"))], b.log)
    # system calls, counted in a round of their own (its CPU time is not used)
    a1 = clients.load(b, "r1-load-syscalls", ng, "/")
    w1 = clients.wrk(b, "r1-wrk-syscalls", ng + "/")
    f1 = clients.load_floor(b, "r1-floor-syscalls", ng + "/")
    rates = Pairs.of(got, "bin/load", "wrk").save(b.data / "r1.dat")
    med, lo, hi = rates.ratio()
    f.row("bin/load max rate, 1 thread, %d conns (target: nginx)" % b.CONNS,
          "%s req/s" % table.rate(rates.a()[0]), "wrk: %s req/s" % table.rate(rates.b()[0]),
          table.ratio_cell(med, lo, hi), "≥ %s" % goals.R1_RATE, table.met(med, goals.R1_RATE, ">="))
    f.rate_pair("bin/load vs wrk", rates.a(), rates.b())
    cpu = Pairs("bin/load", "wrk", [
        (i, clients.per_cpu(b, "r1-load-%d" % i, a, b.secs), clients.per_cpu(b, "r1-wrk-%d" % i, w, b.secs))
        for i, a, w, _ in rates.rows]).save(b.data / "r1-cpu.dat")
    cpu_med = cpu.ratio()[0]
    f.row("… the same, requests per client CPU-second (perf stat task-clock, no tracepoint)", table.rate(cpu.a()[0]),
          "wrk: %s" % table.rate(cpu.b()[0]), table.ratio_cell(*cpu.ratio()), "≥ %s" % goals.R1_CPU,
          table.met(cpu_med, goals.R1_CPU, ">="))
    floor = Pairs("load_floor", "wrk", [
        (i, clients.per_cpu(b, "r1-floor-%d" % i, m["load_floor"], b.secs), w)
        for (i, _, w, _), m in zip(cpu.rows, got)]).save(b.data / "r1-floor-cpu.dat")
    load_fl = Pairs("bin/load", "load_floor", [(i, a, fl) for (i, a, _, _), (_, fl, _, _) in zip(cpu.rows, floor.rows)])
    fl_cs = stats.summary([clients.per_request(b, "r1-floor-%d" % i, "context-switches", m["load_floor"] * b.secs)
                           for i, m in enumerate(got, 1)])
    f.row("… the floor beside wrk: `build/bench/load_floor` (one send and one recv a request; nothing parsed, "
          "timed or counted but the answers), requests per client CPU-second; its context switches a request "
          "%s (%s–%s)" % tuple(table.fixed(x, 3) for x in fl_cs)
          + ", syscalls a request %s" % table.fixed(clients.syscalls_per_request(b, "r1-floor-syscalls",
                                                                              f1 * b.secs), 2),
          table.rate(floor.a()[0]), "wrk: %s" % table.rate(floor.b()[0]), table.ratio_cell(*floor.ratio()),
          "shown", "—")
    f.row("… bin/load beside the floor, requests per client CPU-second (1: its own work costs nothing measurable)",
          table.rate(load_fl.a()[0]), "floor: %s" % table.rate(load_fl.b()[0]), table.ratio_cell(*load_fl.ratio()),
          "shown", "—")
    # the client's own regime, as row 3 shows the server's: a client that answers faster than
    # nginx sleeps in epoll_wait and is woken per answer, ~10 µs each here (docs/PERFORMANCE.md)
    cs = {n: stats.summary([clients.per_request(b, "r1-%s-%d" % (t, row[0]), "context-switches", row[k] * b.secs)
                            for row in rates.rows])
          for n, t, k in (("bin/load", "load", 1), ("wrk", "wrk", 2))}
    f.row("… context switches per request, client (median (min–max) of the pairs; from about 0.1 up the client "
          "slept between answers, woken by each)",
          "%s (%s–%s)" % tuple(table.fixed(x, 3) for x in cs["bin/load"]),
          "wrk: %s (%s–%s)" % tuple(table.fixed(x, 3) for x in cs["wrk"]), "", "shown", "—")
    sys_load = clients.syscalls_per_request(b, "r1-load-syscalls", a1 * b.secs)
    sys_wrk = clients.syscalls_per_request(b, "r1-wrk-syscalls", w1 * b.secs)
    f.row("… syscalls per request, client (perf stat, a round of its own; floor: one write, one read, a share of "
          "epoll_wait)",
          table.fixed(sys_load, 2), "wrk: %s" % table.fixed(sys_wrk, 2), table.ratio(stats.ratio(sys_wrk, sys_load)),
          "shown", "—")
    b.results[NAME] = rates
    ir_load = ir_wrk = stats.NAN
    if shutil.which("valgrind"):
        ir_load, ir_wrk = instructions(b, ng)
        f.row("… instructions per request (callgrind Ir, start-up included)", table.rate(ir_load),
              "wrk: %s" % table.rate(ir_wrk), table.ratio(stats.ratio(ir_wrk, ir_load)), "shown", "—")
        f.note("- Row 1, instructions: `callgrind_annotate data/r1-load.callgrind` shows where bin/load's go",
               "(the ratio column is wrk's count over ours: above 1 means bin/load does less work per request).")
    if stats.meets(cpu_med, goals.R1_CPU, ">=") is False:
        f.reason("- **Row 1, per client CPU-second** (bin/load / wrk = %s, goal %s): syscalls per request" % (
                     table.g(cpu_med), goals.R1_CPU),
                 "bin/load %s, wrk %s; instructions per request %s against %s. The rest" % (
                     table.fixed(sys_load, 2), table.fixed(sys_wrk, 2), table.rate(ir_load), table.rate(ir_wrk)),
                 "is the kernel's TCP work per request, the same for both, and the client's sleeps: bin/load",
                 "slept %s times a request between answers (wrk %s), each a wake-up across CPUs that costs it" % (
                     table.fixed(cs["bin/load"][0], 3), table.fixed(cs["wrk"][0], 3)),
                 "about 10 µs (docs/PERFORMANCE.md, seventh round). The floor client (one send and one recv,",
                 "no work of its own) read %s per client CPU-second beside wrk in the same pairs and bin/load" % (
                     table.fixed(floor.ratio()[0], 2)),
                 "%s of the floor's." % table.fixed(load_fl.ratio()[0], 2))
    if stats.meets(med, goals.R1_RATE, ">=") is False:
        f.reason("- **Row 1** (bin/load / wrk = %s, goal %s, short by %.0f points):" % (
                     table.g(med), goals.R1_RATE, (goals.R1_RATE - med) * 100),
                 "per client CPU-second bin/load does %sx wrk's requests and callgrind counts" % table.g(cpu.ratio()[0]),
                 "%s instructions per request against wrk's %s. When bin/load is as cheap per request" % (table.rate(ir_load), table.rate(ir_wrk)),
                 "but slower per second, it is not out of CPU: it leaves the server idle between a response and the next",
                 "request (look at its latency tail in data/r1-load-*.json against wrk's), or the shared server CPU was busier",
                 "during its runs (the min–max spread and the load average say how noisy). bin/load slept %s times a" % (
                     table.fixed(cs["bin/load"][0], 3)),
                 "request between answers (wrk %s): each sleep is a wake-up the server's send pays for." % (
                     table.fixed(cs["wrk"][0], 3)))


def instructions(b, ng):
    """Instructions per request (callgrind, 2 s each, slowed ~50x so the
    server idles): what each client spends, whatever the server's pace."""
    d = b.data
    b.procs.run("callgrind bin/load", [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % (d / "r1-load.callgrind"),
        "bin/load", "--headless", "-u", b.CONNS, "-r", b.CONNS, "-t", "2s", "-H", ng, "--path", "/",
        "--threads", "1", "--json", d / "r1-load-callgrind.json"],
        log=d / "r1-load-callgrind.txt", stdout="/dev/null", timeout=60)
    b.procs.run("callgrind wrk", [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % (d / "r1-wrk.callgrind"),
        "wrk", "-t1", "-c%d" % b.CONNS, "-d2s", ng + "/"], log=d / "r1-wrk-callgrind.txt", timeout=60)
    n_load = readings.jget(d / "r1-load-callgrind.json", "requests")
    n_wrk = readings.wrk_requests(d / "r1-wrk-callgrind.txt")
    return (stats.ratio(readings.callgrind_total(d / "r1-load.callgrind"), n_load),
            stats.ratio(readings.callgrind_total(d / "r1-wrk.callgrind"), n_wrk))
