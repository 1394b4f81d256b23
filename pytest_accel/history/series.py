"""The history as series: one per benchmark and machine kind, oldest run first, with its change points.

What ``history check`` judges and ``history show`` draws; both read it from here.
"""

from __future__ import annotations

import math
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
    """A change point of a series, and whether it is a regression that fails ``check``."""

    series: Series
    change: Change
    alarm: bool


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


def judge(series: list[Series], threshold: float, last: int) -> list[Finding]:
    """Change points of every series of at least 2 x MIN_RUNS runs, the significance level shared by
    all of them; a regression of at least ``threshold`` whose new level began in the last ``last`` runs
    is an alarm."""
    family = sum(1 for one in series if one.judged)
    findings = []
    for one in series:
        if not one.judged:
            continue
        one.changes = find_changes(one.levels, threshold, family=family)
        recent = len(one.points) - last
        for change in one.changes:
            alarm = change.slower and change.last >= recent
            findings.append(Finding(one, change, alarm))
    return findings
