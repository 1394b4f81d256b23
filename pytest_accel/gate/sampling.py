"""Sampling that serves the verdict: in compare mode ``bench`` knows the baseline's samples from the start.

A benchmark whose verdict is still open when its budget is spent keeps sampling (up to the gate
budget) until it has as many samples as the baseline, and at least ``MIN_GATE_SAMPLES``: then both
runs are cut into blocks alike, and the stop does not depend on how small this run's spread happens to
look (stopping once the variance looked small favoured lucky low estimates: 6.7% false alarms at the
threshold instead of 5%).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from pytest_accel.gate import stats

MIN_GATE_SAMPLES = stats.MAX_BLOCKS * stats.GATE_BLOCK  # a variance with 9 degrees of freedom
# More samples are worth their time only while a level's own variance is at least this share of the
# run-to-run noise's (judged on the baseline's samples, never on this run's).
MIN_REDUCIBLE_SHARE = 0.25


@dataclass(frozen=True)
class GateTarget:
    baseline_samples: tuple[float, ...]
    threshold: float
    run_noise: float
    alpha: float
    extra_budget_s: float

    @functools.cached_property
    def target_samples(self) -> int:
        """How many samples this run takes when its verdict is open, fixed before the first one: as many
        as the baseline, and MIN_GATE_SAMPLES unless the run-to-run noise dwarfs what more samples of
        both runs could still reduce (then matching the baseline is all that is worth its time)."""
        base = stats.level_of(list(self.baseline_samples))
        if math.isfinite(base.variance) and base.variance < MIN_REDUCIBLE_SHARE * self.run_noise**2:
            return len(self.baseline_samples)
        return max(len(self.baseline_samples), MIN_GATE_SAMPLES)

    def undecided(self, samples: list[float]) -> bool:
        """True while no reassuring verdict is reached and this run has fewer samples than its target.

        Sampling stops early on `unchanged` or `faster` only: stopping as soon as an interim look says
        `slower` would test again and again at the full alpha and raise the false-alarm rate. A
        benchmark that looks slower samples on to its target (or the gate budget), and the verdict is
        made once, after.
        """
        if len(samples) >= self.target_samples:
            return False
        base, new = stats.levels_alike(list(self.baseline_samples), samples)
        change = stats.difference(base, new, self.run_noise)
        return stats.judge(change, self.threshold, self.alpha).verdict not in (stats.UNCHANGED, stats.FASTER)
