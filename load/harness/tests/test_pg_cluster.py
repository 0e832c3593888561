"""pg_cluster.sh's cgroup and pg_measures.cluster_cpu_ns, and query_time
(pg_stat_statements), against a real PostgreSQL 15 cluster started and
stopped here: as root the cluster's
processes share a cgroup of their own (DIR/cgroup), whose cpu.stat is the
whole cluster's CPU in one read, backends that have exited included; it goes
when the cluster stops. Without root or cgroup v2 the reading falls back to
the sum over the live processes, which is checked either way. As root
where the kernel has a cpu controller to hand, the cluster is in a CPU group
of its own too (DIR/cpu-group), backends started later included, and
PG_CPU_GROUP=no leaves it out."""
import os
import subprocess
import time
import unittest

import pg_measures
import usage
from pg_cluster_cli import PG_CLUSTER, cluster


def cgroup2_mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[2] == "cgroup2" for line in f)


def cpu_controller():
    """Whether pg_cluster.sh can make a CPU group here: cgroup v1's cpu
    hierarchy mounted, or cgroup v2 with its cpu controller on for the
    cgroups below its root."""
    with open("/proc/mounts") as f:
        for line in f:
            _, where, kind, opts = line.split()[:4]
            if kind == "cgroup" and "cpu" in opts.split(","):
                return True
            if kind == "cgroup2":
                try:
                    with open(os.path.join(where, "cgroup.subtree_control")) as c:
                        if "cpu" in c.read().split():
                            return True
                except OSError:
                    pass
    return False


def members(group):
    with open(os.path.join(group, "cgroup.procs")) as f:
        return {int(p) for p in f.read().split()}


class ClusterCpuTest(unittest.TestCase):
    def setUp(self):
        conninfo = cluster("start", "10", str(os.getpid()))
        self.dir = dict(kv.split("=", 1) for kv in conninfo.split())["host"]
        self.addCleanup(lambda: os.path.isdir(self.dir) and cluster("stop", self.dir))

    def psql(self, sql):
        subprocess.run(["psql", "-X", "-q", "-h", self.dir, "-U", "postgres", "-d", "postgres",
                        "-c", sql], check=True, capture_output=True, timeout=30)

    def test_cgroup_reads_the_whole_cluster(self):
        link = os.path.join(self.dir, "cgroup")
        if os.getuid() == 0 and cgroup2_mounted():
            self.assertTrue(os.path.isdir(link), "no cgroup linked from %s" % link)
            pids = set(pg_measures.cluster_pids(self.dir))
            inside = members(link)
            # the postmaster and every process it forked are in it: a process
            # may exit between the two reads (an autovacuum worker), but one
            # that is still the cluster's after them must be a member
            outside = (pids - inside) & set(pg_measures.cluster_pids(self.dir))
            self.assertFalse(outside, "cluster processes outside %s" % link)
        before = pg_measures.cluster_cpu_ns(self.dir)
        # a backend that does some work, then exits with the session
        self.psql("select count(*) from generate_series(1, 2000000)")
        after = pg_measures.cluster_cpu_ns(self.dir)
        self.assertGreater(after - before, 20e6, "a 2-million-row count cost under 20 ms?")
        live = usage.pids_cpu_ns(pg_measures.cluster_pids(self.dir))
        if os.path.isdir(link):
            # the exited backend's CPU stays counted in the cgroup, not in the live sum
            self.assertGreater(after, live + 20e6)
            cgroup = os.path.realpath(link)
            cluster("stop", self.dir)
            deadline = time.monotonic() + 5
            while os.path.isdir(cgroup) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertFalse(os.path.isdir(cgroup), "%s left behind" % cgroup)

    def test_cpu_group_holds_every_backend(self):
        link = os.path.join(self.dir, "cpu-group")
        if os.getuid() != 0 or not cpu_controller():
            self.assertFalse(os.path.lexists(link), "a CPU group made where none can be")
            self.skipTest("no cpu controller this process may use")
        self.assertTrue(os.path.isdir(link), "no CPU group linked from %s" % link)
        group = os.path.realpath(link)
        # a backend forked after the start (a session) joins it with the postmaster
        session = subprocess.Popen(["psql", "-X", "-q", "-h", self.dir, "-U", "postgres",
                                    "-d", "postgres", "-c", "select pg_sleep(1)"],
                                   stdout=subprocess.DEVNULL)
        self.addCleanup(session.wait)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = set(pg_measures.cluster_pids(self.dir))
            busy = subprocess.run(["psql", "-X", "-A", "-t", "-h", self.dir, "-U", "postgres",
                                   "-d", "postgres", "-c",
                                   "select pid from pg_stat_activity where query like "
                                   "'select pg_sleep(1)%'"], capture_output=True, text=True,
                                  timeout=30).stdout.split()
            if busy:
                break
            time.sleep(0.05)
        self.assertTrue(busy, "the session's backend never showed in pg_stat_activity")
        inside = members(group)
        self.assertIn(int(busy[0]), inside, "the session's backend is outside %s" % group)
        outside = (pids - inside) & set(pg_measures.cluster_pids(self.dir))
        self.assertFalse(outside, "cluster processes outside %s" % group)
        self.assertNotIn(os.getpid(), inside, "the caller itself joined the cluster's group")
        session.wait(timeout=30)
        cluster("stop", self.dir)
        deadline = time.monotonic() + 5
        while os.path.isdir(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.isdir(group), "%s left behind" % group)

    def test_cpu_group_can_be_left_out(self):
        env = dict(os.environ, PG_CPU_GROUP="no")
        out = subprocess.run([PG_CLUSTER, "start", "10", str(os.getpid())], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        other = dict(kv.split("=", 1) for kv in out.stdout.split())["host"]
        self.addCleanup(lambda: os.path.isdir(other) and cluster("stop", other))
        self.assertFalse(os.path.lexists(os.path.join(other, "cpu-group")),
                         "PG_CPU_GROUP=no still made a CPU group")

    def test_query_time_is_the_servers_own(self):
        """pg_stat_statements, loaded by pg_cluster.sh: the tasks' queries
        (those that sleep) counted and timed by the server."""
        before = pg_measures.query_time(self.dir)
        self.assertIsNotNone(before, "pg_stat_statements could not be read")
        self.psql("select 1 from pg_sleep(0.05)")
        self.psql("select 1 from generate_series(1, 10)")  # not a task's query
        calls, ms = (a - b for a, b in zip(pg_measures.query_time(self.dir), before))
        self.assertEqual(calls, 1)
        self.assertGreaterEqual(ms, 50)
        self.assertLess(ms, 5000)


if __name__ == "__main__":
    unittest.main()
