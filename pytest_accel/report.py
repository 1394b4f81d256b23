"""The ``accel`` section of the terminal summary: one row per test x device x dtype (x bench)."""

from __future__ import annotations

import math

from tabulate import tabulate

from pytest_accel.results import ItemRecord
from pytest_accel.units import format_seconds

# A median whose ~95% interval is wider than this (relative) when the budget ran out is flagged.
NOISY = 0.05


def parity_cell(record: ItemRecord) -> str:
    if not record.checks:
        return "-"
    if record.is_reference:
        return "reference"
    failed = [c for c in record.checks if not c.passed]
    worst = record.worst_headroom()
    if failed:
        return f"FAIL ({worst:.3g}x allowed)" if worst is not None and math.isfinite(worst) else "FAIL"
    return f"ok ({worst:.2f})" if worst is not None else "ok"


def oracle_cell(record: ItemRecord) -> str:
    """This device's worst error against the float64 oracle, with the reference device's beside it."""
    own = [c.error_vs_oracle for c in record.checks if c.error_vs_oracle is not None]
    ref = [c.reference_error_vs_oracle for c in record.checks if c.reference_error_vs_oracle is not None]
    if not own:
        return "-"
    if record.is_reference:
        return f"{max(own):.2g}"
    return f"{max(own):.2g} (ref {max(ref):.2g})"


def _reference_medians(records: list[ItemRecord]) -> dict[tuple[str, str, str, str], float]:
    medians = {}
    for record in records:
        if record.is_reference:
            for bench in record.benches:
                medians[(record.test, record.framework, record.dtype, bench.name)] = bench.median
    return medians


def summary_rows(records: list[ItemRecord], with_oracle: bool = False) -> list[list[str]]:
    reference = _reference_medians(records)
    rows = []
    # Completion order differs under xdist: sort by test, then the reference device before the others.
    records = sorted(records, key=lambda r: (r.test, r.framework, r.dtype, not r.is_reference, r.device))
    for record in records:
        base = [record.test, f"{record.framework} {record.device}", record.dtype, parity_cell(record)]
        if with_oracle:
            base.append(oracle_cell(record))
        if not record.benches:
            rows.append([*base, "-", "-", "-", record.outcome])
            continue
        for bench in record.benches:
            median = bench.median
            spread = f"{format_seconds(median)} ±{50 * bench.iqr / median:.1f}%" if median > 0 else "-"
            if bench.stop_reason == "budget" and bench.relative_uncertainty > NOISY:
                spread += " (noisy)"
            ref = reference.get((record.test, record.framework, record.dtype, bench.name))
            if record.is_reference:
                speedup = "1.00x (ref)"
            elif ref:
                speedup = f"{ref / median:.2f}x" if median > 0 else "-"
            else:
                speedup = "-"
            label = record.test if len(record.benches) == 1 else f"{record.test} [{bench.name}]"
            rows.append(
                [label, *base[1:], spread, format_seconds(bench.first_call_s), speedup, record.outcome]
            )
    return rows


HEADERS = [
    "test",
    "device",
    "dtype",
    "parity (worst/allowed)",
    "median time",
    "first call",
    "speedup",
    "outcome",
]


def device_lines(records: list[ItemRecord]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        seen.setdefault(
            (record.framework, record.device),
            f"{record.framework} {record.framework_version} {record.device}: {record.hardware}",
        )
    return list(seen.values())


def render_summary(records: list[ItemRecord], discovery_lines: list[str]) -> str:
    with_oracle = any(c.error_vs_oracle is not None for r in records for c in r.checks)
    headers = [*HEADERS[:4], "error vs float64 oracle", *HEADERS[4:]] if with_oracle else HEADERS
    lines = ["devices:"]
    lines.extend(f"  {line}" for line in (discovery_lines or device_lines(records)))
    lines.append("")
    lines.append(tabulate(summary_rows(records, with_oracle), headers=headers, tablefmt="simple"))
    lines.append(
        "parity: worst error as a fraction of the allowed error (above 1 fails); median time per "
        "call with half the interquartile range ('noisy': the budget ran out before the median was "
        f"known to {100 * NOISY:.0f}%); speedup against the reference device"
    )
    shared = max((r.concurrent_workers for r in records if r.benches), default=1)
    if shared > 1:
        lines.append(
            f"timings: {shared} xdist workers timed benchmarks at the same time, sharing the machine's "
            "devices; they disturb each other, so these timings do not gate (--accel-gate-concurrent "
            "lets them); for clean timings run without -n, or pin workers to devices of their own"
        )
    faults = [record.fault for record in records if record.fault]
    if faults:
        from pytest_accel.faults import fault_line

        lines.append("device faults:")
        lines.extend(f"  {fault_line(fault)}" for fault in faults)
    if with_oracle:
        lines.append(
            "error vs float64 oracle: worst |value - oracle| / (|oracle| + rms(oracle)) of the device, "
            "with the reference device's own in brackets"
        )
    return "\n".join(lines)
