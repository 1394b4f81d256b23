"""``duet``: the working tree against a git ref, timed in alternating rounds on one machine.

Two runs made minutes apart on a shared machine differ by more than most regressions; rounds that
alternate (base-new, new-base, ...) and are compared round by round cancel the machine's slow phases
and any drift, so a small budget per round gives a sharper verdict than two long separate runs.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_accel.cli import UsageError, percent_option
from pytest_accel.cli.compare_cmd import check_report_paths, exit_code, publish
from pytest_accel.duet.driver import Side

MIN_ROUNDS = 2
DEFAULT_ROUNDS = 8  # rounds before the first look at the verdicts
DEFAULT_MAX_ROUNDS = 40
TAIL_LINES = 30
FAILURE_TAIL_LINES = 15
STOPPING_CODES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


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


def _quoted(lines: list[str]) -> str:
    return "\n".join(f"  | {line}" for line in lines)


def _failure_excerpt(log: Path) -> str:
    """pytest's short test summary (which tests failed and why) when there is one, else the output's end."""
    lines = log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if "short test summary info" in line]
    if not starts:
        return _quoted(lines[-FAILURE_TAIL_LINES:])
    return _quoted(lines[starts[-1] : starts[-1] + TAIL_LINES])


@dataclass
class Played:
    """What the rounds produced: each side's round documents, failure lines, and what they cost."""

    base_documents: list[dict[str, Any]]
    new_documents: list[dict[str, Any]]
    failures: list[str]
    rounds: int
    looks: int
    seconds: float
    plain_run_s: float
    budget_spent: bool = False


def _play_rounds(
    sides: dict[str, Side], rounds: int, max_rounds: int, config: Any, budget_s: float | None, started: float
) -> tuple[int, int, float, bool]:
    """Round 0 in full, then bursts of the tests that bench until each is decided, ``max_rounds`` are
    played or ``budget_s`` is spent. Returns the rounds played, the looks, a plain run's item time
    (the new side's round 0) and whether the budget stopped the rounds."""
    from pytest_accel.duet import driver
    from pytest_accel.duet.rounds import Tally, look_rounds
    from pytest_accel.gate import stats

    base, new = sides["base"], sides["new"]
    common = [n for n in new.nodeids if n in set(base.nodeids)]
    alone = [(base, n) for n in base.nodeids if n not in set(new.nodeids)]
    alone += [(new, n) for n in new.nodeids if n not in set(base.nodeids)]
    tally = Tally()
    show = lambda line: print(line, flush=True)  # noqa: E731
    played = driver.play_round(base, new, 0, common, None, alone)
    for side, nodeid, answer, _ in played:
        tally.add(side, nodeid, 0, answer)
    plain_items_s = sum(seconds for side, _, _, seconds in played if side == "new")
    benched = [n for n in common if any(tally.paired_rounds(k) for k in tally.tests.get(n, ()))]
    looks = look_rounds(rounds, max_rounds)
    alpha = stats.one_sided_alpha(len(tally.paired_keys())) / len(looks)
    open_tests = set(benched)
    show(
        f"duet: round 1/{max_rounds} done ({time.perf_counter() - started:.1f} s); "
        f"{len(benched)} test(s) bench and go on in short bursts"
    )
    played_rounds = 1
    budget_spent = False
    while open_tests and played_rounds < max_rounds:
        if budget_s is not None and time.perf_counter() - started >= budget_s:
            budget_spent = True
            break
        order = [n for n in benched if n in open_tests]
        bursts = {n: tally.bursts(n) for n in order}
        for side, nodeid, answer, _ in driver.play_round(base, new, played_rounds, order, bursts):
            tally.add(side, nodeid, played_rounds, answer)
        played_rounds += 1
        if played_rounds in looks:
            open_tests = tally.open_tests(open_tests, config.threshold, alpha, config.rule)
            elapsed = time.perf_counter() - started
            show(
                f"duet: round {played_rounds}/{max_rounds} done ({elapsed:.1f} s); "
                f"{len(open_tests)} test(s) not yet decided"
            )
    return played_rounds, len(looks), plain_items_s, budget_spent


def play_lockstep(
    sides: dict[str, Side],
    rounds: int,
    max_rounds: int,
    pytest_args: list[str],
    config: Any,
    budget_s: float | None = None,
) -> Played:
    """Both sides as long-lived pytest processes, alternated item by item; returns each side's round
    documents, the lines that report failing tests (none when every test passed), and the cost."""
    from pytest_accel.duet import driver

    started = time.perf_counter()
    try:
        for worker in sides.values():
            driver.start(worker, pytest_args)
        for worker in sides.values():
            driver.wait_ready(worker)
        startup_s = time.perf_counter() - started
        for name, worker in sides.items():
            if not worker.nodeids:
                output = _quoted(driver.tail(worker.log).splitlines())
                raise UsageError(
                    f"pytest on the {name} side ({sides[name].title}) collected no tests: check the pytest "
                    f"arguments after '--'. The end of its output:\n{output}"
                )
        if not set(sides["base"].nodeids) & set(sides["new"].nodeids):
            raise UsageError("the two sides have no test in common: nothing to pair")
        played_rounds, looks, items_s, spent = _play_rounds(
            sides, rounds, max_rounds, config, budget_s, started
        )
    except driver.DuetError as exc:
        raise UsageError(str(exc)) from None
    finally:
        codes = driver.stop_all(list(sides.values()))
    for name, code in codes.items():
        if code not in (0, 1):
            meaning = STOPPING_CODES.get(code or 0, "an unexpected exit")
            raise UsageError(
                f"pytest on the {name} side ({sides[name].title}) exited with {code} ({meaning}). "
                f"The end of its output:\n{_quoted(driver.tail(sides[name].log, TAIL_LINES).splitlines())}"
            )
    failures = []
    for name in ("new", "base"):
        failed = sorted(sides[name].failed_items)
        if failed:
            # Only the new side's failures fail the duet: a red base must not block the fix for it.
            what = "TESTS FAILED" if name == "new" else "note: tests failed"
            failures.append(
                f"duet: {what} on the {name} side ({sides[name].title}): {', '.join(failed[:5])}"
                + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
            )
            failures.append(_failure_excerpt(sides[name].log))
    try:
        documents = [driver.round_documents(sides[name], played_rounds) for name in ("base", "new")]
    except Exception as exc:  # a results file the worker should have written is missing or damaged
        raise UsageError(f"the duet's round results could not be read: {exc}") from None
    return Played(
        documents[0],
        documents[1],
        failures,
        played_rounds,
        looks,
        time.perf_counter() - started,
        startup_s + items_s,
        spent,
    )


# -- the command ----------------------------------------------------------------------------------------


def _sides(
    base_ref: str, short: str, root: Path, worktree: Path, relative: Path, folder: Path
) -> dict[str, Side]:
    """The two sides; ``folder`` holds what their pytest processes write (round results, logs)."""
    base_cwd = worktree / relative
    if not base_cwd.is_dir():
        raise UsageError(f"the folder {relative} (where duet was started) does not exist at {base_ref}")
    where = {
        "base": (f"{base_ref} ({short})", worktree, base_cwd),
        "new": ("working tree", root, root / relative),
    }
    return {
        name: Side(name, title, code, cwd, folder / f"{name}-rounds", folder / f"{name}.log")
        for name, (title, code, cwd) in where.items()
    }


def _max_rounds(value: int | None, rounds: int) -> int:
    if value is None:
        return max(rounds, DEFAULT_MAX_ROUNDS)
    if value < rounds:
        raise UsageError(f"--max-rounds={value} is below --rounds={rounds}")
    return value


def _rounds(value: int) -> int:
    if value < MIN_ROUNDS:
        raise UsageError(f"--rounds={value}: a duet needs at least {MIN_ROUNDS} rounds to pair them")
    return value


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """A cancelled CI job sends SIGTERM: clean up (workers, worktree) as after Ctrl-C."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_duet(args: argparse.Namespace, pytest_args: list[str]) -> int:
    """Play the rounds in a temporary worktree of BASE_REF, then judge: 0 ok, 1 slower or tests failing."""
    from pytest_accel.gate.comparison import GateConfig, compare_rounds

    started = time.perf_counter()
    check_report_paths(args.report)
    rounds = _rounds(args.rounds)
    fail_slower = percent_option(args.fail_slower, "--fail-slower")
    fail_memory = percent_option(args.fail_memory, "--fail-memory")
    here = Path.cwd().resolve()
    root = repository_root(here)
    sha, short = resolve_ref(root, args.base_ref)
    with _terminate_as_interrupt(), tempfile.TemporaryDirectory(prefix="pytest-accel-duet-") as scratch:
        folder = Path(scratch)
        with base_worktree(root, sha, folder) as worktree:
            sides = _sides(args.base_ref, short, root, worktree, here.relative_to(root), folder)
            max_rounds = _max_rounds(args.max_rounds, rounds)
            print(
                f"duet: base = {sides['base'].title}, new = working tree; the two sides alternating test by "
                f"test (ABBA), round 1 in full, then short bursts of the tests that bench until each is "
                f"decided (first look after {rounds} rounds, at most {max_rounds})",
                flush=True,
            )
            config = GateConfig(fail_slower, fail_memory=fail_memory, gate_recompiles=args.gate_recompiles)
            played = play_lockstep(sides, rounds, max_rounds, pytest_args, config, _budget(args.budget))
    label = f"{args.base_ref} ({short})"
    gate = compare_rounds(played.base_documents, played.new_documents, config, label, looks=played.looks)
    gate.seconds, gate.plain_run_s = time.perf_counter() - started, played.plain_run_s
    gate.budget_spent = played.budget_spent
    last = played.new_documents[0]  # round 0: every test ran in full
    written = publish(gate, args.report, last["results"], last["machines"])
    for line in played.failures:
        print(line)
    return exit_code(gate, written, tests_failed=any("TESTS FAILED" in line for line in played.failures))


def _budget(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"--budget={value}: give a positive number of seconds")
    return value
