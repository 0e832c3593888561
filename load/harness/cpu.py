#!/usr/bin/python3
"""cpu.py - the CPU a run's processes used, for compare's scenario.env.

    cpu.py proc PID
        the CPU seconds (user + system) process PID has used so far
    cpu.py per-request CPU0 CPU1 METRICS PATH
        (CPU1 - CPU0) seconds over the requests METRICS (a /metrics scrape)
        counts for route PATH, in ms: the server's CPU per request
    cpu.py sum FILE...
        the sum of the numbers in the files (what `run` wrote for each process)
    cpu.py run OUT CMD [ARG...]
        runs CMD, then writes the CPU seconds it and the children it waited
        for used to OUT; exits with CMD's status. SIGTERM and SIGINT reach
        CMD (the process group's signal does) and are otherwise ignored here,
        so the figure is written even when the run is stopped.

Exit: 0 ok, 1 the figure could not be read, 2 bad usage; `run` exits as CMD.
"""

import os
import re
import resource
import signal
import subprocess
import sys


def proc_cpu_s(pid):
    """utime + stime of /proc/PID/stat (fields 14 and 15, after the name)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def route_requests(metrics_text, path):
    """Requests a server's /metrics counts for one route, every status."""
    pattern = re.compile(r'^\w+_requests_total\{route="' + re.escape(path) +
                         r'",status="[^"]*"\} (\d+)$', re.M)
    return sum(int(n) for n in pattern.findall(metrics_text))


def run(out, argv):
    def ignore(signum, frame):
        pass  # a handler, not SIG_IGN: the child must not inherit "ignored"

    signal.signal(signal.SIGTERM, ignore)
    signal.signal(signal.SIGINT, ignore)
    rc = subprocess.call(argv)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write(f"{used.ru_utime + used.ru_stime:.3f}\n")
    return rc if rc >= 0 else 128 - rc


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "proc":
            print(f"{proc_cpu_s(int(argv[2])):.3f}")
            return 0
        if len(argv) == 6 and argv[1] == "per-request":
            with open(argv[4]) as f:
                n = route_requests(f.read(), argv[5])
            if n == 0:
                print(f"cpu.py: {argv[4]}: no requests for {argv[5]}", file=sys.stderr)
                return 1
            print(f"{(float(argv[3]) - float(argv[2])) * 1e3 / n:.4f}")
            return 0
        if len(argv) >= 3 and argv[1] == "sum":
            total = 0.0
            for name in argv[2:]:
                with open(name) as f:
                    total += float(f.read())
            print(f"{total:.3f}")
            return 0
        if len(argv) >= 4 and argv[1] == "run":
            return run(argv[2], argv[3:])
    except (OSError, ValueError, IndexError) as e:
        print(f"cpu.py: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
