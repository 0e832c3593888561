"""rows: the bench's rows, each a unit that runs alone. A row module has
    NAME    its name for ROWS= (e.g. "timer")      NUMBER  its place in BENCH.md
    NEEDS   programs it needs (missing: the row is skipped, with a note)
    TOOLS   commands it needs installed            SHARES  shared servers it uses
    run(b)  measures and adds its rows, notes and reasons to b.findings
and optionally finish(b), run once after the last selected row that has it
(the quick profile's rows, drawn from rows 7 and 8). Adding a row is a module here and
a line in ALL.
"""
from . import (blocking_vs_evented, c10k, evented_io, evented_vs_nginx, load_vs_locust, load_vs_wrk,
               locust_worker, postgres, quick, quick_fastapi, thread_cost, timer)

ALL = [load_vs_wrk, load_vs_locust, evented_vs_nginx, blocking_vs_evented, timer, c10k, quick,
       quick_fastapi, locust_worker, thread_cost, evented_io, postgres]


def select(spec):
    """The rows named (or numbered) in spec, comma- or space-separated, in
    ALL's order; every row when spec is empty. ValueError names an unknown."""
    words = spec.replace(",", " ").split()
    if not words:
        return list(ALL)
    by = {r.NAME: r for r in ALL}
    by.update({str(r.NUMBER): r for r in ALL})
    for w in words:
        if w not in by:
            raise ValueError("no row '%s' (rows: %s)" % (w, ", ".join(r.NAME for r in ALL)))
    wanted = {by[w] for w in words}
    return [r for r in ALL if r in wanted]


def finish_after(row, still_to_run, b):
    """Runs row's finish(b) when no row still to run shares it, so a finish
    drawn from several rows (7 and 8) comes right after the last of them."""
    f = getattr(row, "finish", None)
    if f and not any(getattr(r, "finish", None) is f for r in still_to_run):
        f(b)
