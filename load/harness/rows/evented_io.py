"""Row 11: readiness against completion - one bin/evented worker on each I/O
engine (--io epoll, the default, and --io uring) beside one nginx worker, the
same body, all three driven by wrk in turn: requests per second, per server
CPU-second, and system calls per request on the server."""
import clients
import servers
import stats
import table
from pairs import Pairs
from rows import goals

NAME, NUMBER = "evented-io", 11
NEEDS, TOOLS, SHARES = (), ("wrk", "nginx"), ("nginx", "evented-w1")

EPOLL, URING, NGINX = "bin/evented --io epoll", "bin/evented --io uring", "nginx"


def run(b):
    f = b.findings
    ng_proc, ng = b.shared("nginx")
    ep_proc, ep = b.shared("evented-w1")
    ur_proc, ur = servers.ours(b, "evented w1 uring", ["bin/evented", "--listen", "127.0.0.1:0", "--workers", "1",
                                                       "--max-conns", "20000", "--io", "uring"],
                               b.data / "evented-w1-uring.log")
    b.log("row 11: bin/evented --io epoll vs --io uring vs nginx, 1 worker each, driven by wrk")
    path = b.BODY_PATH + "?ms=0"
    sides = ((EPOLL, "r11-epoll", ep + path, ep_proc), (URING, "r11-uring", ur + path, ur_proc),
             (NGINX, "r11-nginx", ng + "/", ng_proc))
    got, costs, sys_req = clients.costed_pairs(b, b.pairs, clients.wrk_costed, sides)
    b.procs.stop(ur_proc, grace=5)

    rate = {n: [g[n] for g in got] for n in (EPOLL, URING, NGINX)}
    per_cpu = {n: [round(costs[(n, i)].per_cpu_second(r)) for i, r in enumerate(rate[n], 1)]
               for n in rate}
    us_req = {n: stats.summary([costs[(n, i)].per_request(r)[0] for i, r in enumerate(rate[n], 1)])[0]
              for n in rate}
    user = {n: stats.summary([costs[(n, i)].split(r)[0] for i, r in enumerate(rate[n], 1)])[0] for n in rate}
    kern = {n: stats.summary([costs[(n, i)].split(r)[1] for i, r in enumerate(rate[n], 1)])[0] for n in rate}

    def pairs(a, b_, what):
        return Pairs(a, b_, [(i, x, y) for i, (x, y) in enumerate(zip(what[a], what[b_]), 1)])

    ur_ng = pairs(URING, NGINX, rate).save(b.data / "r11-uring-nginx.dat")
    ur_ep = pairs(URING, EPOLL, rate).save(b.data / "r11-uring-epoll.dat")
    f.row("bin/evented --io uring, 1 worker, `%s`, by wrk" % path, "%s req/s" % table.rate(ur_ng.a()[0]),
          "nginx 1 worker `return 200`: %s req/s" % table.rate(ur_ng.b()[0]), table.ratio_cell(*ur_ng.ratio()),
          "≥ %s" % goals.R3_RATE, table.met(ur_ng.ratio()[0], goals.R3_RATE, ">="))
    f.row("… the same beside --io epoll (the default)", "%s req/s" % table.rate(ur_ep.a()[0]),
          "epoll: %s req/s" % table.rate(ur_ep.b()[0]), table.ratio_cell(*ur_ep.ratio()), "shown", "—")
    f.rate_pair("bin/evented --io uring vs nginx", ur_ng.a(), ur_ng.b())

    cpu_ng = pairs(URING, NGINX, per_cpu).save(b.data / "r11-srv-cpu-nginx.dat")
    cpu_ep = pairs(URING, EPOLL, per_cpu).save(b.data / "r11-srv-cpu-epoll.dat")
    ep_ng = pairs(EPOLL, NGINX, per_cpu).save(b.data / "r11-srv-cpu-epoll-nginx.dat")
    f.row("… requests per server CPU-second, --io uring beside nginx (perf stat task-clock on the server, no "
          "tracepoint)",
          table.rate(cpu_ng.a()[0]), "nginx: %s" % table.rate(cpu_ng.b()[0]), table.ratio_cell(*cpu_ng.ratio()),
          "≥ %s" % goals.R3_CPU, table.met(cpu_ng.ratio()[0], goals.R3_CPU, ">="))
    f.row("… requests per server CPU-second, --io uring beside --io epoll", table.rate(cpu_ep.a()[0]),
          "epoll: %s" % table.rate(cpu_ep.b()[0]), table.ratio_cell(*cpu_ep.ratio()), "shown", "—")
    f.row("… requests per server CPU-second, --io epoll beside nginx (row 3's figure, this run)",
          table.rate(ep_ng.a()[0]), "nginx: %s" % table.rate(ep_ng.b()[0]), table.ratio_cell(*ep_ng.ratio()),
          "≥ %s" % goals.R3_CPU, table.met(ep_ng.ratio()[0], goals.R3_CPU, ">="))
    f.row("… syscalls per request, server (a round of its own)", "uring %s" % table.fixed(sys_req[URING], 2),
          "epoll %s, nginx %s" % (table.fixed(sys_req[EPOLL], 2), table.fixed(sys_req[NGINX], 2)),
          table.ratio(stats.ratio(sys_req[EPOLL], sys_req[URING])), "shown", "—")
    def split(n):
        return "(%s user + %s kernel, utime and stime)" % (table.fixed(user[n], 2), table.fixed(kern[n], 2))
    f.note("- Row 11, readiness against completion (perf stat on the server, median of the pairs; system calls",
           "from a round of their own): per request",
           "--io epoll %s µs of server CPU %s and %s system calls (recv, send, a share of epoll_wait)," % (
               table.fixed(us_req[EPOLL]), split(EPOLL), table.fixed(sys_req[EPOLL], 2)),
           "--io uring %s µs %s and %s (a share of one io_uring_enter per loop pass: the kernel" % (
               table.fixed(us_req[URING]), split(URING), table.fixed(sys_req[URING], 2)),
           "receives, sends and accepts for the loop), nginx %s µs %s and %s." % (
               table.fixed(us_req[NGINX]), split(NGINX), table.fixed(sys_req[NGINX], 2)),
           "The TCP work per request is the same on both engines; what io_uring saves is the system-call",
           "entries, and how many requests share one io_uring_enter depends on how many are ready per pass.")
    if stats.meets(cpu_ng.ratio()[0], goals.R3_CPU, ">=") is False:
        f.reason("- **Row 11** (--io uring / nginx per server CPU-second = %s, goal %s): per request" % (
                     table.g(cpu_ng.ratio()[0]), goals.R3_CPU),
                 "--io uring %s µs and %s system calls, nginx %s µs and %s;" % (
                     table.fixed(us_req[URING]), table.fixed(sys_req[URING], 2),
                     table.fixed(us_req[NGINX]), table.fixed(sys_req[NGINX], 2)),
                 "fewer entries into the kernel leave the kernel's TCP work per request, the same for every",
                 "server, and the server's wake-ups when it waits for wrk (docs/PERFORMANCE.md).")
