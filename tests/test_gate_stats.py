"""The gate's statistics: Student's t without scipy, batch means, verdicts, and the false-alarm rate
of a whole run of unchanged benchmarks whose samples drift in bursts (a simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from noise_model import bursty  # benchmarks/noise_model.py: the shared machine's noise

from pytest_accel.gate import stats

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
        (math.log(1.12), 0.01, stats.SLOWER),  # significantly slower, and estimated above 10%
        (math.log(1.08), 0.01, stats.INCONCLUSIVE),  # significantly slower, estimated below 10%
        (math.log(1.5), 0.3, stats.INCONCLUSIVE),  # too noisy to tell
    ],
)
def test_verdicts_for_a_ten_percent_threshold(log_change: float, sd: float, verdict: str) -> None:
    change = stats.difference(_level(0.0, sd), _level(log_change, sd))
    assert stats.judge(change, 0.10, 0.01).verdict == verdict


def test_the_interval_rule_wants_the_whole_interval_above_the_threshold() -> None:
    change = stats.difference(_level(0.0, 0.01), _level(math.log(1.12), 0.01))
    assert stats.judge(change, 0.10, 0.01, stats.INTERVAL).verdict == stats.INCONCLUSIVE
    change = stats.difference(_level(0.0, 0.01), _level(math.log(1.3), 0.01))
    assert stats.judge(change, 0.10, 0.01, stats.INTERVAL).verdict == stats.SLOWER


def test_an_inconclusive_verdict_says_what_slowdown_could_have_been_seen() -> None:
    change = stats.difference(_level(0.0, 0.05), _level(0.0, 0.05))
    estimate = stats.judge(change, 0.10, 0.01)
    assert estimate.low < 1 < estimate.high
    half = stats.t_quantile(0.99, change.dof) * math.sqrt(change.variance)
    assert estimate.detectable_slowdown == pytest.approx(math.expm1(max(math.log1p(0.10), half)))
    strict = stats.judge(change, 0.10, 0.01, stats.INTERVAL)
    assert strict.detectable_slowdown == pytest.approx(math.expm1(math.log1p(0.10) + half))


def test_run_noise_widens_the_interval() -> None:
    quiet = stats.difference(_level(0.0, 0.01), _level(0.3, 0.01), run_noise=0.0)
    noisy = stats.difference(_level(0.0, 0.01), _level(0.3, 0.01), run_noise=0.2)
    assert stats.judge(quiet, 0.10, 0.01).verdict == stats.SLOWER
    assert stats.judge(noisy, 0.10, 0.01).verdict == stats.INCONCLUSIVE


# -- simulations ----------------------------------------------------------------------------------------
# Samples as a shared machine gives them: AR(1) noise (phi 0.7, sd 3%) plus bursts 20-60% slower lasting
# 3-15 samples. Every repetition is generated at once with numpy; the levels, intervals and verdicts come
# from the module's own functions. Repetitions are enough to tell a 5% rate from a 10% one.

BOUND = math.log1p(0.10)


def _samples(logs: np.ndarray) -> list[float]:
    return list(np.exp(logs) * 1e-4)


def _family_rate(per_benchmark: float, benchmarks: int) -> float:
    """A run of ``benchmarks`` independent ones fails when any one does."""
    return 1 - (1 - per_benchmark) ** benchmarks


def test_blocks_of_enough_samples_see_the_variance_of_a_level() -> None:
    rng = np.random.default_rng(3)
    for count in (30, 60, 200):
        levels = [stats.level_of(_samples(row)) for row in bursty(rng, 1500, count)]
        true = np.var([level.log for level in levels])
        estimated = np.mean([level.variance for level in levels])
        # Blocks of 3 samples: 2.7x (30 samples) and 1.5x (60) too small. Few blocks now err on the
        # side of caution (their estimate is made median-unbiased).
        assert 0.35 < true / estimated < 1.25, (
            f"{count} samples: variance {true / estimated:.2f}x the estimate"
        )


def _compare_changes(rng: np.random.Generator, pairs: int, noise: float, shift: float) -> list[stats.Level]:
    """Separate runs of 200-300 samples each (what compare mode samples while a verdict is open), with a
    run-level shift of sd ``noise`` that the comparison assumes."""
    changes = []
    for count in (200, 300):
        base = bursty(rng, pairs // 2, count) + rng.normal(0, noise, (pairs // 2, 1))
        new = bursty(rng, pairs // 2, count) + rng.normal(0, noise, (pairs // 2, 1)) + shift
        for b, n in zip(base, new, strict=True):
            changes.append(stats.difference(*stats.levels_alike(_samples(b), _samples(n)), noise))
    return changes


def test_a_benchmark_at_the_threshold_is_rarely_called_slower_beyond_it() -> None:
    """The interval's own claim: a benchmark exactly 10% slower is outside 'more than 10% slower' at
    most 5% of the time for the family, for 1, 4 and 100 benchmarks (quiet runners: noise 0 and 3%)."""
    rng = np.random.default_rng(11)
    pooled = []
    for noise in (0.0, 0.03):
        changes = _compare_changes(rng, 6_000, noise, BOUND)
        pooled += changes
        for benchmarks in (1, 4):
            family = _family_rate(_caught(changes, benchmarks, stats.INTERVAL), benchmarks)
            # Before (blocks of 3 samples): 34-40% and 49-56%; 5% and 10% are 4 standard errors apart.
            assert family <= 0.07, f"m={benchmarks}, noise {noise}: called slower {family:.1%} (at most 5%)"
    family = _family_rate(_caught(pooled, 100, stats.INTERVAL), 100)
    assert family <= 0.08, f"m=100: called slower {family:.1%} (before: 80-85%)"


def test_runs_of_different_lengths_are_compared_alike() -> None:
    """A median of skewed times shifts with the number of samples it takes: unchanged code measured with
    24 samples against 120 must not look slower or faster for it (before: 2.1% faster, as blocks of 3
    and of 12 samples had different medians). Here single samples are hit by spikes, 15% of them."""
    rng = np.random.default_rng(5)
    shifts = []
    for count_a, count_b in ((24, 120), (30, 200)):
        short, long = (
            rng.normal(0, 0.02, (1500, n))
            + (rng.random((1500, n)) < 0.15) * np.log(rng.uniform(1.3, 1.8, (1500, n)))
            for n in (count_a, count_b)
        )
        for a, b in zip(short, long, strict=True):
            base, new = stats.levels_alike(_samples(a), _samples(b))
            shifts.append(new.log - base.log)
    assert abs(np.mean(shifts)) < 0.006, f"mean shift {np.mean(shifts):.4f} on the log scale"


def test_yuens_variance_of_the_trimmed_mean() -> None:
    differences = [0.00, 0.01, 0.03, -0.02, 0.05, 0.02]  # 20% trimming keeps the middle four
    change = stats.paired_level_difference([0.0] * 6, differences)
    winsorized = [-0.0, 0.0, 0.01, 0.02, 0.03, 0.03]
    assert change.log == pytest.approx(np.mean([0.0, 0.01, 0.02, 0.03]))
    assert change.variance == pytest.approx(5 * np.var(winsorized, ddof=1) / (4 * 3))
    assert change.dof == 3


def _duet_changes(rng: np.random.Generator, benchmarks: int, rounds: int, shift: float) -> list[stats.Level]:
    """Per round, both sides share the machine's phase; each side's burst of 5 samples has its own
    AR(1) noise and bursts, summarised by its mean log (as the duet does)."""
    phase = rng.normal(0, 0.2, (benchmarks, rounds, 1))
    base = bursty(rng, benchmarks * rounds, 5).reshape(benchmarks, rounds, 5) + phase
    new = bursty(rng, benchmarks * rounds, 5).reshape(benchmarks, rounds, 5) + phase + shift
    base_logs, new_logs = base.mean(axis=2), new.mean(axis=2)
    return [stats.paired_level_difference(list(b), list(n)) for b, n in zip(base_logs, new_logs, strict=True)]


def _caught(changes: list[stats.Level], benchmarks: int, rule: str, threshold: float = 0.10) -> float:
    alpha = stats.one_sided_alpha(benchmarks)
    slower = sum(stats.judge(c, threshold, alpha, rule).verdict == stats.SLOWER for c in changes)
    return slower / len(changes)


def test_a_duet_at_the_threshold_is_rarely_called_slower_beyond_it() -> None:
    rng = np.random.default_rng(8)
    changes = _duet_changes(rng, 20_000, 8, BOUND)
    for benchmarks, limit in ((1, 0.065), (4, 0.07), (100, 0.08)):
        family = _family_rate(_caught(changes, benchmarks, stats.INTERVAL), benchmarks)
        assert family <= limit, f"m={benchmarks}: called slower {family:.1%} (at most 5%)"


def test_unchanged_code_rarely_fails_under_the_default_rule() -> None:
    rng = np.random.default_rng(7)
    duets = _duet_changes(rng, 16_000, 8, 0.0)
    separate = _compare_changes(rng, 3_000, 0.03, 0.0)
    # 3,000 separate pairs cannot tell 5% from 10% for 100 benchmarks (1.5 expected events): 1 and 4.
    for changes, counts in ((duets, (1, 4, 100)), (separate, (1, 4))):
        for benchmarks in counts:
            family = _family_rate(_caught(changes, benchmarks, stats.DEFAULT_RULE), benchmarks)
            assert family <= 0.075, f"m={benchmarks}: unchanged code failed {family:.1%} (at most 5%)"


def test_the_default_rule_sees_one_and_a_half_times_the_threshold() -> None:
    """Power, on 20 duet rounds of the harsh model above: +15% at a 10% gate. The interval rule catches it
    22% / 9% of the time (1 / 4 benchmarks), the default rule (significantly slower, and estimated above
    the threshold) 75% / 55%; its price: +5% fails up to 15% of the time here, where one round's
    difference has a 22% standard deviation (README: far less in real duets)."""
    rng = np.random.default_rng(9)
    slower = _duet_changes(rng, 2_000, 20, math.log(1.15))
    half = _duet_changes(rng, 2_000, 20, math.log(1.05))
    for benchmarks, power in ((1, 0.65), (4, 0.45)):
        caught = _caught(slower, benchmarks, stats.DEFAULT_RULE)
        assert caught >= power and caught >= 2.5 * _caught(slower, benchmarks, stats.INTERVAL)
        assert _caught(half, benchmarks, stats.DEFAULT_RULE) <= 0.2


def test_compare_sampling_stops_at_its_target_not_when_the_spread_looks_small() -> None:
    """Stopping once this run's own spread looked small against the run-to-run noise favoured lucky low
    estimates (6.7% false alarms at the threshold instead of 5%): the stop is now fixed in advance."""
    from pytest_accel.gate.sampling import MIN_GATE_SAMPLES, GateTarget

    rng = np.random.default_rng(2)
    steady = list(1e-3 * np.exp(rng.normal(0, 0.002, 400)))
    target = GateTarget(tuple(steady[:40]), 0.10, run_noise=0.20, alpha=0.05, extra_budget_s=1.0)
    assert target.target_samples == 40  # the run-to-run noise dwarfs the rest: as many as the baseline
    assert target.undecided(steady[:30])  # open (that noise alone keeps it so), however tight these are
    assert not target.undecided(steady[:40])
    tight = GateTarget(tuple(steady[:40]), 0.10, run_noise=0.0, alpha=1e-9, extra_budget_s=1.0)
    assert tight.target_samples == MIN_GATE_SAMPLES
    assert tight.undecided(steady[:150]) and not tight.undecided(steady[:MIN_GATE_SAMPLES])
    quiet = GateTarget(tuple(steady[:300]), 0.10, run_noise=0.0, alpha=0.05, extra_budget_s=1.0)
    assert quiet.target_samples == 300
    assert not quiet.undecided(steady[:60])  # already shown unchanged: nothing more to learn


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.001, "1 ms"), (0.00099999, "1 ms"), (2.5e-5, "25 us"), (3.14159, "3.14 s"), (1.5e-9, "1.5 ns")],
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    from pytest_accel.summary.formatting import format_seconds

    assert format_seconds(seconds) == text
