"""calibrate: what one request of a scenario's route costs the server when it
is alone, measured before the load starts, for the model to predict with.

The run's own CPU per request cannot be the model's input: where the CPU
binds, the run's throughput is the cores divided by it, so a prediction made
from it would agree with the run by construction. A request alone, `?ms=0`
(no waits, the route's CPU tasks at the server's default), one at a time on
a fresh connection each as the load generator opens them, says what the
route's work costs before anything queues.

    calibrate(url, pgid)  ->  Calibration(requests, cpu_ms, latency_ms)

cpu_ms is the server's CPU (every thread of its process group, read to the
nanosecond from schedstat) over the requests; latency_ms their median round
trip as this client saw it. Requests go on until MAX_S of wall time or
MAX_REQUESTS, whichever comes first, and at least MIN_REQUESTS.
"""
import time
import urllib.request
from collections import namedtuple

import stats
import usage

Calibration = namedtuple("Calibration", "requests cpu_ms latency_ms")

MAX_S = 0.5
MAX_REQUESTS = 200
MIN_REQUESTS = 10
WARM_UP = 3  # the first requests pay for lazy set-up (threads, pages, caches)
TIMEOUT_S = 10


def _get(url):
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r:
        r.read()


def calibrate(url, pgid):
    """Raises OSError (urllib's URLError and HTTPError included) when a request fails:
    a server that cannot answer one request alone is not worth loading."""
    for _ in range(WARM_UP):
        _get(url)
    cpu0, begin = usage.group_cpu_ns(pgid), time.monotonic()
    lat = []
    while len(lat) < MAX_REQUESTS and (len(lat) < MIN_REQUESTS or time.monotonic() - begin < MAX_S):
        t = time.monotonic()
        _get(url)
        lat.append((time.monotonic() - t) * 1e3)
    cpu_ms = (usage.group_cpu_ns(pgid) - cpu0) / 1e6
    return Calibration(len(lat), stats.ratio(cpu_ms, len(lat)), stats.median(lat))
