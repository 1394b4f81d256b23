"""The ``accel`` section of the terminal summary: devices side by side, fitted to the terminal's width.

One row per test x dtype (x bench name), a column group per device (``side_by_side``). Groups that do not
fit the width go to a further table that repeats the test column; first-call times come with ``-v``.
Past COMPACT_ROWS rows (more than a screen) the section is the compact summary of ``compact.py`` instead,
unless ``-v`` or ``--accel-summary=full`` asks for the table. Nothing is dropped from the saved file or
the reports.
"""

from __future__ import annotations

import re
import textwrap

from tabulate import tabulate

from pytest_accel.dtypes.names import SHORT_DTYPES
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
    shorten_all,
    split_to_fit,
    table_rows,
)

DEFAULT_WIDTH = 120
MIN_SHORTENED = 12
# Key columns that give way when a table is too wide, in order, with the width each keeps at least
# ("dtype" switches to short names). The harder round is used only when it makes the table fit.
SHORTENED_FIRST = (("bench", 12), ("test", MIN_SHORTENED), ("dtype", 0))
SHORTENED_HARDER = (("bench", 6), ("test", 8))
# --accel-summary: auto (the table while it fits a screen, else the compact summary), full, compact.
SUMMARY_MODES = ("auto", "full", "compact")
COMPACT_ROWS = 40  # about a screen: past this many table rows, auto gives the compact summary


def device_lines(records: list[ItemRecord]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        where = f" (ran on {record.physical_device})" if record.physical_device else ""
        seen.setdefault(
            (record.framework, record.device),
            f"{record.framework} {record.framework_version} {record.device}: {record.hardware}{where}",
        )
    return list(seen.values())


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
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


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
    lines += shared_devices_line(records)
    lines += recompile_lines(records)
    lines += determinism_lines(records)
    lines += fault_lines(records)
    return "\n".join(wrap_lines(lines, width))


def recompile_lines(records: list[ItemRecord], shown: int | None = None) -> list[str]:
    """A warning per bench that compiled during its timed calls: its median hides a compilation bug."""
    flagged = [
        (record, bench)
        for record in records
        for bench in record.benches
        if bench.recompiles is not None and bench.recompiles > 0
    ]
    lines = [
        f"warning: {record.test} [{record.framework} {record.device} {record.dtype}] bench {bench.name!r} "
        f"compiled {bench.recompiles} time(s) during its {len(bench.samples) * bench.calls_per_sample} "
        "timed calls: its time includes compilation (a new shape or dtype at each call?) and does not gate "
        "(--accel-gate-recompiles lets it)"
        for record, bench in flagged[:shown]
    ]
    if shown is not None and len(flagged) > shown:
        lines.append(f"warning: and {len(flagged) - shown} more benches recompiled (see the saved results)")
    return lines


def determinism_lines(records: list[ItemRecord]) -> list[str]:
    """How many items ran twice for determinism, and which gave other bits the second time."""
    checked = [r for r in records if r.deterministic is not None]
    if not checked:
        return []
    differing = [r for r in checked if r.deterministic is False]
    line = f"determinism: {len(checked) - len(differing)} of {len(checked)} item(s) gave the same bits twice"
    if differing:
        line += "; not: " + ", ".join(f"{r.test} [{r.framework} {r.device} {r.dtype}]" for r in differing[:5])
    return [line]


def shared_devices_line(records: list[ItemRecord]) -> list[str]:
    """Why timings taken by xdist workers side by side do not gate (none when they were not)."""
    shared = max((r.concurrent_workers for r in records if r.benches), default=1)
    if shared <= 1:
        return []
    return [
        f"timings: {shared} xdist workers timed benchmarks at the same time, sharing the machine's "
        "devices; they disturb each other, so these timings do not gate (--accel-gate-concurrent "
        "lets them); for clean timings run without -n, or pin workers to devices of their own"
    ]


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def _tabulate(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _shrunk(
    headers: list[str], rows: list[list[str]], width: int, steps: tuple[tuple[str, int], ...]
) -> tuple[list[list[str]], str]:
    """Rows with key columns shortened step by step until the table fits; different names stay
    different (rows must stay tellable apart)."""
    text = _tabulate(headers, rows)
    for name, least in steps:
        excess = _widest(text) - width
        if excess <= 0 or not rows:
            break
        if name not in headers:
            continue
        column = headers.index(name)
        if name == "dtype":
            short = [SHORT_DTYPES.get(row[column], row[column]) for row in rows]
        else:
            longest = max(len(row[column]) for row in rows)
            limit = max(least, longest - excess, len(name))
            short = shorten_all([row[column] for row in rows], limit)
        rows = [[*row[:column], cell, *row[column + 1 :]] for row, cell in zip(rows, short, strict=True)]
        text = _tabulate(headers, rows)
    return rows, text


WHOLE_TEST_CELL = re.compile(r"^\(\d[\d.]*(e-?\d+)? ?(s|ms|us|ns|x)\)$")


def _fitted_table(layout: Layout, groups: list[int], width: int) -> tuple[str, bool]:
    """A table of these device groups, fitted to the width (``fit_table``), and whether it shows whole-
    test times. They are a hint: in a table too wide for the terminal they give way first, before any
    name is shortened."""
    headers, rows = table_rows(layout, groups)
    whole = any(WHOLE_TEST_CELL.match(cell) for row in rows for cell in row)
    if whole and _widest(_tabulate(headers, rows)) > width:
        rows = [["-" if WHOLE_TEST_CELL.match(cell) else cell for cell in row] for row in rows]
        whole = False
    return fit_table(headers, rows, width), whole


def fit_table(headers: list[str], rows: list[list[str]], width: int) -> str:
    """The table; if it is wider than the terminal, names give way: columns named bench and test lose
    their middle, dtypes take their short names (f32, bf16, f8e4m3)."""
    rows, text = _shrunk(headers, rows, width, SHORTENED_FIRST)
    if _widest(text) > width:
        _, harder = _shrunk(headers, rows, width, SHORTENED_HARDER)
        if _widest(harder) <= width:
            text = harder
    return text


def fault_lines(records: list[ItemRecord], shown: int | None = None) -> list[str]:
    """The device faults of the run, a line each; past ``shown`` of them, how many more there are."""
    faults = [record.fault for record in records if record.fault]
    if not faults:
        return []
    from pytest_accel.device.faults import fault_line

    lines = ["device faults:", *(f"  {fault_line(fault)}" for fault in faults[:shown])]
    if shown is not None and len(faults) > shown:
        lines.append(f"  and {len(faults) - shown} more (in the saved results and the reports)")
    return lines


def wrap_lines(lines: list[str], width: int) -> list[str]:
    """Prose lines wrapped to the width (indented continuation); table lines are fitted already."""
    out: list[str] = []
    for line in lines:
        if len(line) <= width or "\n" in line:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out.extend(
            textwrap.wrap(
                line, width=width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
            )
        )
    return out
