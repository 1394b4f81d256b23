"""Does the performance gate cry wolf, does it catch real slowdowns, and what does it cost? Measured.

Suite: ``gate_suite/`` (four single-threaded numpy functions, ~50 us to ~50 ms per call), in a
temporary git repository. Scenarios:

- rules (simulation, seconds): the decision rule of ``gate.stats`` (``estimate``, the default) against
  the strict one (``interval``) on the harsh noise model of the tests (AR(1) samples with bursts 20-60%
  slower), for duets of 8/20/40 rounds and 1/4/100 benchmarks: how often unchanged code, +5%, +10%,
  +15% and +25% are called slower at a 10% gate.
- boundary (simulation, ~6 minutes): separate runs of 200 or 300 samples of a benchmark exactly at a
  10% threshold, on quiet runners (run noise 0 and 3%): how often the interval calls it beyond the
  threshold, as the family's rate for 1/4/100 benchmarks with its 95% interval (80,000 pairs a row).
- replicates (simulation): three baseline runs drawn from an H200-like model (four steady kernels
  within 5%, one small matmul drifting 30%); 15% slower at a 10% gate, unchanged, the drifting one.
- duet (real runs): ``python -m pytest_accel duet HEAD`` unchanged, one function 25% slower
  (``--fail-slower=10%``), one 10% slower at ``--fail-slower=5%``; each duet right after a plain run of
  the same tests, for the cost (duet wall time / plain run wall time).
- separate runs (real): a baseline run (``--accel-save``), then a compare run (``--accel-compare``),
  unchanged or one function 25% slower; pytest-benchmark's ``median:10%`` rule on the same sessions.
- replicates (real runs): three baseline runs, then ``compare`` of a new run against all three,
  unchanged or one function 15% slower.

Run: ``python3 benchmarks/bench_gate.py`` (about 15 minutes on a 2-core machine; ``--quick`` for a
smoke run, ``--only NAME`` for one kind). Needs pytest-benchmark (``pip install -e ".[bench]"``). Prints a
table per kind; a missed target is a number in a table, not a crash.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from noise_model import H200_DRIFTING, H200_STEADY, bursty, h200_document
from tabulate import tabulate

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import GateConfig, compare_documents

HERE = Path(__file__).resolve().parent
SUITE = HERE / "gate_suite"
FUNCTIONS = ("sort_small", "cumsum_16k", "fft_16k", "sort_large")
BASE_REPS = 20
SLOWER_25 = 25
SLOWER_15 = 23
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
    ratios: list[float] = field(default_factory=list)  # duet wall time / plain run wall time


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


def plain_run(repo: Path, budget: str) -> float:
    """One plain run of the duet's tests, as the pull request's CI would run them anyway."""
    started = time.perf_counter()
    done = run([*PYTEST, "-p", "no:benchmark", f"--accel-bench-budget={budget}", "test_suite.py"], repo)
    if done.returncode != 0:
        raise SystemExit(f"plain run failed:\n{done.stdout[-3000:]}")
    return time.perf_counter() - started


def duet(
    repo: Path, slowed: str | None, reps: int, budget: str, tally: Tally, fail_slower: str = "10%"
) -> None:
    set_reps(repo, slowed, reps)
    plain = plain_run(repo, budget)
    started = time.perf_counter()
    done = run(
        [
            sys.executable,
            "-m",
            "pytest_accel",
            "duet",
            "HEAD",
            f"--fail-slower={fail_slower}",
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
    seconds = time.perf_counter() - started
    judge_gate(repo / "duet.json", slowed, tally)
    tally.seconds += seconds
    tally.ratios.append(seconds / plain)
    set_reps(repo, None, BASE_REPS)


def replicate_trial(repo: Path, slowed: str | None, budget: str, tally: Tally) -> None:
    """Three baseline runs of unchanged code, then one run (maybe one function 15% slower), compared
    with ``compare`` against all three."""
    started = time.perf_counter()
    set_reps(repo, None, BASE_REPS)
    common = ["-p", "no:benchmark", f"--accel-bench-budget={budget}", "test_suite.py"]
    for number in range(3):
        done = run([*PYTEST, *common, f"--accel-save=base{number}.json"], repo)
        if done.returncode != 0:
            raise SystemExit(f"baseline run failed:\n{done.stdout[-3000:]}")
    set_reps(repo, slowed, SLOWER_15)
    done = run([*PYTEST, *common, "--accel-save=new.json"], repo)
    set_reps(repo, None, BASE_REPS)
    if done.returncode != 0:
        raise SystemExit(f"new run failed:\n{done.stdout[-3000:]}")
    bases = [f"base{number}.json" for number in range(3)]
    command = [sys.executable, "-m", "pytest_accel", "compare", *bases, "new.json", "--fail-slower=10%"]
    done = run([*command, "--report", "gate.json"], repo)
    if done.returncode not in (0, 1):
        raise SystemExit(f"compare failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    judge_gate(repo / "gate.json", slowed, tally)
    tally.seconds += time.perf_counter() - started


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
        f"{sorted(tally.ratios)[len(tally.ratios) // 2]:.1f}x (max {max(tally.ratios):.1f}x)"
        if tally.ratios
        else "-",
    ]


# -- simulations ------------------------------------------------------------------------------------------


def duet_changes(rng: np.random.Generator, count: int, rounds: int, shift: float) -> list[stats.Level]:
    phase = rng.normal(0, 0.2, (count, rounds, 1))
    base = bursty(rng, count * rounds, 5).reshape(count, rounds, 5) + phase
    new = bursty(rng, count * rounds, 5).reshape(count, rounds, 5) + phase + shift
    pairs = zip(base.mean(axis=2), new.mean(axis=2), strict=True)
    return [stats.paired_level_difference(list(b), list(n)) for b, n in pairs]


def compare_changes(rng: np.random.Generator, pairs: int, count: int, noise: float, shift: float):
    """Separate runs of ``count`` samples each (what compare mode samples while a verdict is open), with
    a run-level shift of sd ``noise`` that the comparison assumes; generated in chunks to bound memory."""
    changes = []
    for start in range(0, pairs, 4000):
        chunk = min(4000, pairs - start)
        base = bursty(rng, chunk, count) + rng.normal(0, noise, (chunk, 1))
        new = bursty(rng, chunk, count) + rng.normal(0, noise, (chunk, 1)) + shift
        for b, n in zip(base, new, strict=True):
            levels = stats.levels_alike(list(1e-4 * np.exp(b)), list(1e-4 * np.exp(n)))
            changes.append(stats.difference(*levels, noise))
    return changes


def family_cell(events: int, trials: int, benchmarks: int) -> str:
    """The family's rate 1 - (1 - p)^m from ``events`` in ``trials`` single-benchmark draws, with a 95%
    interval (Wilson's, on p): for m = 100 a handful of events decide the number."""
    p = events / trials
    z = 1.96
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)

    def family(q: float) -> float:
        return 100 * (1 - (1 - max(q, 0.0)) ** benchmarks)

    return f"{family(p):.1f}% [{family(centre - half):.1f}, {family(centre + half):.1f}] ({events})"


def boundary_table(pairs: int) -> list[list[str]]:
    """A benchmark exactly at a 10% threshold, compared in separate runs, called 'more than 10% slower'
    by the interval (the interval's own claim: at most 5% of the time for the family)."""
    rng = np.random.default_rng(2027)
    rows = []
    bound = math.log1p(0.10)
    for noise in (0.0, 0.03):
        for count in (200, 300):
            changes = compare_changes(rng, pairs, count, noise, bound)
            cells = []
            for benchmarks in (1, 4, 100):
                alpha = stats.one_sided_alpha(benchmarks)
                verdicts = (stats.judge(c, 0.10, alpha, stats.INTERVAL).verdict for c in changes)
                events = sum(verdict == stats.SLOWER for verdict in verdicts)
                cells.append(family_cell(events, len(changes), benchmarks))
            rows.append([f"{100 * noise:g}%", count, pairs, *cells])
    return rows


def rule_table(reps: int) -> list[list[str]]:
    """Share of benchmarks called slower at a 10% gate, by rule, rounds, benchmarks and true change;
    for 1/4/100 benchmarks the family's rate is 1 - (1 - p)^m for unchanged code."""
    rng = np.random.default_rng(2026)
    rows = []
    for rounds in (8, 20, 40):
        changes = {pct: duet_changes(rng, reps, rounds, math.log1p(pct / 100)) for pct in (0, 5, 10, 15, 25)}
        for rule in (stats.ESTIMATE, stats.INTERVAL):
            for benchmarks in (1, 4, 100):
                alpha = stats.one_sided_alpha(benchmarks)
                cells = []
                for pct, levels in changes.items():
                    share = (
                        sum(stats.judge(c, 0.10, alpha, rule).verdict == stats.SLOWER for c in levels) / reps
                    )
                    value = 1 - (1 - share) ** benchmarks if pct == 0 else share
                    cells.append(f"{100 * value:.1f}%")
                rows.append([rule, rounds, benchmarks, *cells])
    return rows


def replicate_table(trials: int) -> list[list[str]]:
    rng = np.random.default_rng(16)
    rows = []
    for replicates, noise in ((1, 0.20), (1, 0.03), (3, None), (5, None)):
        config = GateConfig(fail_slower=0.10, run_noise=noise if noise is not None else 0.20)
        caught = failed = blamed = 0
        for trial in range(trials):
            baseline = [h200_document(rng) for _ in range(replicates)]
            slowed = H200_STEADY[trial % 4]
            gate = compare_documents(baseline, h200_document(rng, slowed, 1.15), config, "b")
            unchanged = compare_documents(baseline, h200_document(rng), config, "b")
            caught += any(v.bench == slowed and v.verdict == stats.SLOWER for v in gate.verdicts)
            failed += unchanged.failed
            for report in (gate, unchanged):
                blamed += any(v.bench == H200_DRIFTING and v.verdict == stats.SLOWER for v in report.verdicts)
        what = f"{replicates} baseline run(s)" + (f", --noise={100 * noise:g}%" if noise is not None else "")
        rows.append([what, f"{caught}/{trials}", f"{failed}/{trials}", f"{blamed}/{2 * trials}"])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20, help="separate-run pairs per scenario")
    parser.add_argument("--duets", type=int, default=20, help="duets per scenario (10%%: half as many)")
    parser.add_argument("--trials", type=int, default=6, help="real replicate trials per scenario")
    parser.add_argument("--budget", default="0.1", help="bench budget per call in seconds")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per run here")
    kinds = ("rules", "boundary", "replicates-model", "duet", "separate", "replicates")
    parser.add_argument("--only", choices=kinds, default=None, help="run one kind of scenario only")
    parser.add_argument("--quick", action="store_true", help="2 of each, for a smoke run")
    args = parser.parse_args()
    pairs, duets, trials = (2, 2, 1) if args.quick else (args.pairs, args.duets, args.trials)
    if args.log:
        LOG.append(args.log)
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    wanted = [kind for kind in kinds if args.only in (None, kind)]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    if "rules" in wanted:
        headers = ["rule", "duet rounds", "benchmarks", "unchanged (family)", "+5%", "+10%", "+15%", "+25%"]
        print("\nrules: called slower at a 10% gate (simulation, harsh model, 2,000 per cell)")
        print(
            tabulate(rule_table(300 if args.quick else 2000), headers=headers, tablefmt="github"), flush=True
        )
    if "boundary" in wanted:
        headers = ["run noise", "samples per run", "pairs", "1 benchmark", "4", "100"]
        print("\nboundary: a benchmark exactly at a 10% gate called beyond it (family rate, 95% interval,")
        print("events)")
        print(
            tabulate(boundary_table(4000 if args.quick else 80_000), headers=headers, tablefmt="github"),
            flush=True,
        )
    if "replicates-model" in wanted:
        headers = ["baseline", "15% slower caught", "unchanged failed", "drifting one called slower"]
        print("\nreplicates: H200-like model, 10% gate (simulation)")
        print(
            tabulate(replicate_table(12 if args.quick else 120), headers=headers, tablefmt="github"),
            flush=True,
        )
    real = [kind for kind in wanted if kind in ("duet", "separate", "replicates")]
    if not real:
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as scratch:
        repo = make_repo(Path(scratch))
        results: list[list[str]] = []
        scenarios = [
            (
                "duet, unchanged",
                "fail <= 1/20",
                lambda i, t: duet(repo, None, BASE_REPS, args.budget, t),
                duets,
            ),
            (
                "duet, one 25% slower",
                "fail >= 19/20, named",
                lambda i, t: duet(repo, FUNCTIONS[i % 4], SLOWER_25, args.budget, t),
                duets,
            ),
            (
                "duet, one 10% slower, --fail-slower=5%",
                "fail >= 9/10, named",
                lambda i, t: duet(repo, FUNCTIONS[i % 4], SLOWER_10, args.budget, t, "5%"),
                max(2, duets // 2),
            ),
            (
                "separate, unchanged",
                "fail <= 1/20",
                lambda i, t: separate_pair(repo, None, args.budget, t),
                pairs,
            ),
            (
                "separate, one 25% slower",
                "(information)",
                lambda i, t: separate_pair(repo, FUNCTIONS[i % 4], args.budget, t),
                pairs,
            ),
            (
                "replicates, unchanged",
                "(information)",
                lambda i, t: replicate_trial(repo, None, args.budget, t),
                trials,
            ),
            (
                "replicates, one 15% slower",
                "(information)",
                lambda i, t: replicate_trial(repo, FUNCTIONS[i % 4], args.budget, t),
                trials,
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
            "duet / plain run",
        ]
        for name, target, step, count in scenarios:
            if name.split(",")[0] not in real:
                continue
            tally = Tally()
            for i in range(count):
                step(i, tally)
                print(f"{name}: {i + 1}/{count} failed so far {tally.failed}", file=sys.stderr, flush=True)
            results.append(row(name, target, tally, name.startswith("separate")))
            print(tabulate([results[-1]], headers=headers, tablefmt="github"), flush=True)  # as it comes
    print("\nall real runs:")
    print(tabulate(results, headers=headers, tablefmt="github"))
    print(
        f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end; bench budget "
        f"{args.budget} s; duet with its defaults (first look after 8 rounds, at most 40); gate noise "
        "default (20%) for separate runs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
