"""Does ``history check`` cry wolf on this machine, and does it see creeping regressions?

Run: ``python3 benchmarks/bench_history.py`` (about 5 minutes on a 2-core machine; ``--histories N``
unchanged histories of ``--runs R`` runs each, default 4 x 12). In a temporary git repository holding a
suite of six single-threaded numpy/Python benchmarks (0.25 ms to 11 ms per call), every run is a real
pytest session with ``--accel-history``, on a commit of its own:

- unchanged: N histories of R runs of the same code, each in a database of its own, then
  ``python -m pytest_accel history check`` on each: every change point reported is a false alarm.
- creep: 8 runs, then one function 3% slower at each of 5 consecutive commits (its loop count 100 ->
  103 -> 106 -> 109 -> 113 -> 116), then 4 more runs at the new level.
- step: 8 runs, then one function 10% slower (100 -> 110), then 6 more runs.
- injected: the same creep and step added to each benchmark of each unchanged history in turn (its
  recorded levels multiplied), judged in-process: many more cases on the same real noise.

Prints tables; exits 0 unless the script itself fails. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from pytest_accel.history.series import judge, load_series
from pytest_accel.history.store import open_store

FUNCTIONS = ("sort_small", "cumsum_16k", "fft_16k", "sort_large", "py_loop", "matmul_64")
SLOWED = "cumsum_16k"
LIB = '''"""The benchmarked functions; REPS is rewritten to make one of them slower."""
import numpy as np

REPS = {"sort_small": 100, "cumsum_16k": 100, "fft_16k": 100, "sort_large": 100, "py_loop": 100,
        "matmul_64": 100}
BASE = 100


def _times(name, base):
    return max(1, round(REPS[name] * base / BASE))


def sort_small(x):
    for _ in range(REPS["sort_small"]):
        out = np.sort(x)
    return out


def cumsum_16k(x):
    for _ in range(REPS["cumsum_16k"]):
        out = np.cumsum(x)
    return out


def fft_16k(x):
    for _ in range(_times("fft_16k", 20)):
        out = np.fft.rfft(x)
    return out


def sort_large(x):
    for _ in range(_times("sort_large", 4)):
        out = np.sort(x)
    return out


def py_loop(x):
    for _ in range(REPS["py_loop"]):
        sum(range(300))
    return x


def matmul_64(x):
    for _ in range(REPS["matmul_64"]):
        out = x @ x
    return out
'''
TESTS = """import lib
import pytest

pytestmark = pytest.mark.accel(framework="numpy", dtypes=["float64"])


def test_sort_small(accel_device):
    accel_device.bench(lib.sort_small, accel_device.randn(300))


def test_cumsum_16k(accel_device):
    accel_device.bench(lib.cumsum_16k, accel_device.randn(16384))


def test_fft_16k(accel_device):
    accel_device.bench(lib.fft_16k, accel_device.randn(16384))


def test_sort_large(accel_device):
    accel_device.bench(lib.sort_large, accel_device.randn(250_000))


def test_py_loop(accel_device):
    accel_device.bench(lib.py_loop, accel_device.randn(4))


def test_matmul_64(accel_device):
    accel_device.bench(lib.matmul_64, accel_device.randn(64, 64))
"""
ENV = {
    **os.environ,
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTEST_ADDOPTS": "-p no:hypothesispytest -p no:cacheprovider",
}
for _name in ("GITHUB_SHA", "GITHUB_REF", "GITHUB_HEAD_REF", "PYTEST_ACCEL"):
    ENV.pop(_name, None)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(folder: Path) -> Path:
    repo = folder / "suite"
    repo.mkdir()
    (repo / "lib.py").write_text(LIB)
    (repo / "test_suite.py").write_text(TESTS)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "suite")
    return repo


def set_reps(repo: Path, reps: int) -> None:
    path = repo / "lib.py"
    table = {name: (reps if name == SLOWED else 100) for name in FUNCTIONS}
    path.write_text(re.sub(r"^REPS = \{.*\}$", f"REPS = {table!r}", path.read_text(), flags=re.M))


def one_run(repo: Path, db: Path, reps: int, message: str) -> None:
    """Commit (the code as it is now, or an empty commit), then a real pytest run into the history."""
    set_reps(repo, reps)
    git(repo, "commit", "-qam", message, "--allow-empty")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--accel-history={db}"],
        cwd=repo,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"a run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def check(db: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_accel", "history", "check", "--db", str(db)],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout


def record(repo: Path, db: Path, plan: list[int]) -> None:
    for number, reps in enumerate(plan):
        one_run(repo, db, reps, f"run {number} reps {reps}")


def commits(repo: Path, count: int) -> list[str]:
    out = subprocess.run(["git", "log", "--format=%H", f"-{count}"], cwd=repo, capture_output=True, text=True)
    return out.stdout.split()[::-1]


def injected(db: Path, plan: list[float]) -> dict[str, list[int]]:
    """The recorded history, with each benchmark in turn multiplied by ``plan``; per benchmark the
    cases where check alarmed on it alone, on others, and where the bracket held the change."""
    tally: dict[str, list[int]] = {"on it": [], "on another": [], "within 1 run": [], "exact": []}
    with open_store(db) as store:
        clean = load_series(store, "main")
    changed_at = next(i for i, f in enumerate(plan) if f != 1.0)
    settled = next(i for i, f in enumerate(plan) if f == plan[-1])
    for target in range(len(clean)):
        findings = judge(load_series_copy(clean, target, plan), 0.05, 10)
        alarms = [f for f in findings if f.alarm]
        on_it = [f.change for f in alarms if f.series.key == clean[target].key]
        tally["on it"].append(int(bool(on_it)))
        tally["on another"].append(int(any(f.series.key != clean[target].key for f in alarms)))
        near = bool(on_it) and abs(on_it[0].first - changed_at) <= 1 and abs(on_it[0].last - settled) <= 1
        tally["within 1 run"].append(int(near))
        tally["exact"].append(int(bool(on_it) and (on_it[0].first, on_it[0].last) == (changed_at, settled)))
    return tally


def load_series_copy(clean: list, target: int, plan: list[float]) -> list:
    from dataclasses import replace

    from pytest_accel.history.series import Series

    copies = []
    for index, one in enumerate(clean):
        points = one.points[: len(plan)]
        if index == target:
            points = [
                replace(p, entry=replace(p.entry, median_s=p.entry.median_s * factor))
                for p, factor in zip(points, plan, strict=True)
            ]
        copies.append(Series(one.key, points))
    return copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=4)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--keep", type=Path, help="keep the databases in this (new) folder")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        repo = make_repo(Path(folder))
        unchanged = []
        for number in range(args.histories):
            db = Path(folder) / f"unchanged-{number}.db"
            record(repo, db, [100] * args.runs)
            unchanged.append(db)
        creep_plan = [100] * 8 + [103, 106, 109, 113, 116] + [116] * 4
        step_plan = [100] * 8 + [110] * 6
        creep_db, step_db = Path(folder) / "creep.db", Path(folder) / "step.db"
        record(repo, creep_db, creep_plan)
        creep_commits = commits(repo, len(creep_plan))
        record(repo, step_db, step_plan)
        step_commits = commits(repo, len(step_plan))
        load = os.getloadavg()[0]

        rows, per_bench = [], {}
        for db in unchanged:
            code, out = check(db)
            with open_store(db) as store:
                series = load_series(store, "main")
            findings = judge(series, 0.05, 10)
            for one in series:
                per_bench.setdefault(one.label, 0)
            for finding in findings:
                per_bench[finding.series.label] += 1
            rows.append([db.name, code, len(findings), out.strip().splitlines()[-1][:90]])
        print(f"\nunchanged: {args.histories} histories of {args.runs} real runs ('history check' exit code)")
        print(tabulate(rows, headers=["history", "exit", "change points", "last line"]))
        print("\nfalse alarms per benchmark (change points over all unchanged histories):")
        print(tabulate(sorted(per_bench.items()), headers=["benchmark", f"of {args.histories}"]))

        print("\nreal code changes (one function, cumsum_16k, made slower by its loop count):")
        for name, db, history_commits, first, last in (
            ("creep 5 x 3%", creep_db, creep_commits, 8, 12),
            ("step 10%", step_db, step_commits, 8, 8),
        ):
            code, out = check(db)
            print(
                f"\n== {name}: exit {code}; the change was made at commits {history_commits[first][:10]}"
                f"..{history_commits[last][:10]} (runs {first}..{last})"
            )
            print(out.rstrip())

        rows = []
        for name, plan in (
            ("creep 5 x 3%", [1.0] * 4 + [1.03**k for k in range(1, 6)] + [1.03**5] * 3),
            ("step 10%", [1.0] * 6 + [1.10] * 6),
        ):
            totals = {"on it": 0, "on another": 0, "within 1 run": 0, "exact": 0}
            cases = 0
            for db in unchanged:
                tally = injected(db, plan)
                cases += len(tally["alarm on it"])
                for key in totals:
                    totals[key] += sum(tally[key])
            rows.append([name, cases, *(f"{value}/{cases}" for value in totals.values())])
        print(
            "\ninjected into each benchmark of each unchanged history (its first 12 runs; the creep in runs "
            "4-8, the step at run 6):"
        )
        headers = ["case", "cases", "flagged (exit 1)", "another flagged", "bracket within 1 run", "exact"]
        print(tabulate(rows, headers=headers))
    print(f"\nload average at end: {load:.2f}; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
