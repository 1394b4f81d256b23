"""The prose lines of the accel section, under its table or its compact summary: the devices, the
warnings (recompilations, determinism, devices shared by xdist workers), the device faults, and the
wrapping of all of them to the terminal's width. The full and the compact summary both use them.
"""

from __future__ import annotations

import textwrap

from pytest_accel.results.records import ItemRecord


def device_lines(records: list[ItemRecord]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        where = f" (ran on {record.physical_device})" if record.physical_device else ""
        seen.setdefault(
            (record.framework, record.device),
            f"{record.framework} {record.framework_version} {record.device}: {record.hardware}{where}",
        )
    return list(seen.values())


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


def warning_blocks(records: list[ItemRecord], shown: int | None = None) -> list[list[str]]:
    """What both summaries say under their tables, in this order: xdist workers timing side by side,
    recompiled benches, determinism, device faults (past ``shown`` of a kind, how many more)."""
    return [
        shared_devices_line(records),
        recompile_lines(records, shown=shown),
        determinism_lines(records),
        fault_lines(records, shown=shown),
    ]
