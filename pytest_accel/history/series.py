"""The history as series: one per benchmark and machine kind, oldest run first, with its change points.

What ``history check`` judges and ``history show`` draws; both read it from here.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from pytest_accel.history.changes import MIN_RUNS, Change, find_changes
from pytest_accel.history.store import BenchPoint, HistoryStore

SeriesKey = tuple[str, str, str, str, str, str]  # test, framework, device, dtype, bench, machine kind


@dataclass
class Series:
    key: SeriesKey
    points: list[BenchPoint]
    changes: list[Change] = field(default_factory=list)

    @property
    def label(self) -> str:
        test, framework, device, dtype, bench, _ = self.key
        own = "" if test.endswith(f"::test_{bench}") or test.endswith(f"::{bench}") else f" {bench}"
        return f"{test}[{framework}-{device}-{dtype}]{own}"

    @property
    def kind(self) -> str:
        return self.key[5]

    @property
    def levels(self) -> list[float]:
        return [math.log(point.entry.median_s) for point in self.points]

    @property
    def judged(self) -> bool:
        return len(self.points) >= 2 * MIN_RUNS

    def commit(self, index: int) -> str:
        """A run's short commit (or its number in the history, when it was recorded without one)."""
        run = self.points[index].run
        return run.commit[:10] if run.commit else f"run {run.id}"


@dataclass(frozen=True)
class Finding:
    """A change point of a series, and whether it is a regression that fails ``check``.

    ``machine``: most benchmarks of its machine kind moved the same way between the same runs, so the
    machine (its load, its clock, a new image) moved, not this benchmark's code; reported, not failed.
    ``pending``: a recent regression with fewer than ``confirm`` runs at its new level yet; reported,
    fails once they are there."""

    series: Series
    change: Change
    alarm: bool
    machine: bool = False
    pending: bool = False

    @property
    def confirmed_runs(self) -> int:
        """Runs at the new level so far (up to the next change)."""
        return self.change.end - self.change.last


MACHINE_SHARE = 0.5  # more than this share of a kind's series moving together: "the machine moved"
MACHINE_MIN_SERIES = 3  # a kind needs this many judged series before its moves can be told apart
# Runs at a regression's new level before it fails check. Measured on 16 unchanged real histories of this
# shared machine (benchmarks/bench_history.py): 3 runs let 3 of them fail (memory-bound benchmarks that a
# neighbour's load slowed 40-60% for 3-4 runs), 4 runs 2, 5 runs 1; 10% steps were caught as often.
CONFIRM_RUNS = 5


def load_series(store: HistoryStore, branch: str | None) -> list[Series]:
    """Every benchmark's series on ``branch``: passed items only (a failed one's timing means little)."""
    grouped: dict[SeriesKey, list[BenchPoint]] = {}
    for point in store.points(branch):
        entry = point.entry
        if entry.outcome != "passed":
            continue
        key = (entry.test, entry.framework, entry.device, entry.dtype, entry.bench, entry.kind)
        grouped.setdefault(key, []).append(point)
    return [Series(key, points) for key, points in sorted(grouped.items())]


def _when(point: BenchPoint) -> str:
    """What makes points of two series the same moment: their commit (CI shards of one commit are runs
    of their own), else their run."""
    return point.run.commit or f"run {point.run.id}"


def _moved(one: Series, before: set[str], after: set[str]) -> float | None:
    """The change of a series' median log level from the moments ``before`` to those ``after``
    (``_when``), None when it lacks runs on either side."""
    old = [math.log(p.entry.median_s) for p in one.points if _when(p) in before]
    new = [math.log(p.entry.median_s) for p in one.points if _when(p) in after]
    if not old or not new:
        return None
    return statistics.median(new) - statistics.median(old)


def machine_moved(one: Series, change: Change, kind: list[Series], threshold: float) -> bool:
    """Whether more than half of the machine kind's judged series (at least ``MACHINE_MIN_SERIES``)
    moved by ``threshold`` or more in the change's direction between the same runs: a loaded or throttled
    machine slows every benchmark at once, a change of code one or a few (a change that slows most
    benchmarks alike looks the same, and is reported as the machine's)."""
    if len(kind) < MACHINE_MIN_SERIES:
        return False
    before = {_when(p) for p in one.points[change.begin : change.first]}
    after = {_when(p) for p in one.points[change.last : change.end]}
    least = math.log1p(threshold)
    moved = [_moved(other, before, after) for other in kind]
    together = sum(m is not None and (m >= least if change.slower else m <= -least) for m in moved)
    return together > MACHINE_SHARE * len(kind) and together >= MACHINE_MIN_SERIES


def judge(
    series: list[Series],
    threshold: float,
    last: int,
    machine_guard: bool = True,
    confirm: int = CONFIRM_RUNS,
) -> list[Finding]:
    """Change points of every series of at least 2 x MIN_RUNS runs, the significance level shared by
    all of them; a regression of at least ``threshold`` whose new level began in the last ``last`` runs
    is an alarm once ``confirm`` runs are at its new level (pending before), unless the machine moved
    (``machine_moved``; ``machine_guard`` False: never asked)."""
    judged = [one for one in series if one.judged]
    kinds: dict[str, list[Series]] = {}
    for one in judged:
        kinds.setdefault(one.kind, []).append(one)
    findings = []
    for one in judged:
        one.changes = find_changes(one.levels, threshold, family=len(judged))
        recent = len(one.points) - last
        for change in one.changes:
            machine = machine_guard and machine_moved(one, change, kinds[one.kind], threshold)
            regression = change.slower and change.last >= recent and not machine
            confirmed = change.end - change.last >= confirm
            findings.append(
                Finding(one, change, regression and confirmed, machine, regression and not confirmed)
            )
    return findings
