"""Does a duet of a suite written for pytest-benchmark, adopted by its conftest alone, catch a 25% slowdown?

Issue 15's acceptance: a test module written for pytest-benchmark (``benchmark(fn, x)``), adopted through
its conftest, gets per-device timings, and a duet of it catches a 25% slowdown. A git project: a library
function ``work`` (a sort repeated REPS times) and two pytest-benchmark tests of it (one of them through
``benchmark.pedantic``), adopted by an autouse fixture that requests ``accel_device``. Each repetition
makes a fresh project and runs ``python -m pytest_accel duet HEAD --fail-slower=10%``: once with the
working tree unchanged (a pass is right), once with REPS 25% higher (a failure naming the test is right).

Run: ``python3 benchmarks/bench_adoption_duet.py [--repeats N]``; prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

LIBRARY = """\
import numpy as np

REPS = {reps}


def work(x):
    for _ in range(REPS):
        y = np.sort(x)
    return y
"""

TESTS = """\
import numpy as np

import mylib


def test_work(benchmark):
    out = benchmark(mylib.work, np.random.default_rng(0).standard_normal(20000))
    assert out[0] <= out[-1]


def test_sum(benchmark):
    x = np.arange(20000.0)
    assert benchmark.pedantic(np.sum, args=(x,)) == x.sum()
"""

ADOPTING_CONFTEST = """\
import pytest


@pytest.fixture(autouse=True)
def _on_every_accel_device(accel_device):
    yield
"""

BASE_REPS = 20
SLOWER_REPS = 25  # 25% more work


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "mylib.py").write_text(LIBRARY.format(reps=BASE_REPS))
    (root / "tests" / "test_mylib.py").write_text(TESTS)
    (root / "tests" / "conftest.py").write_text(ADOPTING_CONFTEST)
    (root / "pytest.ini").write_text("[pytest]\naccel_framework = numpy\n")
    (root / ".gitignore").write_text("__pycache__/\n")
    _git(root, "init", "-q")
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.invalid")):
        _git(root, "config", key, value)
    _git(root, "config", "commit.gpgsign", "false")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "initial")
    return root


def _duet(root: Path) -> tuple[int, dict, float]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_ACCEL")}
    report = root / "duet.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest_accel", "duet", "HEAD", "--fail-slower=10%", "--report", str(report)],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or not report.exists():
        output = done.stdout[-600:] + done.stderr[-600:]
        raise SystemExit(f"the duet did not run (exit {done.returncode}): {output}")
    return done.returncode, json.loads(report.read_text())["gate"], elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    options = parser.parse_args()
    outcomes: dict[str, list[str]] = {"unchanged": [], "work 25% slower": []}
    seconds: list[float] = []
    costs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-adoption-duet-") as scratch:
        for repeat in range(options.repeats):
            for case in outcomes:
                root = _project(Path(scratch) / f"{repeat}-{case.split()[0]}")
                if case != "unchanged":
                    (root / "src" / "mylib.py").write_text(LIBRARY.format(reps=SLOWER_REPS))
                code, gate, elapsed = _duet(root)
                seconds.append(elapsed)
                if gate.get("plain_run_seconds"):
                    costs.append(gate["seconds"] / gate["plain_run_seconds"])
                verdicts = gate["verdicts"]
                slower = sorted(v["test"].split("::")[-1] for v in verdicts if v["verdict"] == "slower")
                outcomes[case].append("failed: " + ",".join(slower) if code == 1 else "passed")
    rows = [
        [
            case,
            len(results),
            sum(r.startswith("failed") for r in results),
            sum(r == "failed: test_work" for r in results),
        ]
        for case, results in outcomes.items()
    ]
    print(f"{options.repeats} duets per case; load average {os.getloadavg()[0]:.2f}")
    print(tabulate(rows, headers=["case", "duets", "failed", "failed naming test_work alone"]))
    cost = f", {statistics.median(costs):.1f}x a plain run" if costs else ""
    print(f"duet wall time: median {statistics.median(seconds):.1f} s{cost}")
    print("target: unchanged fails at most 1 of 20; the 25% slowdown is caught naming only test_work")


if __name__ == "__main__":
    main()
