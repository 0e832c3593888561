"""table, pairs and readings: cells, the Markdown table, the alternation and
its .dat file, and figures read out of the tools' own outputs."""
import math
import tempfile
import unittest
from pathlib import Path

import pairs
import readings
import table

NAN = float("nan")

WRK = """Running 5s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  61234 requests in 5.00s, 9.1MB read
  Socket errors: connect 0, read 3, write 0, timeout 0
Requests/sec:  12246.80
"""
LOCUST = """Type     Name        # reqs      # fails |    Avg     Min     Max    Med |   req/s  failures/s
--------||-------|-------------|-------|-------|-------|-------|--------|-----------
GET      /           7000     0(0.00%) |     12       1      90     11 |  699.80        0.00
--------||-------|-------------|-------|-------|-------|-------|--------|-----------
         Aggregated  7000     0(0.00%) |     12       1      90     11 |  699.80        0.00
"""
PERF = """# started on Tue Dec  1 16:00:00 2026

2500.12,msec,task-clock,2500120000,100.00,0.998,CPUs utilized
1234,,context-switches,2500120000,100.00,493.556,/sec
"""


class CellsTest(unittest.TestCase):
    def test_cells(self):
        self.assertEqual(table.rate(12246.8), "12247")
        self.assertEqual(table.rate(None), "n/a")
        self.assertEqual(table.ratio(0.91234), "0.912")
        self.assertEqual(table.ratio_cell(1.0, 0.95, 1.1), "1.00 (0.95–1.10)")
        self.assertEqual(table.us(math.inf), "inf")
        self.assertEqual(table.met(0.95, 0.9, ">="), "yes")
        self.assertEqual(table.met(0.85, 0.9, ">="), "**no**")
        self.assertEqual(table.met("", 0.9, ">="), "n/a")
        self.assertEqual(table.met_bucket(180, 100, 500, 200), "yes (interpolated)")
        self.assertEqual(table.met_bucket(250, 200, 500, 200), "**no**")

    def test_the_table_renders_every_row_once_under_one_header(self):
        f = table.Findings()
        f.row("a", "1 req/s", "wrk: 2 req/s", "0.50 (0.40–0.60)", "≥ 0.9", "**no**")
        f.row("… b", "3", "", "", "shown", "—")
        lines = f.table().splitlines()
        self.assertEqual(lines[0], "| what | ours (median) | compared with (median) | ratio, median (min–max) "
                                   "| goal | met |")
        self.assertEqual(lines[2], "| a | 1 req/s | wrk: 2 req/s | 0.50 (0.40–0.60) | ≥ 0.9 | **no** |")
        self.assertEqual(len(lines), 4)


class PairsTest(unittest.TestCase):
    def test_alternation_reverses_every_second_pair(self):
        order = []
        got = pairs.alternate(3, [("a", lambda i: order.append(("a", i)) or 10.0 * i),
                                  ("b", lambda i: order.append(("b", i)) or 5.0 * i)])
        self.assertEqual(order, [("a", 1), ("b", 1), ("b", 2), ("a", 2), ("a", 3), ("b", 3)])
        p = pairs.Pairs.of(got, "a", "b")
        self.assertEqual(p.ratio(), (2.0, 2.0, 2.0))
        self.assertEqual(p.a(), (20.0, 10.0, 30.0))

    def test_a_missing_figure_is_nan_in_the_file_and_left_out_of_the_summary(self):
        p = pairs.Pairs("x", "y", [(1, 100.0, 50.0), (2, NAN, 40.0), (3, 90.0, 45.0)])
        with tempfile.TemporaryDirectory() as d:
            p.save(Path(d) / "r.dat")
            self.assertEqual((Path(d) / "r.dat").read_text(),
                             "# pair x y ratio\n1 100 50 2.000\n2 nan 40 nan\n3 90 45 2.000\n")
        self.assertEqual(p.ratio(), (2.0, 2.0, 2.0))
        self.assertEqual(p.b(), (45.0, 40.0, 50.0))


class ReadingsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, name, text):
        (self.d / name).write_text(text)
        return self.d / name

    def test_wrk(self):
        f = self.put("w.txt", WRK)
        self.assertEqual(readings.wrk_rate(f), 12246.8)
        self.assertEqual(readings.wrk_requests(f), 61234)
        self.assertEqual(readings.wrk_errors(f), "Socket errors: connect 0, read 3, write 0, timeout 0")
        self.assertTrue(math.isnan(readings.wrk_rate(self.d / "missing")))

    def test_locust_aggregated_row(self):
        self.assertEqual(readings.aggregated(self.put("l.txt", LOCUST)),
                         {"reqs": 7000, "avg_ms": 12, "rps": 699.8})
        self.assertTrue(math.isnan(readings.aggregated("no table\n")["rps"]))

    def test_perf_stat(self):
        c = readings.perf_counts(self.put("p.cpu", PERF))
        self.assertEqual(c["task-clock"], 2500.12)
        self.assertEqual(c["context-switches"], 1234)

    def test_json(self):
        f = self.put("l.json", '{"rps": 12.5, "latency_us": {"p99": 1500}, "series": [{"t": 1}]}')
        self.assertEqual(readings.jget(f, "latency_us", "p99"), 1500)
        self.assertEqual(readings.jget(f, "series", 0, "t"), 1)
        self.assertIsNone(readings.jget(f, "nope"))
        self.assertIsNone(readings.jget(self.put("bad.json", "{"), "rps"))


if __name__ == "__main__":
    unittest.main()
