#!/usr/bin/python3
"""usage.py - what a run's processes used (CPU, memory, threads), for
compare's scenario.env.

    usage.py proc PID
        the CPU seconds (user + system) process PID has used so far
    usage.py group PGID
        the CPU seconds every process of process group PGID has used so far
    usage.py mem PID
        "RSS_KB THREADS": process PID's resident memory and thread count now
    usage.py snap PID
        "BUSY_S PID_S NOW_S": the machine's busy CPU seconds (all CPUs,
        /proc/stat), PID's CPU seconds and the monotonic clock, now
    usage.py others SNAP0 SNAP1
        "OTHER_CPU_S WINDOW_S" between two snaps (files): the CPU every other
        process used (the load generator included: it shares the cores) and
        the seconds between them
    usage.py sum FILE...
        the sum of the numbers in the files (what `run` wrote for each process)
    usage.py run OUT CMD [ARG...]
        runs CMD, then writes the CPU seconds it and the children it waited
        for used to OUT; exits with CMD's status. SIGTERM and SIGINT reach
        CMD (the process group's signal does) and are otherwise ignored here,
        so the figure is written even when the run is stopped.

Exit: 0 ok, 1 the figure could not be read, 2 bad usage; `run` exits as CMD.
"""

import os
import resource
import signal
import subprocess
import sys
import time


def proc_ticks(pid):
    """(utime, stime) of /proc/PID/stat (fields 14 and 15, after the name), in
    clock ticks: every thread's, the exited ones included."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()  # the name may hold spaces
    return int(fields[11]), int(fields[12])


def proc_cpu_s(pid):
    """utime + stime of /proc/PID/stat, in seconds."""
    return sum(proc_ticks(pid)) / os.sysconf("SC_CLK_TCK")


def cpu_split_s(pids):
    """(user, kernel) CPU seconds of the processes pids, summed (ticks: 10 ms
    steps, fine over seconds); a process gone meanwhile counts 0."""
    user = kernel = 0
    for pid in pids:
        try:
            u, k = proc_ticks(pid)
        except OSError:
            continue
        user += u
        kernel += k
    hz = os.sysconf("SC_CLK_TCK")
    return user / hz, kernel / hz


def group_pids(pgid):
    """Every live process whose process group is pgid."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # the command name (field 2) may hold spaces: split after its ')'
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return sorted(pids)


def group_cpu_s(pgid):
    """utime + stime of every process in the group, its exited threads included
    (clock ticks: 10 ms steps, fine over a run)."""
    return pids_cpu_s(group_pids(pgid))


def pids_cpu_s(pids):
    """group_cpu_s's figure for the processes pids (a process gone counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_s(pid)
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total


def group_cpu_ns(pgid, by_name=None):
    """The CPU time, in nanoseconds, of every live thread of every process in
    the group (/proc/PID/task/TID/schedstat, field 1): exact to the
    nanosecond where ticks are 10 ms apart, for a calibration of half a second. A
    thread that exits between two readings takes its time with it. by_name, a
    dict, also gets each thread name's (comm's) share added to it."""
    return pids_cpu_ns(group_pids(pgid), by_name)


def pids_cpu_ns(pids, by_name=None):
    """group_cpu_ns's figure for the processes pids (a PostgreSQL cluster:
    the postmaster and its backends, no part of the server's group)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    ns = int(f.read().split()[0])
                if by_name is not None:
                    with open(f"/proc/{pid}/task/{tid}/comm") as f:
                        name = f.read().strip()
                    by_name[name] = by_name.get(name, 0) + ns
            except (OSError, ValueError, IndexError):
                continue
            total += ns
    return total


def machine_busy_s():
    """user + nice + system + irq + softirq + steal of all CPUs (proc(5))."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def others(snap0, snap1):
    """CPU used by everything but the process, and the time between."""
    busy0, proc0, t0 = snap0
    busy1, proc1, t1 = snap1
    return max(0.0, (busy1 - busy0) - (proc1 - proc0)), t1 - t0


def read_snap(path):
    with open(path) as f:
        return tuple(float(v) for v in f.read().split())


def mem(pid):
    """VmRSS (kB) and Threads from /proc/PID/status."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["VmRSS"][0]), int(fields["Threads"][0])


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
        if len(argv) == 3 and argv[1] == "group":
            print(f"{group_cpu_s(int(argv[2])):.3f}")
            return 0
        if len(argv) == 3 and argv[1] == "snap":
            print(f"{machine_busy_s():.3f} {proc_cpu_s(int(argv[2])):.3f} {time.monotonic():.3f}")
            return 0
        if len(argv) == 4 and argv[1] == "others":
            print("%.3f %.3f" % others(read_snap(argv[2]), read_snap(argv[3])))
            return 0
        if len(argv) == 3 and argv[1] == "mem":
            print("%d %d" % mem(int(argv[2])))
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
        print(f"usage.py: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
