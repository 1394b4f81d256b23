"""The run's sections of pytest's terminal summary: ``accel`` (devices side by side) and ``accel gate``,
then the end-of-session notes (saved files, reports, lost xdist items), all fitted to the terminal."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_accel.results.records import ItemRecord
from pytest_accel.summary.notes import wrap_lines
from pytest_accel.summary.terminal import DEFAULT_WIDTH, render_summary

CRASH_NOTE = "accel: an xdist worker crashed while running"
NAMED_AT_MOST = 5


def _not_judged_notes(records_data: list[dict[str, Any]]) -> list[str]:
    """One note naming the checks whose parity could not be judged: two runs of the test on the reference
    device disagreed, so a difference on another device says nothing about that device."""
    counts: dict[str, int] = {}
    for data in records_data:
        unjudged = sum(check.get("reproducible") is False for check in data.get("checks", []))
        if unjudged:
            where = f"{data.get('test')} [{data.get('framework')} {data.get('device')}]"
            counts[where] = counts.get(where, 0) + unjudged
    if not counts:
        return []
    named = [f"{where} ({count} check(s))" for where, count in list(counts.items())[:NAMED_AT_MOST]]
    more = f"; and {len(counts) - NAMED_AT_MOST} more" if len(counts) > NAMED_AT_MOST else ""
    return [
        f"accel: parity not judged in {len(counts)} item(s): their values differ between two runs on the "
        "reference device (inputs from an unseeded random generator? seed it, or draw from accel_device): "
        f"{'; '.join(named)}{more}"
    ]


def write_accel_sections(
    terminalreporter: Any,
    config: pytest.Config,
    records_data: list[dict[str, Any]],
    header_lines: list[str],
    end_notes: list[str],
    gate: Any,
    lost_items: list[str],
    mode: str = "auto",
) -> None:
    """``gate`` is the gate's report in compare mode (None otherwise); ``lost_items`` xdist's crashes;
    ``mode`` is --accel-summary (auto: the table while it fits a screen, else the compact summary)."""
    notes = [*_not_judged_notes(records_data), *end_notes]
    writer = getattr(terminalreporter, "_tw", None)
    width = getattr(writer, "fullwidth", 0) or DEFAULT_WIDTH  # pytest's terminal width ($COLUMNS in CI)
    if not records_data:
        for note in notes:
            terminalreporter.write_line(note)
        return
    records = [ItemRecord.from_dict(data) for data in records_data]
    terminalreporter.section("accel")
    verbose = config.get_verbosity() > 0
    summary = render_summary(records, header_lines, width=width, verbose=verbose, mode=mode)
    terminalreporter.write_line(summary)
    if gate is not None:
        from pytest_accel.summary.gate_section import render_gate_section

        terminalreporter.section("accel gate")
        for line in render_gate_section(gate, width).splitlines():
            terminalreporter.write_line(line, red=gate.failed and line.startswith("accel gate"))
    crashed = [
        f"{CRASH_NOTE} {lost}: its results are lost (xdist restarted the worker and ran the remaining "
        "tests elsewhere)"
        for lost in lost_items
    ]
    for line in wrap_lines(crashed + notes, width):
        terminalreporter.write_line(line, red=line.startswith(CRASH_NOTE))
