"""Real Locust for `make bench` (load/harness/bench.py): one task, a GET of BENCH_PATH, no wait,
with Locust's two clients, to measure the most it can send next to bin/load."""
import os

import locust.runners
from locust import FastHttpUser, HttpUser, task

# Row 9 runs this file under a master with a Python worker: Debian's Locust carries no
# version, which a master takes for a pre-2.0 worker (see load/locustfile.py's top).
if not locust.runners.__version__:
    locust.runners.__version__ = "unknown"

PATH = os.environ.get("BENCH_PATH", "/")


class BenchHttpUser(HttpUser):
    @task
    def get(self):
        self.client.get(PATH)


class BenchFastHttpUser(FastHttpUser):
    @task
    def get(self):
        self.client.get(PATH)
