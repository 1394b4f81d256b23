"""Accuracy and repeatability of ``measure`` with CUDA events, against ``torch.utils.benchmark``.

For float32 matmuls ``a @ b`` with n = 256, 1024 and 4096 on ``cuda:0``, the median per call of
``pytest_accel.timing.measure.measure`` with ``CudaEventTimer`` (the plugin's default budget, 0.25 s)
is compared with ``torch.utils.benchmark.Timer(stmt="a @ b").blocked_autorange(min_run_time=1).median``
(wall clock around blocks of calls, the device synchronized before each reading). ``measure`` then runs
a second time to show run-to-run agreement. Targets: within 5% of torch.utils.benchmark, and the two
runs within 3%.

Without CUDA it prints ``skipped: no CUDA device`` and exits 0. ``--cpu-dry-run`` runs the same code on
the CPU (small sizes, host clock) to check the script itself; its numbers say nothing about GPUs.

Run: ``python3 benchmarks/bench_gpu_timing.py``. A script that prints a table; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from tabulate import tabulate

SIZES = (256, 1024, 4096)
DRY_RUN_SIZES = (64, 256, 512)
MIN_RUN_TIME_S = 1.0
AGREEMENT = 0.05
RUN_TO_RUN = 0.03


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-dry-run", action="store_true", help="exercise the script on the CPU")
    options = parser.parse_args()

    import torch

    if options.cpu_dry_run:
        from pytest_accel.frameworks.base import HostClockTimer

        device = torch.device("cpu")
        timer: Any = HostClockTimer()
        sizes = DRY_RUN_SIZES

        def sync() -> None:
            return None

        title = "CPU DRY RUN (checks the script only; host clock, not CUDA events)"
    else:
        if not torch.cuda.is_available():
            print("bench_gpu_timing: skipped: no CUDA device")
            return 0
        from pytest_accel.frameworks.torch_adapter import CudaEventTimer

        device = torch.device("cuda:0")
        timer = CudaEventTimer(device)
        sizes = SIZES

        def sync() -> None:
            torch.cuda.synchronize(device)

        title = f"{torch.cuda.get_device_name(device)}, CUDA events"

    import torch.utils.benchmark as torch_benchmark

    from pytest_accel.config.options import DEFAULT_BENCH_BUDGET_S
    from pytest_accel.timing.measure import measure

    started = time.perf_counter()
    print(f"== bench_gpu_timing: measure() vs torch.utils.benchmark, float32 matmul, {title} ==")
    print(
        f"machine: {os.cpu_count()} host cores; torch {torch.__version__}; "
        f"allow_tf32={torch.backends.cuda.matmul.allow_tf32}, "
        f"float32_matmul_precision={torch.get_float32_matmul_precision()}; measure budget_s="
        f"{DEFAULT_BENCH_BUDGET_S}; blocked_autorange(min_run_time={MIN_RUN_TIME_S}); "
        f"{torch.get_num_threads()} intra-op threads on both sides"
    )
    # torch.utils.benchmark runs with 1 intra-op thread unless told; measure() runs with torch's setting.
    threads = torch.get_num_threads()
    rows = []
    for n in sizes:
        generator = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=generator).to(device)
        b = torch.randn(n, n, generator=generator).to(device)
        for _ in range(3):  # library handles, kernel selection and clocks up before either side times
            a @ b
        sync()
        reference = (
            torch_benchmark.Timer(stmt="a @ b", globals={"a": a, "b": b}, num_threads=threads)
            .blocked_autorange(min_run_time=MIN_RUN_TIME_S)
            .median
        )
        _, first = measure(torch.matmul, (a, b), {}, timer, name=f"mm{n}", budget_s=DEFAULT_BENCH_BUDGET_S)
        _, second = measure(torch.matmul, (a, b), {}, timer, name=f"mm{n}", budget_s=DEFAULT_BENCH_BUDGET_S)
        diff = first.median / reference - 1.0
        run_to_run = second.median / first.median - 1.0
        rows.append(
            [
                n,
                f"{reference * 1e6:.1f}",
                f"{first.median * 1e6:.1f}",
                f"{100 * diff:+.1f}%",
                f"{second.median * 1e6:.1f}",
                f"{100 * run_to_run:+.1f}%",
                f"{'yes' if abs(diff) <= AGREEMENT else 'no'} / "
                f"{'yes' if abs(run_to_run) <= RUN_TO_RUN else 'no'}",
                f"{len(first.samples)}x{first.calls_per_sample} {first.stop_reason}; "
                f"{len(second.samples)}x{second.calls_per_sample} {second.stop_reason}",
                f"{2 * n**3 / reference / 1e12:.2f}",
            ]
        )
    headers = [
        "n",
        "torch.utils.benchmark us",
        "bench us",
        "diff %",
        "second run us",
        "run-to-run %",
        "within 5% / 3%",
        "samples x calls, stop (run 1; run 2)",
        "TFLOP/s (reference)",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(f"total time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
