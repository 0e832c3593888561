"""An interrupted bench leaves nothing behind: Ctrl-C while nginx, two
bin/evented servers (row 11: epoll and io_uring) and wrk run stops them all,
and the bench exits 130. (compare's own
interrupted run is tests/it_compare.c's ctrl_c_stops_everything_it_started.)"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from test_procs import marked_by

ROOT = Path(__file__).resolve().parent.parent.parent.parent


@unittest.skipUnless(shutil.which("wrk") and shutil.which("nginx") and os.access(ROOT / "bin/evented", os.X_OK),
                     "needs wrk, nginx and bin/evented (make all)")
class InterruptedBenchTest(unittest.TestCase):
    def test_ctrl_c_stops_every_server_and_client(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench"
            env = dict(os.environ, BENCH_OUT=str(out), BENCH_PAIRS="1", BENCH_SECS="30")
            p = subprocess.Popen([str(ROOT / "load/harness/bench.py"), "--rows", "evented-io"], env=env,
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            mark = "LAB_RUN_DIR=%s" % out.resolve()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not list(out.glob("data/r11-epoll-1.wrk.txt")):
                time.sleep(0.1)  # nginx and bin/evented are up once wrk has started
            time.sleep(0.5)
            self.assertGreaterEqual(len(marked_by(mark)), 4, "nginx, two bin/evented and wrk run")
            p.send_signal(signal.SIGINT)
            try:
                self.assertEqual(p.wait(timeout=30), 130, p.stderr.read())
            finally:
                for pid in marked_by(mark):
                    os.kill(pid, signal.SIGKILL)
            self.assertEqual(marked_by(mark), [])


if __name__ == "__main__":
    unittest.main()
