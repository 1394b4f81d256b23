"""A run's level and interval as the history stores them, on samples shaped like a shared machine's
(AR(1) noise, phi 0.7, sd 3%, plus bursts 20-60% slower lasting 3-15 samples): the stored interval must
be about as wide as the run's level really varies, which blocks of 3 samples were not (they covered the
level in 58% of runs of 30 samples, and in 76% of runs of 100, for a nominal 95%)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from noise_model import bursty  # benchmarks/noise_model.py: the shared machine's noise

from pytest_accel.history.ingest import level_interval


@pytest.mark.parametrize("count", [30, 100, 200])
def test_a_runs_interval_covers_its_level_as_often_as_it_says(count: int) -> None:
    rng = np.random.default_rng(count)
    intervals = [level_interval(list(np.exp(row) * 1e-3)) for row in bursty(rng, 800, count)]
    middles = [math.log(low * high) / 2 for _, low, high in intervals]
    level = float(np.mean(middles))  # what the intervals are about: the centre of their estimates
    covered = np.mean([math.log(low) <= level <= math.log(high) for _, low, high in intervals])
    assert covered >= 0.85, f"{count} samples: the ~95% interval held the level in {covered:.0%} of runs"
    assert all(low <= median <= high for median, low, high in intervals)


def test_few_or_zero_samples_still_give_an_interval() -> None:
    assert level_interval([2.0, 1.0, 3.0]) == (2.0, 1.0, 3.0)
    median, low, high = level_interval([0.0, 0.0, 1e-3, 1e-3, 1e-3])
    assert low <= median <= high
