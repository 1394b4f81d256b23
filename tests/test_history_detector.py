"""The change-point detector of ``history check``, in-process on seeded synthetic series whose noise is
shaped like this machine's (``benchmarks/bench_history.py`` measured it): a tight core of about 1%, a
slow drift, and rare wild runs of +50% to +120%."""

from __future__ import annotations

import math
import random

import pytest

from pytest_accel.history.changes import find_changes, t_quantile, t_tail

SERIES_PER_HISTORY = 6


def noisy(rng: random.Random, runs: int) -> list[float]:
    """Log levels of an unchanged benchmark: 1% core, an AR(1) drift of about 1%, 5% wild runs."""
    drift, values = 0.0, []
    for _ in range(runs):
        drift = 0.7 * drift + rng.gauss(0, 0.007)
        wild = math.log(1 + rng.uniform(0.5, 1.2)) if rng.random() < 0.05 else 0.0
        values.append(rng.gauss(0, 0.01) + drift + wild)
    return values


def with_change(values: list[float], factors: list[float]) -> list[float]:
    return [v + math.log(f) for v, f in zip(values, factors, strict=True)]


def test_student_t_matches_its_tables() -> None:
    assert t_quantile(0.025, 10) == pytest.approx(2.228, abs=2e-3)
    assert t_quantile(0.005, 3) == pytest.approx(5.841, abs=5e-3)
    assert t_quantile(0.025, 1000) == pytest.approx(1.962, abs=2e-3)
    assert t_tail(0.0, 4) == pytest.approx(0.5, abs=1e-6)


def test_unchanged_histories_raise_no_change_points() -> None:
    rng = random.Random(17)
    alarmed = 0
    for _ in range(100):
        family = [noisy(rng, 12) for _ in range(SERIES_PER_HISTORY)]
        alarmed += any(find_changes(v, 0.05, family=SERIES_PER_HISTORY) for v in family)
    assert alarmed <= 5, f"{alarmed} of 100 unchanged histories reported a change point"


def test_a_single_wild_run_is_no_change() -> None:
    values = [0.0, 0.01, -0.01, 0.0, 0.005, math.log(2.2), 0.0, -0.005, 0.01, 0.0, 0.0, -0.01]
    assert find_changes(values, 0.05) == []


def test_a_ten_percent_step_is_found_at_its_run() -> None:
    rng = random.Random(3)
    found = 0
    for _ in range(20):
        values = with_change(noisy(rng, 12), [1.0] * 6 + [1.1] * 6)
        changes = find_changes(values, 0.05, family=SERIES_PER_HISTORY)
        if changes:
            found += 1
            (change,) = changes
            assert change.slower and change.first <= 6 <= change.last  # the bracket holds the step
            assert 1.05 < change.ratio < 1.16
    assert found >= 15  # this noise (about 1.5% from run to run, with drift) hides a few


def test_a_sharp_step_in_quiet_data_is_bracketed_by_one_run() -> None:
    values = [0.001 * ((i * 7) % 5 - 2) + (math.log(1.1) if i >= 6 else 0.0) for i in range(12)]
    (change,) = find_changes(values, 0.05)
    assert (change.first, change.last) == (6, 6)


def test_a_creep_of_five_small_steps_is_one_change_spanning_them() -> None:
    rng = random.Random(5)
    found = 0
    plan = [1.0] * 4 + [1.03**k for k in range(1, 6)] + [1.03**5] * 3
    for _ in range(20):
        changes = find_changes(with_change(noisy(rng, 12), plan), 0.05, family=SERIES_PER_HISTORY)
        if changes:
            found += 1
            (change,) = changes
            assert change.slower and 1.08 < change.ratio < 1.25
            assert change.first >= 3 and change.last <= 9  # inside the creep, give or take a run
    assert found >= 16


def test_improvements_are_reported_as_faster() -> None:
    values = [0.002 * (i % 3) + (math.log(0.8) if i >= 5 else 0.0) for i in range(11)]
    (change,) = find_changes(values, 0.05)
    assert not change.slower and change.ratio == pytest.approx(0.8, rel=0.01)


def test_changes_smaller_than_the_threshold_are_not_reported() -> None:
    values = [0.0005 * (i % 3) + (math.log(1.02) if i >= 6 else 0.0) for i in range(12)]
    assert find_changes(values, 0.05) == []
    assert len(find_changes(values, 0.01)) == 1


def test_series_shorter_than_two_sides_are_not_judged() -> None:
    assert find_changes([0.0, 0.0, 0.0, 1.0, 1.0], 0.05) == []


def test_runs_flipping_between_two_levels_are_no_change() -> None:
    """fft_16k in a real history of this machine (percent from its first run): its runs flip between
    two levels 25% apart while a neighbour loads the machine; only the share of each level moves."""
    percents = [0, 5, 5, -17, 5, -16, -17, -17, -17, 4, 0, -18, 5, 6, 5, -16, 6]
    assert find_changes([math.log1p(p / 100) for p in percents], 0.05, family=SERIES_PER_HISTORY) == []
