"""The history as text: each benchmark's trend in one row, and the change points with their commits."""

from __future__ import annotations

import math

from tabulate import tabulate

from pytest_accel.history.changes import MIN_RUNS, Change
from pytest_accel.history.series import Finding, Series

SPARKS = "▁▂▃▄▅▆▇█"


def seconds(value: float) -> str:
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def percent(ratio: float) -> str:
    return f"{100 * (ratio - 1):+.1f}%"


def sparkline(values: list[float]) -> str:
    """One character per run, from its lowest time to its highest: the shape of the trend."""
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(7, int(8 * (v - low) / (high - low)))] for v in values)


def where(series: Series, change: Change) -> str:
    """The commits that bracket a change: the last run at the old level, the first at the new."""
    last_old = series.commit(change.first - 1) if change.first > 0 else "(start)"
    first_new = series.commit(change.last)
    span = change.last - change.first + 1
    runs = "1 run" if span == 1 else f"{span} runs"
    return f"{last_old}..{first_new} ({runs})"


def describe(finding: Finding) -> list[str]:
    change, series = finding.change, finding.series
    direction = "slower" if change.slower else "faster"
    if finding.machine:
        direction += " (machine moved)"
    elif finding.pending:
        direction += f" (pending: {finding.confirmed_runs} runs at it)"
    return [
        series.label,
        series.kind,
        f"{percent(change.ratio)} {direction}",
        f"[{percent(math.exp(change.low))}, {percent(math.exp(change.high))}]",
        where(series, change),
        f"{change.split - change.begin} / {change.end - change.split}",
    ]


CHANGE_HEADERS = ["benchmark", "machine", "change", "interval", "between commits", "runs before / after"]


def change_table(findings: list[Finding]) -> str:
    return tabulate([describe(f) for f in findings], headers=CHANGE_HEADERS, disable_numparse=True)


def trend_table(series: list[Series], last: int) -> str:
    """Per benchmark: its runs, the latest level against the window's first, the trend, its changes."""
    rows = []
    for one in series:
        points = one.points[-last:]
        medians = [p.entry.median_s for p in points]
        changes = ", ".join(f"{percent(c.ratio)} at {one.commit(c.last)}" for c in one.changes)
        if not one.judged:
            changes = f"too short to judge ({len(one.points)} runs, needs {2 * MIN_RUNS})"
        rows.append(
            [
                one.label,
                one.kind,
                len(one.points),
                seconds(medians[-1]),
                percent(medians[-1] / medians[0]),
                sparkline([math.log(m) for m in medians]),
                changes or "-",
            ]
        )
    headers = ["benchmark", "machine", "runs", "latest", "latest vs first shown", "trend", "changes"]
    return tabulate(rows, headers=headers, disable_numparse=True)
