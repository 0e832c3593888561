"""Row 3: one bin/evented worker beside one nginx worker serving the same
body, both driven by the same client; the server's CPU per request, split
into user and kernel time, and how busy each server was.

Both servers are driven by the same client, chosen so that the server, not
the client, sets the pace (the issue's "raw rate" is then the server's):
- bin/load (1 thread, on the other CPU), not wrk: wrk spends more per request
  than either server (row 1), so under wrk both rates were wrk's (0.89-1.17
  from run to run). bin/load spends less than nginx and about as much as
  bin/evented.
- CONNS connections, not the 50 of the client rows: with 50, a closed loop on
  two vCPUs ping-pongs (each side waits for the other's batch, and a wake-up
  across vCPUs is slow here), and both servers sat idle 20-60% of the run;
  with 400 each was busy 0.92-0.96 of its CPU (measured by hand, 3 s pairs).
How busy each server was (its CPU seconds per second of the run) is shown
beside the rates: near 1, the server set the pace. Row 11 keeps wrk and 50
connections for the comparison with io_uring.

The CPU pairs are many and short (BENCH_R3_PAIRS of BENCH_R3_SECS s,
alternated: this machine's cost per request drifts by tens of percent from
minute to minute, so the two halves of a pair should be seconds apart) and
untraced: the syscall tracepoint slows every system call on the machine
(Bench.untraced), so system calls are counted in one more round per server
afterwards, whose CPU time is not used.

A third server takes part in every pair: build/bench/epoll_floor, the least an
epoll server does for a request (one recv, one send of the same body, nothing
parsed, routed or timed). Its CPU per request is the floor both other servers
stand on (the kernel's work for the same two system calls); nginx beside it is
the most any such server could be ahead of nginx in that minute, bin/evented
beside it what bin/evented's own work costs."""
import clients
import stats
import table
from pairs import Pairs
from rows import goals

NAME, NUMBER = "evented-vs-nginx", 3
NEEDS, TOOLS, SHARES = ("bin/load", "build/bench/epoll_floor"), ("nginx",), ("nginx", "evented-w1", "epoll-floor")
EV, NG, FL = "bin/evented", "nginx", "epoll_floor"
CONNS = 400


def run(b):
    f = b.findings
    ng_proc, ng = b.shared("nginx")
    ev_proc, ev = b.shared("evented-w1")
    fl_proc, fl = b.shared("epoll-floor")
    users = CONNS
    b.log("row 3: bin/evented --workers 1 vs nginx 1 worker (and the epoll floor), driven by bin/load "
          "(1 thread, %d connections)" % users)
    path = b.BODY_PATH + "?ms=0"
    sides = ((EV, "r3-evented", ev, path, ev_proc, users, b.r3_secs),
             (FL, "r3-floor", fl, path, fl_proc, users, b.r3_secs),
             (NG, "r3-nginx", ng, "/", ng_proc, users, b.r3_secs))
    got, costs, sys_req = clients.costed_pairs(b, b.r3_pairs, clients.load_costed, sides)
    rates = Pairs.of(got, EV, NG).save(b.data / "r3.dat")
    med = rates.ratio()[0]

    floor_rates = Pairs.of(got, FL, NG)

    def each(fn):  # {name: [figure per pair]}
        return {n: [fn(costs[(n, i)], r) for i, r in enumerate(pairs.column(k), 1)]
                for n, pairs, k in ((EV, rates, 1), (NG, rates, 2), (FL, floor_rates, 1))}

    def median(fn):
        return {n: stats.summary(v)[0] for n, v in each(fn).items()}

    f.row("bin/evented, 1 worker, `%s`, by bin/load (1 thread, %d connections; %d alternated pairs of %d s)"
          % (path, users, b.r3_pairs, b.r3_secs),
          "%s req/s" % table.rate(rates.a()[0]), "nginx 1 worker `return 200`: %s req/s" % table.rate(rates.b()[0]),
          table.ratio_cell(*rates.ratio()), "≥ %s" % goals.R3_RATE, table.met(med, goals.R3_RATE, ">="))
    f.rate_pair("bin/evented vs nginx", rates.a(), rates.b())
    per_cpu = each(lambda c, r: round(c.per_cpu_second(r)))
    srv = Pairs(EV, NG, [(i, e, n) for i, (e, n) in enumerate(zip(per_cpu[EV], per_cpu[NG]), 1)]) \
        .save(b.data / "r3-srv-cpu.dat")
    cpu_med = srv.ratio()[0]
    f.row("… the same, requests per server CPU-second (perf stat task-clock on the server, no tracepoint)",
          table.rate(srv.a()[0]), "nginx: %s" % table.rate(srv.b()[0]), table.ratio_cell(*srv.ratio()),
          "≥ %s" % goals.R3_CPU, table.met(cpu_med, goals.R3_CPU, ">="))
    fl_srv = Pairs(FL, NG, [(i, x, n) for i, (x, n) in enumerate(zip(per_cpu[FL], per_cpu[NG]), 1)]) \
        .save(b.data / "r3-floor-cpu.dat")
    ev_fl = Pairs(EV, FL, [(i, e, x) for i, (e, x) in enumerate(zip(per_cpu[EV], per_cpu[FL]), 1)])
    fl_cs = stats.summary(each(lambda c, r: c.per_request(r)[1])[FL])
    f.row("… the floor beside nginx: `build/bench/epoll_floor` (one recv and one send of the same body a request; "
          "nothing parsed, routed or timed), requests per server CPU-second; its context switches a request "
          "%s (%s–%s)" % tuple(table.fixed(x, 3) for x in fl_cs),
          table.rate(fl_srv.a()[0]), "nginx: %s" % table.rate(fl_srv.b()[0]), table.ratio_cell(*fl_srv.ratio()),
          "shown", "—")
    f.row("… bin/evented beside the floor, requests per server CPU-second (1: its own work costs nothing "
          "measurable)", table.rate(ev_fl.a()[0]), "floor: %s" % table.rate(ev_fl.b()[0]),
          table.ratio_cell(*ev_fl.ratio()), "shown", "—")
    busy = median(lambda c, r: c.busy())
    f.row("… how busy each server was: its CPU seconds per second of the run (median; near 1: the server set "
          "the pace)", table.fixed(busy[EV], 2), "nginx: %s" % table.fixed(busy[NG], 2), "", "shown", "—")
    cs = {n: stats.summary(v) for n, v in each(lambda c, r: c.per_request(r)[1]).items()}
    f.row("… context switches per request, server (median (min–max) of the pairs; from about 0.1 up the server "
          "slept between requests, woken by each: the closed loop's ping-pong, docs/PERFORMANCE.md)",
          "%s (%s–%s)" % tuple(table.fixed(x, 3) for x in cs[EV]),
          "nginx: %s (%s–%s)" % tuple(table.fixed(x, 3) for x in cs[NG]), "", "shown", "—")
    # the other side of the same loop: when the server outpaces bin/load, the client sleeps and
    # every answer's send pays for waking it (docs/PERFORMANCE.md, seventh round)
    cli_cs = {n: stats.summary([clients.per_request(b, "%s-%d" % (tag, i), "context-switches",
                                                    costs[(n, i)].requests(r))
                                for i, r in enumerate(rates.column(k), 1)])
              for n, tag, k in ((EV, "r3-evented", 1), (NG, "r3-nginx", 2))}
    f.row("… context switches per request, client bin/load (median (min–max) of the pairs; from about 0.1 up the "
          "client slept between answers and the server's sends woke it)",
          "%s (%s–%s)" % tuple(table.fixed(x, 3) for x in cli_cs[EV]),
          "nginx: %s (%s–%s)" % tuple(table.fixed(x, 3) for x in cli_cs[NG]), "", "shown", "—")
    user, kern = median(lambda c, r: c.split(r)[0]), median(lambda c, r: c.split(r)[1])
    f.row("… server CPU per request, user + kernel µs (utime, stime; median; the ratio: nginx's kernel part "
          "over bin/evented's)",
          "%s + %s" % (table.fixed(user[EV], 2), table.fixed(kern[EV], 2)),
          "nginx: %s + %s" % (table.fixed(user[NG], 2), table.fixed(kern[NG], 2)),
          table.ratio(stats.ratio(kern[NG], kern[EV])), "shown", "—")
    cs_req = median(lambda c, r: c.per_request(r)[1])
    us_req = median(lambda c, r: c.per_request(r)[0])
    f.row("… syscalls per request, server (a round of its own; floor: one read, one write, a share of epoll_wait)",
          table.fixed(sys_req[EV], 2), "nginx: %s" % table.fixed(sys_req[NG], 2),
          table.ratio(stats.ratio(sys_req[NG], sys_req[EV])), "shown", "—")
    cli_us = {n: stats.summary([stats.ratio(clients.cpu_ms(b, "%s-%d" % (tag, i)) * 1000,
                                            costs[(n, i)].requests(r))
                                for i, r in enumerate(rates.column(k), 1)])[0]
              for n, tag, k in ((EV, "r3-evented", 1), (NG, "r3-nginx", 2))}
    f.note("- Row 3, per request (median of the pairs): bin/evented %s µs of server CPU (%s user, %s kernel)," % (
               table.fixed(us_req[EV]), table.fixed(user[EV], 2), table.fixed(kern[EV], 2)),
           "%s context switches, %s syscalls; nginx %s µs (%s user, %s kernel), %s context switches," % (
               table.fixed(cs_req[EV], 3), table.fixed(sys_req[EV], 2), table.fixed(us_req[NG]),
               table.fixed(user[NG], 2), table.fixed(kern[NG], 2), table.fixed(cs_req[NG], 3)),
           "%s syscalls; the floor %s µs (%s user, %s kernel), %s context switches, %s syscalls." % (
               table.fixed(sys_req[NG], 2), table.fixed(us_req[FL]), table.fixed(user[FL], 2),
               table.fixed(kern[FL], 2), table.fixed(cs_req[FL], 3), table.fixed(sys_req[FL], 2)),
           "The client, bin/load, spent %s µs a request against bin/evented and %s against" % (
               table.fixed(cli_us[EV], 2), table.fixed(cli_us[NG], 2)),
           "nginx; servers busy %s (bin/evented) and %s (nginx) of their CPU. Why bin/load and %d" % (
               table.fixed(busy[EV], 2), table.fixed(busy[NG], 2), CONNS),
           "connections: wrk costs more per request than either server, so under wrk both rates were",
           "wrk's, and with 50 connections the two sides wait on each other's wake-ups and neither server",
           "is busy: the client or the round trip sets the rate, not the server (row 11 keeps wrk and 50",
           "connections for its comparison). The kernel's part is one recv and one send per request on",
           "either server (the TCP work of loopback, both directions' wake-ups): what one server can",
           "save with the same two system calls is its user time (docs/PERFORMANCE.md).")
    if stats.meets(med, goals.R3_RATE, ">=") is False or stats.meets(cpu_med, goals.R3_CPU, ">=") is False:
        f.reason("- **Row 3** (bin/evented / nginx = %s, goal %s; per server CPU-second %s, goal %s):" % (
                     table.g(med), goals.R3_RATE, table.g(cpu_med), goals.R3_CPU),
                 "per request bin/evented %s µs user + %s µs kernel, nginx %s + %s (median of the pairs);" % (
                     table.fixed(user[EV], 2), table.fixed(kern[EV], 2), table.fixed(user[NG], 2),
                     table.fixed(kern[NG], 2)),
                 "the kernel's part is the same recv and send for both and most of either. The floor (one",
                 "recv and one send, no work of its own) read %s per server CPU-second beside nginx in the" % (
                     table.fixed(fl_srv.ratio()[0], 2)),
                 "same pairs and bin/evented %s of the floor's: no server with these two system calls could" % (
                     table.fixed(ev_fl.ratio()[0], 2)),
                 "have been more than the floor's ratio ahead of nginx this run. A rate ratio with a server",
                 "busy well under 1 measured the client's pace.")
