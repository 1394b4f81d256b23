"""The gate's statistics: Student's t without scipy, batch means, verdicts, and the false-alarm rate
of a whole run of unchanged benchmarks whose samples drift in bursts (a simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import DEFAULT_RUN_NOISE

# Student's t quantiles from printed tables.
T_TABLE = [
    (0.975, 1, 12.706),
    (0.975, 5, 2.571),
    (0.995, 10, 3.169),
    (0.95, 30, 1.697),
    (0.9995, 3, 12.924),
    (0.975, math.inf, 1.960),
]


@pytest.mark.parametrize(("p", "dof", "expected"), T_TABLE)
def test_t_quantile_matches_the_tables(p: float, dof: float, expected: float) -> None:
    assert stats.t_quantile(p, dof) == pytest.approx(expected, abs=2e-3)
    assert stats.t_quantile(1 - p, dof) == pytest.approx(-expected, abs=2e-3)
    assert stats.t_cdf(stats.t_quantile(p, dof), dof) == pytest.approx(p, abs=1e-9)


def test_batch_means_see_drift_between_blocks_that_single_samples_hide() -> None:
    rng = np.random.default_rng(1)
    steady = list(1e-3 * np.exp(rng.normal(0, 0.01, 60)))
    drifting = [s * (1.3 if 20 <= i < 40 else 1.0) for i, s in enumerate(steady)]
    assert stats.level_of(drifting).variance > 20 * stats.level_of(steady).variance
    assert stats.level_of(steady).seconds == pytest.approx(1e-3, rel=0.01)


def _level(log: float, sd: float, dof: float = 9.0) -> stats.Level:
    return stats.Level(log, sd * sd, dof)


@pytest.mark.parametrize(
    ("log_change", "sd", "verdict"),
    [
        (math.log(2.0), 0.01, stats.SLOWER),
        (math.log(0.5), 0.01, stats.FASTER),
        (0.0, 0.01, stats.UNCHANGED),
        (math.log(1.05), 0.01, stats.UNCHANGED),  # below the 10% threshold: not a regression
        (math.log(1.12), 0.01, stats.INCONCLUSIVE),  # may or may not be above 10%
        (math.log(1.5), 0.3, stats.INCONCLUSIVE),  # too noisy to tell
    ],
)
def test_verdicts_for_a_ten_percent_threshold(log_change: float, sd: float, verdict: str) -> None:
    change = stats.difference(_level(0.0, sd), _level(log_change, sd))
    assert stats.judge(change, 0.10, 0.01).verdict == verdict


def test_an_inconclusive_verdict_says_what_slowdown_could_have_been_seen() -> None:
    change = stats.difference(_level(0.0, 0.05), _level(0.0, 0.05))
    estimate = stats.judge(change, 0.10, 0.01)
    assert estimate.low < 1 < estimate.high
    expected = math.expm1(math.log1p(0.10) + stats.t_quantile(0.99, change.dof) * math.sqrt(change.variance))
    assert estimate.detectable_slowdown == pytest.approx(expected)


def test_run_noise_widens_the_interval() -> None:
    quiet = stats.difference(_level(0.0, 0.01), _level(0.3, 0.01), run_noise=0.0)
    noisy = stats.difference(_level(0.0, 0.01), _level(0.3, 0.01), run_noise=0.2)
    assert stats.judge(quiet, 0.10, 0.01).verdict == stats.SLOWER
    assert stats.judge(noisy, 0.10, 0.01).verdict == stats.INCONCLUSIVE


# -- simulation: 100 unchanged benchmarks, samples drifting in bursts ---------------------------------


def _bursty_samples(rng: np.random.Generator, level: float, count: int) -> list[float]:
    """Time-ordered samples: autocorrelated noise plus bursts in which the machine runs 20-60% slower."""
    noise = np.empty(count)
    noise[0] = rng.normal(0, 0.03)
    for i in range(1, count):
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 0.03)
    bursts = np.zeros(count)
    i = 0
    while i < count:
        if rng.random() < 0.08:
            length = int(rng.integers(3, 15))
            bursts[i : i + length] = math.log(rng.uniform(1.2, 1.6))
            i += length
        i += 1
    return list(np.exp(level + noise + bursts) * 1e-4)


def _separate_runs_fail(rng: np.random.Generator, benchmarks: int) -> bool:
    """One compare run: a baseline run and a new run, each with its own run-level shift."""
    alpha = stats.one_sided_alpha(benchmarks)
    for _ in range(benchmarks):
        base = _bursty_samples(rng, rng.normal(0, DEFAULT_RUN_NOISE), int(rng.integers(10, 60)))
        new = _bursty_samples(rng, rng.normal(0, DEFAULT_RUN_NOISE), int(rng.integers(10, 60)))
        change = stats.difference(stats.level_of(base), stats.level_of(new), DEFAULT_RUN_NOISE)
        if stats.judge(change, 0.10, alpha).verdict == stats.SLOWER:
            return True
    return False


def _duet_fails(rng: np.random.Generator, benchmarks: int, rounds: int) -> bool:
    """One duet: per round, both sides share the machine's slow phase; bursts still hit one side."""
    alpha = stats.one_sided_alpha(benchmarks)
    for _ in range(benchmarks):
        base_logs, new_logs = [], []
        for _ in range(rounds):
            phase = rng.normal(0, 0.2)
            base_logs.append(stats.level_of(_bursty_samples(rng, phase + rng.normal(0, 0.03), 20)).log)
            new_logs.append(stats.level_of(_bursty_samples(rng, phase + rng.normal(0, 0.03), 20)).log)
        change = stats.paired_level_difference(base_logs, new_logs)
        if stats.judge(change, 0.10, alpha).verdict == stats.SLOWER:
            return True
    return False


def test_a_run_of_100_unchanged_benchmarks_rarely_fails_by_chance() -> None:
    rng = np.random.default_rng(20261130)
    runs = 100
    failures = sum(_separate_runs_fail(rng, 100) for _ in range(runs))
    assert failures <= 8, f"{failures} of {runs} unchanged runs failed (target: about 1 in 20)"


def test_a_duet_of_100_unchanged_benchmarks_rarely_fails_by_chance() -> None:
    rng = np.random.default_rng(7)
    runs = 60
    failures = sum(_duet_fails(rng, 100, rounds=6) for _ in range(runs))
    assert failures <= 6, f"{failures} of {runs} unchanged duets failed (target: about 1 in 20)"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.001, "1 ms"), (0.00099999, "1 ms"), (2.5e-5, "25 us"), (3.14159, "3.14 s"), (1.5e-9, "1.5 ns")],
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    from pytest_accel.summary.formatting import format_seconds

    assert format_seconds(seconds) == text
