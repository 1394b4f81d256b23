"""The functions the gate benchmark measures: four CPU workloads from about 50 us to 50 ms per call.

Each repeats one numpy operation ``REPS[name]`` times, so that a slowdown of exactly 25% (5 instead of
4) or 10% (11 instead of 10) is made by changing one number: ``bench_gate.py`` rewrites this table.
"""

from __future__ import annotations

import numpy as np

REPS = {"sort_small": 4, "matmul_128": 4, "fft_64k": 4, "sort_large": 4}


def sort_small(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_small"]):
        out = np.sort(x)
    return out


def matmul_128(a: np.ndarray) -> np.ndarray:
    for _ in range(REPS["matmul_128"]):
        out = a @ a
    return out


def fft_64k(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["fft_64k"]):
        out = np.fft.rfft(x)
    return out


def sort_large(x: np.ndarray) -> np.ndarray:
    for _ in range(REPS["sort_large"]):
        out = np.sort(x)
    return out
