"""scenarios: the route table as the harness sees it, from `bin/load --routes`
(CLASS PATH WORLD PLAN TASKS CPU, tab-separated): the one definition is
shared/routes.c; nothing here repeats it."""
import subprocess
from collections import namedtuple

Route = namedtuple("Route", "cls path world plan tasks cpu", defaults=("none",))


def routes(bin_dir):
    """Every route, in the table's order. OSError/CalledProcessError when
    bin/load cannot list them."""
    out = subprocess.run([str(bin_dir) + "/load", "--routes"], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    table = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 5 and f[0]:
            table.append(Route(f[0], f[1], f[2], f[3], int(f[4]), *f[5:6]))
    return table


def select(table, wanted):
    """The routes whose class is in `wanted` (comma-separated, "" = all), in
    the table's order; ValueError naming a class no route has."""
    if not wanted:
        return list(table)
    asked = [a for a in wanted.split(",") if a]
    known = {r.cls for r in table}
    for a in asked:
        if a not in known:
            raise ValueError("SCENARIOS: no route has user class '%s' (bin/load --routes lists them)" % a)
    return [r for r in table if r.cls in asked]


class Scenario(namedtuple("Scenario", "route users")):
    """One run of a route at a user count (a sweep runs each route at several)."""

    cls = property(lambda self: self.route.cls)
    path = property(lambda self: self.route.path)
    world = property(lambda self: self.route.world)
