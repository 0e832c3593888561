#!/usr/bin/env python3
"""measure.py — the parameters of a run that the model needs, read off the running
server rather than guessed: which worker process holds how many users (shares.py)
and the order in which a worker serves its waiting requests.
Python 3 standard library only; Linux /proc.

    measure.py workers PGID                 the server's worker processes (one pid a line)
    measure.py connections PORT PID...      established connections on PORT held by each
                                            PID, comma-separated in the order given
    measure.py cpu PGID                     CPU seconds (user + system) of the group so far
    measure.py order DIR                    the service order the peer's order logs show
    measure.py wave DIR [--gap-ms MS]       when each worker's threads start within a
                                            wave (the peer's order logs)
    measure.py record DIR --users N --connections A,B [--pids P,Q] [--gap-ms MS]
                                            append SPLIT and ORDER (and the evidence for
                                            each), and WAVE_MS and GC_PAUSES_PER_S per
                                            worker in the pids' order, and GC_PAUSE_MS,
                                            to DIR/scenario.env
    measure.py gc DIR                       each worker's GC pauses a second and their
                                            lengths (the peer's gc and answer logs)

The server's CPU per request is calibrate.py's (one request alone, before the
load) and usage.py's (under load).

Exit: 0 ok, 1 nothing to measure from, 2 bad usage or unreadable input.
"""
import glob
import os
import sys

from shares import connections, scaled_split, workers
from usage import group_cpu_s

# Below this a request did not really wait for a thread: the handoff from the event
# loop to a threadpool thread alone takes some hundreds of microseconds.
WAITED_NS = 2_000_000
# Two requests that reached the app closer together than this may have joined the
# limiter's queue in either order: between the stamp and the queue lie routing and
# the loop's other work, some milliseconds on a loaded loop. Measured on a smoke run
# (LIFO): 81% of all waiting pairs started newest first, 96% of those 20 ms apart.
ORDER_GAP_NS = 20_000_000
# Starts further apart than this are two waves (measure.py wave's default;
# compare passes the scenario's task time: a thread starts again a service later).
GAP_MS = 100


def read_order_logs(directory):
    """{pid: [(arrival_ns, start_ns), ...]} from the peer's order-PID.tsv files."""
    logs = {}
    for path in sorted(glob.glob(os.path.join(directory, "order-*.tsv"))):
        rows = []
        with open(path) as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) != 2 or not all(p.isdigit() for p in parts):
                    if line.endswith("\n"):
                        raise ValueError("%s:%d: expected ARRIVAL_NS START_NS" % (path, n))
                    continue  # a last line cut off when the worker was killed
                rows.append((int(parts[0]), int(parts[1])))
        logs[path] = rows
    return logs


def service_order(rows):
    """Among pairs of requests that waited for a thread at the same time (the older
    one still waiting when the newer arrived, ORDER_GAP_NS or more later), how many
    did the worker start newest first? FIFO never does, LIFO always does, a random
    pick half the time. Returns (pairs, inverted)."""
    rows = sorted(rows)
    pairs = inverted = 0
    for j, (arr_j, start_j) in enumerate(rows):
        if start_j - arr_j < WAITED_NS:
            continue
        for i in range(j - 1, -1, -1):
            arr_i, start_i = rows[i]
            if arr_j - arr_i < ORDER_GAP_NS:
                continue  # too close to know which joined the queue first
            if start_i - arr_i < WAITED_NS or start_i <= arr_j:
                continue  # i did not wait, or had started before j arrived
            pairs += 1
            inverted += start_j < start_i
    return pairs, inverted


# Fewer whole waves than this in a worker's log and its wave is not told.
MIN_WAVES = 3
# The ranks a wave is told at: first, each tenth, last (the model's MODEL_WAVE_POINTS).
WAVE_POINTS = 11


def wave_ms(rows, threads, gap_ns):
    """When a worker's threads start within one wave, in ms after its first
    start: at WAVE_POINTS evenly spaced ranks, first to last, each the median
    over the waves of exactly `threads` starts. A wave is a run of starts no
    more than gap_ns apart. Under a closed load that fills every thread, each
    thread starts once a service, so every wave keeps the shape the first one
    had (the loop took the burst of new connections one at a time, in
    bunches); with users spawned slowly the starts never bunch into whole
    waves, and there is nothing to tell: None."""
    starts = sorted(s for _, s in rows)
    waves, first = [], 0
    for k in range(1, len(starts) + 1):
        if k == len(starts) or starts[k] - starts[k - 1] > gap_ns:
            if k - first == threads:
                waves.append([s - starts[first] for s in starts[first:k]])
            first = k
    if threads < 2 or len(waves) < MIN_WAVES:
        return None
    points = []
    for i in range(WAVE_POINTS):
        rank = round(i * (threads - 1) / (WAVE_POINTS - 1))
        at = sorted(w[rank] for w in waves)
        points.append(at[len(at) // 2] / 1e6)
    return points


def worker_threads(directory, pid):
    """The threads worker pid's anyio limiter has (the peer's threads-PID.txt), or None."""
    try:
        with open(os.path.join(directory, "threads-%d.txt" % pid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def waves(directory, pids, gap_ms):
    """[wave_ms or None] for each worker pid, in order."""
    logs = read_order_logs(directory)
    out = []
    for pid in pids:
        rows = logs.get(os.path.join(directory, "order-%d.tsv" % pid), [])
        threads = worker_threads(directory, pid)
        out.append(wave_ms(rows, threads, gap_ms * 1e6) if threads else None)
    return out


def wave_text(points):
    return ",".join("%.1f" % ms for ms in (points or [0.0, 0.0]))


# Pauses shorter than this stop a worker for less than its own per-request CPU:
# left to SERVER_CPU_MS (gen0 collections, some every ms, 0.1 ms each).
MIN_PAUSE_NS = 1_000_000


def read_tsv(path, columns):
    """Rows of `columns` whole numbers; a last line cut off by a kill is skipped."""
    rows = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) != columns or not all(p.isdigit() for p in parts):
                    if line.endswith("\n"):
                        raise ValueError("%s:%d: expected %d whole numbers" % (path, n, columns))
                    continue
                rows.append(tuple(int(p) for p in parts))
    except FileNotFoundError:
        pass
    return rows


def gc_pauses(directory, pids, window_ns=None):
    """([pauses a second] per worker pid, [lengths in ms at WAVE_POINTS ranks] of
    them all), or None: the peer's collector pauses of MIN_PAUSE_NS or more
    (gc-PID.tsv) while the load was settled: in window_ns (CLOCK_MONOTONIC, which
    the peer stamps with), or else from a third of the way between the worker's
    first and last answer (answer-PID.tsv, whole once the worker has stopped and
    flushed it) to the last."""
    rates, lengths = [], []
    for pid in pids:
        if window_ns:
            since, t1 = window_ns
        else:
            answers = read_tsv(os.path.join(directory, "answer-%d.tsv" % pid), 2)
            if not answers:
                return None
            t0, t1 = min(a for a, _ in answers), max(b for _, b in answers)
            since = t0 + (t1 - t0) / 3
        mine = [d for t, d, _ in read_tsv(os.path.join(directory, "gc-%d.tsv" % pid), 3)
                if since <= t <= t1 and d >= MIN_PAUSE_NS]
        rates.append(len(mine) / ((t1 - since) / 1e9) if t1 > since else 0.0)
        lengths += mine
    if len(lengths) < 2:
        return None
    lengths.sort()
    points = [lengths[round(i * (len(lengths) - 1) / (WAVE_POINTS - 1))] / 1e6
              for i in range(WAVE_POINTS)]
    return rates, points


def pids_of_logs(directory):
    return sorted(int(os.path.basename(p)[6:-4])
                  for p in glob.glob(os.path.join(directory, "order-*.tsv")))


def classify(pairs, inverted):
    """The nearest of the three orders the model knows, by the share of pairs
    started newest-first: FIFO 0, a random pick 0.5, LIFO 1 (the boundaries
    halfway between; anyio's limiter read 0.80-0.9 on a busy machine, which a
    cut at 0.8 called random one run in several)."""
    if pairs == 0:
        return None
    share = inverted / pairs
    return "lifo" if share > 0.75 else "fifo" if share < 0.25 else "random"


def record(directory, users, conns, pids=None, gap_ms=None, window_ns=None):
    lines = []
    counts = [int(c) for c in conns.split(",")] if conns else []
    split = scaled_split(users, counts) if counts else None
    if split is not None:
        lines.append("SPLIT_CONNECTIONS=%s" % ",".join(map(str, counts)))
        lines.append("SPLIT=%s" % ",".join(map(str, split)))
    pairs = inverted = 0
    for rows in read_order_logs(directory).values():
        p, i = service_order(rows)
        pairs, inverted = pairs + p, inverted + i
    order = classify(pairs, inverted)
    if order is not None:
        lines.append("ORDER=%s" % order)
        lines.append("ORDER_PAIRS=%d" % pairs)
        lines.append("ORDER_NEWEST_FIRST=%d" % inverted)
    if pids and gap_ms:
        # in the split's order; a worker without whole waves starts its threads together
        found = waves(directory, pids, gap_ms)
        if any(w is not None for w in found):
            n = max(len(w) for w in found if w)
            lines.append("WAVE_MS=%s" % "/".join(wave_text(w or [0.0] * n) for w in found))
    gc = gc_pauses(directory, pids, window_ns) if pids else None
    if gc:
        lines.append("GC_PAUSES_PER_S=%s" % ",".join("%.2f" % r for r in gc[0]))
        lines.append("GC_PAUSE_MS=%s" % ",".join("%.1f" % ms for ms in gc[1]))
    with open(os.path.join(directory, "scenario.env"), "a") as f:
        for line in lines:
            f.write(line + "\n")
    return 0


def usage(msg):
    sys.stderr.write("measure.py: %s\n%s" % (msg, __doc__))
    return 2


def main(argv):
    if len(argv) < 2:
        return usage("missing command")
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "workers" and len(args) == 1:
            print("\n".join(map(str, workers(int(args[0])))))
        elif cmd == "connections" and len(args) >= 2:
            print(",".join(map(str, connections(int(args[0]), [int(p) for p in args[1:]]))))
        elif cmd == "cpu" and len(args) == 1:
            print("%.2f" % group_cpu_s(int(args[0])))
        elif cmd == "order" and len(args) == 1:
            pairs = inverted = 0
            for rows in read_order_logs(args[0]).values():
                p, i = service_order(rows)
                pairs, inverted = pairs + p, inverted + i
            order = classify(pairs, inverted)
            print("%s %d pairs waited together, %d started newest first"
                  % (order or "unknown", pairs, inverted))
            return 0 if order else 1
        elif cmd == "wave" and len(args) in (1, 3) and args[1:2] in ([], ["--gap-ms"]):
            pids = pids_of_logs(args[0])
            found = waves(args[0], pids, float(args[2]) if len(args) == 3 else GAP_MS)
            for pid, w in zip(pids, found):
                print("%d %s" % (pid, "-" if w is None else wave_text(w)))
            return 0 if any(w is not None for w in found) else 1
        elif cmd == "gc" and len(args) == 1:
            pids = sorted(int(os.path.basename(p)[3:-4])
                          for p in glob.glob(os.path.join(args[0], "gc-*.tsv")))
            gc = gc_pauses(args[0], pids)
            if not gc:
                print("no pauses of %g ms or more" % (MIN_PAUSE_NS / 1e6))
                return 1
            print("pauses a second: %s" % " ".join("%d %.2f" % pr for pr in zip(pids, gc[0])))
            print("lengths (ms): %s" % ",".join("%.1f" % ms for ms in gc[1]))
            return 0
        elif cmd == "record" and len(args) in (5, 7, 9) and args[1:5:2] == ["--users", "--connections"]:
            opts = dict(zip(args[5::2], args[6::2]))
            if set(opts) - {"--pids", "--gap-ms"}:
                return usage("bad command line: %s" % " ".join(argv[1:]))
            pids = [int(p) for p in opts["--pids"].split(",")] if "--pids" in opts else None
            return record(args[0], int(args[2]), args[4], pids, float(opts.get("--gap-ms", GAP_MS)))
        else:
            return usage("bad command line: %s" % " ".join(argv[1:]))
    except (OSError, ValueError) as e:
        sys.stderr.write("measure.py %s: %s\n" % (cmd, e))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
