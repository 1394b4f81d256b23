"""The ``accel`` section of a big run, in a screenful.

Nobody reads a table of 4,000 rows: what a maintainer asks of a run of a whole suite is what broke, on
which device; how close parity came to failing; what got faster and what slower. So past a screen of
rows the terminal gets that, per device (framework and device), and says where the full table is
(``-v``, ``--accel-summary=full``, the markdown report). Every part has a fixed number of lines, whatever
the number of items.
"""

from __future__ import annotations

import heapq
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from pytest_accel.dtypes.names import SHORT_DTYPES
from pytest_accel.results.records import CheckResult, ItemRecord
from pytest_accel.summary.formatting import shorten
from pytest_accel.summary.layout import (
    common_prefix,
    count_rows,
    median_speedup,
    oracle_failure_cell,
    positive_seconds,
    reference_key,
    row_keys,
    speedup_cell,
    time_cell,
)
from pytest_accel.summary.notes import device_lines, warning_blocks, wrap_lines
from pytest_accel.summary.table_fit import fit_table
from pytest_accel.timing.measure import BenchResult

FAILURES_SHOWN = 5  # failed items named; the rest are counted
WORST_PER_DEVICE = 3  # the worst checks of each device...
WORST_IN_ALL = 9  # ...fewer when there are many devices, but at least one each
FAULTS_SHOWN = 3
FAILED = ("failed", "error")
COUNTED = ("passed", "failed", "skipped", "error")  # always a column; other outcomes when they occur
COUNT_HEADERS = {"error": "errors"}
# The registry's header line for a framework x dtype that cannot exist (its items are skipped, unrecorded).
LEFT_OUT_LINE = re.compile(r"left out \(skipped\): (\S+) x (\S+):")
FULL_TABLE = (
    "the full table: pytest -v, --accel-summary=full, or the markdown report (--accel-report=PATH.md)"
)
PARITY_LEGEND = (
    "parity: worst error / allowed error of a check (above 1 fails); per device its median, 90th "
    "percentile and maximum over the checks made there"
)
SPEEDUP_LEGEND = (
    "speedup: reference time / this device's, with its 95% interval (~1x: the data cannot tell it from 1)"
)


Timed = tuple[ItemRecord, BenchResult, BenchResult | None]  # an item, its bench, the reference's


@dataclass
class Device:
    """What one framework x device did: outcomes, the checks it made, its timed benchmarks."""

    label: str
    reference: bool = True  # every item on it is a reference item (it has no parity, no speedup)
    outcomes: Counter[str] = field(default_factory=Counter)
    checks: list[tuple[ItemRecord, CheckResult]] = field(default_factory=list)
    benches: list[tuple[ItemRecord, BenchResult, BenchResult]] = field(default_factory=list)  # own, ref
    slowest: tuple[ItemRecord, BenchResult] | None = None  # of a reference device (it has no speedups)


def _label(record: ItemRecord) -> str:
    return f"{record.framework} {record.device}"


def collect_devices(records: list[ItemRecord]) -> list[Device]:
    """One Device per framework x device, by framework, its reference device first."""
    references = {
        key: bench
        for record in records
        if record.is_reference
        for key, bench in zip(row_keys(record), record.benches, strict=False)
    }
    devices: dict[str, Device] = {}
    for record in sorted(records, key=lambda r: (r.framework, not r.is_reference, r.device)):
        device = devices.setdefault(_label(record), Device(_label(record)))
        device.reference = device.reference and record.is_reference
        device.outcomes[record.outcome] += 1
        if record.is_reference:
            _note_slowest(device, record)
            continue
        device.checks += [(record, check) for check in record.checks if check.headroom is not None]
        for key, bench in zip(row_keys(record), record.benches, strict=False):
            reference = references.get(reference_key(key, record))
            if reference is not None and bench.samples and reference.samples:
                device.benches.append((record, bench, reference))
    return list(devices.values())


def _note_slowest(device: Device, record: ItemRecord) -> None:
    for bench in record.benches:
        if bench.samples and (device.slowest is None or bench.median > device.slowest[1].median):
            device.slowest = (record, bench)


def render_compact(records: list[ItemRecord], discovery_lines: list[str], width: int, asked: bool) -> str:
    """The compact summary; ``asked``: --accel-summary=compact chose it (else the table was too long)."""
    prefix = common_prefix(sorted({r.test for r in records}))
    devices = collect_devices(records)
    why = "--accel-summary=compact" if asked else "more than a screen"
    lines = ["devices:"]
    lines += [f"  {line}" for line in (discovery_lines or device_lines(records))]
    lines += [f"tests in {prefix}"] if prefix else []
    lines.append(
        f"{len(records):,} items, {count_rows(records):,} table rows ({why}): per device, what failed, "
        "parity and speedups"
    )
    for block in (
        failure_lines(records, prefix, width),
        device_table(devices, discovery_lines, width),
        worst_checks(devices, prefix, width),
        timing_rows(devices, prefix, width),
        whole_test_rows(records, prefix, width),
        *warning_blocks(records, shown=FAULTS_SHOWN),
    ):
        if block:
            lines += ["", *block]
    lines += ["", *legend(devices), FULL_TABLE]
    return "\n".join(wrap_lines(lines, width))


def legend(devices: list[Device]) -> list[str]:
    """What the numbers mean, for the kinds of number shown."""
    shown = [
        (PARITY_LEGEND, any(d.checks for d in devices)),
        (SPEEDUP_LEGEND, any(d.benches for d in devices)),
    ]
    return [text for text, wanted in shown if wanted]


def failure_lines(records: list[ItemRecord], prefix: str, width: int) -> list[str]:
    """Failures first: a handful named (with the check that failed, if one did), then how many more."""
    failed = sorted((r for r in records if r.outcome in FAILED), key=lambda r: r.nodeid)
    if not failed:
        return []
    lines = [f"failed ({len(failed)}):"]
    for record in failed[:FAILURES_SHOWN]:
        head = f"  {record.outcome.upper()} "
        why = _failed_check(record)
        name = shorten(record.nodeid.removeprefix(prefix), max(20, width - len(head) - len(why)))
        lines.append(f"{head}{name}{why}")
    if len(failed) > FAILURES_SHOWN:
        lines.append(f"  and {len(failed) - FAILURES_SHOWN} more (all in the full table)")
    return lines


def _failed_check(record: ItemRecord) -> str:
    """', check out: parity FAIL 3.2' for the worst failed check; '' when no check failed."""
    failed = [c for c in record.checks if not c.passed]
    if not failed:
        return ""
    worst = max(failed, key=lambda c: c.headroom if c.headroom is not None else math.inf)
    return f", check {worst.name}: parity {check_cell(worst)}"


def check_cell(check: CheckResult) -> str:
    """A check's parity as the table writes it: '0.42', 'FAIL 3.2', or 'oracle FAIL 86x'."""
    headroom = check.headroom
    if not check.passed and headroom is not None and headroom <= 1.0 and check.error_vs_oracle is not None:
        return oracle_failure_cell([check])
    text = _number(headroom) if headroom is not None else "-"
    return text if check.passed else f"FAIL {text}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2f}" if value < 10 else f"{value:.3g}".replace("e+", "e")


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """Median, 90th percentile (nearest rank) and maximum."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1], ordered[-1]


def left_out_dtypes(discovery_lines: list[str]) -> dict[str, list[str]]:
    """framework -> the dtypes it was left out for (from the header; such items have no record)."""
    left: dict[str, list[str]] = {}
    for line in discovery_lines:
        match = LEFT_OUT_LINE.search(line)
        if match:
            left.setdefault(match.group(1), []).append(SHORT_DTYPES.get(match.group(2), match.group(2)))
    return left


def device_table(devices: list[Device], discovery_lines: list[str], width: int) -> list[str]:
    """Per device: items by outcome, the dtypes left out, parity quantiles over its checks. Too wide for
    the terminal, it loses the left-out column (the header names them too), then splits in two."""
    outcomes = list(COUNTED) + sorted({o for d in devices for o in d.outcomes} - set(COUNTED))
    left_out = left_out_dtypes(discovery_lines)
    counts = [[COUNT_HEADERS.get(o, o) for o in outcomes]]
    counts += [[str(device.outcomes[o]) for o in outcomes] for device in devices]
    left = [["left out"]] + [[",".join(left_out.get(d.label.split()[0], [])) or "-"] for d in devices]
    parity = [["parity median", "90%", "max"]] + [_parity_cells(device) for device in devices]
    labels = [["device"]] + [[device.label] for device in devices]
    whole = [labels, counts, left, parity] if left_out else [labels, counts, parity]
    for parts in (whole, [labels, counts, parity]):
        table = _joined(parts)
        if max(map(len, table.splitlines())) <= width:
            return [table]
    return [_joined([labels, counts]), "", _joined([labels, parity])]


def _joined(parts: list[list[list[str]]]) -> str:
    """Column blocks (each a header row, then a row per device) side by side, as one table."""
    return _columns([[cell for part in row for cell in part] for row in zip(*parts, strict=True)])


def _parity_cells(device: Device) -> list[str]:
    if device.reference:
        return ["reference", "", ""]
    headrooms = [check.headroom for _, check in device.checks if check.headroom is not None]
    return [_number(q) for q in quantiles(headrooms)] if headrooms else ["-", "-", "-"]


def _columns(rows: list[list[str]]) -> str:
    """A small table, headers then a rule: the first column to the left, numbers to the right, two
    spaces apart (tabulate pads every header by two more, which a table of counts cannot spare)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = ["-" * w for w in widths]
    lines = []
    for row in [rows[0], rule, *rows[1:]]:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _test_and_dtype(record: ItemRecord, prefix: str) -> list[str]:
    return [record.test.removeprefix(prefix), record.dtype]


def worst_checks(devices: list[Device], prefix: str, width: int) -> list[str]:
    """The checks closest to failing (or failed) on each device, worst first."""
    checked = [d for d in devices if d.checks]
    if not checked:
        return []
    each = max(1, min(WORST_PER_DEVICE, WORST_IN_ALL // len(checked)))
    rows = []
    for device in checked:
        worst = heapq.nlargest(each, device.checks, key=lambda pair: _badness(pair[1]))
        for index, (record, check) in enumerate(worst):
            label = device.label if index == 0 else ""
            rows.append([label, *_test_and_dtype(record, prefix), check.name, check_cell(check)])
    table = fit_table(["device", "test", "dtype", "check", "parity"], rows, width)
    return ["worst parity per device:", table]


def _badness(check: CheckResult) -> tuple[bool, float]:
    """Failed checks first, then by headroom."""
    headroom = check.headroom if check.headroom is not None else -math.inf
    return (not check.passed, headroom if not math.isnan(headroom) else math.inf)


def _median_ratio(pair: tuple[ItemRecord, BenchResult, BenchResult]) -> float:
    _, bench, reference = pair
    return median_speedup(reference, bench)


def timing_rows(devices: list[Device], prefix: str, width: int) -> list[str]:
    """Per device, where its time goes: on a reference device its slowest benchmark; on any other its
    largest, then its smallest speedup against the reference device, with the interval."""
    rows = []
    for device in devices:
        for index, (record, bench, reference) in enumerate(_extremes(device)):
            label = device.label if index == 0 else ""
            speed = speedup_cell(reference, bench) if reference is not None else "reference"
            rows.append(
                [label, time_cell(bench, "passed"), speed, *_test_and_dtype(record, prefix), bench.name]
            )
    if not rows:
        return []
    table = fit_table(["device", "time", "speedup", "test", "dtype", "bench"], rows, width)
    title = "timings: the slowest on a reference device; elsewhere the largest speedup, then the smallest"
    return [title, table]


WHOLE_TEST_TITLE = (
    "whole-test times of tests without bench (one run each, never gated): reference time / this device's, "
    "the median over its tests, then its largest and smallest"
)


def whole_test_rows(records: list[ItemRecord], prefix: str, width: int) -> list[str]:
    """For an adopted suite that never calls bench: per device other than the reference, how its tests'
    whole times compare with the reference device's, so that a big run still says where it got faster."""
    references = {(r.test, r.framework, r.dtype, ""): r for r in records if r.is_reference and not r.benches}
    ratios: dict[str, list[tuple[float, ItemRecord]]] = {}
    for record in records:
        if record.is_reference or record.benches or record.outcome != "passed":
            continue
        reference = references.get(reference_key((record.test, record.framework, record.dtype, ""), record))
        if reference is None or reference.outcome != "passed":
            continue
        if positive_seconds(reference.call_s) and positive_seconds(record.call_s):
            ratios.setdefault(_label(record), []).append((reference.call_s / record.call_s, record))
    rows = []
    for label, pairs in ratios.items():
        ordered = sorted(pairs, key=lambda pair: pair[0])
        for index, (ratio, record) in enumerate([ordered[-1], ordered[0]] if len(ordered) > 1 else ordered):
            median = statistics.median(r for r, _ in pairs)
            lead = [label, str(len(pairs)), f"{_number(median)}x"] if index == 0 else ["", "", ""]
            rows.append([*lead, f"{_number(ratio)}x", *_test_and_dtype(record, prefix)])
    if not rows:
        return []
    table = fit_table(["device", "tests", "median", "this test", "test", "dtype"], rows, width)
    return [WHOLE_TEST_TITLE, table]


def _extremes(device: Device) -> list[Timed]:
    if device.reference:
        return [(*device.slowest, None)] if device.slowest else []
    timed = [pair for pair in device.benches if math.isfinite(_median_ratio(pair))]
    if not timed:
        return []
    largest, smallest = max(timed, key=_median_ratio), min(timed, key=_median_ratio)
    return [largest] if len(timed) == 1 else [largest, smallest]
