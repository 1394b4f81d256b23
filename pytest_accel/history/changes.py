"""Change points in one benchmark's series of runs: where its level moved, by how much, how sure.

Measured on this project's shared 2-core machine (``benchmarks/bench_history.py``), a benchmark's level
from run to run is a tight core (about 1%) with rare wild runs (+95%, +124%: a burst of the machine
that lasted the whole bench) and slow drifts of 1-2%. So everything here is robust to single runs:

- A run's level is the log of its median time; a segment's level is the median of its runs' levels.
- Binary segmentation: the split of a stretch of runs that most lowers the sum of absolute deviations
  from the two sides' medians (the step fit of a Laplace model, which an outlier cannot pull), with at
  least ``min_runs`` runs on each side, so one wild run is never a segment of its own.
- A split counts when the difference of the two medians is significant: its standard error comes from
  the spread of the runs around their side's median (the median absolute deviation, which ignores wild
  runs), and the test is Student's t with the few degrees of freedom such a spread has, one-sided at
  ``alpha`` shared by every position tried and every series checked (Bonferroni), in both directions.
- Each side must have ``min_runs`` runs at its own level: two wild runs among three are no level.
- Each side's runs must mostly lie beyond the bulk of the other's (``_separated``): a memory-bound
  benchmark whose runs flip between two levels 20-60% apart while a neighbour loads the machine only
  shifts the share of each level, which the median absolute deviation, blind to the minority level,
  took for a change (1 of 22 unchanged real histories; none with the rule, as many regressions caught).
- A counted split is *reported* only when it is at least ``threshold`` large: drifts of a machine
  are real but not regressions. Adjacent reported changes in the same direction whose likely places
  touch are one change (a creep over several commits), bracketed by the first and last run it spans.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

ALPHA = 0.05  # chance that an unchanged history reports a change anywhere, at most (normal core)
MIN_RUNS = 3  # runs on each side of a change, at least
SCALE_FLOOR = 1e-3  # a series that never moves (a coarse clock) still has 0.1% of noise
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)  # standard error of a median / that of a mean (normal core)
MAD_EFFICIENCY = 1.0  # degrees of freedom per run of the spread (MAD: 0.37 asymptotically; see below)
BRACKET_SCALES = 2.0  # a run within this many noise units of a level is at that level


@dataclass(frozen=True)
class Change:
    """A moved level between runs ``[begin, split)`` and ``[split, end)`` of the series.

    ``first`` and ``last`` bracket where it happened: run ``first - 1`` is the last one surely at the
    old level and run ``last`` the first one surely at the new; a sharp step has ``first == last ==
    split``."""

    split: int
    first: int
    last: int
    begin: int
    end: int
    before: float  # log level before
    after: float  # log level after
    low: float  # family-level confidence interval of after - before (log)
    high: float
    t: float
    p: float  # one-sided p-value of this split (before the multiple-testing correction)

    @property
    def ratio(self) -> float:
        return math.exp(self.after - self.before)

    @property
    def slower(self) -> bool:
        return self.after > self.before


def _l1(values: list[float]) -> float:
    if not values:
        return 0.0
    middle = statistics.median(values)
    return sum(abs(v - middle) for v in values)


def _residuals(part: list[float]) -> list[float]:
    """Deviations from the part's median, less the zero an odd-length part always has."""
    middle = statistics.median(part)
    deviations = sorted(abs(v - middle) for v in part)
    return deviations[1:] if len(part) % 2 else deviations


def noise_scale(parts: list[list[float]]) -> float:
    """The runs' spread around their part's median: 1.4826 x MAD (a normal's sd), wild runs ignored."""
    deviations = [d for part in parts for d in _residuals(part)]
    if not deviations:
        return SCALE_FLOOR
    return max(1.4826 * statistics.median(deviations), SCALE_FLOOR)


@functools.lru_cache(maxsize=4096)
def t_tail(t: float, dof: float) -> float:
    """P(T > t) for Student's t: with x = sqrt(dof) tan(theta), the density is cos(theta)^(dof-1)."""
    steps = 2000
    top = math.pi / 2

    def integral(start: float) -> float:  # Simpson's rule from start to pi/2
        width = (top - start) / steps
        total = math.cos(start) ** (dof - 1) + 0.0
        for i in range(1, steps):
            total += (4 if i % 2 else 2) * math.cos(start + i * width) ** (dof - 1)
        return total * width / 3

    return integral(math.atan(t / math.sqrt(dof))) / (2 * integral(0.0))


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, dof: float) -> float:
    """The t with P(T > t) = p, for small p (bisection on the tail)."""
    low, high = 0.0, 1.0
    while t_tail(high, dof) > p:
        low, high = high, high * 2
        if high > 1e6:
            return math.inf
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if t_tail(middle, dof) > p else (low, middle)
    return high


def _dof(runs: int) -> float:
    return max(1.0, MAD_EFFICIENCY * (runs - 2))


@dataclass(frozen=True)
class _Test:
    difference: float
    standard_error: float
    dof: float

    @property
    def t(self) -> float:
        return self.difference / self.standard_error


def _test(before: list[float], after: list[float]) -> _Test:
    scale = noise_scale([before, after])
    error = MEDIAN_SE_FACTOR * scale * math.sqrt(1 / len(before) + 1 / len(after))
    difference = statistics.median(after) - statistics.median(before)
    return _Test(difference, error, _dof(len(before) + len(after)))


def _consistent(before: list[float], after: list[float]) -> bool:
    """Both sides have ``MIN_RUNS`` runs at their level (within ``BRACKET_SCALES`` noise units of their
    median), the other side's runs aside: two wild runs among three cannot make a level of their own."""
    reach = BRACKET_SCALES * noise_scale([before, after])
    return all(
        sum(abs(v - statistics.median(part)) <= reach for v in part) >= MIN_RUNS for part in (before, after)
    )


SEPARATED = 2 / 3  # share of each side's runs beyond the other side's quartile, at least


def _separated(before: list[float], after: list[float]) -> bool:
    """Most runs of each side lie beyond the bulk of the other: the after side above the before side's
    upper quartile, the before side below the after side's lower quartile (or the mirror for a faster
    change). A benchmark whose runs flip between two levels (a memory-bound one while a neighbour
    loads the machine) only shifts the share of each level, which the median absolute deviation,
    blind to the minority level, would take for a change."""
    if statistics.median(after) < statistics.median(before):
        before, after = [-v for v in before], [-v for v in after]
    high = statistics.quantiles(before, n=4, method="inclusive")[2]
    low = statistics.quantiles(after, n=4, method="inclusive")[0]
    above = sum(v > high for v in after) / len(after)
    below = sum(v < low for v in before) / len(before)
    return above >= SEPARATED and below >= SEPARATED


def _best_split(values: list[float], begin: int, end: int, min_runs: int) -> int:
    costs = {
        k: _l1(values[begin:k]) + _l1(values[k:end]) for k in range(begin + min_runs, end - min_runs + 1)
    }
    return min(costs, key=lambda k: (costs[k], k))


def _positions(runs: int, min_runs: int) -> int:
    return max(1, runs - 2 * min_runs + 1)


def _critical(runs: int, min_runs: int, alpha: float, family: int) -> float:
    """The |t| a split of ``runs`` runs must reach: two-sided, Bonferroni over positions and series."""
    share = alpha / (2 * _positions(runs, min_runs) * max(1, family))
    return t_quantile(share, _dof(runs))


def _segment(values: list[float], min_runs: int, alpha: float, family: int) -> list[int]:
    """Splits of the series that are significant, by binary segmentation, in order."""
    splits: list[int] = []
    stretches = [(0, len(values))]
    while stretches:
        begin, end = stretches.pop()
        if end - begin < 2 * min_runs:
            continue
        k = _best_split(values, begin, end, min_runs)
        test = _test(values[begin:k], values[k:end])
        if abs(test.t) < _critical(end - begin, min_runs, alpha, family):
            continue
        if not (_consistent(values[begin:k], values[k:end]) and _separated(values[begin:k], values[k:end])):
            continue
        splits.append(k)
        stretches += [(begin, k), (k, end)]
    return sorted(splits)


def _bracket(values: list[float], begin: int, split: int, end: int) -> tuple[int, int]:
    """Where the level moved: after the last run before the split still at the old level, up to the
    first run at the new one (within ``BRACKET_SCALES`` noise units of it). A sharp step gives one run,
    a creep all the runs it took, a wild run next to the step one more. Found twice: the second time
    with the levels and the noise of the runs outside the first bracket, which a creep no longer blurs."""
    first, last = split, split
    for _ in range(2):
        before, after = values[begin:first] or values[begin:split], values[last:end] or values[split:end]
        old, new = statistics.median(before), statistics.median(after)
        reach = BRACKET_SCALES * noise_scale([before, after])
        first = next((i + 1 for i in range(split - 1, begin - 1, -1) if abs(values[i] - old) <= reach), begin)
        last = max(first, next((i for i in range(first, end) if abs(values[i] - new) <= reach), split))
    return first, last


def _change(
    values: list[float], begin: int, split: int, end: int, min_runs: int, alpha: float, family: int
) -> Change:
    before, after = values[begin:split], values[split:end]
    test = _test(before, after)
    critical = _critical(end - begin, min_runs, alpha, family)
    levels = (statistics.median(before), statistics.median(after))
    first, last = _bracket(values, begin, split, end)
    p = t_tail(abs(test.t), test.dof)
    return Change(
        split=split,
        first=first,
        last=last,
        begin=begin,
        end=end,
        before=levels[0],
        after=levels[1],
        low=test.difference - critical * test.standard_error,
        high=test.difference + critical * test.standard_error,
        t=test.t,
        p=p,
    )


def find_changes(
    values: list[float],
    threshold: float,
    family: int = 1,
    alpha: float = ALPHA,
    min_runs: int = MIN_RUNS,
) -> list[Change]:
    """Changes of at least ``threshold`` (a fraction: 0.05 for 5%) in a series of log levels, oldest
    first; ``family`` is how many series are checked together (for the Bonferroni share of ``alpha``)."""
    splits = _segment(values, min_runs, alpha, family)
    bounds = [0, *splits, len(values)]
    least = math.log1p(threshold)
    changes = []
    for index, split in enumerate(splits):
        change = _change(values, bounds[index], split, bounds[index + 2], min_runs, alpha, family)
        significant = change.low > 0 or change.high < 0
        consistent = _consistent(values[change.begin : split], values[split : change.end])
        if significant and consistent and abs(change.after - change.before) >= least:
            changes.append(change)
    return _merged(values, changes, min_runs, alpha, family)


def _merged(
    values: list[float], changes: list[Change], min_runs: int, alpha: float, family: int
) -> list[Change]:
    """A creep over several commits is one change: same direction, likely places touching."""
    merged: list[Change] = []
    for change in changes:
        previous = merged[-1] if merged else None
        if previous is not None and previous.slower == change.slower and change.first <= previous.last + 1:
            whole = _change(values, previous.begin, change.split, change.end, min_runs, alpha, family)
            merged[-1] = Change(
                **{**vars(whole), "split": previous.split, "first": previous.first, "last": change.last}
            )
            continue
        merged.append(change)
    return merged
