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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_accel.cli import UsageError, percent_option
from pytest_accel.cli.compare_cmd import check_report_paths, exit_code, publish
from pytest_accel.duet.driver import Side

MIN_ROUNDS = 2
TAIL_LINES = 30
FAILURE_TAIL_LINES = 15
STOPPING_CODES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


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


def _quoted(lines: list[str]) -> str:
    return "\n".join(f"  | {line}" for line in lines)


def _needing_more_rounds(workers: dict[str, Any], rounds: int, config: Any) -> set[str]:
    """Nodeids of the benchmarks whose verdict after ``rounds`` rounds is neither unchanged nor faster."""
    from pytest_accel.duet import driver
    from pytest_accel.gate import stats
    from pytest_accel.gate.baseline import bench_runs
    from pytest_accel.gate.comparison import compare_rounds

    for worker in workers.values():
        driver.save_rounds(worker)
    documents = {name: driver.round_documents(worker, rounds) for name, worker in workers.items()}
    gate = compare_rounds(documents["base"], documents["new"], config, label="so far")
    open_keys = {v.key for v in gate.verdicts if v.verdict in (stats.SLOWER, stats.INCONCLUSIVE)}
    runs = bench_runs(documents["new"][-1]) if documents["new"] else {}
    return {runs[key].nodeid for key in open_keys if key in runs}


def _failure_excerpt(log: Path) -> str:
    """pytest's short test summary (which tests failed and why) when there is one, else the output's end."""
    lines = log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if "short test summary info" in line]
    if not starts:
        return _quoted(lines[-FAILURE_TAIL_LINES:])
    return _quoted(lines[starts[-1] : starts[-1] + TAIL_LINES])


def play_lockstep(
    sides: dict[str, Side], rounds: int, max_rounds: int, pytest_args: list[str], config: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Both sides as long-lived pytest sides, alternated item by item; returns each side's round
    documents and the lines that report failing tests (empty when every test passed).

    After ``rounds`` rounds, the benchmarks not yet shown unchanged or faster get more rounds, up to
    ``max_rounds``: undecided ones may still be decided, and a regression is confirmed on more data.
    """
    from pytest_accel.duet import driver

    try:
        for worker in sides.values():
            driver.start(worker, pytest_args)
        for worker in sides.values():
            driver.wait_ready(worker)
        for name, worker in sides.items():
            if not worker.nodeids:
                output = _quoted(driver.tail(worker.log).splitlines())
                raise UsageError(
                    f"pytest on the {name} side ({sides[name].title}) collected no tests: check the pytest "
                    f"arguments after '--'. The end of its output:\n{output}"
                )
        if not set(sides["base"].nodeids) & set(sides["new"].nodeids):
            raise UsageError("the two sides have no test in common: nothing to pair")
        show = lambda line: print(line, flush=True)  # noqa: E731
        driver.play(sides["base"], sides["new"], range(rounds), progress=show)
        if max_rounds > rounds:
            extend = _needing_more_rounds(sides, rounds, config)
            if extend:
                show(f"duet: {len(extend)} test(s) not yet shown unchanged: rounds {rounds + 1}-{max_rounds}")
                driver.play(sides["base"], sides["new"], range(rounds, max_rounds), show, subset=extend)
                rounds = max_rounds
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
        documents = [driver.round_documents(sides[name], rounds) for name in ("base", "new")]
    except Exception as exc:  # a results file the worker should have written is missing or damaged
        raise UsageError(f"the duet's round results could not be read: {exc}") from None
    return documents[0], documents[1], failures


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
        return 2 * rounds
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

    check_report_paths(args.report)
    rounds = _rounds(args.rounds)
    fail_slower = percent_option(args.fail_slower, "--fail-slower")
    here = Path.cwd().resolve()
    root = repository_root(here)
    sha, short = resolve_ref(root, args.base_ref)
    with _terminate_as_interrupt(), tempfile.TemporaryDirectory(prefix="pytest-accel-duet-") as scratch:
        folder = Path(scratch)
        with base_worktree(root, sha, folder) as worktree:
            sides = _sides(args.base_ref, short, root, worktree, here.relative_to(root), folder)
            print(
                f"duet: base = {sides['base'].title}, new = working tree; {rounds} rounds, the two sides "
                "alternating test by test (ABBA)",
                flush=True,
            )
            config = GateConfig(fail_slower)
            max_rounds = _max_rounds(args.max_rounds, rounds)
            base_documents, new_documents, failure_lines = play_lockstep(
                sides, rounds, max_rounds, pytest_args, config
            )
    label = f"{args.base_ref} ({short})"
    gate = compare_rounds(base_documents, new_documents, config, label)
    last = new_documents[rounds - 1]  # the last round in which every test ran
    written = publish(gate, args.report, last["results"], last["machines"])
    for line in failure_lines:
        print(line)
    return exit_code(gate, written, tests_failed=any("TESTS FAILED" in line for line in failure_lines))
