"""The FastAPI peer over PostgreSQL, as the harness sets it up: its pool sizes,
environment and scenario.env keys (backends.py, targets.py), and how the peer
reads that environment (load/peers/pg_tasks.py, without LAB_DB: nothing is
opened). No server or database is started here: it_compare's runs and
`make bench ROWS=postgres` do that."""
import os
import sys
import time
import unittest
from types import SimpleNamespace

import backends
import targets
from scenarios import Route, Scenario

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "peers"))
import pg_tasks  # noqa: E402

BASELINE = Route("SyncBaselineUser", "/sync_baseline", "blocking", "sequential", 3)
PARALLEL = Route("SyncParallelUser", "/sync_parallel", "blocking", "thread-fanout", 3)
INDEPENDENT = Route("AsyncIndependentUser", "/async_independent", "evented", "sequential", 3)
GATHER = Route("AsyncConcurrentUser", "/async_concurrent", "evented", "gather", 3)
LOOP = Route("AsyncBlockingUser", "/async_blocking", "evented", "blocking-loop", 3)


def opt(pool=None):
    return SimpleNamespace(pool=pool, workers=2, threads="80", helpers=None)


class PeerPoolTest(unittest.TestCase):
    def setUp(self):
        self.pg = backends.Postgres()
        self.pg.conninfo, self.pg.version, self.pg.max_connections = "host=/tmp/x user=postgres", "15.1", 99

    def test_kind(self):
        self.assertEqual(targets.peer_pool_kind(BASELINE), "sync")
        self.assertEqual(targets.peer_pool_kind(PARALLEL), "sync")
        self.assertEqual(targets.peer_pool_kind(LOOP), "sync")  # blocks its loop with the sync pool
        self.assertEqual(targets.peer_pool_kind(INDEPENDENT), "async")
        self.assertEqual(targets.peer_pool_kind(GATHER), "async")

    def test_given_pool_is_per_worker(self):
        sc = Scenario(BASELINE, 50)
        self.assertEqual(self.pg.flags(sc, opt(10), "fastapi"), [])
        env = self.pg.environ(sc, opt(10), "fastapi")
        self.assertEqual((env["LAB_POOL"], env["LAB_POOLS"], env["LAB_DB"]),
                         ("10", "sync", "host=/tmp/x user=postgres"))
        self.assertEqual(self.pg.connections(sc, opt(10), "fastapi"), 20)
        # the model reads a sync route's POOL as one pool in all, like THREADS
        self.assertEqual(self.pg.env(sc, opt(10), "fastapi")["POOL"], 20)
        ev = Scenario(INDEPENDENT, 50)
        self.assertEqual(self.pg.env(ev, opt(10), "fastapi")["POOL"], 10)
        self.assertEqual(self.pg.environ(ev, opt(10), "fastapi")["LAB_POOLS"], "async")

    def test_default_pool_never_binds(self):
        # 40 threads a worker, each holding its plan's connections at once
        self.assertEqual(self.pg.pool(Scenario(BASELINE, 500), opt(), "fastapi"), 40)
        self.assertEqual(self.pg.pool(Scenario(PARALLEL, 500), opt(), "fastapi"), 120)
        # a worker's share of 500 users x 3 connections, with headroom
        self.assertEqual(self.pg.pool(Scenario(GATHER, 500), opt(), "fastapi"), 904)

    def test_each_server_has_its_own_name(self):
        a = self.pg.environ(Scenario(BASELINE, 50), opt(10), "fastapi")["LAB_APP_NAME"]
        b = self.pg.environ(Scenario(BASELINE, 50), opt(10), "fastapi")["LAB_APP_NAME"]
        self.assertNotEqual(a, b)
        self.assertEqual(self.pg.peer_name, b)
        self.assertTrue(b.startswith("lab-fastapi-"))

    def test_c_servers_unchanged(self):
        sc = Scenario(BASELINE, 50)
        self.assertEqual(self.pg.environ(sc, opt(10)), {})
        self.assertEqual(self.pg.flags(sc, opt(10)),
                         ["--backend", "postgres", "--db", "host=/tmp/x user=postgres", "--pool", 10])
        self.assertEqual(self.pg.env(sc, opt(10))["POOL"], 10)


class WarmUpTest(unittest.TestCase):
    def test_warm_up_users(self):
        import pg_calibrate
        self.assertEqual(pg_calibrate.warm_up_users(Scenario(INDEPENDENT, 500), 80), 500)
        self.assertEqual(pg_calibrate.warm_up_users(Scenario(GATHER, 500), 80), 500)
        # no request left queued behind the warm-up: one user per thread
        self.assertEqual(pg_calibrate.warm_up_users(Scenario(BASELINE, 500), 80), 80)
        self.assertEqual(pg_calibrate.warm_up_users(Scenario(PARALLEL, 50), 80), 50)
        self.assertEqual(pg_calibrate.warm_up_users(Scenario(LOOP, 500), 80), 0)


class DrainTest(unittest.TestCase):
    """wait_drained on real processes: a folder laid out as a cluster's, whose
    postmaster.pid names a shell with one child titled as a client backend
    (exec -a) and one titled as the cluster's own process."""

    def _cluster(self, backend_s):
        import subprocess
        import tempfile
        d = tempfile.mkdtemp(prefix="test_drain.")
        os.mkdir(os.path.join(d, "data"))
        p = subprocess.Popen(["bash", "-c", "(exec -a 'postgres: postgres postgres [local] idle' "
                              "sleep %s) & (exec -a 'postgres: checkpointer' sleep 30) & wait"
                              % backend_s])
        self.addCleanup(lambda: (subprocess.run(["pkill", "-P", str(p.pid)]), p.wait(),
                                 subprocess.run(["rm", "-rf", d])))
        with open(os.path.join(d, "data", "postmaster.pid"), "w") as f:
            f.write("%d\n" % p.pid)
        import pg_measures
        end = time.monotonic() + 5
        while pg_measures.client_backends(d) != 1 and time.monotonic() < end:
            time.sleep(0.01)
        return d

    def test_waits_for_the_client_backends_only(self):
        import pg_measures
        d = self._cluster(0.6)
        self.assertEqual(pg_measures.client_backends(d), 1)
        s = pg_measures.wait_drained(d, timeout=10)
        self.assertIsNotNone(s)
        self.assertGreater(s, 0.3)
        self.assertLess(s, 5)
        self.assertEqual(pg_measures.client_backends(d), 0)
        # the shell and its checkpointer, once the exited backend is gone
        end = time.monotonic() + 5
        while len(pg_measures.cluster_pids(d)) != 2 and time.monotonic() < end:
            time.sleep(0.01)
        self.assertEqual(len(pg_measures.cluster_pids(d)), 2)

    def test_gives_up_after_timeout(self):
        import pg_measures
        d = self._cluster(30)
        self.assertIsNone(pg_measures.wait_drained(d, timeout=0.3))


class PeerSettingsTest(unittest.TestCase):
    def test_settings(self):
        self.assertEqual(pg_tasks.settings({}), (10, ["sync", "async"]))
        self.assertEqual(pg_tasks.settings({"LAB_POOL": "3", "LAB_POOLS": "async"}), (3, ["async"]))
        for bad in ({"LAB_POOL": "0"}, {"LAB_POOL": "x"}, {"LAB_POOLS": "both"}, {"LAB_POOLS": ","}):
            with self.assertRaises(ValueError):
                pg_tasks.settings(bad)

    def test_milliseconds_round_trip(self):
        for ms in (0, 1, 7, 250, 5000, 600000):
            self.assertEqual(pg_tasks.milliseconds(ms / 1000), ms)

    def test_checked(self):
        self.assertEqual(pg_tasks.checked((2,), 2), 2)
        with self.assertRaises(pg_tasks.TaskFailed) as e:
            pg_tasks.checked((3,), 2)
        self.assertEqual(e.exception.status, 500)
        with self.assertRaises(pg_tasks.TaskFailed):
            pg_tasks.checked(None, 2)

    def test_health_probes_once_a_second_while_suspect(self):
        now, tries, answers = [100.0], [], ["refused", "refused", None]

        def try_():
            tries.append(now[0])
            return answers[len(tries) - 1]
        h = pg_tasks.Health(lambda: now[0])
        self.assertIsNone(h.check(try_))  # not suspect: no try, no 503
        self.assertEqual(tries, [])
        h.suspect("connection lost")
        self.assertEqual(h.check(try_), "refused")  # tried at once
        now[0] += 0.5
        self.assertEqual(h.check(try_), "refused")  # within the second: the last answer
        self.assertEqual(tries, [100.0])
        now[0] += 0.5
        self.assertEqual(h.check(try_), "refused")
        now[0] += 1
        self.assertIsNone(h.check(try_))  # back: the tasks queue for the pool again
        self.assertIsNone(h.check(try_))
        self.assertEqual(tries, [100.0, 101.0, 102.0])

    def test_unreachable_names_libpq_reason(self):
        def refuse(conninfo, **kw):
            self.assertEqual(kw["connect_timeout"], pg_tasks.CONNECT_TIMEOUT_S)
            raise OSError('connection to server on socket "/x/.s.PGSQL.5432" failed\nmore')
        self.assertEqual(pg_tasks.unreachable("host=/x", refuse),
                         'connection to server on socket "/x/.s.PGSQL.5432" failed')



SUMMARY = """Run x: profile r12-pool-bound
01-AsyncIndependentUser  GET /async_independent on evented: 100 users
                   reqs      req/s        avg
  measured          520      65.60       1386
  predicted         530      66.47       1377
  ratio            0.98       0.99       1.01
03-AsyncIndependentUser-fastapi  GET /async_independent on evented: 100 users
  measured          510      64.28       1391
  predicted         520      51.21       1689
04-AsyncConcurrentUser-fastapi  GET /async_concurrent (failed to run: no table)
"""


class PoolBoundRowTest(unittest.TestCase):
    def test_summary_counts(self):
        from rows import postgres
        got = postgres.summary_counts(SUMMARY)
        self.assertEqual(got, {"01-AsyncIndependentUser": (520.0, 530.0),
                               "03-AsyncIndependentUser-fastapi": (510.0, 520.0)})
        self.assertEqual(postgres.count_cell(got["01-AsyncIndependentUser"]), "520 / 530 = 0.981")
        self.assertEqual(postgres.count_cell(None), "not run")

if __name__ == "__main__":
    unittest.main()
