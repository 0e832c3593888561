"""Row 3: one bin/evented worker beside one nginx worker serving the same
body, both driven by wrk; the server's CPU and context switches per request."""
import clients
import stats
import table
from pairs import Pairs, alternate
from rows import goals

NAME, NUMBER = "evented-vs-nginx", 3
NEEDS, TOOLS, SHARES = (), ("wrk", "nginx"), ("nginx", "evented-w1")


def run(b):
    f = b.findings
    ng_proc, ng = b.shared("nginx")
    ev_proc, ev = b.shared("evented-w1")
    b.log("row 3: bin/evented --workers 1 vs nginx 1 worker, both driven by wrk")
    costs = {}
    got = alternate(b.pairs, [clients.wrk_costed(b, costs, "bin/evented", "r3-evented", ev + b.BODY_PATH + "?ms=0", ev_proc),
                              clients.wrk_costed(b, costs, "nginx", "r3-nginx", ng + "/", ng_proc)], b.log)
    rates = Pairs.of(got, "bin/evented", "nginx").save(b.data / "r3.dat")
    med = rates.ratio()[0]
    f.row("bin/evented, 1 worker, `%s?ms=0`, by wrk" % b.BODY_PATH, "%s req/s" % table.rate(rates.a()[0]),
          "nginx 1 worker `return 200`: %s req/s" % table.rate(rates.b()[0]), table.ratio_cell(*rates.ratio()),
          "≥ %s" % goals.R3_RATE, table.met(med, goals.R3_RATE, ">="))
    f.rate_pair("bin/evented vs nginx", rates.a(), rates.b())
    srv = Pairs("bin/evented", "nginx", [
        (i, round(costs[("bin/evented", i)].per_cpu_second(e)), round(costs[("nginx", i)].per_cpu_second(n)))
        for i, e, n, _ in rates.rows]).save(b.data / "r3-srv-cpu.dat")
    cpu_med = srv.ratio()[0]
    f.row("… the same, requests per server CPU-second (perf stat on the server)", table.rate(srv.a()[0]),
          "nginx: %s" % table.rate(srv.b()[0]), table.ratio_cell(*srv.ratio()), "≥ %s" % goals.R3_CPU,
          table.met(cpu_med, goals.R3_CPU, ">="))
    ev_us, ev_cs, ev_sys = costs[("bin/evented", 1)].per_request(rates.rows[0][1])
    ng_us, ng_cs, ng_sys = costs[("nginx", 1)].per_request(rates.rows[0][2])
    f.row("… syscalls per request, server (pair 1; floor: one read, one write, a share of epoll_wait)",
          table.fixed(ev_sys, 2), "nginx: %s" % table.fixed(ng_sys, 2), table.ratio(stats.ratio(ng_sys, ev_sys)),
          "shown", "—")
    f.note("- Row 3, server cost per request (perf stat on the server, pair 1): bin/evented %s µs CPU," % table.fixed(ev_us),
           "%s context switches; nginx %s µs CPU, %s context switches." % (
               table.fixed(ev_cs, 2), table.fixed(ng_us), table.fixed(ng_cs, 2)))
    if stats.meets(med, goals.R3_RATE, ">=") is False or stats.meets(cpu_med, goals.R3_CPU, ">=") is False:
        f.reason("- **Row 3** (bin/evented / nginx = %s, goal %s; per server CPU-second %s, goal %s):" % (
                     table.g(med), goals.R3_RATE, table.g(cpu_med), goals.R3_CPU),
                 "server CPU per request bin/evented %s µs, %s syscalls," % (table.fixed(ev_us), table.fixed(ev_sys, 2)),
                 "nginx %s µs, %s syscalls (perf stat, pair 1); most of either is the kernel's TCP work for" % (
                     table.fixed(ng_us), table.fixed(ng_sys, 2)),
                 "the read and the write (docs/PERFORMANCE.md), which no server saves with the same syscalls.",
                 "Both servers run their single CPU flat out, so the rate ratio is the",
                 "inverse of those costs; where they are within a few percent the difference is noise from the shared CPU",
                 "(see the spread). `perf record -g -p $(pgrep -n evented)` during a wrk run shows where the cycles go.")
