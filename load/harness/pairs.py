"""pairs: the bench's method. Things compared are measured alternately (A B,
then B A, ...) so that a drift of the shared machine lands on both; each
pair's figures are kept as a .dat file (data first: a table or chart is
drawn from it, and can be redrawn without rerunning)."""
from stats import ratio, summary


def alternate(n, runs, log=None):
    """Runs each (name, fn) of `runs` once per pair, fn(pair) returning a
    figure; odd pairs in order, even pairs in reverse. Returns one dict
    {name: figure} per pair."""
    out = []
    for i in range(1, n + 1):
        got = {}
        for name, fn in (runs if i % 2 else list(reversed(runs))):
            got[name] = fn(i)
        out.append(got)
        if log:
            log("  pair %d: %s" % (i, "  ".join("%s %s" % (k, _show(got[k])) for k, _ in runs)))
    return out


def _show(x):
    return "?" if x != x else "%g" % x  # NaN != NaN


class Pairs:
    """Pairs of figures A and B with their ratio A/B: rows (pair, a, b, a/b)."""

    def __init__(self, name_a, name_b, rows):
        self.names = (name_a, name_b)
        self.rows = [(i, a, b, ratio(a, b)) for i, a, b in rows]

    @classmethod
    def of(cls, measured, name_a, name_b):
        """From alternate()'s output, two of its names."""
        return cls(name_a, name_b, [(i, m[name_a], m[name_b]) for i, m in enumerate(measured, 1)])

    def column(self, k):
        return [r[k] for r in self.rows]

    def a(self):
        """(median, min, max) of A."""
        return summary(self.column(1))

    def b(self):
        return summary(self.column(2))

    def ratio(self):
        """(median, min, max) of A/B."""
        return summary(self.column(3))

    def save(self, path):
        with open(path, "w") as f:
            f.write("# pair %s %s ratio\n" % self.names)
            for i, a, b, r in self.rows:
                f.write("%d %s %s %s\n" % (i, _dat(a), _dat(b), "%.3f" % r if r == r else "nan"))
        return self


def _dat(x):
    return "nan" if x != x else "%g" % x
