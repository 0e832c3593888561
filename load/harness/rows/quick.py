"""Row 7: `make compare PROFILE=quick` against the model - each scenario's
request count and mean latency beside bin/report --predict's for the
scenario's own parameters. finish() draws the quick profile's rows from rows
7 and 8 (ours and the FastAPI peer), whichever ran."""
import re
import subprocess
from pathlib import Path

import readings
import rundir
import stats
import table

NAME, NUMBER = "quick", 7
NEEDS, TOOLS = ("bin/load", "bin/report", "bin/blocking"), ()


def vs_model(d):
    """(class, requests, predicted, mean ms, predicted mean ms) of scenario
    folder d: measured from load.json, predicted with its scenario.env."""
    e = rundir.read_env(d / "scenario.env")
    wait = ["--wait", "%s-%s" % (e["WAIT_MIN_S"], e["WAIT_MAX_S"])] if e.get("WAIT_MAX_S", "0") != "0" else []
    argv = ["bin/report", "--predict", "--users", e["USERS"], "--spawn-rate", e["SPAWN_RATE"],
            "--run-time", e["RUN_TIME_S"], "--task-ms", e["TASK_MS"], "--threads", e["THREADS"],
            "--helpers", e["HELPERS"], "--workers", e["WORKERS"]] + wait + [e["CLASS"]]
    pred = subprocess.run(argv, capture_output=True, text=True)
    (d / "bench-predict.txt").write_text(pred.stdout + pred.stderr)
    agg = readings.aggregated(pred.stdout + pred.stderr + "\n")
    return (e["CLASS"], stats.num(readings.jget(d / "load.json", "requests")), agg["reqs"],
            stats.num(readings.jget(d / "load.json", "latency_us", "mean")) / 1000, agg["avg_ms"])


def quick_table(run_dir, out):
    """Every scenario of a run against the model, into out (a .dat file):
    class reqs pred_reqs reqs_ratio avg_ms pred_avg_ms avg_err_pct."""
    with open(out, "w") as f:
        f.write("# class reqs pred_reqs reqs_ratio avg_ms pred_avg_ms avg_err_pct\n")
        for d in sorted(Path(run_dir).glob("[0-9][0-9]-*")):
            if (d / "scenario.env").exists():
                c, r, p, a, pa = vs_model(d)
                err = (a - pa) * 100 / pa if pa > 0 else stats.NAN
                f.write("%s %s %s %s %.1f %s %s\n" % (c, table.rate(r).replace("n/a", "nan"), _g(p),
                                                       table.ratio(stats.ratio(r, p)), a, _g(pa), "%.2f" % err))


def read_table(path):
    """quick_table's rows as {class: (reqs, pred, ratio, avg, pred_avg, err)}."""
    rows = {}
    for line in readings.text(path).splitlines():
        f = line.split()
        if f and f[0] != "#":
            rows[f[0]] = tuple(stats.num(x) for x in f[1:7])
    return rows


def _g(x):
    return "nan" if x != x else "%g" % x


def compare(b, name, who, what, argv, runs):
    """Runs a compare (argv, `what` in messages) whose run folders go under
    runs, then reads its run against the model into data/quick-WHO.dat;
    BENCH.md shows its summary."""
    p = b.procs.run(what, argv, log=b.data / ("compare-%s.txt" % who), timeout=1800, grace=10)
    if p.returncode():
        b.log("%s exited %s (see data/compare-%s.txt)" % (what, p.returncode(), who))
    run_dir = (Path(runs) / "latest").resolve()
    if run_dir.is_dir():
        if not (run_dir / "summary.txt").exists():
            with open(b.data / ("report-%s.txt" % who), "w") as out:
                subprocess.run(["bin/report", str(run_dir)], stdout=out, stderr=subprocess.STDOUT)
        quick_table(run_dir, b.data / ("quick-%s.dat" % who))
        b.summaries.append(run_dir)
        b.results[name] = run_dir


def run(b):
    b.log("row 7: make compare PROFILE=quick (ours)")
    compare(b, NAME, "ours", "make compare", ["make", "-s", "--no-print-directory", "compare", "PROFILE=quick",
                                              "RUNS_DIR=%s" % (b.out / "runs")], b.out / "runs")


def finish(b):
    ours, peer = read_table(b.data / "quick-ours.dat"), read_table(b.data / "quick-peer.dat")
    for c in (ours or peer):
        cell, ok, rr = "", "n/a", (ours.get(c) or peer[c])[2]
        if ours:
            r, p, rr, a, pa, e = ours[c]
            cell = "%s / %s = %s; avg %.1f vs %s ms (%+.1f%%)" % (_g(r), _g(p), table.ratio(rr), a, _g(pa), e)
            ok = "n/a" if rr != rr or e != e else "yes" if rr >= 0.99 and -1 <= e <= 1 else "**no**"
        theirs = ""
        if c in peer:
            r, p, pr, a, pa, e = peer[c]
            theirs = "%s / %s = %s; avg %.1f vs %s ms (%+.1f%%)" % (_g(r), _g(p), table.ratio(pr), a, _g(pa), e)
        b.findings.row("quick `%s`: # reqs / predicted; avg vs predicted" % c, cell or "not run",
                       "FastAPI: %s" % theirs, table.ratio(rr), "≥ 0.99; avg ±1%", ok)
    for who, key in (("ours", "quick"), ("FastAPI peer", "quick-fastapi")):
        run_dir = b.results.get(key)
        summary = readings.text(run_dir / "summary.txt") if run_dir else ""
        flagged, sc = [], ""
        for line in summary.splitlines():
            if re.match(r"[0-9][0-9]-", line):
                sc = line.split()[0]
            if "verdict:" in line and "as predicted" not in line:
                flagged.append("  - %s: %s" % (sc, re.sub(r"^ *verdict: *", "", line)))
        if flagged:
            b.findings.reason("- **Quick profile, %s**: bin/report's verdict on each scenario it flagged:" % who)
            b.findings.reason("\n".join(flagged))
