"""The functions the gate benchmark measures: four CPU workloads from about 50 us to 50 ms per call.

All four are single-threaded: a multithreaded BLAS call on a 2-core machine that something else
loads degrades to scheduler time slices (a 128x128 matmul went from 0.25 ms to 64 ms), which measures
the machine, not the code. Each repeats one numpy operation ``REPS[name]`` times (20 by default), so
that a slowdown of exactly 25% (25 instead of 20) or 10% (22) is made by changing one number:
``bench_gate.py`` rewrites this table.
"""

from __future__ import annotations

import numpy as np

REPS = {"sort_small": 20, "cumsum_16k": 20, "fft_16k": 20, "sort_large": 20}


def sort_small(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_small"]):
        out = np.sort(x)
    return out


def cumsum_16k(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["cumsum_16k"]):
        out = np.cumsum(x)
    return out


def fft_16k(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["fft_16k"]):
        out = np.fft.rfft(x)
    return out


def sort_large(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_large"]):
        out = np.sort(x)
    return out
