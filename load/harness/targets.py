"""targets: how each server under test is started, and how to know it is
ready. A target maps a scenario (its route's world: blocking | evented) to a Server: its
command line, its ready line (a regex whose group 1 is the port) and where
its /metrics is. Adding a target (FastAPI on uvicorn, say) is one function
and one line in TARGETS.
"""
from collections import namedtuple

Server = namedtuple("Server", "argv ready metrics")

READY = r"listening on http://[^ ]*:(\d+)"
# bin/blocking serves /metrics on threads of its own (a scrape on the main port
# would wait in the same queue as the load, behind hundreds of requests).
METRICS_ALSO = r"metrics also on (http://\S*/metrics)"


def c_servers(sc, opt):
    """bin/blocking or bin/evented with the run's options, on 127.0.0.1:0."""
    b = opt.bin
    if sc.world == "blocking":
        argv = [b + "/blocking", "--listen", "127.0.0.1:0", "--threads", opt.threads,
                "--helpers", opt.helpers, "--task-ms", opt.task_ms,
                "--metrics-listen", "127.0.0.1:0"]
    else:
        argv = [b + "/evented", "--listen", "127.0.0.1:0", "--workers", opt.workers,
                "--task-ms", opt.task_ms]
    return Server(argv, READY, METRICS_ALSO)


TARGETS = {"c": c_servers}
