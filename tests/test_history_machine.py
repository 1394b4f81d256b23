"""``history check`` on one machine kind's series at once, in-process on synthetic series: a machine that
slows every benchmark for many runs (a loaded runner) is reported as the machine having moved, not as a
regression of each benchmark; a regression of one benchmark still fails."""

from __future__ import annotations

import math
import random

from pytest_accel.history.series import Series, judge
from pytest_accel.history.store import BenchEntry, BenchPoint, StoredRun

KIND = "Test CPU (2 cores)"
BENCHES = ("sort", "cumsum", "fft", "loop", "matmul", "copy")


def series(factors: dict[str, list[float]], seed: int = 1) -> list[Series]:
    """One series per benchmark, each run ``factors[bench][run]`` times its level, with 1% noise."""
    rng = random.Random(seed)
    made = []
    for bench, plan in factors.items():
        points = []
        for run, factor in enumerate(plan):
            level = 1e-3 * factor * math.exp(rng.gauss(0, 0.01))
            entry = BenchEntry(
                "m-1", KIND, f"t.py::test_{bench}", "numpy", "2", "cpu", KIND, "float64", bench, "passed",
                level, level * 0.99, level * 1.01, 50,
            )  # fmt: skip
            points.append(
                BenchPoint(StoredRun(run + 1, f"2026-01-01T00:{run:02d}", f"c{run:02d}", "main", "x"), entry)
            )
        made.append(Series((entry.test, "numpy", "cpu", "float64", bench, KIND), points))
    return made


def test_a_loaded_machine_is_no_regression_of_each_benchmark() -> None:
    rng = random.Random(4)
    plans = {}
    for bench in BENCHES:  # the machine runs everything 50-100% slower from run 5 on, each bench its own way
        slow = rng.uniform(1.5, 2.0)
        plans[bench] = [1.0] * 5 + [slow * rng.uniform(0.97, 1.03) for _ in range(7)]
    findings = judge(series(plans), 0.05, 10)
    assert findings, "the move itself is still reported"
    assert all(f.machine and not f.alarm for f in findings)


def test_one_benchmark_slower_still_fails_beside_a_steady_machine() -> None:
    plans = {bench: [1.0] * 12 for bench in BENCHES}
    plans["cumsum"] = [1.0] * 6 + [1.10] * 6
    findings = judge(series(plans), 0.05, 10)
    assert [(f.series.key[4], f.alarm, f.machine) for f in findings] == [("cumsum", True, False)]


def test_a_regression_during_a_machine_move_is_told_apart_by_its_size() -> None:
    plans = {bench: [1.0] * 8 + [1.6] * 6 for bench in BENCHES}
    plans["loop"] = [1.0] * 3 + [1.12] * 5 + [1.12 * 1.6] * 6  # its own 12% five runs earlier
    findings = judge(series(plans), 0.05, 12)
    own = [f for f in findings if f.series.key[4] == "loop" and not f.machine]
    assert own and own[0].alarm and own[0].change.first == 3
    assert all(f.machine for f in findings if f.series.key[4] != "loop")


def test_two_benchmarks_are_too_few_to_call_it_the_machine() -> None:
    plans = {"sort": [1.0] * 6 + [1.5] * 6, "fft": [1.0] * 6 + [1.5] * 6}
    findings = judge(series(plans), 0.05, 10)
    assert len(findings) == 2 and all(f.alarm and not f.machine for f in findings)


def test_a_regression_fails_once_enough_runs_are_at_its_new_level() -> None:
    plans = {bench: [1.0] * 12 for bench in BENCHES}
    plans["cumsum"] = [1.0] * 9 + [1.10] * 3  # three runs at the new level: shown, pending
    (finding,) = judge(series(plans), 0.05, 10)
    assert finding.pending and not finding.alarm and finding.confirmed_runs == 3
    (finding,) = judge(series(plans), 0.05, 10, confirm=3)
    assert finding.alarm and not finding.pending
