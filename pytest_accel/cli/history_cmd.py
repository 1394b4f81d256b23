"""``history``: the performance history of a branch (``add`` saved results, ``check`` it for change
points, ``show`` its trends). Exit 1 when ``check`` finds a recent regression, 4 for bad input."""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_accel.cli import EXIT_FAILED, EXIT_OK, UsageError, load_input, percent_option
from pytest_accel.cli.arguments import Arg, Command
from pytest_accel.history.changes import MIN_RUNS

DEFAULT_THRESHOLD = "5%"
DEFAULT_LAST = 10

_DB = Arg("--db", type=Path, required=True, metavar="PATH", help="the history database")


def _view(smallest_change: str) -> tuple[Arg, ...]:
    """What check and show look at: a database, a branch, its recent runs, and the smallest change that
    counts (``smallest_change`` says what it does in each)."""
    return (
        _DB,
        Arg("--branch", default="main", help="the branch whose runs to look at (default main)"),
        Arg(
            "--last",
            type=int,
            default=DEFAULT_LAST,
            metavar="N",
            help=f"the recent runs: where a regression fails check, what show lists (default {DEFAULT_LAST})",
        ),
        Arg(
            "--fail-slower",
            default=DEFAULT_THRESHOLD,
            metavar="PCT",
            help=f"{smallest_change} (default {DEFAULT_THRESHOLD.replace('%', '%%')})",
        ),
    )


HISTORY = Command(
    "history",
    help="the performance history of a branch: add runs, check for change points, show trends",
    description="A history database (SQLite) keeps every run of a branch: pytest --accel-history=PATH "
    "appends a session, 'history add' imports saved results files.",
    actions=(
        Command(
            "add",
            help="import results files saved with --accel-save",
            args=(
                Arg("inputs", nargs="+", type=Path, metavar="RESULTS.json"),
                _DB,
                Arg("--commit", help="the commit the runs measured (default: none recorded)"),
                Arg("--branch", help="their branch (default: none recorded)"),
            ),
        ),
        Command(
            "check",
            help="report change points; exit 1 when a recent one is a regression beyond the threshold",
            description="Looks at each benchmark's series per machine kind and reports where its level "
            "moved. Exit 1 when a regression of at least --fail-slower began in the last --last runs.",
            args=(
                *_view("smallest change reported, and the regression that fails"),
                Arg(
                    "--confirm-runs",
                    type=int,
                    default=None,
                    metavar="N",
                    help="runs at a regression's new level before it fails; reported as pending before "
                    "(default 5: fewer let a neighbour's load of 3-4 runs fail check on a shared machine)",
                ),
                Arg(
                    "--no-machine-guard",
                    action="store_true",
                    help="judge each benchmark alone, even when most of a machine's benchmarks moved at the "
                    "same commits (a change of code that slows everything alike fails then; so does a "
                    "re-imaged runner)",
                ),
            ),
        ),
        Command(
            "show",
            help="each benchmark's trend as a table; --plot DIR for charts",
            args=(
                *_view("smallest change marked"),
                Arg(
                    "--plot",
                    type=Path,
                    metavar="DIR",
                    help="also draw SVG charts into DIR (needs matplotlib)",
                ),
            ),
        ),
    ),
)


def run_history(args: argparse.Namespace) -> int:
    from pytest_accel.history.store import HistoryError

    try:
        if args.action == "add":
            return _add(args)
        return _look(args)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def _add(args: argparse.Namespace) -> int:
    from pytest_accel.history.record import add_document

    documents = [(path, load_input(path, role="results file")) for path in args.inputs]  # all, before any
    for path, document in documents:
        run_id = add_document(args.db, document, args.commit, args.branch, path.name)
        print(f"{path}: " + (f"added as run {run_id}" if run_id is not None else "already in the history"))
    return EXIT_OK


def _look(args: argparse.Namespace) -> int:
    from pytest_accel.history.series import CONFIRM_RUNS, judge, load_series
    from pytest_accel.history.show import trend_table
    from pytest_accel.history.store import open_store

    if args.last < 1:
        raise UsageError(f"--last {args.last}: give a number of runs, 1 or more")
    confirm = getattr(args, "confirm_runs", None)  # show has no --confirm-runs
    confirm = CONFIRM_RUNS if confirm is None else confirm
    if confirm < MIN_RUNS:
        raise UsageError(
            f"--confirm-runs {confirm}: give {MIN_RUNS} or more (a change needs {MIN_RUNS} runs)"
        )
    threshold = percent_option(args.fail_slower, "--fail-slower")
    assert threshold is not None
    with open_store(args.db) as store:
        branches = store.branches()
        if args.branch not in branches:
            known = ", ".join(f"{name or '(none)'} ({count} runs)" for name, count in branches.items())
            raise UsageError(
                f"history {args.db}: no runs of branch {args.branch!r}; it has: {known or 'none'}"
            )
        series = load_series(store, args.branch)
    guard = not getattr(args, "no_machine_guard", False)  # show has no such flag: it only lists
    findings = judge(series, threshold, args.last, machine_guard=guard, confirm=confirm)
    runs = branches[args.branch]
    print(f"history {args.db}, branch {args.branch}: {runs} runs, {len(series)} benchmark series")
    if args.action == "show":
        print(trend_table(series, args.last))
        if args.plot is not None:
            _plot(series, args.plot)
        return EXIT_OK
    return _report(series, findings, threshold, args.last, confirm)


def _report(series: list, findings: list, threshold: float, last: int, confirm: int) -> int:
    from pytest_accel.history.show import change_table, percent, where

    short = [one for one in series if not one.judged]
    if findings:
        print("change points:")
        print(change_table(findings))
    else:
        print(f"no change point of {100 * threshold:g}% or more")
    if short:
        print(f"too short to decide: {len(short)} series with fewer than {2 * MIN_RUNS} runs")
    print(
        f"(a change shows once {MIN_RUNS} runs follow it; a regression fails once {confirm} runs are at it)"
    )
    _warn_machine_moves(findings, threshold)
    for f in (f for f in findings if f.pending):
        print(
            f"pending: {f.series.label} {percent(f.change.ratio)} ({where(f.series, f.change)}): "
            f"{f.confirmed_runs} of {confirm} runs at its new level so far"
        )
    alarms = [f for f in findings if f.alarm]
    if not alarms:
        print(f"history check: no regression of {100 * threshold:g}% or more in the last {last} runs")
        return EXIT_OK
    named = "; ".join(
        f"{f.series.label} {percent(f.change.ratio)} ({where(f.series, f.change)})" for f in alarms
    )
    print(
        f"history check: FAILED - {len(alarms)} regression(s) of {100 * threshold:g}% or more in the last "
        f"{last} runs: {named}"
    )
    return EXIT_FAILED


def _warn_machine_moves(findings: list, threshold: float) -> None:
    """Changes that most benchmarks of one machine kind made together: said, not failed."""
    from pytest_accel.history.show import where

    moves = [f for f in findings if f.machine]
    for kind in sorted({f.series.kind for f in moves}):
        mine = [f for f in moves if f.series.kind == kind]
        places = sorted({where(f.series, f.change) for f in mine})
        print(
            f"warning: the machine moved ({kind}): {len(mine)} benchmark(s) changed by {100 * threshold:g}% "
            f"or more together with most others of this machine kind, at {'; '.join(places)}; not counted "
            "as regressions (a load, a throttled clock, a new image - or a change that slowed every "
            "benchmark alike: look at those commits)"
        )


def _plot(series: list, folder: Path) -> None:
    from pytest_accel.history.charts import ChartError, draw

    try:
        paths = draw(series, folder)
    except ChartError as exc:
        raise UsageError(str(exc)) from None
    print(f"{len(paths)} chart(s) written to {folder}")
