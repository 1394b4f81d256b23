"""Charts of a run (and of a comparison), as SVG files that read without the terminal output.

matplotlib is an optional extra (``pip install "pytest-accel[plot]"``); without it, ``PlotError`` says
so. Charts: an overview of every benchmark's speedup per device against the reference (log scale;
when there is none, a note says why); per test, the time per device and dtype; in compare mode, per
benchmark whose verdict is not ``unchanged``, the baseline's and this run's samples side by side with
the threshold.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pytest_accel.results.records import ItemRecord
from pytest_accel.summary.layout import speedup_interval

MAX_NAME = 80
LOG_SPAN = 10.0  # times spanning less than this factor are drawn on a linear axis from 0
MIN_RATIO_SPAN = (0.5, 2.0)  # the speedup axis shows at least this range


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


def speedup_bars(records: list[ItemRecord]) -> list[tuple[str, float, float, float]]:
    """(label, speedup, low, high) of every benchmark on a device other than its reference."""
    references = {
        (r.test, r.framework, r.dtype, b.name): b for r in records if r.is_reference for b in r.benches
    }
    bars = []
    for record in records:
        if record.is_reference:
            continue
        for bench in record.benches:
            reference = references.get(_reference_key(record, bench.name))
            if reference is None:
                continue
            ratio, low, high = speedup_interval(reference, bench)
            if math.isfinite(ratio) and ratio > 0:
                where = f"{record.framework} {record.device} {record.dtype}"
                label = f"{record.test.rsplit('::', 1)[-1]} {bench.name} [{where}]"
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
    """Every benchmark on a device other than its reference: speedup with its interval, log scale.

    Bars start at 1 (as fast as the reference): a bar to the right is faster, to the left slower."""
    bars = speedup_bars(records)
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


def per_test_times(plt: Any, records: list[ItemRecord], folder: Path) -> list[Path]:
    """One chart per test: median time per device, a bar per dtype (and bench)."""
    by_test: dict[str, list[ItemRecord]] = {}
    for record in records:
        if record.benches:
            by_test.setdefault(record.test, []).append(record)
    paths = []
    for test, items in sorted(by_test.items()):
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
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(devices))], devices, fontsize=8)
        axes.set_ylabel("median time per call (s)")
        axes.set_title(test, fontsize=9)
        axes.legend(fontsize=7)
        paths.append(_save(plt, figure, folder, f"time-{test}"))
    return paths


def compare_samples(
    plt: Any, gate: Any, baseline: dict[str, Any], current: dict[str, Any], folder: Path
) -> list[Path]:
    """Per benchmark whose verdict is not unchanged: both runs' samples side by side, with the threshold."""
    from pytest_accel.gate.baseline import bench_runs

    old, new = bench_runs(baseline), bench_runs(current)
    paths = []
    for verdict in gate.verdicts:
        if verdict.verdict == "unchanged" or verdict.key not in old or verdict.key not in new:
            continue
        base_samples, new_samples = old[verdict.key].samples, new[verdict.key].samples
        if not base_samples or not new_samples:
            continue
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
        axes.set_yscale("log")
        axes.set_ylabel("time per call (s)")
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
    paths += per_test_times(plt, records, folder)
    if gate is not None and baseline is not None and current is not None:
        paths += compare_samples(plt, gate, baseline, current, folder)
    return paths
