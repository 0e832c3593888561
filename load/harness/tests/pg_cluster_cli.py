"""pg_cluster.sh for the tests that start a real cluster: cluster("start", ...)
runs it and returns what it printed, or fails the test with its message."""
import os
import subprocess

PG_CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg_cluster.sh")


def cluster(*args):
    out = subprocess.run([PG_CLUSTER] + list(args), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("pg_cluster.sh %s: exit %d: %s" % (" ".join(args), out.returncode,
                                                                 out.stderr.strip()))
    return out.stdout.strip()
