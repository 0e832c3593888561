"""measure and shares: the split of users over worker processes (read from /proc with real
sockets of this test), the service order (from arrival and start stamps), the
scaling of a split to the users, and the order logs' reader."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

import measure
import shares

MS = 1_000_000  # nanoseconds


def waiting_pairs(order, n=6, service=100):
    """n requests, 30 ms apart, all queued behind one busy thread that frees
    every `service` ms from t=1000 ms, started in `order` (fifo: oldest first,
    lifo: newest first). Rows are (arrival_ns, start_ns)."""
    arrivals = [k * 30 * MS for k in range(n)]
    starts = [(1000 + k * service) * MS for k in range(n)]
    if order == "lifo":
        starts.reverse()
    return list(zip(arrivals, starts))


class ServiceOrderTest(unittest.TestCase):
    def test_fifo_starts_the_older_first(self):
        pairs, inverted = measure.service_order(waiting_pairs("fifo"))
        self.assertEqual(pairs, 15)  # every pair of the six waited together
        self.assertEqual(inverted, 0)
        self.assertEqual(measure.classify(pairs, inverted), "fifo")

    def test_lifo_starts_the_newer_first(self):
        pairs, inverted = measure.service_order(waiting_pairs("lifo"))
        self.assertEqual((pairs, inverted), (15, 15))
        self.assertEqual(measure.classify(pairs, inverted), "lifo")

    def test_rows_are_sorted_by_arrival_first(self):
        rows = waiting_pairs("lifo")
        self.assertEqual(measure.service_order(rows[::-1]), measure.service_order(rows))

    def test_requests_that_did_not_wait_make_no_pair(self):
        # each started 1 ms after it arrived: a free thread took it at once
        rows = [(k * 30 * MS, k * 30 * MS + MS) for k in range(10)]
        self.assertEqual(measure.service_order(rows), (0, 0))
        self.assertIsNone(measure.classify(0, 0))

    def test_arrivals_closer_than_the_gap_are_not_ordered(self):
        # 10 ms apart: routing on a busy loop may have swapped their places in line
        rows = [(0, 500 * MS), (10 * MS, 400 * MS)]
        self.assertEqual(measure.service_order(rows), (0, 0))
        rows = [(0, 500 * MS), (measure.ORDER_GAP_NS, 400 * MS)]
        self.assertEqual(measure.service_order(rows), (1, 1))

    def test_a_request_started_before_the_newer_arrived_makes_no_pair(self):
        # the older one was already running when the newer came: they never waited together
        rows = [(0, 100 * MS), (200 * MS, 300 * MS)]
        self.assertEqual(measure.service_order(rows), (0, 0))

    def test_a_random_pick_is_in_between(self):
        self.assertEqual(measure.classify(100, 50), "random")
        self.assertEqual(measure.classify(100, 80), "lifo")
        self.assertEqual(measure.classify(100, 20), "fifo")
        # the nearest of 0, 0.5 and 1
        self.assertEqual(measure.classify(1475, 1179), "lifo")  # 0.799, a busy run's
        self.assertEqual(measure.classify(100, 76), "lifo")
        self.assertEqual(measure.classify(100, 75), "random")
        self.assertEqual(measure.classify(100, 25), "random")
        self.assertEqual(measure.classify(100, 24), "fifo")


def waves(spans_ms, threads=4, period_ms=750, start_ms=1000):
    """Rows of a worker whose `threads` threads start in waves a period apart,
    wave k's starts spread evenly over spans_ms[k]."""
    rows = []
    for k, span in enumerate(spans_ms):
        for j in range(threads):
            t = (start_ms + k * period_ms + span * j / (threads - 1)) * MS
            rows.append((t - 5 * MS, int(t)))
    return rows


class WaveTest(unittest.TestCase):
    def test_each_rank_the_median_of_whole_waves(self):
        rows = waves([30, 70, 40, 50, 60], threads=11)
        self.assertEqual(measure.wave_ms(rows, 11, 250 * MS), [5.0 * i for i in range(11)])

    def test_a_partial_wave_is_left_out(self):
        # the calibration's few requests before the load: not a wave of 4
        rows = [(0, 10 * MS), (0, 12 * MS)] + waves([30, 30, 30])
        w = measure.wave_ms(rows, 4, 250 * MS)
        self.assertEqual((w[0], w[-1]), (0, 30))
        self.assertEqual(len(w), measure.WAVE_POINTS)

    def test_starts_that_never_bunch_tell_nothing(self):
        # users spawned slowly: a start every 50 ms, no gap of a wave
        rows = [(k * 50 * MS, k * 50 * MS) for k in range(100)]
        self.assertIsNone(measure.wave_ms(rows, 4, 250 * MS))
        self.assertIsNone(measure.wave_ms(waves([30, 30]), 4, 250 * MS))

    def test_record_writes_the_spreads_in_the_pids_order(self):
        with tempfile.TemporaryDirectory() as d:
            for pid, span, threads in ((11, 30, 4), (12, 70, 4)):
                with open(os.path.join(d, "order-%d.tsv" % pid), "w") as f:
                    f.writelines("%d\t%d\n" % r for r in waves([span] * 4, threads))
                with open(os.path.join(d, "threads-%d.txt" % pid), "w") as f:
                    f.write("%d\n" % threads)
            open(os.path.join(d, "scenario.env"), "w").close()
            measure.record(d, 10, "4,6", [12, 11], 250)
            with open(os.path.join(d, "scenario.env")) as f:
                line = [l for l in f.read().splitlines() if l.startswith("WAVE_MS=")]
            slow, fast = line[0][len("WAVE_MS="):].split("/")
            self.assertEqual(slow.split(",")[-1], "70.0")
            self.assertEqual(fast.split(",")[-1], "30.0")
            self.assertEqual(len(fast.split(",")), measure.WAVE_POINTS)


class GcPauseTest(unittest.TestCase):
    def test_pauses_of_the_settled_load_per_worker(self):
        with tempfile.TemporaryDirectory() as d:
            # answers from 0 to 3 s: the settled window is 1 s to 3 s
            for pid, pauses in ((21, [(500, 40), (1500, 2), (2000, 4), (2500, 0.5)]),
                                (22, [(1200, 50), (2900, 3)])):
                with open(os.path.join(d, "answer-%d.tsv" % pid), "w") as f:
                    f.write("0\t%d\n%d\t%d\n" % (250 * MS, 2750 * MS, 3000 * MS))
                with open(os.path.join(d, "gc-%d.tsv" % pid), "w") as f:
                    f.writelines("%d\t%d\t1\n" % (t * MS, ms * MS) for t, ms in pauses)
            rates, points = measure.gc_pauses(d, [21, 22])
            self.assertEqual(rates, [1.0, 1.0])  # 2 pauses of 1 ms or more in 2 s each
            self.assertEqual(len(points), measure.WAVE_POINTS)
            self.assertEqual((points[0], points[-1]), (2, 50))
            self.assertIsNone(measure.gc_pauses(d, [23]))  # a worker without answers
            # the harness's own window (its clock is the peer's): 1 s to 2 s, both ends in
            rates, points = measure.gc_pauses(d, [21, 22], (1000 * MS, 2000 * MS))
            self.assertEqual(rates, [2.0, 1.0])
            self.assertEqual((points[0], points[-1]), (2, 50))


class SplitTest(unittest.TestCase):
    def test_scaled_split_sums_to_the_users(self):
        self.assertEqual(shares.scaled_split(500, [302, 198]), [302, 198])
        self.assertEqual(shares.scaled_split(500, [150, 99]), [301, 199])
        split = shares.scaled_split(10, [1, 1, 1])
        self.assertEqual(sum(split), 10)
        self.assertEqual(sorted(split), [3, 3, 4])
        self.assertIsNone(shares.scaled_split(500, [0, 0]))

    def test_loop_connections_from_evented_metrics(self):
        text = ("evented_connections_open 501\n"
                "# TYPE evented_worker_connections_open gauge\n"
                'evented_worker_connections_open{worker="1"} 262\n'
                'evented_worker_connections_open{worker="0"} 239\n'
                "evented_workers 2\n")
        self.assertEqual(shares.loop_connections(text), [239, 262])
        self.assertEqual(shares.scaled_split(500, shares.loop_connections(text)), [239, 261])
        self.assertEqual(shares.loop_connections("evented_connections_open 3\n"), [])

    def test_established_connections_per_process_from_proc(self):
        """Four connections to a listener of this process: one kept here,
        three handed to a child; the listener and the client ends (other
        local port) are not counted."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        clients, accepted = [], []
        child = None
        try:
            for _ in range(4):
                c = socket.create_connection(("127.0.0.1", port))
                clients.append(c)
                accepted.append(srv.accept()[0])
            fds = [s.fileno() for s in accepted[1:]]
            child = subprocess.Popen(
                [sys.executable, "-c", "import sys; sys.stdin.read()"],
                stdin=subprocess.PIPE, pass_fds=fds)
            for s in accepted[1:]:
                s.close()
            me = os.getpid()
            self.assertEqual(shares.connections(port, [child.pid, me]), [3, 1])
            # the counts come in the order the pids are given
            self.assertEqual(shares.connections(port, [me, child.pid]), [1, 3])
        finally:
            if child is not None:
                child.stdin.close()
                child.wait(timeout=10)
            for s in clients + accepted + [srv]:
                s.close()

    def test_a_socket_two_processes_share_counts_once(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        c = socket.create_connection(("127.0.0.1", port))
        a = srv.accept()[0]
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                 stdin=subprocess.PIPE, pass_fds=[a.fileno()])
        try:
            self.assertEqual(shares.connections(port, [os.getpid(), child.pid]), [1, 0])
        finally:
            child.stdin.close()
            child.wait(timeout=10)
            for s in (c, a, srv):
                s.close()


class OrderLogTest(unittest.TestCase):
    def test_a_cut_off_last_line_is_skipped_a_bad_whole_line_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "order-42.tsv")
            with open(path, "w") as f:
                f.write("100\t200\n300\t400\n50")  # killed mid-line
            self.assertEqual(measure.read_order_logs(d), {path: [(100, 200), (300, 400)]})
            with open(path, "w") as f:
                f.write("100\t200\nnot a stamp\n")
            with self.assertRaisesRegex(ValueError, r"order-42\.tsv:2: expected"):
                measure.read_order_logs(d)


if __name__ == "__main__":
    unittest.main()
