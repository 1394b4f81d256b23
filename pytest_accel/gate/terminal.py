"""The gate's part of the terminal summary in compare mode: one row per benchmark, then the verdict.

The last line starts with 'accel gate:' and never with words pytest uses for tests, so a reader (or a
log search) tells a performance regression apart from a failing test.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from pytest_accel.gate import stats
from pytest_accel.gate.comparison import BenchVerdict, GateReport
from pytest_accel.units import format_seconds

MAX_TEST_ID = 60

HEADERS = ["test", "device", "dtype", "bench", "baseline", "now", "ratio [interval]", "verdict", "note"]


def shorten(text: str, limit: int = MAX_TEST_ID) -> str:
    """Cut the middle, not the end: a test id's file and its parameters are both worth keeping."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def _seconds(value: float | None) -> str:
    return format_seconds(value) if value is not None and math.isfinite(value) and value > 0 else "-"


def _bound(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "?"
    return "inf" if math.isinf(value) else f"{value:.2f}"


def ratio_text(verdict: BenchVerdict) -> str:
    """'1.31x [1.22, 1.41]': the estimate new/baseline and its interval."""
    if verdict.ratio is None or math.isnan(verdict.ratio):
        return "-"
    text = f"{verdict.ratio:.2f}x"
    if verdict.low is not None and verdict.high is not None:
        text += f" [{_bound(verdict.low)}, {_bound(verdict.high)}]"
    return text


def verdict_text(verdict: BenchVerdict) -> str:
    if verdict.fails:
        return "SLOWER (gate)"
    return verdict.verdict


def gate_rows(gate: GateReport) -> list[list[str]]:
    return [
        [
            shorten(v.test),
            f"{v.framework} {v.device}",
            v.dtype,
            v.bench,
            _seconds(v.baseline_s),
            _seconds(v.current_s),
            ratio_text(v),
            verdict_text(v),
            v.note,
        ]
        for v in gate.verdicts
    ]


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def mode_line(gate: GateReport) -> str:
    """How the verdicts were reached, so 'passed' is read with its limits."""
    if gate.mode == "duet":
        rounds = f"{gate.rounds} paired rounds" if gate.rounds is not None else "paired rounds"
        mode = f"duet against {gate.baseline} ({rounds})"
    else:
        mode = f"compare against {gate.baseline} (run-to-run noise {_percent(gate.config.run_noise)})"
    threshold = f"threshold {_percent(gate.config.threshold)} slower"
    if gate.config.fail_slower is None:
        threshold += " (not gating)"
    return (
        f"gate mode: {mode}; {threshold}; family-wise false-alarm rate "
        f"{_percent(stats.FAMILY_ALPHA)} ({100 * gate.alpha:.2g}% per benchmark)"
    )


def final_line(gate: GateReport) -> str:
    if gate.failed:
        return f"accel gate: FAILED - {gate.reason}"
    if not gate.gating:
        return f"accel gate: report only - {gate.reason}"
    return f"accel gate: passed - {gate.reason}"


def render_gate_section(gate: GateReport) -> str:
    """The table of verdicts, what differs between the machines, parity warnings, and the gate's verdict."""
    lines = []
    if gate.verdicts:
        lines.append(tabulate(gate_rows(gate), headers=HEADERS, tablefmt="simple", disable_numparse=True))
    else:
        lines.append("no benchmarks in the baseline or in this run")
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
                f"  {shorten(str(w.get('test')))} [{where}] {w.get('check')}: headroom "
                f"{_bound(w.get('baseline'))} -> {_bound(w.get('current'))}"
            )
    lines.append(mode_line(gate))
    lines.append(final_line(gate))
    return "\n".join(lines)
