"""table: the bench's findings as data (rows, notes, reasons), and their one
Markdown rendering, printed and written into BENCH.md from the same rows. The
cell formats live here too, so a figure reads the same wherever it appears.
"""
import math

from stats import meets, meets_bucket, num

HEAD = ("| what | ours (median) | compared with (median) | ratio, median (min–max) | goal | met |\n"
        "|---|---|---|---|---|---|\n")


def rate(x):
    """A rate or count, whole: "12346"; "n/a" when unknown."""
    x = num(x)
    return "n/a" if math.isnan(x) else "%.0f" % x


def fixed(x, digits=1):
    """A figure with `digits` decimals ("nan" when unknown, as printf)."""
    return "%.*f" % (digits, num(x))


def ratio(x):
    """A ratio with three decimals."""
    return "%.3f" % num(x)


def g(x):
    """A median as a sentence quotes it (six significant digits, "%g")."""
    return "%g" % num(x)


def ratio_cell(med, lo, hi):
    """"median (min–max)" of a ratio, two decimals each."""
    return "%.2f (%.2f–%.2f)" % (num(med), num(lo), num(hi))


def us(x):
    """Microseconds as a histogram reading shows them ("inf" past the last
    bucket)."""
    x = num(x)
    return "inf" if math.isinf(x) else "%.1f" % x


def met(x, goal, op):
    """The table's "met" cell for x against `op goal`."""
    ok = meets(x, goal, op)
    return "n/a" if ok is None else "yes" if ok else "**no**"


def met_bucket(x, lo, hi, goal):
    """The "met" cell for a histogram quantile in bucket (lo, hi]."""
    ok, certain = meets_bucket(x, lo, hi, goal)
    if ok is None:
        return "n/a"
    cell = "yes" if ok else "**no**"
    return cell if certain else cell + " (interpolated)"


class Findings:
    """What the rows found: table rows, notes, reasons for missed goals and
    the rates the chart draws; rendered once, by markdown()."""

    def __init__(self):
        self.rows, self.notes, self.why, self.rates = [], [], [], []

    def row(self, what, ours, theirs, ratio_cell_, goal, met_cell):
        self.rows.append((what, ours, theirs, ratio_cell_, goal, met_cell))

    def note(self, *words):
        self.notes.append(" ".join(words))

    def reason(self, *words):
        self.why.append(" ".join(words))

    def rate_pair(self, label, ours, theirs):
        """For the rates chart: (median, min, max) of each side."""
        self.rates.append((label, ours, theirs))

    def table(self):
        return HEAD + "".join("| %s | %s | %s | %s | %s | %s |\n" % r for r in self.rows)
