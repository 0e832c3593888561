"""The lab's user classes for real Locust, with the original experiment's names.

One HttpUser class per route of the route table (shared/routes.c), each with a
single task that GETs its route and no wait time, as in the original:

    locust --headless -u 500 -r 50 -t 5m -f load/locustfile.py \\
        -H http://127.0.0.1:8002 AsyncConcurrentUser

The route table is the one definition; tests/it_compare.c checks that the
classes and paths here are exactly the table's (a new route needs its class
here too). bin/load runs the same classes without Python.

LAB_WAIT_TIME=MIN[-MAX] (seconds) adds think time between a user's requests,
for the lab's wait-time experiment (`make compare LOAD=locust WAIT=1-2`); it
defaults to 0, Locust's constant(0).
"""

import os

import locust.runners
from locust import HttpUser, between, constant, task

# Debian 12's python3-locust carries no version (locust.__version__ == ""), and
# a master refuses a worker whose "client_ready" says "" as "an old (pre 2.0)
# worker", so distributed mode (docs/DISTRIBUTED.md) could not start. Any
# non-empty text will do: equal on both sides it passes silently, and against
# another Locust's version it only draws a "different version" warning.
if not locust.runners.__version__:
    locust.runners.__version__ = "unknown"


def lab_wait_time():
    """constant(0) unless LAB_WAIT_TIME asks for think time."""
    spec = os.environ.get("LAB_WAIT_TIME", "0")
    low, _, high = spec.partition("-")
    low = float(low)
    high = float(high) if high else low
    if low == high:
        return constant(low)
    return between(low, high)


class LabUser(HttpUser):
    abstract = True
    wait_time = lab_wait_time()


class SyncBaselineUser(LabUser):
    @task
    def sync_baseline(self):
        self.client.get("/sync_baseline")


class SyncParallelUser(LabUser):
    @task
    def sync_parallel(self):
        self.client.get("/sync_parallel")


class AsyncIndependentUser(LabUser):
    @task
    def async_independent(self):
        self.client.get("/async_independent")


class AsyncDependentUser(LabUser):
    @task
    def async_dependent(self):
        self.client.get("/async_dependent")


class AsyncConcurrentUser(LabUser):
    @task
    def async_concurrent(self):
        self.client.get("/async_concurrent")


class AsyncDataflowUser(LabUser):
    @task
    def async_dataflow(self):
        self.client.get("/async_dataflow")


class AsyncBlockingUser(LabUser):
    @task
    def async_blocking(self):
        self.client.get("/async_blocking")


class SyncCpuUser(LabUser):
    @task
    def sync_cpu(self):
        self.client.get("/sync_cpu")


class AsyncCpuUser(LabUser):
    @task
    def async_cpu(self):
        self.client.get("/async_cpu")


class AsyncOffloadUser(LabUser):
    @task
    def async_offload(self):
        self.client.get("/async_offload")
