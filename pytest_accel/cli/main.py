"""Argument parsing and dispatch of ``python -m pytest_accel``: every usage error is exit code 4 and one
clear line, never a traceback or argparse's own exit code 2 (which pytest uses for 'interrupted')."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pytest_accel.cli import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from pytest_accel.cli.arguments import Arg, Command, add_commands

PROG = "python -m pytest_accel"


class _ArgumentError(Exception):
    """argparse found bad arguments; carries the parser so that its usage line can be shown."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments; this project's usage errors are exit code 4."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(self, message)


def _percent_help(what: str) -> str:
    return f"{what}, as a percentage: 10%% or 10"


class _Baselines(argparse.Action):
    """``compare BASE.json [BASE2.json ...] NEW.json``: ``baseline`` is the first file, ``baselines`` all."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        namespace.baselines = list(values)
        namespace.baseline = namespace.baselines[0]


# The options of the performance gate, which compare and duet share.
_GATE_OPTIONS = (
    Arg(
        "--fail-slower",
        metavar="PCT",
        help=_percent_help("fail when a benchmark is significantly slower by more than this"),
    ),
    Arg(
        "--fail-memory",
        metavar="PCT",
        help=_percent_help("fail when a benchmark's peak memory grew by more than this (exact, no interval)"),
    ),
    Arg(
        "--gate-recompiles",
        action="store_true",
        help="let benchmarks that compiled during their timed calls gate on time too",
    ),
    Arg(
        "--report",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="also write the verdicts to PATH (.md or .json, by its suffix); repeatable",
    ),
)

MERGE = Command(
    "merge",
    help="combine results files (e.g. from parallel CI jobs or several machines) into one",
    description="Combine results files saved with --accel-save into one. The same test in two files "
    "must have identical results; different results for one test are a conflict (exit 4).",
    args=(
        Arg("inputs", nargs="+", type=Path, metavar="RESULTS.json", help="files to combine"),
        Arg("-o", "--output", required=True, type=Path, metavar="ALL.json", help="file to write"),
        Arg(
            "--replicates",
            action="store_true",
            help="the files are runs of the same code (e.g. main run 3 times): keep them apart as "
            "replicates, from which compare learns each benchmark's run-to-run noise",
        ),
    ),
)

COMPARE = Command(
    "compare",
    help="compare a saved run against a saved baseline (exit 1 when a benchmark got slower)",
    description="Judge every benchmark of NEW against BASE. Exit 1 when one is significantly slower "
    "than --fail-slower; without --fail-slower the comparison only reports.",
    args=(
        Arg(
            "baseline",
            nargs="+",
            type=Path,
            action=_Baselines,
            metavar="BASE.json",
            help="the baseline's results; several files (or one from merge --replicates) are runs of the "
            "same code, from which each benchmark's run-to-run noise is learned",
        ),
        Arg("new", type=Path, metavar="NEW.json", help="the results to judge"),
        *_GATE_OPTIONS,
        Arg(
            "--noise",
            metavar="PCT",
            help=_percent_help(
                "run-to-run noise of a benchmark between two runs, where no replicates tell it"
            ),
        ),
        Arg(
            "--any-hardware", action="store_true", help="compare benchmarks even when their hardware differs"
        ),
        Arg(
            "--include-concurrent",
            action="store_true",
            help="let timings taken while several xdist workers shared a device gate too",
        ),
    ),
)

DUET = Command(
    "duet",
    help="time the working tree against a git ref, in alternating rounds on this machine",
    usage=f"{PROG} duet BASE_REF [--rounds N] [--max-rounds M] [--budget S] [--fail-slower PCT] "
    "[--fail-memory PCT] [--gate-recompiles] [--report PATH] [-- PYTEST_ARGS...]",
    description="Run the tests of the working tree and of BASE_REF (checked out in a temporary git "
    "worktree) side by side, one pytest process per side, alternating test by test and round by "
    "round (ABBA), and pair the rounds: a machine's slow phase hits both sides alike. Arguments "
    "after -- go to pytest (a small --accel-bench-budget such as 0.1 keeps many rounds quick).",
    args=(
        Arg("base_ref", metavar="BASE_REF", help="the git commit, branch or tag to compare with"),
        Arg(
            "--rounds",
            type=int,
            default=8,
            metavar="N",
            help="rounds before the verdicts are first looked at, at least 2 (default 8); round 1 runs "
            "every test in full, later rounds only the tests that bench, in short bursts",
        ),
        Arg(
            "--max-rounds",
            type=int,
            default=None,
            metavar="M",
            help="tests not yet decided get more rounds, up to M (default 40)",
        ),
        Arg(
            "--budget",
            type=float,
            default=None,
            metavar="SECONDS",
            help="stop the rounds after this much wall time; what is still open is inconclusive",
        ),
        *_GATE_OPTIONS,
    ),
)

PLOT = Command(
    "plot",
    help="draw SVG charts of saved results (speedups, times, and against a baseline)",
    description="Charts of a saved run: every benchmark's speedup per device, per test the time per "
    "device and dtype, and with --compare the samples of every benchmark whose verdict is not "
    "unchanged. Needs matplotlib: pip install 'pytest-accel[plot]'.",
    args=(
        Arg("results", type=Path, metavar="RESULTS.json", help="a file saved with --accel-save"),
        Arg("--compare", type=Path, metavar="BASE.json", default=None, help="a baseline"),
        Arg("-o", "--output", type=Path, required=True, metavar="DIR", help="folder for the SVGs"),
    ),
)


def build_parser() -> argparse.ArgumentParser:
    from pytest_accel.cli.history_cmd import HISTORY

    parser = _Parser(prog=PROG, description="pytest-accel's performance gate outside a pytest run.")
    add_commands(parser, (MERGE, COMPARE, DUET, PLOT, HISTORY))
    return parser


def _split_pytest_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """duet's arguments after the first ``--`` belong to pytest, whatever they look like."""
    if argv[:1] == ["duet"] and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def _runner(command: str) -> Callable[[argparse.Namespace, list[str]], int]:
    if command == "merge":
        from pytest_accel.cli.merge import run_merge

        return lambda args, _: run_merge(args)
    if command == "compare":
        from pytest_accel.cli.compare_cmd import run_compare

        return lambda args, _: run_compare(args)
    if command == "history":
        from pytest_accel.cli.history_cmd import run_history

        return lambda args, _: run_history(args)
    if command == "plot":
        from pytest_accel.cli.plot_cmd import run_plot

        return lambda args, _: run_plot(args)
    from pytest_accel.cli.duet import run_duet

    return run_duet


def _argument_error(error: _ArgumentError, argv: list[str]) -> int:
    """argparse's usage line and message, exit 4; pytest options given to duet without -- get a hint."""
    if argv[:1] == ["duet"] and "unrecognized arguments" in str(error):
        hint = f"; pytest's own arguments go after --, as in: {PROG} duet main -- -q tests"
        print(f"error: {error}{hint}", file=sys.stderr)
        return EXIT_USAGE
    error.parser.print_usage(sys.stderr)
    print(f"error: {error}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code: 0 ok, 1 gate failure or failing tests, 4 bad input."""
    own, pytest_args = _split_pytest_args(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser().parse_args(own)
        return _runner(args.command)(args, pytest_args)
    except _ArgumentError as exc:
        return _argument_error(exc, own)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
