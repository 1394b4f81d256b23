"""Cost of ``pytest_accel.assert_parity`` against ``torch.testing.assert_close`` on 10^7-element arrays.

Cases (float32, 10^7 elements):

- passing: a nearly-equal pair (``r = a + 1e-6 * noise``, within both functions' float32 tolerances),
  as torch CPU tensors and as numpy arrays (``assert_close`` accepts numpy arrays too);
- failing: the same tensor with one element off by 1.0; both raise, and the time includes building the
  message and raising;
- with CUDA present, the same on CUDA tensors (``assert_parity`` of a CUDA tensor against a CUDA tensor),
  each timing bracketed by ``torch.cuda.synchronize()``.

Each case calls the two functions alternately, ``REPEATS`` times each after one untimed call, and reports
the median (the min is shown too). Target: assert_parity <= 2x assert_close. torch's intra-op threads are
left as torch sets them on this machine (the thread count is printed).

Run: ``python3 benchmarks/bench_compare_cost.py``. A script that prints a table; it asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from tabulate import tabulate

SIZE = 10_000_000
REPEATS = 7
TARGET_RATIO = 2.0


def timed(call: Callable[[], None], expect_raise: bool, sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    try:
        call()
    except AssertionError:
        if not expect_raise:
            raise
    else:
        if expect_raise:
            raise SystemExit("a failing case passed: the benchmark's data are wrong")
    sync()
    return time.perf_counter() - start


def compare(
    actual: Any, expected: Any, expect_raise: bool, sync: Callable[[], None]
) -> tuple[list[float], list[float]]:
    import torch

    import pytest_accel

    def close() -> None:
        torch.testing.assert_close(actual, expected)

    def parity() -> None:
        pytest_accel.assert_parity(actual, expected)

    timed(close, expect_raise, sync)
    timed(parity, expect_raise, sync)
    close_times: list[float] = []
    parity_times: list[float] = []
    for repeat in range(REPEATS):
        pair = [(close, close_times), (parity, parity_times)]
        for call, into in pair if repeat % 2 == 0 else reversed(pair):
            into.append(timed(call, expect_raise, sync))
    return close_times, parity_times


def main() -> int:
    import numpy as np
    import torch

    print("== bench_compare_cost: assert_parity vs torch.testing.assert_close, 10^7 float32 elements ==")
    print(
        f"machine: {os.cpu_count()} cores; torch {torch.__version__} ({torch.get_num_threads()} intra-op "
        f"threads); numpy {np.__version__}; {REPEATS} alternating calls each, median reported"
    )
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(SIZE, generator=generator)
    near = a + 1e-6 * torch.randn(SIZE, generator=generator)
    off = a.clone()
    off[SIZE // 3] += 1.0

    def no_sync() -> None:
        return None

    cases: list[tuple[str, Any, Any, bool, Callable[[], None]]] = [
        ("torch cpu, passing (nearly equal)", near, a, False, no_sync),
        ("numpy, passing (nearly equal)", near.numpy(), a.numpy(), False, no_sync),
        ("torch cpu, failing (one element off)", off, a, True, no_sync),
        ("numpy, failing (one element off)", off.numpy(), a.numpy(), True, no_sync),
    ]
    if torch.cuda.is_available():
        device = torch.device("cuda:0")

        def cuda_sync() -> None:
            torch.cuda.synchronize(device)

        a_dev, near_dev, off_dev = (t.to(device) for t in (a, near, off))
        cases += [
            ("torch cuda, passing (nearly equal)", near_dev, a_dev, False, cuda_sync),
            ("torch cuda, failing (one element off)", off_dev, a_dev, True, cuda_sync),
        ]
        print(f"CUDA: {torch.cuda.get_device_name(device)}")
    else:
        print("CUDA: not available (CUDA rows skipped)")

    rows = []
    for label, actual, expected, expect_raise, sync in cases:
        close_times, parity_times = compare(actual, expected, expect_raise, sync)
        close_ms = 1e3 * statistics.median(close_times)
        parity_ms = 1e3 * statistics.median(parity_times)
        ratio = parity_ms / close_ms
        rows.append(
            [
                label,
                f"{close_ms:.1f}",
                f"{parity_ms:.1f}",
                f"{1e3 * min(close_times):.1f} / {1e3 * min(parity_times):.1f}",
                f"{ratio:.2f}x",
                f"<= {TARGET_RATIO:g}x: {'yes' if ratio <= TARGET_RATIO else 'no'}",
            ]
        )
    headers = ["case", "assert_close ms", "assert_parity ms", "min close / parity ms", "ratio", "target"]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
