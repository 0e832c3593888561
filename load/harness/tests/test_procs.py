"""procs: every process a run starts is stopped, group and all, on a normal
end, an exception, SIGINT and SIGTERM; ready lines are waited for."""
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import uuid
from pathlib import Path

from procs import Interrupted, NotReady, Procs, group_alive

HARNESS = str(Path(__file__).resolve().parent.parent)


def marked(token):
    """Pids of live processes whose environment holds PROCS_TEST=token."""
    return marked_by("PROCS_TEST=%s" % token)


def marked_by(assignment):
    """Pids of live (not zombie) processes whose environment holds the
    NAME=VALUE assignment."""
    mark = assignment.encode() + b"\0"
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read()
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if mark in env and not zombie:
            found.append(int(pid))
    return found


# A run in miniature: two groups with grandchildren, one of which ignores
# SIGTERM (so only SIGKILL stops it), then it waits to be interrupted.
DRIVER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, %r)
    from procs import Interrupted, Procs
    token, logdir = sys.argv[1], sys.argv[2]
    try:
        with Procs(env={"PROCS_TEST": token}) as procs:
            procs.start("forks", ["sh", "-c", "sleep 60 & sleep 60 & wait"], log=logdir + "/a.log")
            procs.start("stubborn", ["sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"],
                        log=logdir + "/b.log")
            print("started", flush=True)
            time.sleep(60)
    except Interrupted as e:
        sys.exit(e.status)
""" % HARNESS)


class ProcsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.token = uuid.uuid4().hex

    def tearDown(self):
        for pid in marked(self.token):  # never leave one behind, even on failure
            os.kill(pid, signal.SIGKILL)
        self.tmp.cleanup()

    def interrupt_driver(self, sig, status):
        d = subprocess.Popen([sys.executable, "-c", DRIVER, self.token, str(self.dir)],
                             stdout=subprocess.PIPE, text=True)
        self.assertEqual(d.stdout.readline().strip(), "started")
        deadline = time.monotonic() + 5
        while len(marked(self.token)) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)  # two shells and three sleeps
        self.assertGreaterEqual(len(marked(self.token)), 5)
        d.send_signal(sig)
        self.assertEqual(d.wait(timeout=15), status)
        self.assertEqual(marked(self.token), [])

    def test_sigint_stops_every_group_and_exits_130(self):
        self.interrupt_driver(signal.SIGINT, 130)

    def test_sigterm_stops_every_group_and_exits_143(self):
        self.interrupt_driver(signal.SIGTERM, 143)

    def test_an_exception_stops_everything(self):
        with self.assertRaises(RuntimeError):
            with Procs(env={"PROCS_TEST": self.token}) as procs:
                p = procs.start("forks", ["sh", "-c", "sleep 60 & sleep 60"], log=self.dir / "x.log")
                raise RuntimeError("a failure in the middle of a run")
        self.assertFalse(group_alive(p.pid))
        self.assertEqual(marked(self.token), [])
        self.assertIn(p.state, ("stopped", "killed"))

    def test_stop_kills_what_ignores_sigterm(self):
        with Procs() as procs:
            p = procs.start("stubborn", ["sh", "-c", "trap '' TERM; echo up; sleep 60"],
                            log=self.dir / "s.log")
            p.wait_ready("up", timeout=5)
            t0 = time.monotonic()
            procs.stop(p, grace=0.3)
            self.assertLess(time.monotonic() - t0, 3)
            self.assertEqual(p.state, "killed")
            self.assertEqual(procs.procs, [])

    def test_wait_ready_returns_the_match_and_output_goes_to_the_log(self):
        with Procs() as procs:
            p = procs.start("server", ["sh", "-c", "echo 'listening on http://127.0.0.1:4242'; "
                                       "echo oops >&2; sleep 60"], log=self.dir / "server.log")
            m = p.wait_ready(r"listening on http://[^ ]*:(\d+)", timeout=5)
            self.assertEqual(m.group(1), "4242")
            self.assertEqual(p.state, "ready")
            time.sleep(0.1)
            self.assertIn("oops", (self.dir / "server.log").read_text())

    def test_wait_ready_fails_when_the_process_exits_first(self):
        with Procs() as procs:
            p = procs.start("dies", ["sh", "-c", "echo cannot start >&2; exit 2"], log=self.dir / "d.log")
            with self.assertRaisesRegex(NotReady, "exited 2"):
                p.wait_ready("listening", timeout=5)

    def test_wait_ready_fails_after_its_timeout(self):
        with Procs() as procs:
            p = procs.start("mute", ["sleep", "60"], log=self.dir / "m.log")
            t0 = time.monotonic()
            with self.assertRaisesRegex(NotReady, "no ready line"):
                p.wait_ready("listening", timeout=0.3)
            self.assertLess(time.monotonic() - t0, 2)

    def test_run_returns_the_status_or_stops_at_its_timeout(self):
        with Procs() as procs:
            self.assertEqual(procs.run("ok", ["sh", "-c", "exit 1"], self.dir / "r.log", 5).returncode(), 1)
            slow = procs.run("slow", ["sleep", "60"], self.dir / "s.log", 0.2)
            self.assertEqual(slow.state, "stopped")
            self.assertEqual(procs.procs, [])

    def test_a_signal_while_starting_is_held_until_the_process_is_recorded(self):
        with Procs() as procs:
            with self.assertRaises(Interrupted) as caught:
                with procs._deferred():
                    os.kill(os.getpid(), signal.SIGINT)
                    procs.start("late", ["sleep", "60"], log=self.dir / "l.log")
                    self.assertEqual(len(procs.procs), 1)
            self.assertEqual(caught.exception.status, 130)
            self.assertEqual(len(procs.procs), 1)  # recorded, so the with-block stops it
        self.assertEqual(procs.procs, [])


if __name__ == "__main__":
    unittest.main()
