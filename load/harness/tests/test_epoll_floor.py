"""build/bench/epoll_floor, row 3's yardstick: it answers every request head
once, in order, whether a head comes split across reads or several come in one
read, with the body it was given and a current Date; it survives peers that
leave; bad usage exits 2 naming what is wrong. (`make test` builds it.)"""
import re
import socket
import subprocess
import time
import unittest
from email.utils import parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent.parent
FLOOR = ROOT / "build/bench/epoll_floor"
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


if __name__ == "__main__":
    unittest.main()
