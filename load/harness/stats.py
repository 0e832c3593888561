"""stats: every number the harness computes from measurements, computed once,
here: medians and min-max of repeated runs, ratios, rates per CPU-second,
quantiles of a Prometheus histogram's growth, the worst and median second of
a per-second series, and whether a figure meets its goal.

A missing figure is NaN (float("nan")), never 0 or "": it propagates through
ratios and summaries and is shown as "n/a" by table.py.
"""
import math

NAN = float("nan")


def num(x):
    """A float from a number, a numeric string, or NaN for None/""/junk."""
    if x is None:
        return NAN
    try:
        return float(x)
    except (TypeError, ValueError):
        return NAN


def known(values):
    return [v for v in (num(x) for x in values) if not math.isnan(v)]


def median(values):
    """The median of the known values (the mean of the middle two for an
    even count); NaN when none is known."""
    v = sorted(known(values))
    n = len(v)
    if n == 0:
        return NAN
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def summary(values):
    """(median, min, max) of the known values; NaNs when none is known."""
    v = known(values)
    if not v:
        return NAN, NAN, NAN
    return median(v), min(v), max(v)


def ratio(a, b):
    """a / b, or NaN when either is unknown or b is not positive."""
    a, b = num(a), num(b)
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return NAN
    return a / b


def per_cpu_second(rate, secs, cpu_ms):
    """Requests per CPU-second: rate x secs requests over cpu_ms of CPU."""
    return ratio(num(rate) * num(secs) * 1000, cpu_ms)


def rate_between(points, t0, t1):
    """The rate of a cumulative count over [t0, t1]: points are (time, count)
    pairs (a Locust history's Timestamp and Total Request Count), and the
    rate is taken between the first and the last point inside the window, so
    it is the count's own slope there, not a guess at its edges. NaN with
    fewer than two points inside."""
    inside = sorted((num(t), num(c)) for t, c in points if t0 <= num(t) <= t1)
    if len(inside) < 2:
        return NAN
    (ta, ca), (tb, cb) = inside[0], inside[-1]
    return ratio(cb - ca, tb - ta)


def cpu_per_request_ms(cpu_s, secs, rate):
    """Milliseconds of CPU per request: cpu_s used over secs seconds while
    requests completed at rate per second."""
    return ratio(ratio(num(cpu_s) * 1000, secs), rate)


def meets(x, goal, op):
    """True/False whether x meets `op goal` (op ">=" or "<="); None unknown."""
    x = num(x)
    if math.isnan(x):
        return None
    return x >= goal if op == ">=" else x <= goal


def meets_bucket(x, lo, hi, goal):
    """"at most goal" for a histogram quantile x lying in bucket (lo, hi]:
    certain when the whole bucket is on one side of the goal, else the
    interpolation's say. Returns (True/False/None, certain)."""
    x, lo, hi = num(x), num(lo), num(hi)
    if math.isnan(x):
        return None, False
    if hi <= goal:
        return True, True
    if lo >= goal:
        return False, True
    return x <= goal, False


def _le(line, name):
    """(upper edge, value) of a NAME_bucket{...le="E"...} V line, else None."""
    if not line.startswith(name + "_bucket{"):
        return None
    i = line.find('le="')
    if i < 0:
        return None
    e = line[i + 4:line.index('"', i + 4)]
    return (math.inf if e == "+Inf" else float(e)), float(line.split()[-1])


def _buckets(text, name):
    """Cumulative counts per upper edge, summed over label sets."""
    b = {}
    for line in text.splitlines():
        le = _le(line, name)
        if le:
            b[le[0]] = b.get(le[0], 0.0) + le[1]
    return b


def _gauge(text, name):
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return float(f[1])
    return None


def hist_quantiles(before, after, name, max_name=None, qs=(0.5, 0.99)):
    """The growth of Prometheus histogram `name` (seconds) between two
    scrapes (their texts): {"count", "q": {q: us}, "max": us, "bucket": {q:
    (lo_us, hi_us)}}. A quantile is interpolated linearly inside its bucket;
    its bucket's edges are the only exact statement a histogram makes. max is
    the upper edge of the highest non-empty bucket, or the gauge max_name
    (seconds) when the server exposes it. count 0 gives NaNs."""
    b0, b1 = _buckets(before, name), _buckets(after, name)
    edges = sorted(set(b0) | set(b1))
    cum = [b1.get(e, 0.0) - b0.get(e, 0.0) for e in edges]
    total = cum[-1] if cum else 0
    out = {"count": int(total), "q": {}, "bucket": {}, "max": NAN}
    if total <= 0:
        out["q"] = {q: NAN for q in qs}
        out["bucket"] = {q: (NAN, NAN) for q in qs}
        return out
    us = 1e6
    for q in qs:
        want = q * total
        prev_e, prev_c, i = 0.0, 0.0, 0
        while i < len(edges) - 1 and cum[i] < want:
            prev_e, prev_c, i = edges[i], cum[i], i + 1
        hi = prev_e if math.isinf(edges[i]) else edges[i]
        x = prev_e + (hi - prev_e) * (want - prev_c) / (cum[i] - prev_c) if cum[i] > prev_c else hi
        out["q"][q] = x * us
        out["bucket"][q] = (prev_e * us, edges[i] * us)
    top = 0.0
    for i, e in enumerate(edges):
        if cum[i] > (cum[i - 1] if i else 0):
            top = e
    gauge = _gauge(after, max_name) if max_name else None
    out["max"] = (gauge if gauge is not None else top) * us
    return out


def series_p99(series, from_s):
    """Per-second p99s (ms) of a bin/load series from t >= from_s, seconds
    with requests only: (worst, median, seconds). The worst second's p99
    bounds the window's p99 from above (no second has more than 1% of its
    requests above it)."""
    s = [x["p99_ms"] for x in series if x["t"] >= from_s and x["rps"] > 0]
    if not s:
        return NAN, NAN, 0
    return max(s), median(s), len(s)
