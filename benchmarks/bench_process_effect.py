"""Does a benchmark's speed depend on the process it runs in? Measured across fresh pytest processes.

A duet pairs one process of the base code with one process of the new code. Whatever makes one
process of the same code faster than another (where the allocator happens to place a function's
buffers, hash seeds, address-space randomisation) is a difference between the two sides that no
number of rounds can cancel. This script runs the gate suite (``gate_suite/test_suite.py``, unchanged)
in ``--runs`` fresh pytest processes, one after the other, and prints each benchmark's median per
call in each process: its spread from process to process against its spread within one process (the
half interquartile range the summary shows). The processes differ in one way that no benchmark reads:
an environment variable of random length (0-8 KiB), as the environments of two CI jobs differ. What the
process allocates at start moves with it, and with that where the tests' arrays land on the heap.

Run: ``python3 benchmarks/bench_process_effect.py`` (about a minute; ``--runs N``). Prints a table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from pytest_accel.results.file import load_results

SUITE = Path(__file__).resolve().parent / "gate_suite"


def one_process(saved: Path, budget: str, pad: int) -> dict[str, tuple[float, float]]:
    """Run the suite once in a fresh process whose environment carries ``pad`` more bytes; each bench's
    (median, half IQR / median) per call."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
        f"--accel-bench-budget={budget}", f"--accel-save={saved}", "test_suite.py",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_PROCESS_PAD": "x" * pad}
    done = subprocess.run(command, cwd=SUITE, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the suite failed:\n{done.stdout[-3000:]}")
    measured = {}
    for result in load_results(saved)["results"]:
        for bench in result.get("benches", []):
            samples = sorted(bench["samples"])
            median = statistics.median(samples)
            quartiles = statistics.quantiles(samples, n=4)
            measured[bench["name"]] = (median, (quartiles[2] - quartiles[0]) / 2 / median)
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="fresh processes (default 10)")
    parser.add_argument("--budget", default="0.1", help="bench budget per call in seconds")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    per_process: dict[str, list[tuple[float, float]]] = {}
    pads = [random.Random(run).randrange(0, 8192) for run in range(args.runs)]
    print("environment padding per process (bytes): " + " ".join(map(str, pads)))
    with tempfile.TemporaryDirectory(prefix="bench-process-") as scratch:
        for run, pad in enumerate(pads):
            for name, value in one_process(Path(scratch) / f"run-{run}.json", args.budget, pad).items():
                per_process.setdefault(name, []).append(value)
            print(f"process {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    rows = []
    for name, values in per_process.items():
        medians = [median for median, _ in values]
        fastest = min(medians)
        rows.append(
            [
                name,
                " ".join(f"{m / fastest:.2f}" for m in medians),
                f"{100 * (max(medians) / fastest - 1):.0f}%",
                f"{100 * statistics.median(spread for _, spread in values):.1f}%",
            ]
        )
    headers = [
        "benchmark",
        "median per process (over the fastest process)",
        "slowest process over fastest",
        "within a process (half IQR)",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(f"\nmachine: load average {os.getloadavg()[0]:.2f} at the end; bench budget {args.budget} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
