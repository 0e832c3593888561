"""Row 8: the quick profile against the FastAPI peer (load/peers/app.py on
Debian's uvicorn, 2 workers), through the same compare and the same model:
load/harness/bench/peer_server.sh wears our servers' command-line face, so compare
runs it unchanged as both bin/blocking and bin/evented."""
import os
import subprocess
import tempfile

from rows import quick

NAME, NUMBER = "quick-fastapi", 8
NEEDS, TOOLS = ("bin/load", "bin/report"), ("uvicorn",)
finish = quick.finish


def quick_flags():
    """The quick profile's values as compare flags (reports/profiles.mk)."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "profile-env", "PROFILE=quick"],
                         capture_output=True, text=True, check=True).stdout
    env = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    flags = []
    for key in ("USERS", "SPAWN_RATE", "RUN_TIME", "TASK_MS", "THREADS", "WORKERS"):
        flags += ["--" + key.lower().replace("_", "-"), env[key]]
    return flags


def run(b):
    b.log("row 8: the quick profile against the FastAPI peer (uvicorn, 2 workers)")
    with tempfile.TemporaryDirectory(prefix="bench-peerbin.") as peerbin:
        for name, target in (("blocking", "load/harness/bench/peer_server.sh"), ("evented", "load/harness/bench/peer_server.sh"),
                             ("load", "bin/load"), ("report", "bin/report")):
            os.symlink(os.path.abspath(target), os.path.join(peerbin, name))
        quick.compare(b, NAME, "peer", "compare.py against the peer",
                      ["load/harness/compare.py", "--profile", "quick-fastapi"] + quick_flags()
                      + ["--bin", peerbin, "--runs-dir", b.out / "peer-runs"], b.out / "peer-runs")
