"""The bench's two yardsticks (`make test` builds them).

build/bench/epoll_floor, row 3's: it answers every request head once, in
order, whether a head comes split across reads or several come in one read,
with the body it was given and a current Date; it survives peers that leave;
bad usage exits 2 naming what is wrong.

build/bench/load_floor, row 1's: it counts the answers it got and says how
many a second; an answer unlike the first, a server that closes or is not
there stops it with exit 1 and the reason."""
import re
import socket
import subprocess
import threading
import time
import unittest
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent.parent
FLOOR = ROOT / "build/bench/epoll_floor"
LOAD_FLOOR = ROOT / "build/bench/load_floor"
BODY = '{"message": "floor"}'
HEAD = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"


def read_answers(s, n, timeout=5):
    """n whole answers from socket s (heads and Content-Length bodies), as bytes."""
    s.settimeout(timeout)
    buf, got = b"", []
    while len(got) < n:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            length = int(re.search(rb"Content-Length: (\d+)", buf[:end]).group(1))
            if len(buf) >= end + 4 + length:
                got.append(buf[:end + 4 + length])
                buf = buf[end + 4 + length:]
                continue
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("the floor closed after %d of %d answers" % (len(got), n))
        buf += chunk
    return got, buf


class EpollFloorTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(FLOOR.exists(), "%s is missing (make test builds it)" % FLOOR)
        self.p = subprocess.Popen([str(FLOOR), "--listen", "127.0.0.1:0", "--body", BODY],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        self.assertIsNotNone(m, "no ready line: %r" % line)
        self.port = int(m.group(1))

    def tearDown(self):
        self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def test_a_head_split_across_reads_is_answered_once(self):
        with self.connect() as s:
            for part in (HEAD[:20], HEAD[20:-3], HEAD[-3:-1], HEAD[-1:]):
                s.sendall(part)
                time.sleep(0.05)
            (answer,), rest = read_answers(s, 1)
            self.assertEqual(rest, b"")
            s.settimeout(0.2)
            with self.assertRaises(socket.timeout):  # nothing more: one head, one answer
                s.recv(1)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertTrue(answer.endswith(b"\r\n\r\n" + BODY.encode()))
        self.assertIn(b"Content-Length: %d\r\n" % len(BODY), answer)

    def test_pipelined_heads_get_one_answer_each(self):
        with self.connect() as s:
            s.sendall(HEAD * 5 + HEAD[:10])
            answers, rest = read_answers(s, 5)
            self.assertEqual(rest, b"")
            s.sendall(HEAD[10:])
            more, _ = read_answers(s, 1)
        self.assertEqual(len(set(a.split(b"Date: ")[0] for a in answers + more)), 1)

    def test_the_date_is_now(self):
        with self.connect() as s:
            s.sendall(HEAD)
            (answer,), _ = read_answers(s, 1)
        date = re.search(rb"Date: ([^\r]+)\r\n", answer).group(1).decode()
        self.assertLess(abs(parsedate_to_datetime(date).timestamp() - time.time()), 3)

    def test_a_peer_that_leaves_does_not_stop_it(self):
        for _ in range(3):
            s = self.connect()
            s.sendall(HEAD[:15])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # a reset, mid-head
        with self.connect() as s:
            s.sendall(HEAD)
            read_answers(s, 1)
        self.assertIsNone(self.p.poll())


class EpollFloorUsageTest(unittest.TestCase):
    def run_floor(self, *args):
        return subprocess.run([str(FLOOR)] + list(args), capture_output=True, text=True, timeout=10)

    def test_bad_usage_exits_2_naming_the_flag(self):
        for args, says in ((["--body", BODY], "--listen"), (["--listen", "127.0.0.1:0"], "--body"),
                           (["--listen", "nowhere", "--body", BODY], "--listen"),
                           (["--listen", "127.0.0.1:0", "--body", BODY, "extra"], "extra")):
            r = self.run_floor(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(says, r.stderr, args)

    def test_help_exits_0(self):
        r = self.run_floor("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: epoll_floor", r.stdout)


def start_floor(body=BODY):
    """epoll_floor on a free port: (Popen, port)."""
    p = subprocess.Popen([str(FLOOR), "--listen", "127.0.0.1:0", "--body", body],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r":(\d+)$", p.stdout.readline().strip())
    if m is None:
        p.kill()
        raise AssertionError("epoll_floor printed no ready line")
    return p, int(m.group(1))


def run_load_floor(*args, timeout=20):
    return subprocess.run([str(LOAD_FLOOR)] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


class OddServer:
    """A listener on a free port whose every connection gets answer(n) for its
    n-th request head (n from 1), or is closed when that is None."""

    def __init__(self, answer):
        self.answer, self.sock = answer, socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def conn(self, c):
        buf, n = b"", 0
        with c:
            while True:
                try:
                    chunk = c.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\r\n\r\n" in buf:
                    buf = buf.split(b"\r\n\r\n", 1)[1]
                    n += 1
                    out = self.answer(n)
                    if out is None:
                        return
                    c.sendall(out)

    def close(self):
        self.sock.close()


def ok(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


class LoadFloorTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(LOAD_FLOOR.exists(), "%s is missing (make test builds it)" % LOAD_FLOOR)

    def test_it_counts_answers_against_the_server_floor(self):
        p, port = start_floor()
        try:
            r = run_load_floor("--url", "http://127.0.0.1:%d/x" % port, "--conns", 4, "--secs", 1)
        finally:
            p.kill()
            p.wait()
            p.stdout.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.fullmatch(r"requests=(\d+) seconds=([\d.]+) rps=([\d.]+)\n", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        requests, seconds, rps = int(m.group(1)), float(m.group(2)), float(m.group(3))
        self.assertGreater(requests, 100)
        self.assertAlmostEqual(seconds, 1.0, delta=0.2)
        self.assertAlmostEqual(rps, requests / seconds, delta=rps * 0.002)  # seconds has 3 decimals

    def test_an_answer_unlike_the_first_stops_it(self):
        for second, says in ((ok(b"longer body"), "longer than the first"),
                             (b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno", "does not start as the first"),
                             (None, "closed")):
            srv = OddServer(lambda n, second=second: ok(b"short") if n == 1 else second)
            try:
                r = run_load_floor("--url", "http://127.0.0.1:%d/" % srv.port, "--conns", 1, "--secs", 5)
            finally:
                srv.close()
            self.assertEqual(r.returncode, 1, (says, r.stdout))
            self.assertIn(says, r.stderr)
            self.assertEqual(r.stdout, "")

    def test_a_first_answer_that_is_not_a_200_stops_it(self):
        srv = OddServer(lambda n: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        try:
            r = run_load_floor("--url", "http://127.0.0.1:%d/" % srv.port, "--conns", 2, "--secs", 5)
        finally:
            srv.close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a 200", r.stderr)

    def test_no_server_is_exit_1_naming_the_url(self):
        with socket.create_server(("127.0.0.1", 0)) as s:
            port = s.getsockname()[1]
        r = run_load_floor("--url", "http://127.0.0.1:%d/" % port, "--secs", 1)
        self.assertEqual(r.returncode, 1)
        self.assertIn("connect http://127.0.0.1:%d/" % port, r.stderr)

    def test_bad_usage_exits_2_naming_the_flag(self):
        for args, says in (([], "--url"), (["--url", "ftp://x/"], "--url"),
                           (["--url", "http://127.0.0.1:1/", "--conns", "0"], "--conns"),
                           (["--url", "http://127.0.0.1:1/", "--secs", "x"], "--secs")):
            r = run_load_floor(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(says, r.stderr, args)


if __name__ == "__main__":
    unittest.main()
