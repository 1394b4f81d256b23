"""Does ``history check`` cry wolf on this machine, and does it see creeping regressions?

Run: ``python3 benchmarks/bench_history.py`` (about 4 minutes on a 2-core machine; ``--histories N``
unchanged histories of ``--runs R`` runs each, default 4 x 12; ``--slowed`` the functions made slower;
``--keep DIR`` keeps the databases, ``--reuse DIR`` judges kept ones again without recording). In a
temporary git repository holding a suite of six single-threaded numpy/Python benchmarks (0.25 ms to
11 ms per call), every run is a real pytest session with ``--accel-history``, on a commit of its own:

- unchanged: N histories of R runs of the same code, each in a database of its own, then
  ``python -m pytest_accel history check`` on each: every alarm is a false one. Also judged without
  the machine guard (``judge(..., machine_guard=False)``), to show what the guard changes.
- creep, per slowed function (default matmul_64, compute-bound, and cumsum_16k, memory-bound): 8 runs,
  then the function 3% slower at each of 5 consecutive commits (its loop count 100 -> 103 -> 106 -> 109
  -> 113 -> 116), then 4 more runs at the new level.
- step, per slowed function: 8 runs, then the function 10% slower (100 -> 110), then 6 more runs.
- injected: the same creep and step added to each benchmark of each unchanged history in turn (its
  recorded levels multiplied), judged in-process with and without the guard: more cases on real noise.

Prints tables and the load average; exits 0 unless the script itself fails (4 for bad options).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import itertools
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
# The functions whose loop count is their REPS (fft and sort_large scale theirs: 3% would round away).
SLOWABLE = ("sort_small", "cumsum_16k", "py_loop", "matmul_64")
SLOWED = ("matmul_64", "cumsum_16k")  # compute-bound, and memory-bound (the neighbour's load moves it)
LIB = '''"""The benchmarked functions; REPS is rewritten to make one of them slower."""
import numpy as np

REPS = dict(sort_small=100, cumsum_16k=100, fft_16k=100, sort_large=100, py_loop=100, matmul_64=100)
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


def set_reps(repo: Path, slowed: str, reps: int) -> None:
    path = repo / "lib.py"
    table = {name: (reps if name == slowed else 100) for name in FUNCTIONS}
    text, count = re.subn(r"^REPS = .*$", f"REPS = {table!r}", path.read_text(), flags=re.M)
    if count != 1:  # the code must really change (an earlier version of this script never changed it)
        raise SystemExit(f"bench_history: could not set the loop counts in {path}")
    path.write_text(text)


def one_run(repo: Path, db: Path, slowed: str, reps: int, message: str) -> None:
    """Commit (the code as it is now, or an empty commit), then a real pytest run into the history."""
    set_reps(repo, slowed, reps)
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


def record(repo: Path, db: Path, plan: list[int], slowed: str = SLOWED[0]) -> None:
    for number, reps in enumerate(plan):
        one_run(repo, db, slowed, reps, f"run {number}: {slowed} reps {reps}")


def injected(db: Path, plan: list[float], guard: bool = True) -> dict[str, list[int]]:
    """The recorded history, with each benchmark in turn multiplied by ``plan``; per benchmark the
    cases where check alarmed on it alone, on others, and where the bracket held the change."""
    tally: dict[str, list[int]] = {"on it": [], "on another": [], "within 1 run": [], "exact": []}
    with open_store(db) as store:
        clean = load_series(store, "main")
    changed_at = next(i for i, f in enumerate(plan) if f != 1.0)
    settled = next(i for i, f in enumerate(plan) if f == plan[-1])
    for target in range(len(clean)):
        findings = judge(load_series_copy(clean, target, plan), 0.05, 10, machine_guard=guard)
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


def run_commits(db: Path) -> list[str]:
    with open_store(db) as store:
        return [run.commit or "?" for run in store.runs("main")]


CREEP_PLAN = [100] * 8 + [103, 106, 109, 113, 116] + [116] * 4  # runs 8..12 each 3% slower
STEP_PLAN = [100] * 8 + [110] * 6  # run 8 10% slower
CASES = {"creep": (CREEP_PLAN, 8, 12), "step": (STEP_PLAN, 8, 8)}  # plan, first and last changed run


def record_all(folder: Path, histories: int, runs: int, slowed: list[str]) -> None:
    """Every history of the experiment, each a database of real runs in ``folder``."""
    repo = make_repo(folder)
    for number in range(histories):
        record(repo, folder / f"unchanged-{number}.db", [100] * runs)
    for name in slowed:
        for case, (plan, _, _) in CASES.items():
            record(repo, folder / f"{case}-{name}.db", plan, name)


def report_unchanged(unchanged: list[Path]) -> None:
    rows, per_bench = [], {}
    for db in unchanged:
        code, _ = check(db)
        with open_store(db) as store:
            series = load_series(store, "main")
        findings = judge(series, 0.05, 10)
        unguarded = [f for f in judge(series, 0.05, 10, machine_guard=False) if f.alarm]
        for one in series:
            per_bench.setdefault(one.label, [0, 0, 0])
        for finding in findings:
            per_bench[finding.series.label][0] += 1
            per_bench[finding.series.label][1] += finding.alarm
        for finding in unguarded:
            per_bench[finding.series.label][2] += 1
        moved = sum(f.machine for f in findings)
        rows.append([db.name, len(series[0].points), code, len(findings), moved, len(unguarded) > 0])
    print(f"\nunchanged: {len(unchanged)} histories of real runs ('history check' exit code)")
    headers = ["history", "runs", "exit", "change points", "of them machine moved", "exit 1 without guard"]
    print(tabulate(rows, headers=headers))
    print(
        f"histories with an alarm (exit 1): {sum(row[2] == 1 for row in rows)}/{len(unchanged)}; "
        f"without the machine guard: {sum(row[5] for row in rows)}/{len(unchanged)}"
    )
    print("\nper benchmark, over all unchanged histories:")
    table = [[name, *counts] for name, counts in sorted(per_bench.items())]
    print(tabulate(table, headers=["benchmark", "change points", "alarms", "alarms without guard"]))


def report_real(folder: Path, verbose: bool) -> None:
    """Each real creep and step: did ``history check`` fail, on that benchmark alone, at its commits?"""
    from pytest_accel.history.show import where

    rows = []
    for db in sorted(folder.glob("creep-*.db")) + sorted(folder.glob("step-*.db")):
        case, slowed = db.stem.split("-", 1)
        _, first, last = CASES[case]
        code, out = check(db)
        with open_store(db) as store:
            series = load_series(store, "main")
        alarms = [f for f in judge(series, 0.05, 10) if f.alarm]
        mine = [f for f in alarms if f.series.key[4] == slowed]
        others = sorted({f.series.key[4] for f in alarms} - {slowed})
        made = series[0].commit(first - 1), series[0].commit(last)
        found = "; ".join(
            f"{where(f.series, f.change)} [runs {f.change.first}..{f.change.last}]" for f in mine
        )
        rows.append(
            [
                case,
                slowed,
                code,
                "yes" if mine else "no",
                ", ".join(others) or "-",
                f"{made[0]}..{made[1]} [runs {first}..{last}]",
                found or "-",
            ]
        )
        if verbose:
            print(f"\n== {db.name}\n{out.rstrip()}")
    print("\nreal code changes (one function made slower by its loop count, at real commits):")
    headers = ["case", "slowed", "exit", "flagged it", "others flagged", "made at", "reported at"]
    print(tabulate(rows, headers=headers, disable_numparse=True))


def report_injected(unchanged: list[Path]) -> None:
    rows = []
    for (name, plan), guard in itertools.product(
        (
            ("creep 5 x 3%", [1.0] * 3 + [1.03**k for k in range(1, 6)] + [1.03**5] * 4),
            ("step 10%", [1.0] * 6 + [1.10] * 6),
        ),
        (True, False),
    ):
        totals = {"on it": 0, "on another": 0, "within 1 run": 0, "exact": 0}
        cases = 0
        for db in unchanged:
            tally = injected(db, plan, guard)
            cases += len(tally["on it"])
            for key in totals:
                totals[key] += sum(tally[key])
        rows.append(
            [name, "on" if guard else "off", cases, *(f"{value}/{cases}" for value in totals.values())]
        )
    print(
        "\ninjected into each benchmark of each unchanged history (its first 12 runs; the creep in runs "
        "3-7, the step at run 6; 5 runs at the new level, as check needs):"
    )
    headers = [
        "case",
        "machine guard",
        "cases",
        "flagged (exit 1)",
        "another flagged",
        "bracket within 1 run",
        "exact",
    ]
    print(tabulate(rows, headers=headers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=4, help="unchanged histories (default 4)")
    parser.add_argument("--runs", type=int, default=12, help="runs per unchanged history (default 12)")
    parser.add_argument("--keep", type=Path, help="record into this folder and keep the databases")
    parser.add_argument("--reuse", type=Path, help="judge the databases a --keep run left; record nothing")
    parser.add_argument(
        "--slowed",
        default=",".join(SLOWED),
        help=f"functions made slower, comma-separated, of {', '.join(SLOWABLE)} (default {','.join(SLOWED)})",
    )
    parser.add_argument("--verbose", action="store_true", help="print each real change's check output")
    args = parser.parse_args()
    slowed = [name for name in args.slowed.split(",") if name]
    if args.histories < 1 or args.runs < 12 or not set(slowed) <= set(SLOWABLE):
        print(
            f"bench_history: --histories 1 or more, --runs 12 or more, --slowed of {', '.join(SLOWABLE)}",
            file=sys.stderr,
        )
        return 4
    started = time.perf_counter()
    print(
        f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.reuse or args.keep or Path(scratch)
        if args.reuse is None:
            folder.mkdir(parents=True, exist_ok=True)
            record_all(folder, args.histories, args.runs, slowed)
            print(f"recorded; load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        elif not any(folder.glob("unchanged-*.db")):
            print(
                f"bench_history: --reuse {folder}: no histories there (record with --keep)", file=sys.stderr
            )
            return 4
        unchanged = sorted(folder.glob("unchanged-*.db"))
        report_unchanged(unchanged)
        report_real(folder, args.verbose)
        report_injected(unchanged)
    print(
        f"\nload average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
