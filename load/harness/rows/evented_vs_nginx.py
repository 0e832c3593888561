"""Row 3: one bin/evented worker beside one nginx worker serving the same
body, both driven by wrk; the server's CPU and context switches per request."""
import clients
import stats
import table
from pairs import Pairs, alternate

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
          "≥ 1.0", table.met(med, 1.0, ">="))
    f.rate_pair("bin/evented vs nginx", rates.a(), rates.b())
    ev_us, ev_cs = costs[("bin/evented", 1)].per_request(rates.rows[0][1])
    ng_us, ng_cs = costs[("nginx", 1)].per_request(rates.rows[0][2])
    f.note("- Row 3, server cost per request (perf stat on the server, pair 1): bin/evented %s µs CPU," % table.fixed(ev_us),
           "%s context switches; nginx %s µs CPU, %s context switches." % (
               table.fixed(ev_cs, 2), table.fixed(ng_us), table.fixed(ng_cs, 2)))
    if stats.meets(med, 1.0, ">=") is False:
        f.reason("- **Row 3** (bin/evented / nginx = %s, goal 1.0): server CPU per request bin/evented %s µs," % (
                     table.g(med), table.fixed(ev_us)),
                 "nginx %s µs (perf stat, pair 1). Both servers run their single CPU flat out, so the rate ratio is the" % table.fixed(ng_us),
                 "inverse of those costs; where they are within a few percent the difference is noise from the shared CPU",
                 "(see the spread). `perf record -g -p $(pgrep -n evented)` during a wrk run shows where the cycles go.")
