"""The ``accel`` section of the terminal summary: devices side by side, fitted to the terminal's width.

One row per test x dtype (x bench name), a column group per device (``side_by_side``). Groups that do not
fit the width go to a further table that repeats the test column; first-call times come with ``-v``.
Past COMPACT_ROWS rows (more than a screen) the section is the compact summary of ``compact.py`` instead,
unless ``-v`` or ``--accel-summary=full`` asks for the table. Nothing is dropped from the saved file or
the reports.
"""

from __future__ import annotations

import re

from pytest_accel.results.records import ItemRecord
from pytest_accel.summary.formatting import format_seconds
from pytest_accel.summary.layout import (
    MEMORY_LEGEND,
    ORACLE_LEGEND,
    WHOLE_TEST_LEGEND,
    Layout,
    build_layout,
    count_rows,
    fit_names,
    has_memory,
    shorten,
    split_to_fit,
    table_rows,
)
from pytest_accel.summary.notes import device_lines, warning_blocks, wrap_lines
from pytest_accel.summary.table_fit import fit_table, tabulated, widest

DEFAULT_WIDTH = 120
# --accel-summary: auto (the table while it fits a screen, else the compact summary), full, compact.
SUMMARY_MODES = ("auto", "full", "compact")
COMPACT_ROWS = 40  # about a screen: past this many table rows, auto gives the compact summary


def first_call_table(records: list[ItemRecord], width: int) -> str:
    """-v: the first call of every bench (compilation, autotuning, caches), device by device."""
    rows = [
        [
            shorten(r.test, max(24, width // 3)),
            f"{r.framework} {r.device}",
            r.dtype,
            b.name,
            format_seconds(b.first_call_s),
            format_seconds(b.median),
        ]
        for r in sorted(records, key=lambda r: (r.test, r.dtype, r.framework, not r.is_reference, r.device))
        for b in r.benches
    ]
    headers = ["test", "device", "dtype", "bench", "first call", "median"]
    return tabulated(headers, rows)


def wants_compact(records: list[ItemRecord], mode: str, verbose: bool) -> bool:
    """Whether the section is the compact summary: asked for, or (auto) a table longer than a screen
    that -v did not ask for."""
    if mode != "auto":
        return mode == "compact"
    return not verbose and count_rows(records) > COMPACT_ROWS


def render_summary(
    records: list[ItemRecord],
    discovery_lines: list[str],
    width: int = DEFAULT_WIDTH,
    verbose: bool = False,
    mode: str = "auto",
) -> str:
    """The accel section: the side-by-side table, or for a big run (see ``wants_compact``) the compact
    summary."""
    if wants_compact(records, mode, verbose):
        from pytest_accel.summary.compact import render_compact  # compact.py builds on this module

        return render_compact(records, discovery_lines, width, asked=mode == "compact")
    layout = build_layout(records)
    fit_names(layout, width)
    lines = ["devices:"]
    lines.extend(f"  {line}" for line in (discovery_lines or device_lines(records)))
    if layout.prefix:
        lines.append(f"tests in {layout.prefix}")
    tables = [_fitted_table(layout, groups, width) for groups in split_to_fit(layout, width)]
    for table, _ in tables:
        lines += ["", table]
    lines.append("")
    lines.append(
        "time: median per call ± half the interquartile range; speedup: reference time / this device's, "
        "with its 95% interval (~1x: the data cannot tell it from 1); parity: worst error / allowed "
        "error (above 1 fails); a failed item says so where it happened"
    )
    if any(whole for _, whole in tables):
        lines.append(WHOLE_TEST_LEGEND)
    if layout.with_oracle:
        lines.append(ORACLE_LEGEND)
    if any(has_memory(r) for r in records):
        lines.append(MEMORY_LEGEND)
    if any(r.benches for r in records):
        if verbose:
            lines.append("")
            lines.append(first_call_table(records, width))
        else:
            lines.append("first-call times (compilation, caches): pytest -v")
    for block in warning_blocks(records):
        lines += block
    return "\n".join(wrap_lines(lines, width))


WHOLE_TEST_CELL = re.compile(r"^\(\d[\d.]*(e-?\d+)? ?(s|ms|us|ns|x)\)$")


def _fitted_table(layout: Layout, groups: list[int], width: int) -> tuple[str, bool]:
    """A table of these device groups, fitted to the width (``fit_table``), and whether it shows whole-
    test times. They are a hint: in a table too wide for the terminal they give way first, before any
    name is shortened."""
    headers, rows = table_rows(layout, groups)
    whole = any(WHOLE_TEST_CELL.match(cell) for row in rows for cell in row)
    if whole and widest(tabulated(headers, rows)) > width:
        rows = [["-" if WHOLE_TEST_CELL.match(cell) else cell for cell in row] for row in rows]
        whole = False
    return fit_table(headers, rows, width), whole
