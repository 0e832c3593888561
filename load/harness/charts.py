"""charts: the bench's SVG charts, drawn by gnuplot from .dat files in data/
(data first: each chart can be redrawn from its .dat and .gp files without
rerunning a measurement). draw(b) returns the names of the charts drawn."""
import subprocess

import readings

HEAD = ("set terminal svg size 900,480 dynamic noenhanced font 'sans,11' background rgb 'white'\n"
        "set output '%s'\n")


def plot(b, name, script):
    gp = b.data / (name + ".gp")
    gp.write_text(HEAD % (b.out / (name + ".svg")) + script)
    r = subprocess.run(["gnuplot", str(gp)], capture_output=True, text=True)
    (b.data / (name + ".gp.err")).write_text(r.stderr)
    if r.returncode:
        b.log("gnuplot %s: %s" % (name, " ".join(r.stderr.splitlines()[:2])))
    svg = b.out / (name + ".svg")
    return svg.exists() and svg.stat().st_size > 0


def _v(x):
    return "nan" if x != x or x == float("inf") else "%g" % x


def rates(b):
    with open(b.data / "rates.dat", "w") as f:
        f.write("# label ours_med ours_min ours_max theirs_med theirs_min theirs_max\n")
        for label, ours, theirs in b.findings.rates:
            f.write('"%s" %s\n' % (label, " ".join(_v(x) for x in ours + theirs)))
    if not b.findings.rates:
        return False
    return plot(b, "rates", """set title 'Request rate, median of %d alternated runs (bars: min-max)'
set ylabel 'requests per second'
set logscale y
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set key top right
set xtics noenhanced
set grid ytics
plot '%s' using 2:3:4:xtic(1) title 'first named', '' using 5:6:7 title 'second named'
""" % (b.pairs, b.data / "rates.dat"))


def lateness(b):
    t = b.results.get("timer")
    if not t:
        return False
    from rows.timer import TPS
    lines = [("evented\\n%d timers/s" % TPS, t["evented"]), ("nanosleep\\n%d sleeps/s" % TPS, t["nanosleep"]),
             ("evented herd\\n10k req/s", t["herd"]), ("nanosleep\\n10k threads", t["threads"])]
    if "c10k" in b.results:
        lines.append(("evented\\n10k users", b.results["c10k"]["late"]))
    with open(b.data / "lateness.dat", "w") as f:
        f.write("# label p50 p99 max\n")
        for label, v in lines:
            f.write('"%s" %s\n' % (label, " ".join(_v(x) for x in v)))
    return plot(b, "lateness", """set title 'Timer lateness (how long after its deadline a sleeper runs)'
set ylabel 'microseconds'
set logscale y
set style data histogram
set style histogram clustered gap 2
set style fill solid 0.6 border -1
set xtics noenhanced
set grid ytics
set key outside right
set xtics font ',9'
set yrange [1:1e6]
set arrow from graph 0, first 200 to graph 1, first 200 nohead dt 2 lc rgb 'red'
set label 'goal: p99 200 us' at graph 0.01, first 230 tc rgb 'red'
plot '%s' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'
""" % (b.data / "lateness.dat"))


def c10k(b):
    c = b.results.get("c10k")
    series = readings.jget(c["series"], "series") if c else None
    if not series:
        return False
    with open(b.data / "c10k-series.dat", "w") as f:
        f.write("# t users rps p99_ms\n")
        for s in series:
            f.write("%s %s %s %s\n" % (s["t"], s["users"], s["rps"], s.get("p99_ms", "nan")))
    pred = c["pred_rps"] if c["pred_rps"] == c["pred_rps"] else 0
    return plot(b, "c10k", """set title '10,000 users on one bin/evented worker, /async_concurrent with 1 s tasks'
set xlabel 'seconds'
set ylabel 'requests per second'
set y2label 'server RSS (MiB)'
set y2tics
set ytics nomirror
set yrange [0:%s]
set y2range [0:*]
set grid
set key outside bottom center horizontal
plot '%s' using 1:3 with linespoints title 'req/s (bin/load)', \\
     %g with lines dt 2 title 'model', \\
     '%s' using 1:($2/1024) axes x1y2 with lines title 'server RSS'
""" % ("%g" % (pred * 1.2) if pred > 0 else "*", b.data / "c10k-series.dat", pred, c["rss"]))


def quick(b):
    from rows.quick import read_table
    ours, peer = read_table(b.data / "quick-ours.dat"), read_table(b.data / "quick-peer.dat")
    if not ours and not peer:
        return False
    nan = (float("nan"),) * 6
    with open(b.data / "quick.dat", "w") as f:
        for c in sorted(set(ours) | set(peer)):
            o, p = ours.get(c, nan), peer.get(c, nan)
            f.write("%s %s %s %s %s\n" % (c, _v(o[2]), _v(p[2]), _v(o[5]), _v(p[5])))
    return plot(b, "quick", """set multiplot layout 1,2 title 'make compare PROFILE=quick against the model'
set style data histogram
set style histogram clustered gap 2
set style fill solid 0.6 border -1
set xtics rotate by -35 noenhanced font ',9'
set key outside top center horizontal
set grid ytics
set title '# reqs / predicted'
set yrange [0:*]
plot '{d}' using 2:xtic(1) title 'ours', '' using 3 title 'FastAPI/uvicorn', 1 with lines dt 2 lc rgb 'black' notitle
set title 'mean latency error vs predicted (%)'
set autoscale y
plot '{d}' using 4:xtic(1) title 'ours', '' using 5 title 'FastAPI/uvicorn', 0 with lines lc rgb 'black' notitle
unset multiplot
""".format(d=b.data / "quick.dat"))


def draw(b):
    return [name for name, f in (("rates", rates), ("lateness", lateness), ("c10k", c10k), ("quick", quick))
            if f(b)]
