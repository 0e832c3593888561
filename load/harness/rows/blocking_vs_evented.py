"""Row 4: bin/blocking (80 threads) beside one bin/evented worker, ?ms=0,
driven by wrk; why, from each server's CPU and context switches per request."""
import clients
import readings
import servers
import table
from pairs import Pairs

NAME, NUMBER = "blocking-vs-evented", 4
NEEDS, TOOLS, SHARES = ("bin/blocking",), ("wrk",), ("evented-w1",)


def run(b):
    f = b.findings
    ev_proc, ev = b.shared("evented-w1")
    b.log("row 4: bin/blocking vs bin/evented, ?ms=0, driven by wrk")
    bl_proc, bl = servers.ours(b, "blocking", ["bin/blocking", "--listen", "127.0.0.1:0"],
                               b.data / "blocking.log")
    sides = (("bin/blocking", "r4-blocking", bl + "/sync_baseline?ms=0", bl_proc),
             ("bin/evented", "r4-evented", ev + "/async_independent?ms=0", ev_proc))
    got, costs, syscalls = clients.costed_pairs(b, b.pairs, clients.wrk_costed, sides)
    rates = Pairs.of(got, "bin/blocking", "bin/evented").save(b.data / "r4.dat")
    f.row("bin/blocking (80 threads) `/sync_baseline?ms=0`, by wrk", "%s req/s" % table.rate(rates.a()[0]),
          "bin/evented 1 worker `/async_independent?ms=0`: %s req/s" % table.rate(rates.b()[0]),
          table.ratio_cell(*rates.ratio()), "shown", "—")
    f.rate_pair("bin/blocking vs bin/evented", rates.a(), rates.b())
    bl_us, bl_cs, _ = costs[("bin/blocking", 1)].per_request(rates.rows[0][1])
    ev_us, ev_cs, _ = costs[("bin/evented", 1)].per_request(rates.rows[0][2])
    f.row("… syscalls per request, server (a round of its own)", table.fixed(syscalls["bin/blocking"], 2),
          "bin/evented: %s" % table.fixed(syscalls["bin/evented"], 2), "", "shown", "—")
    conn = connection_header(bl + "/sync_baseline?ms=0")
    sock = next((line for i in range(1, b.pairs + 1) for line in
                 readings.wrk_lines(b.data / ("r4-blocking-%d.wrk.txt" % i), "Socket errors")), "")
    f.note("- Row 4, why: per request bin/blocking spends %s µs of server CPU and %s context" % (
               table.fixed(bl_us), table.fixed(bl_cs, 2)),
           "switches, bin/evented %s µs and %s. A blocking request is handed from the" % (
               table.fixed(ev_us), table.fixed(ev_cs, 2)),
           "accepting thread to a pool thread (a queue and a wake-up, i.e. context switches) and",
           "holds that thread while it runs; an evented request is parsed, timed and answered",
           "on the thread that read it. bin/blocking's Connection header: `%s`%s." % (
               conn or "none", "; wrk saw: " + sock if sock else ""))
    b.procs.stop(bl_proc, grace=5)


def connection_header(url):
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.headers.get("Connection", "")
    except OSError:
        return ""
