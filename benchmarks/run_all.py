"""Run every benchmark in order, each in its own process, and print its tables.

Run: ``python3 benchmarks/run_all.py``. Exits non-zero only if a script itself fails (crashes); a missed
target is a number in a table, not a failure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_timing_accuracy.py",
    "bench_overhead.py",
    "bench_compare_cost.py",
    "bench_gpu_timing.py",
    "bench_gate.py",
    "bench_adoption_cost.py",
    "bench_adoption_duet.py",
    "bench_history.py",
)


def main() -> int:
    failed = []
    for script in SCRIPTS:
        print(f"\n##### {script}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / script)], check=False)
        print(f"##### {script}: exit {done.returncode} in {time.perf_counter() - started:.1f} s", flush=True)
        if done.returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
