"""The functions the gate benchmark measures: four CPU workloads from about 50 us to 50 ms per call.

All four are single-threaded: a multithreaded BLAS call on a 2-core machine that something else
loads degrades to scheduler time slices (a 128x128 matmul went from 0.25 ms to 64 ms), which measures
the machine, not the code. Each repeats one numpy operation ``REPS[name]`` times, so that a slowdown of exactly 25% (5 instead of
4) or 10% (11 instead of 10) is made by changing one number: ``bench_gate.py`` rewrites this table.
"""

from __future__ import annotations

import numpy as np

REPS = {"sort_small": 4, "cumsum_64k": 4, "fft_64k": 4, "sort_large": 4}


def sort_small(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_small"]):
        out = np.sort(x)
    return out


def cumsum_64k(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["cumsum_64k"]):
        out = np.cumsum(x)
    return out


def fft_64k(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["fft_64k"]):
        out = np.fft.rfft(x)
    return out


def sort_large(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_large"]):
        out = np.sort(x)
    return out
