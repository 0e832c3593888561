"""shares: which worker of a server holds how many of the users, read off the
running server: a user keeps its kept-alive connection, so it stays on the worker
that accepted it for the whole run, and the model needs each worker's share
(SPLIT). Processes (uvicorn's workers) from /proc; the event loops of one process
(bin/evented's workers, threads /proc cannot tell apart) from its /metrics.
Python 3 standard library only; Linux /proc.
"""
import os

from usage import group_pids


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def workers(pgid):
    """uvicorn --workers N: the processes multiprocessing spawned to serve (not the
    supervisor, not multiprocessing's resource tracker); a server of one process
    (bin/blocking, bin/evented) is its own worker."""
    pids = group_pids(pgid)
    spawned = [p for p in pids if "spawn_main" in cmdline(p)]
    return spawned or [p for p in pids if p == pgid] or pids


def socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def established_on_port(port):
    """Inodes of the established TCP sockets whose local port is port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local, state, inode = cols[1], cols[3], cols[9]
                    if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                        found.add(inode)
        except OSError:
            continue
    return found


def connections(port, pids):
    est = established_on_port(port)
    # A socket shared by two processes (inherited) counts for the lower pid only:
    # a connection is served by one worker.
    seen, counts = set(), []
    for pid in pids:
        mine = (socket_inodes(pid) & est) - seen
        seen |= mine
        counts.append(len(mine))
    return counts


def loop_connections(metrics_text):
    """Each event loop's open connections, in worker order, from bin/evented's
    /metrics text (evented_worker_connections_open{worker="i"}): its loops are
    threads of one process, which /proc cannot tell apart. [] when the series
    is absent (an older server, or a server without loops)."""
    found = {}
    prefix = 'evented_worker_connections_open{worker="'
    for line in metrics_text.splitlines():
        if line.startswith(prefix):
            worker, _, value = line[len(prefix):].partition('"} ')
            found[int(worker)] = int(value)
    return [found[w] for w in sorted(found)]


def scaled_split(users, counts):
    """The measured connections as users per process, summing to users (largest
    remainder), for the model: a reconnect or a late spawn can leave them off by few."""
    total = sum(counts)
    if total == 0:
        return None
    exact = [c * users / total for c in counts]
    split = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda k: exact[k] - split[k], reverse=True)
    for k in by_remainder[: users - sum(split)]:
        split[k] += 1
    return split
