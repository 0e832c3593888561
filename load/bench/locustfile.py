"""Real Locust for `make bench` (load/bench.sh): one task, a GET of BENCH_PATH, no wait,
with Locust's two clients, to measure the most it can send next to bin/load."""
import os

from locust import FastHttpUser, HttpUser, task

PATH = os.environ.get("BENCH_PATH", "/")


class BenchHttpUser(HttpUser):
    @task
    def get(self):
        self.client.get(PATH)


class BenchFastHttpUser(FastHttpUser):
    @task
    def get(self):
        self.client.get(PATH)
