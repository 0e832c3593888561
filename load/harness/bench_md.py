"""bench_md: BENCH.md, the bench's report, from the run's findings: the
machine and tools that made it, the method, the table, reasons for missed
goals, notes, charts, bin/report's summaries and what data/ holds."""
import os
import subprocess

import readings


def version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return ((r.stdout + r.stderr).splitlines() or [""])[0]


def deb(package):
    return version(["dpkg-query", "-W", "-f=${Version}", package])


def write(b, charts):
    git = version(["git", "rev-parse", "--short", "HEAD"])
    f, out = b.findings, []
    w = out.append
    w("# make bench — %s\n" % b.stamp)
    w("Machine: %d CPUs (%s), kernel %s, %s; git %s." % (os.cpu_count(), readings.cpu_model(), os.uname().release,
                                                          readings.os_name(), git))
    w("Tools: %s; %s; locust %s; uvicorn %s with FastAPI %s.\n" % (
        " ".join(version(["wrk", "-v"]).split()[:2]), version(["nginx", "-v"]).split(": ")[-1],
        deb("python3-locust"), deb("uvicorn"), deb("python3-fastapi")))
    w("Method: each ratio compares two things measured in this run, alternated (A B, B A, …), %d pairs; the table "
      "shows the median ratio and its min–max (row 3: %d pairs of %d s). Rate runs last %d s (Locust %d s), %d "
      "connections, one client thread; rows 1, 3, 4 and 11 read CPU times with perf's syscall tracepoint off and "
      "count system calls in runs of their own; %s. Open files: %d. Only 127.0.0.1. Bench wall time: %d s. "
      "Load average (1, 5, 15 min) at the start: %s; at the end: %s (anything above 0 is other work sharing "
      "these CPUs: it lands in every figure as noise).\n" % (
          b.pairs, b.r3_pairs, b.r3_secs, b.secs, b.locust_secs, b.CONNS, b.pinning, b.fds, b.elapsed(),
          b.load_start, readings.loadavg()))
    w(f.table())
    if f.why:
        w("## Where a goal is missed, and why\n\n%s\n" % "\n".join(f.why))
    if f.notes:
        w("## Notes\n\n%s\n" % "\n".join(f.notes))
    if charts:
        w("## Charts\n\n" + "".join("![%s](%s.svg)\n\n" % (c, c) for c in charts).rstrip("\n") + "\n")
    for run_dir in b.summaries:
        summary = run_dir / "summary.txt"
        if summary.exists() and summary.stat().st_size:
            w("## bin/report's summary of `%s`\n\n```\n%s```\n" % (os.path.relpath(run_dir, b.out.resolve()),
                                                                   readings.text(summary)))
    w("## Files\n\n`data/`: every client's raw output (`*.wrk.txt`, `*.json`, `*.locust.txt`), perf stat counts "
      "(`*.cpu`, `*.srv.cpu`), the pairs (`r1.dat` … `r5.dat`: pair, A, B, A/B), /metrics scrapes, callgrind "
      "profiles, gnuplot scripts.%s%s" % (
          " `runs/`: the run folder of make compare." if "quick" in b.results else "",
          " `peer-runs/`: the same profile against FastAPI." if "quick-fastapi" in b.results else ""))
    (b.out / "BENCH.md").write_text("\n".join(out) + "\n")
