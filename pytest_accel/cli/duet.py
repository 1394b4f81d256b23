"""``duet``: the working tree against a git ref, timed in alternating rounds on one machine.

Two runs made minutes apart on a shared machine differ by more than most regressions; rounds that
alternate (base-new, new-base, ...) and are compared round by round cancel the machine's slow phases
and any drift, so a small budget per round gives a sharper verdict than two long separate runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_accel.cli import UsageError, load_input, percent_option
from pytest_accel.cli.compare_cmd import check_report_paths, exit_code, publish

MIN_ROUNDS = 2
TAIL_LINES = 30
FAILURE_TAIL_LINES = 15
STOPPING_CODES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass(frozen=True)
class Side:
    """One side of the duet: where its code lives and where its pytest runs."""

    name: str  # "base" or "new"
    title: str  # shown to the user: "main (1a2b3c4)" or "working tree"
    root: Path
    cwd: Path

    def environment(self) -> dict[str, str]:
        """PYTHONPATH starts with this side's checkout (and its src/), so each side imports its own code."""
        entries = [str(self.root)]
        if (self.root / "src").is_dir():
            entries.append(str(self.root / "src"))
        env = dict(os.environ)
        if env.get("PYTHONPATH"):
            entries.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(entries)
        return env


@dataclass
class Tally:
    """What the rounds produced: each side's saved documents, and the runs whose tests failed."""

    documents: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"base": [], "new": []})
    failed_runs: dict[str, list[tuple[int, Path]]] = field(default_factory=lambda: {"base": [], "new": []})


# -- git ------------------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("duet needs git, and no 'git' command was found") from None


def repository_root(folder: Path) -> Path:
    """The work tree's top folder; duet compares two checkouts, so it needs one."""
    done = _git(["rev-parse", "--show-toplevel"], folder)
    if done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"duet runs inside a git work tree, and {folder} is not in one")
    return Path(done.stdout.strip()).resolve()


def resolve_ref(root: Path, ref: str) -> tuple[str, str]:
    """The commit a ref names, full and short; an unknown ref is a usage error naming it."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a git ref")
    done = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if done.returncode != 0:
        raise UsageError(f"unknown git ref {ref!r}: no commit of that name in {root}")
    sha = done.stdout.strip()
    short = _git(["rev-parse", "--short", sha], root).stdout.strip() or sha[:7]
    return sha, short


@contextlib.contextmanager
def base_worktree(root: Path, sha: str, folder: Path) -> Iterator[Path]:
    """A detached checkout of ``sha`` for the duet's lifetime; removed whatever happens, Ctrl-C included."""
    path = folder / "base"
    try:
        done = _git(["worktree", "add", "--detach", str(path), sha], root)
        if done.returncode != 0:
            raise UsageError(f"could not check out {sha} in a temporary worktree: {done.stderr.strip()}")
        yield path
    finally:
        _remove_worktree(root, path)


def _remove_worktree(root: Path, path: Path) -> None:
    _git(["worktree", "remove", "--force", str(path)], root)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    _git(["worktree", "prune"], root)


# -- rounds ---------------------------------------------------------------------------------------------


def round_order(number: int) -> tuple[str, str]:
    """Order-balanced: even rounds run base first, odd rounds new first, so neither side always goes first."""
    return ("base", "new") if number % 2 == 0 else ("new", "base")


def _log_lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()


def _quoted(lines: list[str]) -> str:
    return "\n".join(f"  | {line}" for line in lines)


def _tail(log: Path, lines: int) -> str:
    return _quoted(_log_lines(log)[-lines:])


def _failure_excerpt(log: Path) -> str:
    """pytest's short test summary (which tests failed and why) when there is one, else the output's end."""
    lines = _log_lines(log)
    starts = [i for i, line in enumerate(lines) if "short test summary info" in line]
    if not starts:
        return _quoted(lines[-FAILURE_TAIL_LINES:])
    return _quoted(lines[starts[-1] : starts[-1] + TAIL_LINES])


def run_once(side: Side, pytest_args: list[str], results: Path, log: Path) -> tuple[int, float]:
    """One pytest run of one side, its output into ``log``; returns its exit code and its duration."""
    command = [sys.executable, "-m", "pytest", *pytest_args, "-p", "no:cacheprovider"]
    command.append(f"--accel-save={results}")
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stream:
        done = subprocess.run(
            command,
            cwd=side.cwd,
            env=side.environment(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return done.returncode, time.perf_counter() - started


def _stopped(side: Side, number: int, code: int, log: Path) -> UsageError:
    meaning = STOPPING_CODES.get(code, "an unexpected exit")
    return UsageError(
        f"the {side.name} run ({side.title}) of round {number + 1} stopped with exit code {code} "
        f"({meaning}); the duet cannot go on. The end of its output:\n{_tail(log, TAIL_LINES)}"
    )


def play_round(
    sides: dict[str, Side], number: int, rounds: int, pytest_args: list[str], folder: Path, tally: Tally
) -> None:
    """Both sides once, in this round's order; tests failing is noted, a run that stopped ends the duet."""
    for name in round_order(number):
        side = sides[name]
        results, log = folder / f"{name}-{number}.json", folder / f"{name}-{number}.log"
        print(f"round {number + 1}/{rounds}: {name} ...", end="", flush=True)
        try:
            code, seconds = run_once(side, pytest_args, results, log)
        except KeyboardInterrupt:
            print(" interrupted", flush=True)
            raise
        print(f" {seconds:.1f} s" + (", tests FAILED" if code == 1 else ""), flush=True)
        if code not in (0, 1):
            raise _stopped(side, number, code, log)
        if code == 1:
            tally.failed_runs[name].append((number, log))
        if not results.is_file():
            raise UsageError(
                f"the {name} run ({side.title}) of round {number + 1} saved no results: did any accel test "
                f"run? The end of its output:\n{_tail(log, TAIL_LINES)}"
            )
        tally.documents[name].append(load_input(results, role=f"{name} results of round {number + 1}"))


def _failed_tests_message(sides: dict[str, Side], tally: Tally, rounds: int) -> list[str]:
    """Failing tests are reported apart from the timing verdict: a fast wrong result is no improvement."""
    lines = []
    for name in ("new", "base"):
        runs = tally.failed_runs[name]
        if runs:
            numbers = ", ".join(str(number + 1) for number, _ in runs)
            lines.append(
                f"duet: TESTS FAILED on the {name} side ({sides[name].title}) in {len(runs)} of {rounds} "
                f"rounds (round {numbers}); in the first of them:"
            )
            lines.append(_failure_excerpt(runs[0][1]))
    return lines


# -- the command ----------------------------------------------------------------------------------------


def _sides(base_ref: str, short: str, root: Path, worktree: Path, relative: Path) -> dict[str, Side]:
    base_cwd = worktree / relative
    if not base_cwd.is_dir():
        raise UsageError(f"the folder {relative} (where duet was started) does not exist at {base_ref}")
    return {
        "base": Side("base", f"{base_ref} ({short})", worktree, base_cwd),
        "new": Side("new", "working tree", root, root / relative),
    }


def _rounds(value: int) -> int:
    if value < MIN_ROUNDS:
        raise UsageError(f"--rounds={value}: a duet needs at least {MIN_ROUNDS} rounds to pair them")
    return value


def run_duet(args: argparse.Namespace, pytest_args: list[str]) -> int:
    """Play the rounds in a temporary worktree of BASE_REF, then judge: 0 ok, 1 slower or tests failing."""
    from pytest_accel.gate.comparison import GateConfig, compare_rounds

    check_report_paths(args.report)
    rounds = _rounds(args.rounds)
    fail_slower = percent_option(args.fail_slower, "--fail-slower")
    here = Path.cwd().resolve()
    root = repository_root(here)
    sha, short = resolve_ref(root, args.base_ref)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="pytest-accel-duet-") as scratch:
        folder = Path(scratch)
        with base_worktree(root, sha, folder) as worktree:
            sides = _sides(args.base_ref, short, root, worktree, here.relative_to(root))
            print(
                f"duet: base = {sides['base'].title}, new = working tree; {rounds} rounds, order alternating"
            )
            for number in range(rounds):
                play_round(sides, number, rounds, pytest_args, folder, tally)
        failure_lines = _failed_tests_message(sides, tally, rounds)
    label = f"{args.base_ref} ({short})"
    gate = compare_rounds(tally.documents["base"], tally.documents["new"], GateConfig(fail_slower), label)
    last = tally.documents["new"][-1]
    written = publish(gate, args.report, last["results"], last["machines"])
    for line in failure_lines:
        print(line)
    return exit_code(gate, written, tests_failed=bool(failure_lines))
