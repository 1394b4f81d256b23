"""The gate's part of the terminal summary in compare mode: one row per benchmark, then the verdict.

The last line starts with 'accel gate:' and never with words pytest uses for tests, so a reader (or a
log search) tells a performance regression apart from a failing test.

Given the terminal's width, the section fits it as the summary does: the common start of the test ids is
said once, notes move below the table as numbered footnotes, names lose their middle and dtypes take
their short names, value columns that still do not fit go to a further table that repeats the key
columns, and prose wraps.
"""

from __future__ import annotations

from tabulate import tabulate

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import BenchVerdict, GateReport, format_bound, ratio_text
from pytest_accel.gate.memory import NOT_MEASURED, UNCHANGED, MemoryVerdict
from pytest_accel.summary.formatting import format_percent, seconds_or_dash, shorten

Cells = list[list[str]]
Values = list[dict[str, str]]  # per verdict, the value columns by header
Steps = tuple[tuple[str, int], ...]

MAX_TEST_ID = 60

HEADERS = ["test", "device", "dtype", "bench", "baseline", "now", "ratio [interval]", "verdict", "note"]
KEY_HEADERS = ["test", "device", "dtype", "bench"]
VALUE_HEADERS = ["baseline", "now", "ratio [interval]", "verdict"]
# Value columns that stay together when the table is split, the verdict's first.
VALUE_GROUPS = (("verdict", "ratio [interval]"), ("baseline", "now"))
# Key columns that give way, in order, with the width each keeps at least ("dtype" takes short names);
# the harder round only where it makes a table fit (as in the summary).
SHRINK_FIRST: Steps = (("bench", 12), ("test", 12), ("dtype", 0))
SHRINK_HARDER: Steps = (("bench", 6), ("test", 8))


def verdict_text(verdict: BenchVerdict) -> str:
    if verdict.fails:
        return "SLOWER (gate)"
    return verdict.verdict


def gate_rows(gate: GateReport) -> list[list[str]]:
    return [
        [
            shorten(v.test, MAX_TEST_ID),
            f"{v.framework} {v.device}",
            v.dtype,
            v.bench,
            seconds_or_dash(v.baseline_s),
            seconds_or_dash(v.current_s),
            ratio_text(v),
            verdict_text(v),
            v.note,
        ]
        for v in gate.verdicts
    ]


def mode_line(gate: GateReport) -> str:
    """How the verdicts were reached, so 'passed' is read with its limits."""
    if gate.mode == "duet":
        rounds = f"{gate.rounds} paired rounds" if gate.rounds is not None else "paired rounds"
        mode = f"duet against {gate.baseline} ({rounds}{duet_cost(gate)})"
    elif gate.replicates > 1:
        default = format_percent(gate.config.run_noise)
        mode = (
            f"compare against {gate.baseline} ({gate.replicates} baseline runs: each benchmark's run-to-run "
            f"noise learned from them, {default} where fewer than two measured it)"
        )
    else:
        mode = f"compare against {gate.baseline} (run-to-run noise {format_percent(gate.config.run_noise)})"
    threshold = f"threshold {format_percent(gate.config.threshold)} slower"
    if gate.config.fail_slower is None:
        threshold += " (not gating)"
    return (
        f"gate mode: {mode}; {threshold}; family-wise false-alarm rate "
        f"{format_percent(stats.FAMILY_ALPHA)} ({100 * gate.alpha:.2g}% per benchmark)"
    )


def duet_cost(gate: GateReport) -> str:
    """', 12 s, a plain run of these tests about 4 s (3.0x)': what the duet cost against what it
    replaces (the terminal's and the markdown report's mode lines)."""
    if gate.seconds is None:
        return ""
    text = f", {gate.seconds:.0f} s"
    if gate.plain_run_s:
        factor = gate.seconds / gate.plain_run_s
        text += f", a plain run of these tests about {gate.plain_run_s:.0f} s ({factor:.1f}x)"
    if gate.budget_spent:
        text += "; --budget stopped the rounds before every benchmark was decided"
    return text


def memory_lines(gate: GateReport) -> list[str]:
    """The memory gate's part: a line per benchmark that did not stay unchanged (what grew first, as
    gate.memory is ordered), then how many did; nothing when the memory gate was not asked for."""
    if gate.config.fail_memory is None:
        return []
    threshold = format_percent(gate.config.fail_memory)
    if not gate.memory:
        return [f"memory gate (fails above {threshold} more peak memory): no benchmarks"]
    lines = [f"memory gate (fails above {threshold} more peak memory):"]
    lines += [f"  {memory_line(v)}" for v in gate.memory if v.verdict != UNCHANGED]
    unchanged = sum(1 for v in gate.memory if v.verdict == UNCHANGED)
    if unchanged:
        lines.append(f"  unchanged: {unchanged} benchmark(s)")
    return lines


def memory_line(verdict: MemoryVerdict) -> str:
    """'GREW (gate) t.py::test_alloc [numpy cpu float64] ones: 80 MB -> 160 MB (2.00x)'."""
    from pytest_accel.timing.memory import format_bytes

    name = "GREW (gate)" if verdict.fails else verdict.verdict
    change = f"{format_bytes(verdict.baseline_bytes)} -> {format_bytes(verdict.current_bytes)}"
    if verdict.verdict == NOT_MEASURED:
        change = ""  # the note says which side, and why
    elif verdict.ratio is not None:
        change += f" ({verdict.ratio:.2f}x)"
    details = "; ".join(part for part in (change, verdict.note) if part)
    return f"{name} {shorten(verdict.label, 2 * MAX_TEST_ID)}: {details}"


def final_line(gate: GateReport) -> str:
    if gate.failed:
        return f"accel gate: FAILED - {gate.reason}"
    if not gate.gating:
        return f"accel gate: report only - {gate.reason}"
    return f"accel gate: passed - {gate.reason}"


def render_gate_section(gate: GateReport, width: int | None = None) -> str:
    """The table of verdicts, what differs between the machines, parity warnings, and the gate's verdict.

    ``width`` (the terminal's) fits every line to it; None keeps one table with the notes in it."""
    lines = verdict_tables(gate, width) if gate.verdicts else ["no benchmarks in the baseline or in this run"]
    lines += memory_lines(gate)
    if gate.machine_differences:
        changes = "; ".join(
            f"{d.get('what')}: {d.get('baseline')} -> {d.get('current')}" for d in gate.machine_differences
        )
        lines.append(f"machine differences: {changes}")
    if gate.headroom_warnings:
        lines.append("parity warnings (checks still passing, but much closer to their allowed error):")
        for w in gate.headroom_warnings:
            where = f"{w.get('framework')} {w.get('device')} {w.get('dtype')}"
            lines.append(
                f"  {shorten(str(w.get('test')), MAX_TEST_ID)} [{where}] {w.get('check')}: headroom "
                f"{format_bound(w.get('baseline'))} -> {format_bound(w.get('current'))}"
            )
    lines.append(mode_line(gate))
    lines.append(final_line(gate))
    if width is not None:
        from pytest_accel.summary.notes import wrap_lines

        lines = wrap_lines(lines, width)
    return "\n".join(lines)


def _tabulate(headers: list[str], rows: Cells) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def verdict_tables(gate: GateReport, width: int | None) -> list[str]:
    """One table with a note column where it fits (or no width is given), else the fitted tables."""
    whole = _tabulate(HEADERS, gate_rows(gate))
    if width is None or _widest(whole) <= width:
        return [whole]
    return fitted_tables(gate.verdicts, width)


def fitted_tables(verdicts: list[BenchVerdict], width: int) -> list[str]:
    """The verdicts fitted to ``width``: what every row shares said once, notes as footnotes, names
    shortened in the middle, and value columns split over tables that each repeat the key columns."""
    notes = list(dict.fromkeys(v.note for v in verdicts if v.note))
    lines, headers, keys = _key_columns(verdicts, width)
    values = [_value_cells(v, notes) for v in verdicts]
    keys, groups = _layout(headers, keys, values, width)
    for index, columns in enumerate(groups):
        lines += [""] if index else []
        lines.append(_table(headers, keys, values, columns))
    lines += [f"[{number}] {note}" for number, note in enumerate(notes, start=1)]
    return lines


def _key_columns(verdicts: list[BenchVerdict], width: int) -> tuple[list[str], list[str], Cells]:
    """Lines saying what every row shares (the ids' common start; a device, dtype or bench that never
    changes), then the headers and cells of the key columns that remain, test names at most about two
    fifths of the width (as in the summary)."""
    from pytest_accel.summary.layout import MIN_NAME_WIDTH, common_prefix, shorten_all

    prefix = common_prefix(sorted({v.test for v in verdicts}))
    cells = [[v.test.removeprefix(prefix), f"{v.framework} {v.device}", v.dtype, v.bench] for v in verdicts]
    shared = [c for c in range(1, len(KEY_HEADERS)) if len({row[c] for row in cells}) == 1]
    kept = [c for c in range(1, len(KEY_HEADERS)) if c not in shared]
    names = shorten_all([row[0] for row in cells], max(MIN_NAME_WIDTH, 2 * width // 5))
    keys = [[name] + [row[c] for c in kept] for name, row in zip(names, cells, strict=True)]
    lines = [f"tests in {prefix}"] if prefix else []
    if shared:
        lines.append("every row: " + ", ".join(f"{KEY_HEADERS[c]} {cells[0][c]}" for c in shared))
    return lines, ["test"] + [KEY_HEADERS[c] for c in kept], keys


def _layout(headers: list[str], keys: Cells, values: Values, width: int) -> tuple[Cells, list[list[str]]]:
    """The key cells as shortened, and the value columns of each table: one table if it fits, else
    the verdict with its ratio (names shortened if that keeps them together), then the rest."""
    groups = [VALUE_HEADERS]
    if _widest(_table(headers, keys, values, VALUE_HEADERS)) > width:
        verdict = list(VALUE_GROUPS[0])
        shrunk = _shrunk(headers, keys, values, verdict, width, SHRINK_FIRST)
        keys = shrunk if _widest(_table(headers, shrunk, values, verdict)) <= width else keys
        groups = _packed(headers, keys, values, width)
    widest = max(groups, key=lambda columns: _widest(_table(headers, keys, values, columns)))
    keys = _shrunk(headers, keys, values, widest, width, SHRINK_FIRST)
    harder = _shrunk(headers, keys, values, widest, width, SHRINK_HARDER)
    return (harder if _widest(_table(headers, harder, values, widest)) <= width else keys), groups


def _value_cells(verdict: BenchVerdict, notes: list[str]) -> dict[str, str]:
    """The value columns of one verdict; its note becomes a footnote mark on the verdict."""
    mark = f" [{notes.index(verdict.note) + 1}]" if verdict.note else ""
    return {
        "baseline": seconds_or_dash(verdict.baseline_s),
        "now": seconds_or_dash(verdict.current_s),
        "ratio [interval]": ratio_text(verdict),
        "verdict": verdict_text(verdict) + mark,
    }


def _table(headers: list[str], keys: Cells, values: Values, columns: list[str]) -> str:
    rows = [key + [value[column] for column in columns] for key, value in zip(keys, values, strict=True)]
    return _tabulate(headers + columns, rows)


def _shrunk(
    headers: list[str], keys: Cells, values: Values, columns: list[str], width: int, steps: Steps
) -> Cells:
    """Key cells shortened step by step until the table of ``columns`` fits; different names stay
    different, so that rows can still be told apart."""
    from pytest_accel.dtypes.names import SHORT_DTYPES
    from pytest_accel.summary.layout import shorten_all

    for name, least in steps:
        excess = _widest(_table(headers, keys, values, columns)) - width
        if excess <= 0:
            break
        if name not in headers:
            continue
        column = headers.index(name)
        cells = [key[column] for key in keys]
        if name == "dtype":
            short = [SHORT_DTYPES.get(cell, cell) for cell in cells]
        else:
            short = shorten_all(cells, max(least, max(map(len, cells)) - excess, len(name)))
        keys = [[*key[:column], cell, *key[column + 1 :]] for key, cell in zip(keys, short, strict=True)]
    return keys


def _packed(headers: list[str], keys: Cells, values: Values, width: int) -> list[list[str]]:
    """Value columns packed into tables that fit beside the key columns: groups stay together where
    they fit, and a group too wide for one table is split into its columns."""
    pieces: list[list[str]] = []
    for group in VALUE_GROUPS:
        whole = _widest(_table(headers, keys, values, list(group))) <= width
        pieces += [list(group)] if whole else [[column] for column in group]
    tables: list[list[str]] = [pieces[0]]
    for piece in pieces[1:]:
        if _widest(_table(headers, keys, values, tables[-1] + piece)) <= width:
            tables[-1] = tables[-1] + piece
        else:
            tables.append(piece)
    return tables
