"""``compare``: a saved run against a saved baseline, with the same verdicts as the plugin's gate.

For CI jobs that save results in one step (or on several machines, then ``merge``) and judge them in
another; the exit code is the verdict, so nothing else has to parse the output.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_accel.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, load_input, percent_option

if TYPE_CHECKING:
    from pytest_accel.gate.comparison import GateReport


def check_report_paths(paths: list[Path]) -> None:
    """Before any work: a report that could not be written is a usage error now, not a surprise later."""
    from pytest_accel.summary.writer import ReportError, check_report_path

    for path in paths:
        try:
            check_report_path(path, option="--report")
        except ReportError as exc:
            raise UsageError(str(exc)) from None


def publish(
    gate: GateReport, reports: list[Path], results: list[dict[str, Any]], machines: dict[str, Any]
) -> bool:
    """Print the verdicts, write the reports and the GitHub step summary; False if a report failed."""
    from pytest_accel.summary.gate_section import render_gate_section
    from pytest_accel.summary.markdown import render_markdown
    from pytest_accel.summary.writer import append_step_summary, write_reports

    print(render_gate_section(gate, shutil.get_terminal_size().columns))  # $COLUMNS in CI
    notes, written = write_reports(reports, gate, results, machines) if reports else ([], True)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        note = append_step_summary(render_markdown(gate, results, machines))
        notes.extend([note] if note else [])
    for note in notes:
        print(note)
    return written


def exit_code(gate: GateReport, reports_written: bool, tests_failed: bool = False) -> int:
    """1 for a slower benchmark, a grown peak (memory gate) or failing tests; a report the user asked
    for but did not get is 4."""
    if gate.failed or tests_failed:
        return EXIT_FAILED
    return EXIT_OK if reports_written else EXIT_USAGE


def run_compare(args: argparse.Namespace) -> int:
    """Judge NEW against BASE: 0 nothing slower, 1 a benchmark slower than its threshold (or grown in
    memory, with --fail-memory), 4 bad input.

    Several BASE files are replicates (runs of the same code): each benchmark's run-to-run noise is then
    learned from them instead of assumed."""
    from pytest_accel.gate.comparison import DEFAULT_RUN_NOISE, GateConfig, compare_documents

    baselines: list[Path] = args.baselines
    new: Path = args.new
    check_report_paths(args.report)
    for report in args.report:
        for source in (*baselines, new):
            if report.resolve() == source.resolve():
                raise UsageError(f"--report {report} names an input file; write the report to another file")
    fail_slower = percent_option(args.fail_slower, "--fail-slower")
    fail_memory = percent_option(args.fail_memory, "--fail-memory")
    noise = percent_option(args.noise, "--noise", zero_allowed=True)
    baseline = [load_input(path, role="baseline") for path in baselines]
    current = load_input(new, role="new results")
    config = GateConfig(
        fail_slower=fail_slower,
        run_noise=DEFAULT_RUN_NOISE if noise is None else noise,
        any_hardware=args.any_hardware,
        include_concurrent=args.include_concurrent,
        fail_memory=fail_memory,
        gate_recompiles=args.gate_recompiles,
    )
    label = str(baselines[0]) if len(baselines) == 1 else f"{baselines[0]} and {len(baselines) - 1} more"
    gate = compare_documents(baseline, current, config, label=label)
    written = publish(gate, args.report, current["results"], current["machines"])
    return exit_code(gate, written)
