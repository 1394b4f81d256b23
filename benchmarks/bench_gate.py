"""Does the performance gate cry wolf, and does it catch real slowdowns? Measured, not assumed.

Suite: ``gate_suite/`` (four single-threaded numpy functions, ~50 us to ~50 ms per call), in a
temporary git repository. Scenarios, each with ``--fail-slower=10%``:

- separate runs: a fresh baseline run (``--accel-save``), then a compare run (``--accel-compare``) of
  unchanged code, or with one function 25% slower (the slowed function rotates). pytest-benchmark runs
  the same functions in the same pytest sessions, and its ``--benchmark-compare-fail=median:10%`` rule
  (a median more than 10% above the baseline's fails) is applied to its JSON files.
- duet: ``python -m pytest_accel duet HEAD`` with the working tree unchanged, with one function 25%
  slower, and with one 10% slower.

Run: ``python3 benchmarks/bench_gate.py`` (about 20 minutes on a 2-core machine; ``--quick`` for a
smoke run). Needs pytest-benchmark (``pip install -e ".[bench]"``). Prints a table; a missed target is
a number in the table, not a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
SUITE = HERE / "gate_suite"
FUNCTIONS = ("sort_small", "cumsum_16k", "fft_16k", "sort_large")
BASE_REPS = 20
SLOWER_25 = 25
SLOWER_10 = 22
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


@dataclass
class Tally:
    runs: int = 0
    failed: int = 0
    named_right: int = 0  # failed, naming the slowed function
    wrong_slower: int = 0  # runs that called an unchanged function slower
    inconclusive: int = 0  # benchmark verdicts
    verdicts: int = 0
    detectable: list[float] = field(default_factory=list)
    pb_failed: int = 0
    pb_named_right: int = 0
    pb_wrong: int = 0
    seconds: float = 0.0


def set_reps(repo: Path, slowed: str | None, reps: int) -> None:
    path = repo / "suite_lib.py"
    text = path.read_text()
    table = {name: (reps if name == slowed else BASE_REPS) for name in FUNCTIONS}
    text = re.sub(r"^REPS = \{.*\}$", f"REPS = {table!r}", text, flags=re.M)
    path.write_text(text)


def make_repo(folder: Path) -> Path:
    repo = folder / "suite"
    shutil.copytree(SUITE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    for command in (
        ["git", "init", "-q"],
        ["git", "config", "user.email", "bench@example.invalid"],
        ["git", "config", "user.name", "bench"],
        ["git", "add", "."],
        ["git", "commit", "-qm", "suite"],
    ):
        subprocess.run(command, cwd=repo, check=True)
    return repo


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def pb_medians(path: Path) -> dict[str, float]:
    data = json.loads(path.read_text())
    return {b["name"].removeprefix("test_pb_"): b["stats"]["median"] for b in data["benchmarks"]}


LOG: list[Path] = []


def judge_gate(report: Path, slowed: str | None, tally: Tally) -> None:
    gate = json.loads(report.read_text())["gate"]
    if LOG:
        entry = {
            "mode": gate["mode"],
            "slowed": slowed,
            "failed": gate["failed"],
            "verdicts": [
                {k: v[k] for k in ("bench", "verdict", "ratio", "low", "high", "detectable_slowdown")}
                for v in gate["verdicts"]
            ],
        }
        with LOG[0].open("a") as stream:
            stream.write(json.dumps(entry) + "\n")
    tally.runs += 1
    slower = [v for v in gate["verdicts"] if v["verdict"] == "slower"]
    if gate["failed"]:
        tally.failed += 1
        if slowed and any(slowed in v["bench"] for v in slower):
            tally.named_right += 1
    if any(not (slowed and slowed in v["bench"]) for v in slower):
        tally.wrong_slower += 1
    for verdict in gate["verdicts"]:
        tally.verdicts += 1
        if verdict["verdict"] == "inconclusive":
            tally.inconclusive += 1
        if verdict["detectable_slowdown"] is not None:
            tally.detectable.append(verdict["detectable_slowdown"])


def separate_pair(repo: Path, slowed: str | None, budget: str, tally: Tally) -> None:
    """A baseline run, then a compare run; pytest-benchmark measures the same functions in both."""
    started = time.perf_counter()
    set_reps(repo, None, BASE_REPS)
    common = [f"--accel-bench-budget={budget}", f"--benchmark-max-time={budget}", "--benchmark-min-rounds=5"]
    base = run([*PYTEST, *common, "--accel-save=base.json", "--benchmark-json=pb_base.json"], repo)
    if base.returncode != 0:
        raise SystemExit(f"baseline run failed:\n{base.stdout[-3000:]}")
    set_reps(repo, slowed, SLOWER_25)
    new = run(
        [
            *PYTEST,
            *common,
            "--accel-compare=base.json",
            "--accel-fail-slower=10%",
            "--accel-report=gate.json",
            "--benchmark-json=pb_new.json",
        ],
        repo,
    )
    if new.returncode not in (0, 1):
        raise SystemExit(f"compare run failed:\n{new.stdout[-3000:]}")
    judge_gate(repo / "gate.json", slowed, tally)
    old, now = pb_medians(repo / "pb_base.json"), pb_medians(repo / "pb_new.json")
    failing = [name for name in FUNCTIONS if now[name] > 1.10 * old[name]]
    tally.pb_failed += bool(failing)
    tally.pb_named_right += bool(slowed in failing) if slowed else 0
    tally.pb_wrong += any(name != slowed for name in failing)
    tally.seconds += time.perf_counter() - started
    set_reps(repo, None, BASE_REPS)


def duet(repo: Path, slowed: str | None, reps: int, rounds: int, budget: str, tally: Tally) -> None:
    started = time.perf_counter()
    set_reps(repo, slowed, reps)
    done = run(
        [
            sys.executable,
            "-m",
            "pytest_accel",
            "duet",
            "HEAD",
            "--rounds",
            str(rounds),
            "--fail-slower=10%",
            "--report",
            "duet.json",
            "--",
            "-q",
            "-p",
            "no:benchmark",
            f"--accel-bench-budget={budget}",
            "test_suite.py",
        ],
        repo,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"duet failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    judge_gate(repo / "duet.json", slowed, tally)
    tally.seconds += time.perf_counter() - started
    set_reps(repo, None, BASE_REPS)


def row(name: str, target: str, tally: Tally, with_pb: bool) -> list[str]:
    detectable = sorted(tally.detectable)
    median_detectable = f"{100 * detectable[len(detectable) // 2]:.0f}%" if detectable else "-"
    pb = f"{tally.pb_failed}/{tally.runs} (wrong {tally.pb_wrong})" if with_pb else "-"
    return [
        name,
        target,
        f"{tally.failed}/{tally.runs}",
        f"{tally.named_right}/{tally.runs}",
        str(tally.wrong_slower),
        f"{tally.inconclusive}/{tally.verdicts}",
        median_detectable,
        pb,
        f"{tally.seconds / max(1, tally.runs):.0f} s",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20, help="separate-run pairs per scenario")
    parser.add_argument("--duets", type=int, default=20, help="duets per scenario (10%%: half as many)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--budget", default="0.1", help="bench budget per call in seconds")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per run here")
    parser.add_argument(
        "--only",
        choices=("separate", "duet"),
        default=None,
        help="run only the separate-run or the duet scenarios",
    )
    parser.add_argument("--quick", action="store_true", help="2 of each, for a smoke run")
    args = parser.parse_args()
    pairs, duets = (2, 2) if args.quick else (args.pairs, args.duets)
    if args.log:
        LOG.append(args.log)
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as scratch:
        repo = make_repo(Path(scratch))
        results: list[list[str]] = []
        scenarios = [
            (
                "separate, unchanged",
                "fail <= 1/20",
                lambda i, t: separate_pair(repo, None, args.budget, t),
                pairs,
                True,
            ),
            (
                "separate, one 25% slower",
                "(information)",
                lambda i, t: separate_pair(repo, FUNCTIONS[i % 4], args.budget, t),
                pairs,
                True,
            ),
            (
                "duet, unchanged",
                "fail <= 1/20",
                lambda i, t: duet(repo, None, BASE_REPS, args.rounds, args.budget, t),
                duets,
                False,
            ),
            (
                "duet, one 25% slower",
                "fail >= 19/20, named",
                lambda i, t: duet(repo, FUNCTIONS[i % 4], SLOWER_25, args.rounds, args.budget, t),
                duets,
                False,
            ),
            (
                "duet, one 10% slower",
                "(information)",
                lambda i, t: duet(repo, FUNCTIONS[i % 4], SLOWER_10, args.rounds, args.budget, t),
                max(2, duets // 2),
                False,
            ),
        ]
        headers = [
            "scenario",
            "target",
            "gate failed",
            "named the slowed fn",
            "runs calling an unchanged fn slower",
            "inconclusive verdicts",
            "median detectable slowdown",
            "pytest-benchmark median:10% failed",
            "time per run",
        ]
        for name, target, step, count, with_pb in scenarios:
            if args.only and not name.startswith(args.only):
                continue
            tally = Tally()
            for i in range(count):
                step(i, tally)
                print(f"{name}: {i + 1}/{count} failed so far {tally.failed}", file=sys.stderr, flush=True)
            results.append(row(name, target, tally, with_pb))
            print(tabulate([results[-1]], headers=headers, tablefmt="github"), flush=True)  # as it comes
    print("\nall scenarios:")
    print(tabulate(results, headers=headers, tablefmt="github"))
    print(
        f"\nmachine: {os.cpu_count()} cores; rounds per duet {args.rounds} (up to twice as many for tests "
        f"not yet shown unchanged); bench budget {args.budget} s; "
        "threshold 10%; gate noise default (20%) for separate runs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
