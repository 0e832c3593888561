"""stats: medians, summaries, ratios, goals, histogram quantiles, series."""
import math
import unittest

import stats

NAN = float("nan")


def hist(counts, name="lat_seconds", edges=("0.0001", "0.0002", "0.0005", "+Inf")):
    """A Prometheus histogram text with cumulative counts at edges, split over
    two label sets (the quantiles must sum them)."""
    lines = []
    for worker in ("0", "1"):
        for e, c in zip(edges, counts):
            lines.append('%s_bucket{worker="%s",le="%s"} %s' % (name, worker, e, c / 2))
    return "\n".join(lines) + "\n"


class StatsTest(unittest.TestCase):
    def test_median_odd_even_and_unknowns(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median(["4", 1, 3, 2]), 2.5)
        self.assertEqual(stats.median([None, "nan", 5, "", "x"]), 5)
        self.assertTrue(math.isnan(stats.median([])))

    def test_summary_is_median_min_max(self):
        self.assertEqual(stats.summary([0.9, 1.2, 1.0]), (1.0, 0.9, 1.2))
        self.assertTrue(all(math.isnan(x) for x in stats.summary([None, NAN])))

    def test_ratio_refuses_unknown_and_non_positive(self):
        self.assertAlmostEqual(stats.ratio(90, "100"), 0.9)
        for a, b in ((1, 0), (1, -2), (None, 1), (1, ""), (NAN, 1)):
            self.assertTrue(math.isnan(stats.ratio(a, b)), (a, b))

    def test_per_cpu_second(self):
        # 1000 req/s for 5 s on 2500 ms of CPU: 2000 requests per CPU-second.
        self.assertAlmostEqual(stats.per_cpu_second(1000, 5, 2500), 2000)
        self.assertTrue(math.isnan(stats.per_cpu_second(1000, 5, 0)))

    def test_rate_between_is_the_slope_inside_the_window(self):
        # a history row a second: 100/s, then the load stops counting at t=15
        points = [(t, 100 * t) for t in range(0, 16)] + [(16, 1500), (17, 1500)]
        self.assertAlmostEqual(stats.rate_between(points, 4.5, 12.2), 100.0)
        # rows outside the window do not count; the strings a CSV gives do
        self.assertAlmostEqual(stats.rate_between([("5", "500"), ("8", "800")], 5, 8), 100.0)
        self.assertTrue(math.isnan(stats.rate_between(points, 4.2, 4.9)))  # no row inside
        self.assertTrue(math.isnan(stats.rate_between([(5, 10)], 0, 10)))   # one row

    def test_cpu_per_request(self):
        # 1.8 s of CPU in 9 s while 200 requests a second completed: 1 ms each
        self.assertAlmostEqual(stats.cpu_per_request_ms(1.8, 9, 200), 1.0)
        self.assertTrue(math.isnan(stats.cpu_per_request_ms(1.8, 9, float("nan"))))
        self.assertTrue(math.isnan(stats.cpu_per_request_ms(1.8, 0, 200)))

    def test_meets(self):
        self.assertIs(stats.meets(0.9, 0.9, ">="), True)
        self.assertIs(stats.meets(0.89, 0.9, ">="), False)
        self.assertIs(stats.meets(1011, 1010, "<="), False)
        self.assertIsNone(stats.meets("", 1, ">="))

    def test_meets_bucket_is_certain_only_when_the_bucket_is(self):
        self.assertEqual(stats.meets_bucket(150, 100, 200, 200), (True, True))
        self.assertEqual(stats.meets_bucket(250, 200, 500, 200), (False, True))
        self.assertEqual(stats.meets_bucket(180, 100, 500, 200), (True, False))
        self.assertEqual(stats.meets_bucket(300, 100, math.inf, 200), (False, False))
        self.assertEqual(stats.meets_bucket(NAN, 0, 1, 2), (None, False))

    def test_hist_quantiles_of_the_growth(self):
        before = hist([10, 10, 10, 10])  # 10 observations already below 100 us
        after = hist([60, 100, 110, 110])  # then 50 <=100us, 40 in (100,200], 10 in (200,500]
        h = stats.hist_quantiles(before, after, "lat_seconds")
        self.assertEqual(h["count"], 100)
        # p50: 50th of 100 is the last of the first bucket (cum 50 reaches 50).
        self.assertAlmostEqual(h["q"][0.5], 100.0)
        self.assertEqual(h["bucket"][0.5], (0.0, 100.0))
        # p99: 99th lies in (200, 500]: 90 below, 10 inside: 200 + 300 * 9/10.
        self.assertAlmostEqual(h["q"][0.99], 470.0)
        self.assertEqual(h["bucket"][0.99], (200.0, 500.0))
        self.assertAlmostEqual(h["max"], 500.0)  # highest non-empty bucket's edge

    def test_hist_quantiles_max_gauge_and_inf_bucket(self):
        before = hist([0, 0, 0, 0])
        after = hist([0, 0, 98, 100]) + "lat_max_seconds 0.0123\n"
        h = stats.hist_quantiles(before, after, "lat_seconds", "lat_max_seconds")
        self.assertAlmostEqual(h["max"], 12300.0)
        self.assertEqual(h["bucket"][0.99][1], math.inf)
        self.assertAlmostEqual(h["q"][0.99], 500.0)  # past the last finite edge: that edge
        self.assertEqual(stats.hist_quantiles(before, before, "lat_seconds")["count"], 0)
        self.assertTrue(math.isnan(stats.hist_quantiles("", "", "x")["q"][0.99]))

    def test_series_p99_worst_and_median_second_after_from(self):
        s = [{"t": t, "rps": r, "p99_ms": p} for t, r, p in
             ((1, 10, 5000), (7, 10, 1003), (8, 10, 1008), (9, 0, 9999), (10, 10, 1005))]
        self.assertEqual(stats.series_p99(s, 7), (1008, 1005, 3))
        self.assertTrue(math.isnan(stats.series_p99(s, 100)[0]))


if __name__ == "__main__":
    unittest.main()
