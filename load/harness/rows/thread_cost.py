"""Row 10: what a thread costs - both servers holding 10,000 users, one
connection each: bin/blocking with a thread per user (the sync world taken
to the C10K question) beside bin/evented's two loops, on the same route
shape (three 1 s waits, users thinking 0-WAIT s so their requests spread
over the second).

Memory is the server's resident set (VmRSS, its peak VmHWM) from /proc: what
the threads' stacks and the connections' buffers touched, not what they
reserved (a thread reserves 8 MiB of stack address space and touches a few
pages). Per user is (peak - idle with the threads it started for 80 users) /
users, so the blocking server's figure holds both its extra threads and its
connections. Kernel memory (socket buffers, thread kernel stacks) is not in
RSS: /proc/meminfo's Slab and KernelStack grow with them, read before and
after, and shown.
"""
import math
import re
import threading
import time

import readings
import servers
import stats
import table
import usage

NAME, NUMBER = "thread-cost", 10
NEEDS, TOOLS = ("bin/load", "bin/blocking", "bin/evented"), ()
USERS, SPAWN, WAIT, SECS, TASK_MS, BASE_THREADS = 10000, 2000, 0.2, 14, 1000, 80


def kernel_kb():
    """Slab + KernelStack (KiB) from /proc/meminfo: the kernel's share."""
    text = readings.text("/proc/meminfo")
    total = 0
    for key in ("Slab", "KernelStack"):
        m = re.search(r"^%s:\s+(\d+)" % key, text, re.M)
        total += int(m.group(1)) if m else 0
    return total


def idle_kb(b, name, argv, tag):
    """A server started and left idle for a second: its VmRSS (KiB)."""
    p, _ = servers.ours(b, name, argv, b.data / ("r10-%s-idle.log" % tag))
    time.sleep(1)
    kb = readings.rss_kb(p.pid)
    b.procs.stop(p)
    return kb


def loaded(b, name, argv, cls, tag):
    """The server under USERS users: (peak KiB, threads at the peak, kernel
    KiB grown, requests, failures)."""
    k0 = kernel_kb()  # before the server starts its threads (their kernel stacks)
    p, host = servers.ours(b, name, argv, b.data / ("r10-%s.log" % tag))
    peak_threads, done = [0], threading.Event()

    def sample():  # the thread count while loaded; VmHWM keeps the memory peak
        while not done.wait(0.5) and p.alive():
            try:
                peak_threads[0] = max(peak_threads[0], usage.mem(p.pid)[1])
            except (OSError, ValueError, KeyError):
                break  # the server is gone: its peak is what was seen

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        js = b.data / ("r10-%s.json" % tag)
        b.procs.run("bin/load", b.cli + ["bin/load", "--headless", "-u", USERS, "-r", SPAWN, "-t", "%ds" % SECS,
                                         "--wait-time", "0-%s" % WAIT, "--threads", "1", "-H", host,
                                         "--json", js, cls],
                    log=b.data / ("r10-%s.console.txt" % tag), stdout="/dev/null", timeout=SECS + 60)
        peak, k1 = readings.rss_kb(p.pid, "VmHWM"), kernel_kb()
    finally:
        done.set()
        sampler.join()
        b.procs.stop(p, grace=2)
    return peak, peak_threads[0], k1 - k0, readings.jget(js, "requests"), readings.jget(js, "failures")


def run(b):
    f = b.findings
    b.log("row 10: what a thread costs, %d users on each server, %d ms tasks, %ds" % (USERS, TASK_MS, SECS))
    task = ["--task-ms", str(TASK_MS)]
    worlds = (
        ("bin/blocking", "a thread per user", "SyncBaselineUser", "blocking",
         ["bin/blocking", "--listen", "127.0.0.1:0"] + task, ["--threads", str(USERS)],
         ["--threads", str(BASE_THREADS)]),
        ("bin/evented", "2 loops", "AsyncIndependentUser", "evented",
         ["bin/evented", "--listen", "127.0.0.1:0", "--max-conns", str(2 * USERS)] + task, [], []),
    )
    per_user = {}
    for name, how, cls, tag, argv, load_flags, idle_flags in worlds:
        idle = idle_kb(b, name, argv + idle_flags, tag)
        try:
            peak, nthreads, kernel, reqs, fails = loaded(b, name, argv + load_flags, cls, tag)
        except Exception as e:  # a server that cannot start 10,000 threads: say where it stopped
            f.row("%s, %s: %d users" % (name, how, USERS), "did not run: %s" % e, "", "", "shown", "—")
            continue
        per_user[tag] = (peak - idle) / USERS
        f.row("%s, %s, %d users on `%s`: resident memory per user ((peak − idle) / users)" % (
                  name, how, USERS, cls),
              "**%.1f KiB** (peak %.0f MiB, %d threads)" % (per_user[tag], peak / 1024, nthreads),
              "idle %.1f MiB; kernel +%.0f MiB; %s reqs, %s failed" % (idle / 1024, kernel / 1024, reqs, fails),
              "", "shown", "—")
    r = stats.ratio(per_user.get("blocking"), per_user.get("evented"))
    f.row("… memory per user, a thread per user / an event loop's connection", "", "",
          table.ratio(r) if math.isnan(r) else "%.0f×" % r, "shown", "—")
    f.note("- Row 10: idle is each server started for %d threads (blocking) or its default loops, left for a" % BASE_THREADS,
           "second; peak is VmHWM after %d users held a connection each for %d s. A thread's stack reserves" % (USERS, SECS),
           "8 MiB of address space but only the pages it touches are resident; its kernel stack (16 KiB) and",
           "the sockets' buffers are kernel memory, outside RSS: the kernel column is /proc/meminfo's Slab +",
           "KernelStack growth from before the server started to the end of the load (machine-wide: the",
           "client's sockets and other processes move it too).")
