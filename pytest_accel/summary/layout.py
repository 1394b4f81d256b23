"""Devices side by side: one row per test x dtype (x bench), a column group per device, so that "the CPU
takes seconds, the GPU milliseconds" reads across one line. Used by the terminal summary (fitted to the
terminal's width) and by the markdown report (one wide table).

A speedup is the ratio of two noisy medians, so it is shown with its interval (the gate's statistics:
batch means of each device's time-ordered samples, Student's t), and as ``~1x`` when the interval holds 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeGuard

from pytest_accel.gate import stats
from pytest_accel.results.records import CheckResult, ItemRecord
from pytest_accel.summary.formatting import format_seconds, shorten
from pytest_accel.timing.measure import BenchResult
from pytest_accel.timing.memory import format_bytes

SPEEDUP_CONFIDENCE = 0.95
MIN_NAME_WIDTH = 30

RowKey = tuple[str, str, str, str]  # test, framework, dtype, bench name


@dataclass
class Group:
    """The columns of one device: its label, whether it is its framework's reference, its headers."""

    label: str
    reference: bool
    headers: list[str]


@dataclass
class Layout:
    prefix: str  # the common start of every test id, said once
    key_headers: list[str]
    groups: list[Group]
    rows: list[tuple[list[str], list[list[str]]]]  # key cells, then one list of cells per group
    with_oracle: bool = False
    notes: list[str] = field(default_factory=list)


def speedup_interval(reference: BenchResult, device: BenchResult) -> tuple[float, float, float]:
    """reference time / device time, with its ~95% interval (from both devices' samples)."""
    change = stats.difference(stats.level_of(device.samples), stats.level_of(reference.samples))
    if not math.isfinite(change.variance) or not math.isfinite(change.log):
        ratio = math.exp(change.log) if math.isfinite(change.log) else math.nan
        return ratio, 0.0, math.inf
    half = stats.t_quantile(0.5 + SPEEDUP_CONFIDENCE / 2, change.dof) * math.sqrt(change.variance)
    return math.exp(change.log), math.exp(change.log - half), math.exp(change.log + half)


def median_speedup(reference: BenchResult, device: BenchResult) -> float:
    """Reference median / device median: the speedup without its interval, cheap where thousands of
    benchmarks are ranked or drawn (an interval costs about a millisecond)."""
    return reference.median / device.median if device.median > 0 else math.nan


def _ratio(value: float) -> str:
    if not math.isfinite(value):
        return "?"
    if 100 <= value < 10_000:
        return f"{value:.0f}"  # 120, not 1.2e+02
    return f"{value:.2g}".replace("e+", "e")  # two digits: an interval says the rest (1.7e13, not 14 digits)


def speedup_cell(reference: BenchResult, device: BenchResult) -> str:
    ratio, low, high = speedup_interval(reference, device)
    if not math.isfinite(ratio):
        return "-"
    if low <= 1 <= high:
        return f"~1x [{_ratio(low)}-{_ratio(high)}]"  # the data cannot tell it from 1
    return f"{_ratio(ratio)}x [{_ratio(low)}-{_ratio(high)}]"


def time_cell(bench: BenchResult | None, outcome: str, call_s: float | None = None) -> str:
    """A bench's median and spread; for a passed test without bench, its whole body's time, in
    parentheses (one run, never gated: it tells an adopted suite's tests apart, no more)."""
    text = "-"
    if bench is not None and bench.samples and bench.median > 0:
        text = f"{format_seconds(bench.median)} ±{50 * bench.iqr / bench.median:.0f}%"
    elif bench is None and outcome == "passed" and positive_seconds(call_s):
        text = f"({format_seconds(call_s)})"
    if outcome not in ("passed", "unknown"):
        text = f"{outcome.upper()} {text}" if text != "-" else outcome.upper()
    return text


def whole_test_speedup_cell(reference: ItemRecord | None, record: ItemRecord) -> str:
    """'(2.1x)': the reference device's whole-test time over this device's, for tests without bench;
    one run each, so no interval: a hint of which tests got faster, never a verdict."""
    if reference is None or record.outcome != "passed" or reference.outcome != "passed":
        return "-"
    if not (positive_seconds(reference.call_s) and positive_seconds(record.call_s)):
        return "-"
    return f"({_ratio(reference.call_s / record.call_s)}x)"


def positive_seconds(seconds: float | None) -> TypeGuard[float]:
    """A time that was measured: finite and above zero (a whole-test time may be missing)."""
    return seconds is not None and math.isfinite(seconds) and seconds > 0


WHOLE_TEST_LEGEND = (
    "(…): a test without bench: its whole body's time on the device (one run, hidden passes left out) "
    "and the reference's over it; a hint, never gated"
)

ORACLE_LEGEND = (
    "vs oracle: the device's worst |value - oracle| / (|oracle| + rms(oracle)) against float64; "
    "oracle FAIL Nx: parity held, but the device's error against the oracle is N times the reference "
    "device's, beyond what it may be"
)


def parity_cell(record: ItemRecord) -> str:
    """Worst error / allowed error; a check that failed on the oracle alone says so, with its ratio
    to the reference's error, since its parity (at most 1) would read as a pass."""
    if not record.checks:
        return "-"
    worst = record.worst_headroom()
    failed = [c for c in record.checks if not c.passed]
    if failed and all(_failed_on_the_oracle_alone(c) for c in failed):
        return oracle_failure_cell(failed)
    if failed:
        return f"FAIL {worst:.2g}" if worst is not None and math.isfinite(worst) else "FAIL"
    return f"{worst:.2f}" if worst is not None else "ok"


def _failed_on_the_oracle_alone(check: CheckResult) -> bool:
    """A failed check whose parity held: only the oracle's accuracy verdict can have failed it."""
    return check.error_vs_oracle is not None and check.headroom is not None and check.headroom <= 1.0


def oracle_failure_cell(checks: list[CheckResult]) -> str:
    """'oracle FAIL 86x': the worst device error against the oracle over the reference device's."""
    ratios = [_times(c.error_vs_oracle, c.reference_error_vs_oracle) for c in checks]
    worst = max(ratios, default=math.inf)
    return f"oracle FAIL {_ratio(worst)}x" if math.isfinite(worst) else "oracle FAIL"


def _times(error: float | None, reference_error: float | None) -> float:
    if error is None or reference_error is None or not reference_error > 0:
        return math.inf
    return error / reference_error


def oracle_cell(record: ItemRecord) -> str:
    own = [c.error_vs_oracle for c in record.checks if c.error_vs_oracle is not None]
    return f"{max(own):.2g}" if own else "-"


MEMORY_HEADER = "peak mem"
MEMORY_LEGEND = (
    "peak mem: the most memory one call of the bench had in use above what was in use before it (torch's "
    "device allocator, JAX's memory_stats, tracemalloc for numpy), read in a call of its own after the "
    "timed ones; a row without a bench shows the test body's peak; not measured: the framework cannot "
    "tell (torch on the CPU, JAX without memory_stats)"
)


def has_memory(record: ItemRecord) -> bool:
    return record.peak_bytes is not None or any(b.peak_bytes is not None for b in record.benches)


def memory_cell(record: ItemRecord, bench: BenchResult | None) -> str:
    """The bench's peak, or the body's in a row without a bench; never 0 for "unknown"."""
    return format_bytes(bench.peak_bytes if bench is not None else record.peak_bytes)


def common_prefix(tests: list[str]) -> str:
    """The longest shared start of the test ids that ends at '::' or '/' (a file or folder)."""
    if len(tests) < 2 and tests:
        head, sep, _ = tests[0].rpartition("::")
        return head + sep
    shared = tests[0] if tests else ""
    for test in tests[1:]:
        while not test.startswith(shared):
            shared = shared[:-1]
    cut = max(shared.rfind("::") + 2 if "::" in shared else 0, shared.rfind("/") + 1)
    return shared[:cut]


def _device_label(record: ItemRecord) -> str:
    return record.device


def reference_key(key: RowKey, record: ItemRecord) -> RowKey:
    """The row of the item's reference: its own framework's, or, under a cross-framework reference
    ('numpy cpu'), that framework's row for the same test, dtype and bench."""
    test, framework, dtype, bench_name = key
    other, _, _ = record.reference_device.rpartition(" ")
    return (test, other or framework, dtype, bench_name)


def row_keys(record: ItemRecord) -> list[RowKey]:
    """The table rows an item has a cell in: one per bench, or one if it timed nothing."""
    names = [bench.name for bench in record.benches] or [""]
    return [(record.test, record.framework, record.dtype, name) for name in names]


def count_rows(records: list[ItemRecord]) -> int:
    """How many rows the side-by-side table has, without building it (a big run's table is slow)."""
    return len({key for record in records for key in row_keys(record)})


def build_layout(records: list[ItemRecord]) -> Layout:
    with_oracle = any(c.error_vs_oracle is not None for r in records for c in r.checks)
    labels: dict[str, bool] = {}
    for record in sorted(records, key=lambda r: (not r.is_reference, r.device)):
        # A device's group is a reference group only if every item on it is a reference: under a
        # cross-framework reference, jax's cpu items are compared with numpy's and show their parity.
        label = _device_label(record)
        labels[label] = labels.get(label, True) and record.is_reference
    measured = {_device_label(r) for r in records if has_memory(r)}  # a memory column only there
    groups = []
    for label, reference in labels.items():
        headers = [f"{label}"] if reference else [f"{label}", "speedup", "parity"]
        if with_oracle:
            headers.append("vs oracle")
        if label in measured:
            headers.append(MEMORY_HEADER)
        groups.append(Group(label, reference, headers))
    by_key: dict[RowKey, dict[str, tuple[ItemRecord, BenchResult | None]]] = {}
    for record in records:
        benches: list[BenchResult | None] = list(record.benches) or [None]
        for bench in benches:
            key = (record.test, record.framework, record.dtype, bench.name if bench is not None else "")
            by_key.setdefault(key, {})[_device_label(record)] = (record, bench)
    prefix = common_prefix(sorted({r.test for r in records}))
    several_benches = any(key[3] for key in by_key) and len({k[3] for k in by_key}) > 1
    several_frameworks = len({k[1] for k in by_key}) > 1
    rows = []
    reference_benches = {
        key: bench for key, cells in by_key.items() for r, bench in cells.values() if r.is_reference
    }
    reference_records = {key: r for key, cells in by_key.items() for r, _ in cells.values() if r.is_reference}
    for key in sorted(by_key):
        cells = by_key[key]
        group_cells = []
        for group in groups:
            entry = cells.get(group.label)
            if entry is None:
                group_cells.append([""] * len(group.headers))
                continue
            record, bench = entry
            values = [time_cell(bench, record.outcome, record.call_s)]
            if not group.reference and record.is_reference:
                values += ["-", "reference"]
            elif not group.reference:
                reference = reference_benches.get(reference_key(key, record))
                if bench is None:
                    speed = whole_test_speedup_cell(reference_records.get(reference_key(key, record)), record)
                else:
                    speed = speedup_cell(reference, bench) if reference is not None else "-"
                values += [speed, parity_cell(record)]
            if with_oracle:
                values.append(oracle_cell(record))
            if group.label in measured:
                values.append(memory_cell(record, bench))
            group_cells.append(values)
        test, framework, dtype, bench_name = key
        key_cells = [test.removeprefix(prefix)] + ([framework] if several_frameworks else []) + [dtype]
        key_cells += [bench_name] if several_benches else []
        rows.append((key_cells, group_cells))
    key_headers = ["test"] + (["framework"] if several_frameworks else []) + ["dtype"]
    key_headers += ["bench"] if several_benches else []
    return Layout(prefix, key_headers, groups, rows, with_oracle)


def shorten_all(names: list[str], width: int) -> list[str]:
    """Each name shortened to ``width``, keeping different names different: where losing the middle
    would make names alike, the part in which they differ is kept and their shared start and end give
    way around it; if even that cannot keep them apart, those names stay whole."""
    plain = {name: shorten(name, width) for name in set(names)}
    alike: dict[str, list[str]] = {}
    for name, short in plain.items():
        alike.setdefault(short, []).append(name)
    chosen = dict(plain)
    for group in alike.values():
        if len(group) > 1:
            chosen.update(_around_difference(sorted(group), width))
    if len(set(chosen.values())) < len(chosen):
        chosen = {name: name for name in chosen}
    return [chosen[name] for name in names]


def _around_difference(names: list[str], width: int) -> dict[str, str]:
    """Names that share a start and an end, shortened in those shared parts, not where they differ."""
    head = _shared_start(names)
    tail = _shared_start(sorted(name[len(head) :][::-1] for name in names))[::-1]
    core = max(len(name) - len(head) - len(tail) for name in names)
    room = width - core - 2  # two ellipses
    if room < 2:
        return {name: name for name in names}
    keep_head, keep_tail = (room + 1) // 2, room // 2
    shortened = {}
    for name in names:
        middle = name[len(head) : len(name) - len(tail)]
        front = head if len(head) <= keep_head else head[:keep_head] + "…"
        back = tail if len(tail) <= keep_tail else "…" + tail[len(tail) - keep_tail :]
        shortened[name] = front + middle + back
    return shortened


def _shared_start(names: list[str]) -> str:
    """The longest start that all the sorted ``names`` share (the first and last decide it)."""
    if not names:
        return ""
    first, last = names[0], names[-1]
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _width(column: list[str]) -> int:
    return max((len(cell) for cell in column), default=0)


def split_to_fit(layout: Layout, width: int) -> list[list[int]]:
    """Device groups packed into tables that fit ``width`` (every table repeats the key columns)."""
    gap = 2
    key_width = sum(
        _width([h] + [k[i] for k, _ in layout.rows]) + gap for i, h in enumerate(layout.key_headers)
    )
    group_widths = []
    for index, group in enumerate(layout.groups):
        total = 0
        for column, header in enumerate(group.headers):
            total += _width([header] + [cells[index][column] for _, cells in layout.rows]) + gap
        group_widths.append(total)
    tables: list[list[int]] = [[]]
    used = key_width
    for index, group_width in enumerate(group_widths):
        if tables[-1] and used + group_width > width:
            tables.append([])
            used = key_width
        tables[-1].append(index)
        used += group_width
    return tables


def table_rows(layout: Layout, groups: list[int]) -> tuple[list[str], list[list[str]]]:
    headers = list(layout.key_headers)
    for index in groups:
        headers += layout.groups[index].headers
    rows = []
    for key_cells, group_cells in layout.rows:
        cells = [cell for index in groups for cell in group_cells[index]]
        if any(cells):  # a row with nothing on these devices stays in the tables that have its devices
            rows.append(list(key_cells) + cells)
    return headers, rows


def fit_names(layout: Layout, width: int) -> None:
    """Shorten test names in the middle so that they take at most about two fifths of the width."""
    limit = max(MIN_NAME_WIDTH, 2 * width // 5)
    names = shorten_all([key_cells[0] for key_cells, _ in layout.rows], limit)
    for (key_cells, _), name in zip(layout.rows, names, strict=True):
        key_cells[0] = name
