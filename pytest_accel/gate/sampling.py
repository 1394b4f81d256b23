"""Sampling that serves the verdict: in compare mode ``bench`` knows the baseline's samples from the start.

A benchmark whose verdict is still undecided when its budget is spent keeps sampling (up to the gate
budget), but only while more samples can still move the verdict: once the noise that samples cannot
reduce (the run-to-run term) dominates, sampling on would only waste time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_accel.gate import stats

# More samples help only while this run's own uncertainty is at least this share of the total variance.
MIN_REDUCIBLE_SHARE = 0.2


@dataclass(frozen=True)
class GateTarget:
    baseline_samples: tuple[float, ...]
    threshold: float
    run_noise: float
    alpha: float
    extra_budget_s: float

    def undecided(self, samples: list[float]) -> bool:
        """True while no reassuring verdict is reached and more of this run's samples could change that.

        Sampling stops early on `unchanged` or `faster` only: stopping as soon as an interim look says
        `slower` would test again and again at the full alpha and raise the false-alarm rate. A
        benchmark that looks slower samples on to the gate budget, and the verdict is made once, after.
        """
        base = stats.level_of(list(self.baseline_samples))
        new = stats.level_of(samples)
        change = stats.difference(base, new, self.run_noise)
        if stats.judge(change, self.threshold, self.alpha).verdict in (stats.UNCHANGED, stats.FASTER):
            return False
        if not math.isfinite(new.variance):
            return True
        return new.variance >= MIN_REDUCIBLE_SHARE * change.variance
