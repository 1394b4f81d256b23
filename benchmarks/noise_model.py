"""The shared machine's noise, as the gate's and the history's simulations assume it: AR(1) log times
(phi 0.7, sd 3%) plus bursts 20-60% slower lasting 3-15 samples, starting at 8% of samples. One model
for ``bench_gate.py`` and the tests that check the statistics against it (tests/conftest.py puts this
folder on their path)."""

from __future__ import annotations

import math

import numpy as np

PHI, SD = 0.7, 0.03


def bursty(rng: np.random.Generator, reps: int, count: int, settle: int = 30) -> np.ndarray:
    """``reps`` series of ``count`` time-ordered log times (level 0), taken after ``settle`` more (a run
    starts wherever the machine's bursts happen to be). Every series is generated at once."""
    count += settle
    noise = np.empty((reps, count))
    noise[:, 0] = rng.normal(0, SD / math.sqrt(1 - PHI * PHI), reps)
    for i in range(1, count):
        noise[:, i] = PHI * noise[:, i - 1] + rng.normal(0, SD, reps)
    bursts = np.zeros((reps, count))
    left, value = np.zeros(reps, dtype=int), np.zeros(reps)
    for i in range(count):
        start = (left == 0) & (rng.random(reps) < 0.08)
        left[start] = rng.integers(3, 15, int(start.sum()))
        value[start] = np.log(rng.uniform(1.2, 1.6, int(start.sum())))
        on = left > 0
        bursts[on, i] = value[on]
        left[on] -= 1
    return (noise + bursts)[:, settle:]
