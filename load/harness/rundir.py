"""rundir: run folders and their KEY=VALUE files (run.env, scenario.env).

A run folder is RUNS_DIR/<UTC timestamp>[-N], never an earlier run's;
RUNS_DIR/latest points at the newest. bin/report reads the folder: run.env
for the run, NN-NAME/scenario.env for each scenario (keys in docs/LAB.md and
the shared contract: CLASS, PATH, WORLD, USERS, ... BACKEND, TARGET, ...).
"""
import os
import platform
import subprocess
import time
from pathlib import Path


def create(runs_dir, stamp_format="%Y%m%d-%H%M%S"):
    """Creates RUNS_DIR/<stamp> (a -N suffix when taken), points latest at
    it, returns its Path. OSError when it cannot."""
    runs = Path(runs_dir)
    runs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime(stamp_format, time.gmtime())
    for n in range(1, 100):
        name = stamp if n == 1 else "%s-%d" % (stamp, n)
        try:
            (runs / name).mkdir()
        except FileExistsError:
            continue
        link = runs / "latest"
        tmp = runs / (".latest.%d" % os.getpid())
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(name)
        tmp.replace(link)  # atomic, as ln -sfn
        return runs / name
    raise OSError("cannot create a run folder under %s" % runs)


def write_env(path, items):
    """Writes KEY=VALUE lines, in the order given (a dict or pairs); a None
    value leaves its key out."""
    pairs = items.items() if isinstance(items, dict) else items
    with open(path, "w") as f:
        for k, v in pairs:
            if v is not None:
                f.write("%s=%s\n" % (k, v))


def append_env(path, items):
    """Appends KEY=VALUE lines (a later line of a key wins for bin/report)."""
    pairs = items.items() if isinstance(items, dict) else items
    with open(path, "a") as f:
        for k, v in pairs:
            if v is not None:
                f.write("%s=%s\n" % (k, v))


def read_env(path):
    """KEY=VALUE lines into a dict (the first of a repeated key wins)."""
    env = {}
    with open(path) as f:
        for line in f:
            k, sep, v = line.rstrip("\n").partition("=")
            if sep and k not in env:
                env[k] = v
    return env


def machine_env(profile, load, extra=None):
    """run.env's keys: what made the run (pyperf's habit: every result
    carries the metadata of the machine and run that made it)."""
    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        git = "unknown"
    items = [("PROFILE", profile), ("LOAD", load)]
    items += list((extra or {}).items())
    items += [("CPUS", os.cpu_count()), ("KERNEL", platform.release()),
              ("STARTED", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())), ("GIT", git)]
    return items
