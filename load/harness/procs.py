"""procs: the one owner of every process a harness run starts.

A Procs records each process it starts (servers, load generators, Locust
masters and workers, PostgreSQL, nginx, uvicorn), sends its output to a file
in the run folder, waits for its ready line, and stops it - process group and
all - on every exit path: a normal end, an exception, Ctrl-C (SIGINT) and
SIGTERM. Each process is started in a session of its own (setsid), so a
Ctrl-C in the terminal reaches only the harness, which then stops the others
in order, and stopping a group also stops whatever that process forked.

A process's life is an explicit state (Locust's runners do the same):
started -> ready -> exited | stopped | killed; Proc.state says which.

Use:
    with Procs() as procs:                # SIGINT/SIGTERM raise Interrupted
        srv = procs.start("server", argv, log=run_dir / "server.log")
        m = srv.wait_ready(r"listening on http://\\S+:(\\d+)", timeout=10)
        ...
        procs.stop(srv, grace=1)          # or leave it: the with-block stops it

Interrupted carries the exit status a shell gives (130 for SIGINT, 143 for
SIGTERM), for the entry point to exit with.
"""
import contextlib
import os
import re
import signal
import subprocess
import time


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; .status is 128 + the signal number."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.status = 128 + signum


class NotReady(Exception):
    """A process printed no ready line in time, or exited before it."""


class Proc:
    """One started process: its name, Popen, log path and state."""

    def __init__(self, name, popen, log, grace):
        self.name = name
        self.grace = grace  # seconds between SIGTERM and SIGKILL when stopped
        self.popen = popen
        self.pid = popen.pid  # also its process group id (setsid)
        self.log = log
        self.state = "started"

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def wait_ready(self, pattern, timeout=10.0):
        """Waits for the first match of the regex `pattern` in the log; returns
        the match. NotReady when the process exits first or timeout passes."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(read_text(self.log))
            if m:
                self.state = "ready"
                return m
            if not self.alive():
                raise NotReady("%s exited %s before its ready line" % (self.name, self.returncode()))
            if time.monotonic() >= deadline:
                raise NotReady("%s printed no ready line in %g s" % (self.name, timeout))
            time.sleep(0.05)

    def wait(self, timeout):
        """Waits up to timeout seconds for the process to end by itself;
        returns its exit status, or None while it still runs."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self.state in ("started", "ready"):
            self.state = "exited"
        return rc


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def group_alive(pgid):
    """Whether process group pgid still has a member that is not a zombie (an
    orphan's zombie stays in the group until init reaps it: it runs nothing)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    state, _, pgrp = f.read().rsplit(")", 1)[1].split()[:3]
            except (OSError, IndexError, ValueError):
                continue  # gone since listdir
            if int(pgrp) == pgid and state != "Z":
                return True
    return False


class Procs:
    """Owns processes: start, stop, stop_all; a context manager that stops
    everything on leaving and turns SIGINT/SIGTERM into Interrupted."""

    def __init__(self, env=None):
        self.env = env  # extra variables for every child (e.g. LAB_RUN_DIR)
        self.procs = []
        self._pending = None  # a signal that came while a start was recorded
        self._deferring = False
        self._old = {}

    # -- signals: raise Interrupted, but never between Popen and recording it
    def _on_signal(self, signum, frame):
        if self._deferring:
            self._pending = signum
            return
        raise Interrupted(signum)

    def __enter__(self):
        for s in (signal.SIGINT, signal.SIGTERM):
            self._old[s] = signal.signal(s, self._on_signal)
        return self

    def __exit__(self, *exc):
        self._deferring = True  # a second Ctrl-C must not cut the cleanup short
        try:
            self.stop_all()
        finally:
            self._deferring = False
            for s, h in self._old.items():
                signal.signal(s, h)
        return False

    @contextlib.contextmanager
    def _deferred(self):
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            raise Interrupted(signum)

    def start(self, name, argv, log, env=None, cwd=None, stdout=None, grace=1.0):
        """Starts argv in a new session, stdout and stderr to the file `log`
        (or stdout to the file `stdout` and stderr to `log`); returns its Proc.
        grace: how long it may take to stop (a harness of its own, which stops
        its own processes on SIGTERM, needs seconds)."""
        full_env = dict(os.environ)
        full_env.update(self.env or {})
        full_env.update(env or {})
        with self._deferred():
            errf = open(log, "wb")
            outf = open(stdout, "wb") if stdout else errf
            try:
                p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=outf, stderr=errf, env=full_env, cwd=cwd,
                                     start_new_session=True)
            finally:
                errf.close()
                if outf is not errf:
                    outf.close()
            proc = Proc(name, p, log, grace)
            self.procs.append(proc)
        return proc

    def run(self, name, argv, log, timeout, **kw):
        """Starts argv and waits for it to end; stops it (state "killed") if
        it runs past timeout. Returns its Proc (returncode() for the status)."""
        proc = self.start(name, argv, log, **kw)
        if proc.wait(timeout) is None:
            self.stop(proc)
        else:
            self.forget(proc)
        return proc

    def stop(self, proc, grace=None):
        """SIGTERM to the process group, up to `grace` seconds (default: the
        one it was started with), then SIGKILL; reaps the leader. Returns the
        leader's exit status."""
        grace = proc.grace if grace is None else grace
        if proc.alive() or group_alive(proc.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                proc.popen.poll()
                if not group_alive(proc.pid):
                    break
                time.sleep(0.05)
            if group_alive(proc.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.state = "killed"
            elif proc.state in ("started", "ready"):
                proc.state = "stopped"
        rc = proc.popen.wait()
        self.forget(proc)
        return rc

    def forget(self, proc):
        """Drops a process that ended by itself (its group may still hold
        children: those are stopped too)."""
        if proc in self.procs:
            if group_alive(proc.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            self.procs.remove(proc)

    def stop_all(self):
        """Stops every process still recorded, newest first (a load generator
        before the server it drives), each with its own grace."""
        while self.procs:
            self.stop(self.procs[-1])


def raise_fd_limit():
    """Soft RLIMIT_NOFILE up to the hard one: servers and load generators may
    hold thousands of sockets (sweeps and c10k go to 10,000 users)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
