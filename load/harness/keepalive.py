"""keepalive: what a kept-alive connection adds to each answer of a server,
measured before the load: the scenario's route with ?ms=0 (no waits), sent
one request after another on one connection, as a Locust HttpUser (and
bin/load) sends them, for the model to add to every request.

Why it is measured: a server whose accepted sockets lack TCP_NODELAY writes
the response head and body in two segments, and Nagle's algorithm holds the
body until the client acknowledges the head, which the client's kernel delays
(Linux: 40 ms at least) while it waits for the rest. uvicorn --workers N binds
its socket itself with proto 0, and asyncio sets TCP_NODELAY only on sockets
whose proto is IPPROTO_TCP, so every answer of the original stack after a
connection's first pays that wait (uvicorn issue 3149). It holds no thread
and no event loop, but it is in every response time and every user's cycle.

    round_trip_ms(url)  ->  the median round trip of REQUESTS requests after
                            WARM_UP on one connection, in ms
    first_answer_ms(url) -> the median round trip of a fresh connection's first
                            request, over FRESH connections, in ms

A connection's first answer does not wait: the client's kernel acknowledges
the first data a new connection receives at once, and delays its ACKs only
once it has sent a request right after an answer. Measured here, the first
answer came back in 2 to 9 ms, every later one in about 44. A user's first
request, answered, comes back at once: in a burst of users it takes a thread
freed a few ms later in the same wave (the model's first_answer_ms).

Raises OSError when a request fails or answers other than 200.
"""
import http.client
import time
import urllib.parse

import stats

REQUESTS = 10
WARM_UP = 2  # the connection's first answers: the client's kernel acks at once
FRESH = 3    # connections whose first answer first_answer_ms times
TIMEOUT_S = 10


def _round_trips_ms(url, per_connection, connections=1):
    """Each request's round trip in ms, per_connection requests one after
    another on each of `connections` fresh connections, in order."""
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    lat = []
    for _ in range(connections):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)
        try:
            conn.connect()  # the connection first, as a user's is before it sends
            for _ in range(per_connection):
                t = time.monotonic()
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise OSError("%s: HTTP %d" % (url, r.status))
                lat.append((time.monotonic() - t) * 1e3)
        except http.client.HTTPException as e:
            raise OSError("%s: %s" % (url, e)) from e
        finally:
            conn.close()
    return lat


def round_trip_ms(url, requests=REQUESTS):
    return stats.median(_round_trips_ms(url, WARM_UP + requests)[WARM_UP:])


def first_answer_ms(url, connections=FRESH):
    return stats.median(_round_trips_ms(url, 1, connections))
