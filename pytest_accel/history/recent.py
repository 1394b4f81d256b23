"""A benchmark's recent history, cited next to its verdict in a pull request's report: the gate says
what this change did, the history what the benchmark has done lately on the base branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_accel.history.baselines import document_kinds
from pytest_accel.history.series import load_series
from pytest_accel.history.show import seconds, sparkline
from pytest_accel.history.store import HistoryError, open_store

RECENT_RUNS = 12
BenchKey = tuple[str, str, str, str, str]  # test, framework, device, dtype, bench (the gate's key)


def recent_trends(
    path: Path, branch: str, current: dict[str, Any], runs: int = RECENT_RUNS
) -> dict[BenchKey, str]:
    """Each benchmark's last ``runs`` medians on ``branch`` and on this run's hardware, as a sparkline and
    the latest median ('▁▂▁▇ 1.2 ms, 4 runs'). Empty when the database is missing or unreadable: a
    citation is a courtesy of the report, never a reason for it to fail."""
    if not path.exists():
        return {}
    kinds = document_kinds(current)
    try:
        with open_store(path) as store:
            series = load_series(store, branch)
    except HistoryError:
        return {}
    trends: dict[BenchKey, str] = {}
    for one in series:
        if one.kind not in kinds:
            continue
        medians = [point.entry.median_s for point in one.points[-runs:]]
        test, framework, device, dtype, bench, _ = one.key
        trends[(test, framework, device, dtype, bench)] = (
            f"{sparkline(medians)} {seconds(medians[-1])}, {len(medians)} run(s)"
        )
    return trends
