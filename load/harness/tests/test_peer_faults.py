"""The FastAPI peer's database faults, end to end: a real PostgreSQL 15 cluster
(pg_cluster.sh, on its own Unix socket) and load/peers/app.py on uvicorn, one
worker, over it. What docs/RELIABILITY.md says of the C servers holds for the
peer too: the database stopped (immediate shutdown, as a crash) under a
request in flight answers 503 with a JSON reason within a bound, so does every
request while it is down, and once it is started again the peer answers 200
without a restart. Everything started here is stopped here, on failure too."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

import loads
import targets
from pg_cluster_cli import PG_CLUSTER, cluster

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
BOUND_S = 3.0    # a request that needs the database, once it is gone: answered within
                 # (the halt itself, pg_ctl's immediate stop, is not counted: under a
                 # busy machine it alone took over 3 s)
BACK_S = 20.0    # the peer serves again within this of the database's restart
ROUTE = "/async_independent"  # three awaited queries from the async pool


def get(port, path, timeout=30):
    """(status, decoded JSON body, seconds taken)."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    return status, json.loads(body or b"null"), time.monotonic() - t0


class PeerFaultsTest(unittest.TestCase):
    def setUp(self):
        self.peer = None
        self.conninfo = cluster("start", "20", str(os.getpid()))
        self.addCleanup(self.stop_cluster)
        self.dir = dict(kv.split("=", 1) for kv in self.conninfo.split())["host"]
        self.port = int(loads.free_port())
        env = dict(os.environ, LAB_DB=self.conninfo, LAB_POOL="2", LAB_POOLS="async",
                   LAB_APP_NAME="lab-fastapi-test")
        self.peer = subprocess.Popen(
            [targets.FASTAPI_PY, "-m", "uvicorn", "--workers", "1", "--host", "127.0.0.1",
             "--port", str(self.port), "--app-dir", os.path.join(ROOT, "load", "peers"),
             "--no-access-log", "--log-level", "warning", "app:app"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        self.addCleanup(self.stop_peer)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.peer.poll() is None:
            try:
                if get(self.port, ROUTE + "?ms=0", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.fail("the peer did not answer 200 within 30 s (exit %s)" % self.peer.poll())

    def stop_peer(self):
        if self.peer and self.peer.poll() is None:
            os.killpg(self.peer.pid, signal.SIGTERM)
            try:
                self.peer.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.peer.pid, signal.SIGKILL)
                self.peer.wait()
        if self.peer:
            self.peer.stderr.close()

    def stop_cluster(self):
        subprocess.run([PG_CLUSTER, "stop", self.dir], capture_output=True, timeout=60)

    def test_stopped_answers_503_then_reconnects(self):
        in_flight = {}

        def slow():
            in_flight["answer"] = get(self.port, ROUTE + "?ms=5000")
            in_flight["at"] = time.monotonic()

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)  # inside its first query
        asked = time.monotonic()
        cluster("halt", self.dir)  # returns once every backend is gone
        halted = time.monotonic()
        t.join(30)
        status, body, _ = in_flight["answer"]
        self.assertEqual(status, 503, body)
        self.assertIn("database", body["error"])
        self.assertLess(in_flight["at"] - halted, BOUND_S)

        for _ in range(5):  # while it is down: 503 at once, never a wait
            status, body, took = get(self.port, ROUTE + "?ms=10")
            self.assertEqual(status, 503, body)
            self.assertIn("database", body["error"])
            self.assertLess(took, BOUND_S)

        cluster("resume", self.dir)
        resumed = time.monotonic()
        while True:
            status, body, _ = get(self.port, ROUTE + "?ms=10")
            if status == 200 or time.monotonic() - resumed > BACK_S:
                break
            time.sleep(0.2)
        self.assertEqual(status, 200, body)
        for _ in range(3):  # and it stays back
            self.assertEqual(get(self.port, ROUTE + "?ms=10")[0], 200)
        print("peer: in flight 503 %.2f s after the halt was asked (it took %.2f s); back "
              "%.1f s after the restart" % (in_flight["at"] - asked, halted - asked,
                                            time.monotonic() - resumed))
        self.assertIsNone(self.peer.poll(), "the peer restarted or died")


if __name__ == "__main__":
    unittest.main()
