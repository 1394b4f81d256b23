"""Charts of a run (and of a comparison), as SVG files that read without the terminal output.

matplotlib is an optional extra (``pip install "pytest-accel[plot]"``); without it, ``PlotError`` says
so. Charts: an overview of every benchmark's speedup per device against the reference (log scale);
per test, the time per device and dtype; in compare mode, per benchmark whose verdict is not
``unchanged``, the baseline's and this run's samples side by side with the threshold.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pytest_accel.results import ItemRecord
from pytest_accel.side_by_side import speedup_interval

MAX_NAME = 80


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


def speedup_overview(plt: Any, records: list[ItemRecord], folder: Path) -> Path | None:
    """Every benchmark on a device other than its reference: speedup with its interval, log scale."""
    references = {
        (r.test, r.framework, r.dtype, b.name): b for r in records if r.is_reference for b in r.benches
    }
    bars = []
    for record in records:
        if record.is_reference:
            continue
        for bench in record.benches:
            reference = references.get((record.test, record.framework, record.dtype, bench.name))
            if reference is None:
                continue
            ratio, low, high = speedup_interval(reference, bench)
            if math.isfinite(ratio) and ratio > 0:
                where = f"{record.framework} {record.device} {record.dtype}"
                label = f"{record.test.rsplit('::', 1)[-1]} {bench.name} [{where}]"
                bars.append((label, ratio, max(low, 1e-12), high if math.isfinite(high) else ratio))
    if not bars:
        return None
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.35 * len(bars)))
    positions = list(range(len(bars)))
    ratios = [b[1] for b in bars]
    errors = [[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]]
    axes.barh(positions, ratios, xerr=errors, color="#4c78a8", ecolor="#333333", capsize=3)
    axes.axvline(1.0, color="#999999", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    axes.set_yticks(positions, [b[0] for b in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("speedup against the reference device (reference time / device time), 95% interval")
    axes.set_title("pytest-accel: speedup per device")
    return _save(plt, figure, folder, "overview-speedup")


def per_test_times(plt: Any, records: list[ItemRecord], folder: Path) -> list[Path]:
    """One chart per test: median time per device, a bar per dtype (and bench), log scale."""
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
            positions = [i + offset * width for i in range(len(devices))]
            axes.bar(positions, values, width=width, label=f"{dtype} {bench_name}")
        axes.set_yscale("log")
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
) -> list[Path]:
    """Every chart of a run into ``folder`` (created if missing); returns the files written."""
    plt = _pyplot()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlotError(f"cannot create the chart folder {folder}: {exc}") from None
    records = [ItemRecord.from_dict(r) for r in results]
    paths = []
    overview = speedup_overview(plt, records, folder)
    paths += [overview] if overview else []
    paths += per_test_times(plt, records, folder)
    if gate is not None and baseline is not None and current is not None:
        paths += compare_samples(plt, gate, baseline, current, folder)
    return paths
