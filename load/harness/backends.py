"""backends: what the servers' tasks wait on. A backend is started once per
run, under the run's Procs (so it is stopped on every exit path with the
rest); then, per scenario, it names the flags the server gets and the keys
scenario.env records. `sleep` (the servers' timers) needs nothing. Adding a
backend (a throwaway PostgreSQL cluster: start it, size each server's pool
by the scenario) is one class and one line in BACKENDS.
"""


class Sleep:
    """The default: each task is a timer or a nanosleep inside the server."""

    def start(self, procs, run_dir, opt):
        pass

    def flags(self, sc, opt):
        """Extra server flags for scenario sc."""
        return []

    def env(self, sc, opt):
        """scenario.env keys for scenario sc."""
        return {}


BACKENDS = {"sleep": Sleep}
