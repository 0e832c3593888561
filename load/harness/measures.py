"""measures: what a scenario records beside the load generator's own files.
A measure is an object with any of these methods, each given the scenario's
context (ctx: dir, scenario, opt, server and load Procs, host, metrics_url,
env):
    begin(ctx)   the server is ready; the load is about to start
    loaded(ctx)  a second before the load's end, while the server is loaded
    end(ctx)     the load has ended; the server still runs
A measure writes its files into ctx.dir and its figures as scenario.env keys
into ctx.env (appended to scenario.env once the scenario has run). Adding a
measure (server CPU per request, the generator's CPU, memory, the split of
users over worker processes) is one class and one line in MEASURES.
"""
import urllib.request


class Metrics:
    """The server's /metrics, scraped while loaded, into metrics.txt (a failed
    scrape leaves a comment saying why; a target without /metrics, none)."""

    def loaded(self, ctx):
        path = ctx.dir / "metrics.txt"
        if not ctx.metrics_url:
            path.write_text("# this target has no /metrics\n")
            return
        try:
            # The blocking mistake answers only when a loop wakes up: bounded.
            with urllib.request.urlopen(ctx.metrics_url, timeout=5) as r:
                path.write_bytes(r.read())
        except OSError as e:
            path.write_text("# scrape of %s failed: %s\n" % (ctx.metrics_url, e))


MEASURES = [Metrics()]


def call(hook, ctx):
    """Runs every measure's `hook` (begin, loaded or end) that it has."""
    for m in MEASURES:
        f = getattr(m, hook, None)
        if f:
            f(ctx)
