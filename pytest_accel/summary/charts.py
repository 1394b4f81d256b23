"""Charts of a run (and of a comparison), as SVG files that read without the terminal output.

matplotlib is an optional extra (``pip install "pytest-accel[plot]"``); without it, ``PlotError`` says
so. Charts: an overview of every benchmark's speedup per device against the reference (log scale;
when there is none, a note says why); per test, the time per device and dtype; in compare mode, per
benchmark whose verdict is not ``unchanged``, the baseline's and this run's samples side by side with
the threshold. A big run (a whole suite) gets no file per test, which nobody would open: one overview
of the speedups per device and one of the times per device instead. Time axes read in s, ms, us, ns.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pytest_accel.results.records import ItemRecord
from pytest_accel.summary.formatting import format_seconds, shorten
from pytest_accel.summary.layout import median_speedup, speedup_interval
from pytest_accel.timing.measure import BenchResult

MAX_NAME = 80
LOG_SPAN = 10.0  # times spanning less than this factor are drawn on a linear axis from 0
MIN_RATIO_SPAN = (0.5, 2.0)  # the speedup axis shows at least this range
MAX_BARS = 40  # more speedups than this: their spread per device, not a bar each
MAX_TIME_CHARTS = 40  # more timed tests than this: one overview of the times, not a chart per test
MAX_COMPARE_CHARTS = 40  # charts of changed benchmarks, the largest changes first; the rest are counted


class PlotError(RuntimeError):
    """Charts cannot be drawn (matplotlib missing, or the folder cannot be written); says what to do."""


def require_matplotlib() -> Any:
    """matplotlib, or PlotError naming the extra that brings it."""
    try:
        import matplotlib
    except ImportError:
        raise PlotError(
            'charts need matplotlib: pip install "pytest-accel[plot]" (or pip install matplotlib)'
        ) from None
    return matplotlib


def _pyplot() -> Any:
    matplotlib = require_matplotlib()
    matplotlib.use("Agg")  # files only, never a window
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: names can be searched and read
    import matplotlib.pyplot as plt

    return plt


def safe_name(text: str) -> str:
    """A file name from a test id, safe on every filesystem: [A-Za-z0-9._-] only, bounded length."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "chart"
    if len(name) > MAX_NAME:
        import hashlib

        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def _save(plt: Any, figure: Any, folder: Path, name: str) -> Path:
    path = folder / f"{safe_name(name)}.svg"
    figure.tight_layout()
    figure.savefig(path, format="svg")
    plt.close(figure)
    return path


def _reference_key(record: ItemRecord, bench_name: str) -> tuple[str, str, str, str]:
    """Where an item's reference bench is: its own framework's reference device, or under a
    cross-framework reference ('numpy cpu') that framework's item of the same test, dtype and bench."""
    other, _, _ = record.reference_device.rpartition(" ")
    return (record.test, other or record.framework, record.dtype, bench_name)


Timed = tuple[ItemRecord, BenchResult, BenchResult]  # an item, one of its benches, the reference's


def timed_pairs(records: list[ItemRecord]) -> list[Timed]:
    """Every benchmark on a device other than its reference, with the reference's same benchmark."""
    references = {
        (r.test, r.framework, r.dtype, b.name): b for r in records if r.is_reference for b in r.benches
    }
    pairs = []
    for record in records:
        if record.is_reference:
            continue
        for bench in record.benches:
            reference = references.get(_reference_key(record, bench.name))
            if reference is not None and bench.samples and reference.samples:
                pairs.append((record, bench, reference))
    return pairs


def _where(record: ItemRecord) -> str:
    return f"{record.framework} {record.device}"


def speedup_bars(pairs: list[Timed]) -> list[tuple[str, float, float, float]]:
    """(label, speedup, low, high) of every benchmark on a device other than its reference."""
    bars = []
    for record, bench, reference in pairs:
        ratio, low, high = speedup_interval(reference, bench)
        if math.isfinite(ratio) and ratio > 0:
            label = f"{record.test.rsplit('::', 1)[-1]} {bench.name} [{_where(record)} {record.dtype}]"
            bars.append((label, ratio, max(low, 1e-12), high if math.isfinite(high) else ratio))
    return bars


def no_overview_reason(records: list[ItemRecord]) -> str:
    """Why there is no speedup overview, in words a user can act on."""
    benched = [r for r in records if r.benches]
    if not benched:
        return "no speedup overview: no benchmark was timed (no bench calls, or --accel-no-bench)"
    devices: dict[str, set[str]] = {}
    for record in records:
        devices.setdefault(record.framework, set()).add(record.device)
    if all(len(names) == 1 for names in devices.values()):
        return (
            "no speedup overview: each framework ran on one device only, its reference, so there is no "
            "speedup to show (run on several devices, e.g. --accel=all); the time charts show each time"
        )
    return "no speedup overview: no benchmark was timed both on a device and on its reference device"


def _ratio_limits(bars: list[tuple[str, float, float, float]]) -> tuple[float, float]:
    """x limits that hold every interval and at least 0.5x to 2x: a 4% difference must look small."""
    low = min(min(b[2] for b in bars), MIN_RATIO_SPAN[0])
    high = max(max(b[3] for b in bars), MIN_RATIO_SPAN[1])
    return low / 1.2, high * 1.2


def speedup_overview(plt: Any, records: list[ItemRecord], folder: Path) -> Path | None:
    """Every benchmark on a device other than its reference: speedup with its interval, log scale;
    past MAX_BARS benchmarks, their spread per device (``speedup_spread``)."""
    pairs = timed_pairs(records)
    if len(pairs) > MAX_BARS:
        return speedup_spread(plt, pairs, folder)
    bars = speedup_bars(pairs)
    if not bars:
        return None
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.35 * len(bars)))
    positions = list(range(len(bars)))
    ratios = [b[1] for b in bars]
    errors = [[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]]
    widths = [ratio - 1.0 for ratio in ratios]
    axes.barh(positions, widths, left=1.0, xerr=errors, color="#4c78a8", ecolor="#333333", capsize=3)
    axes.axvline(1.0, color="#999999", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlim(*_ratio_limits(bars))
    axes.set_yticks(positions, [b[0] for b in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("speedup against the reference device (reference time / device time), 95% interval")
    axes.set_title("pytest-accel: speedup per device")
    return _save(plt, figure, folder, "overview-speedup")


def _by_device(pairs: list[Timed]) -> dict[str, list[Timed]]:
    grouped: dict[str, list[Timed]] = {}
    for pair in sorted(pairs, key=lambda p: _where(p[0])):
        grouped.setdefault(_where(pair[0]), []).append(pair)
    return grouped


def _median_ratio(pair: Timed) -> float:
    """Thousands of intervals would take seconds, and a spread of thousands of points needs none."""
    _, bench, reference = pair
    return median_speedup(reference, bench)


def speedup_spread(plt: Any, pairs: list[Timed], folder: Path) -> Path | None:
    """A big run's speedups: per device a box (middle half, whiskers to the extremes), the largest and
    smallest named; one chart however many benchmarks."""
    grouped = {
        device: [(pair, ratio) for pair in items if math.isfinite(ratio := _median_ratio(pair)) and ratio > 0]
        for device, items in _by_device(pairs).items()
    }
    grouped = {device: items for device, items in grouped.items() if items}
    if not grouped:
        return None
    ratios = [[ratio for _, ratio in items] for items in grouped.values()]
    figure, axes, positions = _box_figure(plt, ratios)
    for position, items in zip(positions, grouped.values(), strict=True):
        for (record, bench, _), ratio in (min(items, key=_second), max(items, key=_second)):
            name = shorten(f"{record.test.rsplit('::', 1)[-1]} {record.dtype} {bench.name}", 40)
            axes.annotate(f"{name}: {ratio:.2g}x", (ratio, position + 0.3), fontsize=7, ha="center")
    axes.axvline(1.0, color="#999999", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    flat = [ratio for values in ratios for ratio in values]
    axes.set_xlim(min(min(flat), MIN_RATIO_SPAN[0]) / 1.5, max(max(flat), MIN_RATIO_SPAN[1]) * 1.5)
    axes.set_yticks(positions, [f"{device} ({len(items)})" for device, items in grouped.items()], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("speedup against the reference device (reference median / device median)")
    axes.set_title(f"pytest-accel: speedup per device, {len(flat)} benchmarks (box: the middle half)")
    return _save(plt, figure, folder, "overview-speedup")


def _box_figure(plt: Any, values: list[list[float]]) -> tuple[Any, Any, list[int]]:
    """A figure with one lying box per group of values, a row each; its positions, for annotations."""
    figure, axes = plt.subplots(figsize=(10, 1.5 + 0.9 * len(values)))
    positions = list(range(1, len(values) + 1))
    _horizontal_boxes(axes, values, positions)
    return figure, axes, positions


def _horizontal_boxes(axes: Any, values: list[list[float]], positions: list[int]) -> None:
    """Boxes of the middle half, whiskers to the extremes, lying down (``orientation`` since matplotlib
    3.10, which deprecates ``vert``)."""
    import inspect

    lying = (
        {"orientation": "horizontal"}
        if "orientation" in inspect.signature(axes.boxplot).parameters
        else {"vert": False}
    )
    axes.boxplot(values, positions=positions, whis=(0, 100), showfliers=False, widths=0.5, **lying)


def _second(pair: tuple[Any, float]) -> float:
    return pair[1]


def human_time_axis(axis: Any, scale: str) -> None:
    """Tick labels in s, ms, us, ns (``format_seconds``), never '3.8e-2 s'. Call it after setting the
    scale, which resets the labels; on a log axis only decades are labelled (a time axis spanning a
    factor of LOG_SPAN or more holds at least one)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(_tick_label))
    if scale == "log":
        axis.set_minor_formatter(NullFormatter())


def _tick_label(value: float, _position: Any = None) -> str:
    if value > 0:
        return format_seconds(value)
    return "0" if value == 0 else ""


def time_axis(values: list[float]) -> tuple[str, float]:
    """The scale of a time chart and where its bars start.

    Bars on a log axis have no natural base: matplotlib starts them at the smallest value, and 1.48e-4
    against 1.54e-4 then fills the chart. Times within a factor of LOG_SPAN share a linear axis from 0
    (bar lengths compare as the times do); wider ranges get a log axis from the decade below the
    smallest time."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive or max(positive) / min(positive) < LOG_SPAN:
        return "linear", 0.0
    return "log", 10.0 ** (math.floor(math.log10(min(positive))) - 1)


def timed_by_test(records: list[ItemRecord]) -> dict[str, list[ItemRecord]]:
    """The items that timed something, by test."""
    by_test: dict[str, list[ItemRecord]] = {}
    for record in records:
        if record.benches:
            by_test.setdefault(record.test, []).append(record)
    return by_test


def time_overview(plt: Any, records: list[ItemRecord], folder: Path) -> Path | None:
    """A big run's times: per device the spread of its benchmarks' medians (box: the middle half,
    whiskers to the extremes), the slowest named; one chart instead of a chart per test."""
    grouped: dict[str, list[tuple[float, str]]] = {}
    for record in sorted(records, key=_where):
        for bench in record.benches:
            if bench.samples and bench.median > 0 and math.isfinite(bench.median):
                name = f"{record.test.rsplit('::', 1)[-1]} {record.dtype} {bench.name}"
                grouped.setdefault(_where(record), []).append((bench.median, name))
    if not grouped:
        return None
    medians = [[value for value, _ in items] for items in grouped.values()]
    figure, axes, positions = _box_figure(plt, medians)
    for position, items in zip(positions, grouped.values(), strict=True):
        value, name = max(items)
        label = f"slowest: {shorten(name, 40)}, {format_seconds(value)}"
        axes.annotate(label, (value, position + 0.3), fontsize=7, ha="right")
    scale, left = time_axis([value for values in medians for value in values])
    axes.set_xscale(scale)
    axes.set_xlim(left=left)
    human_time_axis(axes.xaxis, scale)
    axes.set_yticks(positions, [f"{device} ({len(items)})" for device, items in grouped.items()], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("median time per call")
    count = sum(map(len, medians))
    axes.set_title(f"pytest-accel: time per device, {count} benchmarks (box: the middle half)")
    return _save(plt, figure, folder, "overview-times")


def per_test_times(plt: Any, records: list[ItemRecord], folder: Path) -> list[Path]:
    """One chart per test: median time per device, a bar per dtype (and bench)."""
    paths = []
    for test, items in sorted(timed_by_test(records).items()):
        devices = sorted({f"{r.framework} {r.device}" for r in items})
        series = sorted({(r.dtype, b.name) for r in items for b in r.benches})
        figure, axes = plt.subplots(figsize=(max(5, 1.6 * len(devices) * max(1, len(series)) ** 0.5), 4))
        width = 0.8 / max(1, len(series))
        drawn: list[float] = []
        for offset, (dtype, bench_name) in enumerate(series):
            values = []
            for device in devices:
                match = [
                    b.median
                    for r in items
                    if f"{r.framework} {r.device}" == device and r.dtype == dtype
                    for b in r.benches
                    if b.name == bench_name and b.samples
                ]
                values.append(match[0] if match else 0.0)
            drawn += values
            positions = [i + offset * width for i in range(len(devices))]
            axes.bar(positions, values, width=width, label=f"{dtype} {bench_name}")
        scale, bottom = time_axis(drawn)
        axes.set_yscale(scale)
        axes.set_ylim(bottom=bottom)
        human_time_axis(axes.yaxis, scale)
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(devices))], devices, fontsize=8)
        axes.set_ylabel("median time per call")
        axes.set_title(test, fontsize=9)
        axes.legend(fontsize=7)
        paths.append(_save(plt, figure, folder, f"time-{test}"))
    return paths


def compare_samples(
    plt: Any,
    gate: Any,
    baseline: dict[str, Any],
    current: dict[str, Any],
    folder: Path,
    notes: list[str] | None = None,
) -> list[Path]:
    """Per benchmark whose verdict is not unchanged: both runs' samples side by side, with the threshold."""
    from pytest_accel.gate.baseline import bench_runs

    old, new = bench_runs(baseline), bench_runs(current)
    changed = [
        verdict
        for verdict in gate.verdicts
        if verdict.verdict != "unchanged"
        and verdict.key in old
        and verdict.key in new
        and old[verdict.key].samples
        and new[verdict.key].samples
    ]
    if len(changed) > MAX_COMPARE_CHARTS and notes is not None:
        notes.append(
            f"{len(changed) - MAX_COMPARE_CHARTS} more changed benchmark(s) without a chart (the "
            f"{MAX_COMPARE_CHARTS} first are drawn); the reports list them all"
        )
    paths = []
    for verdict in changed[:MAX_COMPARE_CHARTS]:
        base_samples, new_samples = old[verdict.key].samples, new[verdict.key].samples
        figure, axes = plt.subplots(figsize=(6, 4))
        axes.boxplot([base_samples, new_samples], showfliers=True)
        axes.set_xticks([1, 2], ["baseline", "this run"])
        base_median = sorted(base_samples)[len(base_samples) // 2]
        axes.axhline(
            base_median * (1 + verdict.threshold),
            color="#d62728",
            linestyle="--",
            linewidth=1,
            label=f"threshold: baseline median +{100 * verdict.threshold:.0f}%",
        )
        scale = time_axis(base_samples + new_samples)[0]
        axes.set_yscale(scale)  # linear: autoscaled to the samples, not from 0 (boxes, not bars)
        human_time_axis(axes.yaxis, scale)
        axes.set_ylabel("time per call")
        ratio = f"{verdict.ratio:.2f}x [{verdict.low:.2f}, {verdict.high:.2f}]" if verdict.ratio else "-"
        axes.set_title(f"{verdict.label}\n{verdict.verdict}: {ratio}", fontsize=8)
        axes.legend(fontsize=7)
        paths.append(_save(plt, figure, folder, f"compare-{verdict.label}"))
    return paths


def draw_charts(
    results: list[dict[str, Any]],
    folder: Path,
    gate: Any = None,
    baseline: dict[str, Any] | None = None,
    current: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> list[Path]:
    """Every chart of a run into ``folder`` (created if missing); returns the files written.

    ``notes``, if given, receives a line for a chart that could not be drawn, saying why."""
    plt = _pyplot()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlotError(f"cannot create the chart folder {folder}: {exc}") from None
    records = [ItemRecord.from_dict(r) for r in results]
    paths = []
    overview = speedup_overview(plt, records, folder)
    paths += [overview] if overview else []
    if overview is None and notes is not None:
        notes.append(no_overview_reason(records))
    if len(timed_by_test(records)) > MAX_TIME_CHARTS:
        times = time_overview(plt, records, folder)
        paths += [times] if times else []
    else:
        paths += per_test_times(plt, records, folder)
    if gate is not None and baseline is not None and current is not None:
        paths += compare_samples(plt, gate, baseline, current, folder, notes)
    return paths
