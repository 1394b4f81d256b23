"""The run as a pull-request comment (GitHub-flavoured markdown): the gate's verdict first, then details.

A reviewer reads the first line and stops there when nothing regressed, so the verdict leads, the
sections that need attention follow, and the long, quiet parts (unchanged benchmarks, every result row)
are folded away.
"""

from __future__ import annotations

import math
from typing import Any

from tabulate import tabulate

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import BenchVerdict, GateReport
from pytest_accel.gate.memory import UNCHANGED, MemoryVerdict
from pytest_accel.summary.formatting import seconds_or_dash

FOLD_ROWS = 30  # result tables longer than this are folded inside <details>

VERDICT_HEADINGS = {
    "failed": "❌ slower than baseline",
    "failed-memory": "❌ more memory than baseline",
    "failed-both": "❌ slower and more memory than baseline",
    "passed": "✅ no regression",
    "report": "\u2139\ufe0f report only",  # the information sign
}


def gate_state(gate: GateReport) -> str:
    """'failed', 'passed' or 'report': a report-only gate never claims that nothing regressed."""
    if gate.failed:
        return "failed" if not gate.memory_failed else ("failed-both" if gate.failures else "failed-memory")
    return "passed" if gate.gating else "report"


# -- cells ---------------------------------------------------------------------------------------------


def cell(text: Any) -> str:
    """Plain table text: a '|' would end the cell, a newline the row, and '<' may open an HTML tag."""
    value = str(text).replace("\r", " ").replace("\n", " ")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def code(text: Any) -> str:
    """Test ids in a code span, so '*' or '_' in a parameter id is not read as emphasis."""
    value = str(text).replace("\r", " ").replace("\n", " ")
    if "`" in value:
        return cell(value)
    return "`" + value.replace("|", "\\|") + "`"


seconds_cell = seconds_or_dash


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "?"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def ratio_cell(verdict: BenchVerdict) -> str:
    return "-" if verdict.ratio is None or math.isnan(verdict.ratio) else f"{verdict.ratio:.2f}x"


def interval_cell(verdict: BenchVerdict) -> str:
    if verdict.low is None or verdict.high is None:
        return "-"
    return f"[{_number(verdict.low)}x, {_number(verdict.high)}x]"


def percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _table(rows: list[list[str]], headers: list[str]) -> str:
    # disable_numparse: cells such as '0.50' must stay as written, not be re-formatted as numbers.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _folded(summary: str, body: str) -> str:
    # The blank lines let GitHub render the markdown inside the HTML block.
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# -- the gate ------------------------------------------------------------------------------------------


def mode_text(gate: GateReport) -> str:
    from pytest_accel.summary.gate_section import duet_cost

    if gate.mode == "duet":
        rounds = f"{gate.rounds} paired rounds" if gate.rounds is not None else "paired rounds"
        return f"duet ({rounds} of the baseline and the new code in one job{duet_cost(gate)})"
    if gate.replicates > 1:
        return (
            f"compare ({gate.replicates} baseline runs: each benchmark's run-to-run noise learned from them, "
            f"{percent(gate.config.run_noise)} assumed where fewer than two measured it)"
        )
    return f"compare (two separate runs, run-to-run noise {percent(gate.config.run_noise)} assumed)"


def _threshold_text(gate: GateReport) -> str:
    own = sorted({v.threshold for v in gate.verdicts if v.threshold != gate.config.threshold})
    text = f"{percent(gate.config.threshold)} slower"
    if gate.config.fail_slower is None:
        text += " (reported, not gating: no fail-slower threshold was given)"
    if own:
        text += f"; some tests set their own: {', '.join(percent(t) for t in own)}"
    return text


def _verdict_rows(verdicts: list[BenchVerdict]) -> list[list[str]]:
    """One row per verdict; with the benchmark's recent history last, when the history gave one."""
    cited = any(v.recent for v in verdicts)
    return [
        [
            code(v.test),
            cell(f"{v.framework} {v.device}"),
            cell(v.dtype),
            cell(v.bench),
            ratio_cell(v),
            interval_cell(v),
            seconds_cell(v.baseline_s),
            seconds_cell(v.current_s),
            *([cell(v.recent or "-")] if cited else []),
        ]
        for v in verdicts
    ]


def _verdict_headers(verdicts: list[BenchVerdict]) -> list[str]:
    return [*VERDICT_HEADERS, RECENT_HEADER] if any(v.recent for v in verdicts) else VERDICT_HEADERS


RECENT_HEADER = "recent runs of the base branch"
VERDICT_HEADERS = [
    "test",
    "device",
    "dtype",
    "bench",
    "ratio new/baseline",
    "interval",
    "baseline median",
    "now median",
]


def _regressions(verdicts: list[BenchVerdict]) -> str:
    # Gating failures first; within each group the order of gate.verdicts (largest ratio first) holds.
    ordered = sorted(verdicts, key=lambda v: not v.fails)
    rows = _verdict_rows(ordered)
    for row, verdict in zip(rows, ordered, strict=True):
        row.append("**fails the gate**" if verdict.fails else "reported only")
    return _table(rows, [*_verdict_headers(ordered), "gate"])


def _inconclusive_note(verdict: BenchVerdict) -> str:
    if verdict.note:
        return verdict.note
    if verdict.detectable_slowdown is not None:
        return f"only slowdowns above {100 * verdict.detectable_slowdown:.0f}% could be detected"
    return "too few samples to decide"


def _inconclusive(verdicts: list[BenchVerdict]) -> str:
    cited = any(v.recent for v in verdicts)
    rows = [
        [*row[:6], cell(_inconclusive_note(v)), *([cell(v.recent or "-")] if cited else [])]
        for row, v in zip(_verdict_rows(verdicts), verdicts, strict=True)
    ]
    return _table(rows, [*VERDICT_HEADERS[:6], "note", *([RECENT_HEADER] if cited else [])])


def _listed(verdicts: list[BenchVerdict]) -> str:
    lines = []
    for v in verdicts:
        where = cell(f"{v.framework} {v.device} {v.dtype}")
        note = f": {cell(v.note)}" if v.note else ""
        lines.append(f"- {code(v.test)} [{where}] {cell(v.bench)}{note}")
    return "\n".join(lines)


def _headroom_warnings(warnings: list[dict[str, Any]]) -> str:
    rows = [
        [
            code(w.get("test", "?")),
            cell(f"{w.get('framework', '')} {w.get('device', '')}".strip()),
            cell(w.get("dtype", "")),
            cell(w.get("check", "")),
            f"{_number(w.get('baseline'), 3)} → {_number(w.get('current'), 3)}",
        ]
        for w in warnings
    ]
    return _table(rows, ["test", "device", "dtype", "check", "headroom baseline → now"])


MEMORY_HEADERS = [
    "test",
    "device",
    "dtype",
    "bench",
    "verdict",
    "ratio new/baseline",
    "baseline peak",
    "now peak",
]


def memory_section(verdicts: list[MemoryVerdict], threshold: float) -> str:
    """The memory gate: what changed (what grew first, as the verdicts come), the unchanged folded."""
    from pytest_accel.timing.memory import format_bytes

    def rows(chosen: list[MemoryVerdict]) -> list[list[str]]:
        return [
            [
                code(v.test),
                cell(f"{v.framework} {v.device}"),
                cell(v.dtype),
                cell(v.bench),
                "**grew: fails the gate**" if v.fails else cell(v.verdict),
                "-" if v.ratio is None else f"{v.ratio:.2f}x",
                format_bytes(v.baseline_bytes),
                format_bytes(v.current_bytes),
                cell(v.note),
            ]
            for v in chosen
        ]

    changed = [v for v in verdicts if v.verdict != UNCHANGED]
    unchanged = [v for v in verdicts if v.verdict == UNCHANGED]
    parts = [
        f"A benchmark fails when its peak memory grew by more than {percent(threshold)} (exact: no interval)."
    ]
    if changed:
        parts.append(_table(rows(changed), [*MEMORY_HEADERS, "note"]))
    if unchanged:
        parts.append(
            _folded(f"{len(unchanged)} unchanged", _table(rows(unchanged), [*MEMORY_HEADERS, "note"]))
        )
    if not verdicts:
        parts.append("No benchmarks in the baseline or in this run.")
    return "\n\n".join(parts)


def _machine_differences(differences: list[dict[str, str]]) -> str:
    rows = [
        [cell(d.get("what", "")), cell(d.get("baseline", "")), cell(d.get("current", ""))]
        for d in differences
    ]
    return _table(rows, ["what", "baseline", "now"])


def gate_sections(gate: GateReport) -> list[str]:
    """The verdict, why, how it was reached, then one section per kind of verdict that occurred."""
    parts = [
        f"## pytest-accel: {VERDICT_HEADINGS[gate_state(gate)]}",
        cell(gate.reason),
        f"**Mode:** {cell(mode_text(gate))}, baseline {code(gate.baseline)}. "
        f"**Threshold:** {cell(_threshold_text(gate))}. "
        f"**False alarms:** at most {percent(stats.FAMILY_ALPHA)} of unchanged runs are called slower "
        f"anywhere (Bonferroni: {100 * gate.alpha:.2g}% per benchmark).",
    ]
    by_verdict: dict[str, list[BenchVerdict]] = {name: [] for name in stats.VERDICTS}
    for verdict in gate.verdicts:
        by_verdict.setdefault(verdict.verdict, []).append(verdict)

    def section(title: str, body: str) -> None:
        parts.append(f"### {title}\n\n{body}")

    if by_verdict[stats.SLOWER]:
        section(f"Regressions ({len(by_verdict[stats.SLOWER])})", _regressions(by_verdict[stats.SLOWER]))
    memory = (
        memory_section(gate.memory, gate.config.fail_memory) if gate.config.fail_memory is not None else ""
    )
    if memory and gate.memory_failed:  # regressions first, whichever gate found them
        section("Memory", memory)
    if by_verdict[stats.FASTER]:
        faster = by_verdict[stats.FASTER]
        section(f"Improvements ({len(faster)})", _table(_verdict_rows(faster), _verdict_headers(faster)))
    if by_verdict[stats.INCONCLUSIVE]:
        inconclusive = by_verdict[stats.INCONCLUSIVE]
        section(f"Inconclusive ({len(inconclusive)})", _inconclusive(inconclusive))
    for name, title in (
        (stats.NEW, "New"),
        (stats.MISSING, "Missing"),
        (stats.NOT_COMPARABLE, "Not comparable"),
    ):
        if by_verdict[name]:
            section(f"{title} ({len(by_verdict[name])})", _listed(by_verdict[name]))
    unchanged = by_verdict[stats.UNCHANGED]
    if unchanged:
        parts.append(
            _folded(
                f"{len(unchanged)} unchanged", _table(_verdict_rows(unchanged), _verdict_headers(unchanged))
            )
        )
    if memory and not gate.memory_failed:
        section("Memory", memory)
    if gate.machine_differences:
        section("Machine differences", _machine_differences(gate.machine_differences))
    if gate.headroom_warnings:
        section(
            "Parity warnings",
            "Checks that still pass but came much closer to their allowed error than in the baseline.\n\n"
            + _headroom_warnings(gate.headroom_warnings),
        )
    return parts


# -- the results ---------------------------------------------------------------------------------------


def result_table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The terminal summary's side-by-side layout (one row per test x dtype x bench, a column group per
    device), in one table: a pull-request comment scrolls sideways instead of wrapping."""
    from pytest_accel.results.records import ItemRecord
    from pytest_accel.summary.layout import build_layout, table_rows

    layout = build_layout([ItemRecord.from_dict(r) for r in results])
    headers, rows = table_rows(layout, list(range(len(layout.groups))))
    # A comment is read apart from the run: every row keeps its whole test id.
    escaped = [[code(layout.prefix + row[0]), *(cell(value) for value in row[1:])] for row in rows]
    return [cell(h) for h in headers], escaped


def device_lines(results: list[dict[str, Any]], machines: dict[str, dict[str, Any]]) -> list[str]:
    """Each framework x device once, with its hardware and, when the results span machines, the CPU."""
    seen: dict[tuple[str, str, str], str] = {}
    several = len({r.get("machine") for r in results}) > 1
    for r in results:
        key = (str(r.get("framework", "")), str(r.get("device", "")), str(r.get("machine", "")))
        if key in seen:
            continue
        text = f"{r.get('framework', '')} {r.get('framework_version') or ''} {r.get('device', '')}"
        text = " ".join(text.split()) + f": {r.get('hardware', '?')}"
        machine = machines.get(str(r.get("machine", ""))) or {}
        if several and machine.get("cpu"):
            text += f" (machine {r.get('machine')}, {machine['cpu']})"
        seen[key] = f"- {cell(text)}"
    return list(seen.values())


def results_section(results: list[dict[str, Any]], machines: dict[str, dict[str, Any]], main: bool) -> str:
    """Every result row; the main content of a run without a gate, a folded appendix of one with it."""
    heading = "## pytest-accel results" if main else "### Results"
    if not results:
        return f"{heading}\n\nNo accel test ran."
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[str(r.get("outcome", "unknown"))] = outcomes.get(str(r.get("outcome", "unknown")), 0) + 1
    counts = ", ".join(f"{n} {name}" for name, n in sorted(outcomes.items()))
    headers, rows = result_table(results)
    table = _table(rows, headers)
    if len(rows) > FOLD_ROWS:
        table = _folded(f"{len(rows)} result rows", table)
    legend = (
        "time: median per call ± half the interquartile range; speedup: reference time / this device's, "
        "with its 95% interval (~1x: the data cannot tell it from 1); parity: worst error / allowed error "
        "(above 1 fails)."
    )
    if "vs oracle" in headers:
        from pytest_accel.summary.layout import ORACLE_LEGEND

        legend += f" {cell(ORACLE_LEGEND)}."
    from pytest_accel.summary.layout import MEMORY_HEADER, MEMORY_LEGEND

    if MEMORY_HEADER in headers:
        legend += f" {cell(MEMORY_LEGEND)}."
    parts = [heading, f"{len(results)} items: {counts}.", "\n".join(device_lines(results, machines)), table]
    return "\n\n".join([*parts, legend, *measurement_sections(results)])


def measurement_sections(results: list[dict[str, Any]]) -> list[str]:
    """Benches that recompiled during their timed calls, and the determinism of the items checked."""
    from pytest_accel.results.records import ItemRecord
    from pytest_accel.summary.notes import determinism_lines, recompile_lines

    records = [ItemRecord.from_dict(r) for r in results]
    sections = []
    recompiled = recompile_lines(records)
    if recompiled:
        listed = "\n".join(f"- {cell(line.removeprefix('warning: '))}" for line in recompiled)
        sections.append(f"### Recompiled during timing ({len(recompiled)})\n\n{listed}")
    sections += [cell(line) for line in determinism_lines(records)]
    return sections


def render_markdown(
    gate: GateReport | None, results: list[dict[str, Any]], machines: dict[str, dict[str, Any]]
) -> str:
    """A pull-request comment: with a gate its verdict and sections, then the result rows."""
    parts = gate_sections(gate) if gate is not None else []
    parts.append(results_section(results, machines, main=gate is None))
    return "\n\n".join(parts) + "\n"
