"""Accuracy of ``pytest_accel.timing.measure.measure`` on the host clock, against an independent ``timeit``.

For CPU functions from about 10 us to 50 ms per call, the median per call that ``measure`` reports
(with the plugin's default budget of 0.25 s per ``bench``) is compared with ``timeit``: 7 repeats of N
calls, N chosen so that one repeat lasts about 0.2 s. The reference is the MEDIAN of the 7 repeats, because
``measure`` reports a median too: both then estimate the typical cost of a call on a machine that is
shared, instead of comparing a typical value with a best case (timeit's min, shown for context, is the
best case: it sits below the typical cost by whatever interference every repeat suffered).

Each ``measure`` call is sandwiched between two timeit runs (before and after) and compared with their
mean; the change from the first timeit run to the second is printed as "timeit drift": it is the noise
floor of the comparison on this shared machine. The whole comparison is repeated in 4 rounds; the
summary gives each function's median difference over the rounds (drift that is not an error of
``measure`` averages out there) and the worst one.

BLAS and OpenMP are pinned to one thread (environment variables set before numpy is imported), so that
a matmul does not fight the other core's load. OPENBLAS_CORETYPE is left as the environment has it.

Run: ``python3 benchmarks/bench_timing_accuracy.py``. A script that prints tables; it asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
TARGETS_S = (10e-6, 100e-6, 1e-3, 10e-3, 50e-3)
PAIRS = 12
TIMEIT_REPEAT = 7
TIMEIT_REPEAT_S = 0.2
TOLERANCE = 0.05


def pin_threads() -> str:
    """Set the BLAS/OpenMP thread counts to 1; must run before numpy is imported."""
    if "numpy" in sys.modules:
        return "numpy was imported before the thread variables were set: thread count NOT pinned"
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    return "threads pinned to 1 via " + ", ".join(f"{v}=1" for v in THREAD_VARIABLES)


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed (thread count set through the environment only)"
    pools = threadpool_info()
    return "; ".join(
        f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')} "
        f"threads={p.get('num_threads')}"
        for p in pools
    )


Case = tuple[str, Callable[..., Any], tuple[Any, ...]]


def _families() -> list[tuple[str, Callable[[int], Case], int, float]]:
    """(label, make(size) -> case, starting size, cost exponent in size) per target time."""
    import numpy as np

    rng = np.random.default_rng(0)

    def make_sum(n: int) -> Case:
        return f"np.sum(float64[{n}])", np.sum, (rng.standard_normal(n),)

    def make_sort(n: int) -> Case:
        return f"np.sort(float64[{n}])", np.sort, (rng.standard_normal(n),)

    def make_matmul(n: int) -> Case:
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        return f"float32 matmul {n}x{n}", np.matmul, (a, b)

    return [
        ("sum", make_sum, 8_000, 1.0),
        ("sort", make_sort, 2_000, 1.1),
        ("sort", make_sort, 20_000, 1.1),
        ("matmul", make_matmul, 200, 3.0),
        ("matmul", make_matmul, 400, 3.0),
    ]


def quick_per_call(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float = 0.05) -> float:
    """A fast estimate (min over a few short batches), used only to pick sizes and loop counts."""
    fn(*args)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed / number)
        if elapsed < 2e-3:
            number *= 4
        if time.perf_counter() > deadline and best < float("inf"):
            return best


def calibrate(make: Callable[[int], Case], size: int, exponent: float, target: float) -> Case:
    """Adjust the size (3 steps) so that one call costs about ``target`` seconds."""
    case = make(size)
    for _ in range(3):
        per_call = quick_per_call(case[1], case[2])
        if abs(per_call / target - 1) < 0.15:
            break
        size = max(16, round(size * (target / per_call) ** (1.0 / exponent)))
        case = make(size)
    return case


def timeit_per_call(fn: Callable[..., Any], args: tuple[Any, ...], number: int) -> list[float]:
    timer = timeit.Timer("fn(*args)", globals={"fn": fn, "args": args})
    return [total / number for total in timer.repeat(repeat=TIMEIT_REPEAT, number=number)]


def fmt_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} us"


def main() -> int:
    pinned = pin_threads()
    import numpy as np
    from tabulate import tabulate

    from pytest_accel.config.options import DEFAULT_BENCH_BUDGET_S
    from pytest_accel.frameworks.base import HostClockTimer
    from pytest_accel.timing.measure import measure

    print("== bench_timing_accuracy: measure() (host clock) vs timeit ==")
    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}; {pinned}")
    print(f"BLAS: {blas_description()}")
    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{variable}={os.environ.get(variable, '(unset)')}  (left as the environment has it)")
    load = os.getloadavg()[0]
    print(
        f"load average (1 min) {load:.2f}"
        + (
            ": other processes are running; on a 2-core machine they slow this one by tens of percent "
            "in bursts (see 'worst single pair')"
            if load > 0.5
            else ""
        )
    )
    budget = DEFAULT_BENCH_BUDGET_S
    print(
        f"measure budget_s={budget} (the plugin default); timeit: repeat={TIMEIT_REPEAT}, number chosen "
        f"for ~{TIMEIT_REPEAT_S} s per repeat, reference = median of the repeats"
    )

    cases = []
    for (_, make, size, exponent), target in zip(_families(), TARGETS_S, strict=True):
        label, fn, args = calibrate(make, size, exponent, target)
        per_call = quick_per_call(fn, args, 0.1)
        cases.append((target, label, fn, args, per_call))

    rows = []
    for target, label, fn, args, per_call in cases:
        # timeit's run lasts about as long as one measure() call: TIMEIT_REPEAT repeats in the budget.
        chunk_number = max(1, round(budget / TIMEIT_REPEAT / per_call))
        diffs, results = [], []
        for pair in range(PAIRS):
            # Alternate the order so that a trend in the machine's speed cancels out.
            if pair % 2:
                reference = statistics.median(timeit_per_call(fn, args, chunk_number))
            _, result = measure(fn, args, {}, HostClockTimer(), name=label, budget_s=budget)
            if not pair % 2:
                reference = statistics.median(timeit_per_call(fn, args, chunk_number))
            diffs.append(result.median / reference - 1.0)
            results.append(result)
        median_diff = statistics.median(diffs)
        quartiles = statistics.quantiles(diffs, n=4, method="inclusive")
        rows.append(
            [
                f"{label} (~{fmt_time(target)})",
                fmt_time(statistics.median(r.median for r in results)),
                f"{100 * median_diff:+.1f}%",
                f"{100 * quartiles[0]:+.1f}% .. {100 * quartiles[2]:+.1f}%",
                f"{100 * max(abs(d) for d in diffs):.1f}%",
                statistics.median(len(r.samples) for r in results),
                statistics.median(r.calls_per_sample for r in results),
                ", ".join(sorted({r.stop_reason for r in results})),
                "yes" if abs(median_diff) <= TOLERANCE else "no",
            ]
        )
    headers = [
        "function",
        "bench median",
        "median paired difference",
        "IQR of differences",
        "worst single pair",
        "samples",
        "calls per sample",
        "stop reasons",
        "within 5%",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(
        f"{PAIRS} alternating pairs per function: one measure() call (budget {budget} s, as bench runs it) "
        f"and one timeit run of about the same length ({TIMEIT_REPEAT} repeats, median per call), in "
        "alternating order. difference = bench median / timeit per call - 1; the verdict uses the median "
        "over the pairs, since on a shared machine speed drifts by tens of percent between single pairs "
        "(the 'worst single pair' column shows how much)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
