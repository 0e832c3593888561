"""calibrate: what a request of a scenario's route costs the server, measured
before the load starts, for the model to predict with.

The run's own CPU per request cannot be the model's input: where the CPU
binds, the run's throughput is the cores divided by it, so a prediction made
from it would agree with the run by construction. Requests sent before the
load, `?ms=0` (no waits, the route's CPU tasks at the server's default), say
what the route's work costs without looking at the run.

    calibrate(url, pgid, clients=1, fresh=False, watch_ns=None)
        ->  Calibration(requests, cpu_ms, latency_ms, by_thread_ms, watch_cpu_ms)

Each client is a thread with one HTTP/1.1 connection that it keeps alive
while the server lets it (bin/blocking closes each: the client reconnects,
as the load generator does), sending one request after another. One client
gives a request alone: its round trip (latency_ms, the median) is what a
query's overhead is read from. Several at once are how the load's users
arrive: an event loop then serves many requests per turn and a CPython
worker pays its per-turn costs once for all of them, so what one request
alone costs overstates the CPU per request under load two to three times
(docs/ORIGINAL.md); the model's SERVER_CPU_MS comes from CLIENTS of them.
fresh: a new connection for every request, for a round trip without what a
kept-alive connection adds after the answer (uvicorn's answers wait for the
client's delayed ACK, docs/ORIGINAL.md fact 4, which the model counts apart).

cpu_ms is the server's CPU (every thread of its process group, read to the
nanosecond from schedstat) over the requests; by_thread_ms the same per
thread name ({"civetweb-worker": ..., "civetweb-master": ...}): which part
ran on the thread a request holds and which beside it. watch_cpu_ms is
what watch_ns() (a CPU counter in nanoseconds: a PostgreSQL cluster's, what
the requests' queries cost the database) grew by over the same requests, read
at the same two instants. Requests go on until MAX_S of
wall time or MAX_REQUESTS, whichever comes first, and at least MIN_REQUESTS.
"""
import http.client
import threading
import time
import urllib.parse
from collections import namedtuple

import stats
import usage

Calibration = namedtuple("Calibration", "requests cpu_ms latency_ms by_thread_ms watch_cpu_ms")

CLIENTS = 8         # the model's figure: enough to batch, few enough for a smoke run's users
MAX_S = 0.5
MAX_REQUESTS = 400
MIN_REQUESTS = 10
WARM_UP = 3         # each connection's first requests pay for lazy set-up (threads, pages)
TIMEOUT_S = 10


class _Client:
    """One connection's requests, their round trips in ms, and the first error."""

    def __init__(self, url, fresh=False):
        self.fresh = fresh
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)
        self.target = u.path + ("?" + u.query if u.query else "")
        self.lat, self.error = [], None

    def get(self):
        self.conn.request("GET", self.target)
        r = self.conn.getresponse()
        r.read()
        if r.status != 200:
            raise OSError("GET %s: %d %s" % (self.target, r.status, r.reason))
        if r.will_close or self.fresh:  # the next request reconnects
            self.conn.close()

    def run(self, ready, more):
        try:
            for _ in range(WARM_UP):
                self.get()
        except (OSError, http.client.HTTPException) as e:
            self.error = e
            ready.abort()  # the others, and the clock, must not wait for this one
        try:
            if self.error is None:
                ready.wait()  # its action has started the clock
                while more():
                    t = time.monotonic()
                    self.get()
                    self.lat.append((time.monotonic() - t) * 1e3)
        except threading.BrokenBarrierError:
            pass
        except (OSError, http.client.HTTPException) as e:
            self.error = e
        finally:
            self.conn.close()


def calibrate(url, pgid, clients=1, fresh=False, watch_ns=None):
    """Raises OSError when a request fails: a server that cannot answer the
    route before the load is not worth loading."""
    cs = [_Client(url, fresh) for _ in range(max(1, clients))]
    lock, state, names0 = threading.Lock(), {"sent": 0, "end": 0.0, "cpu0": None}, {}
    watch_ns = watch_ns or (lambda: 0)

    def start_clock():  # the barrier's action: every connection warmed up, none sending yet
        state["watch0"] = watch_ns()
        state["cpu0"] = usage.group_cpu_ns(pgid, names0)
        state["end"] = time.monotonic() + MAX_S

    def more():
        with lock:
            n = state["sent"]
            if n >= MAX_REQUESTS or (n >= MIN_REQUESTS and time.monotonic() >= state["end"]):
                return False
            state["sent"] = n + 1
            return True

    ready = threading.Barrier(len(cs) + 1, action=start_clock)
    threads = [threading.Thread(target=c.run, args=(ready, more)) for c in cs]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=TIMEOUT_S * (WARM_UP + 1))
    except threading.BrokenBarrierError:
        pass  # a client failed its warm-up, or the warm-up timed out: said below
    for t in threads:
        t.join()
    errors, cpu0 = [c.error for c in cs if c.error], state["cpu0"]
    if errors or cpu0 is None:
        raise OSError(str(errors[0]) if errors else "the warm-up did not finish in time")
    names1 = {}
    cpu_ms = (usage.group_cpu_ns(pgid, names1) - cpu0) / 1e6
    watch_ms = (watch_ns() - state["watch0"]) / 1e6
    lat = [x for c in cs for x in c.lat]
    by_thread = {k: stats.ratio((v - names0.get(k, 0)) / 1e6, len(lat)) for k, v in names1.items()}
    return Calibration(len(lat), stats.ratio(cpu_ms, len(lat)), stats.median(lat), by_thread,
                       stats.ratio(watch_ms, len(lat)))
