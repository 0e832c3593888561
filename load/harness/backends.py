"""backends: what the servers' tasks wait on. A backend is started once per
run, under the run's Procs (so it is stopped on every exit path with the
rest), and answers with the flags every server gets and the keys every
scenario.env records. `sleep` (the servers' timers) needs nothing. Adding a
backend (a throwaway PostgreSQL cluster, say) is one class and one line in
BACKENDS.
"""
from collections import namedtuple

Started = namedtuple("Started", "server_args env")


class Sleep:
    """The default: each task is a timer or a nanosleep inside the server."""

    def start(self, procs, run_dir, opt):
        return Started([], {})


BACKENDS = {"sleep": Sleep}
