"""readings: figures read out of the files tools write - wrk's report, perf
stat's CSV, Locust's (and bin/report --predict's) Aggregated row, callgrind's
totals, JSON documents, /proc, a server's /metrics. Each reader takes a path
or text and returns numbers (NaN, from stats, when the figure is absent): no
arithmetic here beyond unit conversion; that is stats.py's. metrics() is the
one that fetches: the text series() reads.
"""
import json
import os
import re
import urllib.request

from stats import NAN, num


def text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def jget(path, *keys):
    """A value inside a JSON file (keys: object keys or list indexes), or
    None when the file, or any key on the way, is missing."""
    try:
        with open(path) as f:
            v = json.load(f)
        for k in keys:
            v = v[int(k)] if isinstance(v, list) else v[k]
        return v
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def wrk_rate(path):
    """wrk's Requests/sec."""
    m = re.search(r"^Requests/sec:\s+(\S+)", text(path), re.M)
    return num(m.group(1)) if m else NAN


def wrk_requests(path):
    """wrk's "N requests in T" count."""
    m = re.search(r"^\s*(\d+) requests in", text(path), re.M)
    return num(m.group(1)) if m else NAN


def floor_rate(path):
    """build/bench/load_floor's rps= (NaN when it stopped on an error)."""
    m = re.search(r"^requests=\d+ seconds=\S+ rps=(\S+)$", text(path), re.M)
    return num(m.group(1)) if m else NAN


def wrk_lines(path, *words):
    """wrk's report lines holding any of words (e.g. "Socket errors")."""
    return [l.strip() for l in text(path).splitlines() if any(w in l for w in words)]


def wrk_errors(path):
    """wrk's Non-2xx and socket error lines, joined ("" when none)."""
    return " ".join(wrk_lines(path, "Non-2xx", "Socket errors"))


def perf_counts(path):
    """perf stat -x, output: {event: value} (task-clock in ms)."""
    counts = {}
    for line in text(path).splitlines():
        f = line.split(",")
        if len(f) > 2 and f[2] and not line.startswith("#"):
            counts[f[2].split(":")[0]] = num(f[0])
    return counts


def aggregated(path_or_text):
    """Locust's stats table's Aggregated row ("Aggregated  N  F(x%) | avg min
    max med | req/s fail/s"): {"reqs", "avg_ms", "rps"}; NaNs when absent.
    The same table comes out of Locust and bin/report --predict."""
    t = path_or_text if isinstance(path_or_text, str) and "\n" in path_or_text else text(path_or_text)
    for line in t.splitlines():
        parts = line.split("|")
        if "Aggregated" in line and len(parts) == 3:
            a, b, c = (p.split() for p in parts)
            return {"reqs": num(a[1]) if len(a) > 1 else NAN,
                    "avg_ms": num(b[0]) if b else NAN, "rps": num(c[0]) if c else NAN}
    return {"reqs": NAN, "avg_ms": NAN, "rps": NAN}


def locust_csv(path, name="Aggregated", column="Requests/s"):
    """A figure of Locust's --csv stats file (PREFIX_stats.csv): the row
    Name == name, its column."""
    import csv
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("Name") == name:
                    return num(row.get(column))
    except OSError:
        pass
    return NAN


def locust_history(path, name="Aggregated"):
    """(Timestamp, Total Request Count) of each row of Locust's --csv history
    file (PREFIX_stats_history.csv) whose Name is name."""
    import csv
    points = []
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("Name") == name:
                    points.append((num(row.get("Timestamp")), num(row.get("Total Request Count"))))
    except OSError:
        pass
    return points


def callgrind_total(path):
    """Instructions (Ir) a callgrind profile counted."""
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text(path), re.M)
    return num(m.group(1)) if m else NAN


def children(pid):
    """Direct children of pid (pgrep -P)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def metrics(url, timeout):
    """The /metrics text at url. Raises OSError when the server does not
    answer within timeout s (a busy server's loop answers late: each caller
    bounds the wait for its own reason)."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode(errors="replace")


def series(text, name):
    """A Prometheus series' value from /metrics text, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def rss_kb(pid, key="VmRSS"):
    """VmRSS (or VmHWM) in KiB, summed over pid and its direct children."""
    total = 0
    for p in [pid] + children(pid):
        m = re.search(r"^%s:\s+(\d+)" % key, text("/proc/%d/status" % p), re.M)
        total += int(m.group(1)) if m else 0
    return total


def cpu_model():
    m = re.search(r"^model name\s*:\s*(.*)$", text("/proc/cpuinfo"), re.M)
    return m.group(1) if m else "unknown CPU"


def loadavg():
    return " ".join(text("/proc/loadavg").split()[:3])


def os_name():
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)', text("/etc/os-release"), re.M)
    return m.group(1) if m else ""


def fds():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exists(p):
    return os.access(p, os.X_OK)
