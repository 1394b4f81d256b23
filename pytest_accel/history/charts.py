"""Charts of the history (the ``plot`` extra): per benchmark its time over the runs, with the levels
before and after each change point and the runs that bracket it shaded; one overview of every
benchmark's level relative to its first run. SVG, text kept as text."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

from pytest_accel.history.series import Series

MAX_NAME = 80


class ChartError(RuntimeError):
    """Charts cannot be drawn (matplotlib missing, or the folder cannot be written); says what to do."""


def pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ChartError(
            'history charts need matplotlib: pip install "pytest-accel[plot]" (or pip install matplotlib)'
        ) from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def file_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "chart"
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 9] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return name


def _labels(series: Series) -> list[str]:
    return [series.commit(i)[:8] for i in range(len(series.points))]


def _series_chart(plt: Any, series: Series, path: Path) -> None:
    times = [p.entry.median_s for p in series.points]
    scale, unit = next(
        ((f, u) for f, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")) if min(times) >= f), (1e-9, "ns")
    )
    figure, axis = plt.subplots(figsize=(max(6.0, 0.3 * len(times) + 2), 3.6))
    xs = range(len(times))
    lows = [p.entry.low_s / scale for p in series.points]
    highs = [p.entry.high_s / scale for p in series.points]
    axis.fill_between(xs, lows, highs, color="tab:blue", alpha=0.15, linewidth=0, label="run's ~95% interval")
    axis.plot(xs, [t / scale for t in times], "o-", color="tab:blue", markersize=3, label="median per run")
    for change in series.changes:
        color = "tab:red" if change.slower else "tab:green"
        axis.axvspan(change.first - 0.5, change.last + 0.5, color=color, alpha=0.15)
        axis.hlines(
            math.exp(change.before) / scale, change.begin, change.split - 1, colors=color, linestyles="--"
        )
        axis.hlines(
            math.exp(change.after) / scale, change.split, change.end - 1, colors=color, linestyles="--"
        )
        axis.annotate(
            f"{100 * (change.ratio - 1):+.1f}%",
            (change.last, math.exp(change.after) / scale),
            textcoords="offset points",
            xytext=(4, 6),
            color=color,
        )
    axis.set_ylim(bottom=0)
    axis.set_ylabel(f"time per call ({unit})")
    axis.set_xticks(list(xs), _labels(series), rotation=90, fontsize=7)
    axis.set_title(f"{series.label}\n{series.kind}", fontsize=9)
    axis.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _overview(plt: Any, series: list[Series], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for one in series:
        times = [p.entry.median_s for p in one.points]
        axis.plot(
            range(len(times)),
            [t / times[0] for t in times],
            linewidth=1,
            label=one.label if len(series) <= 12 else None,
        )
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set_yscale("log")
    axis.set_xlabel("run (oldest first)")
    axis.set_ylabel("time / first run's time")
    axis.set_title("every benchmark relative to its first run")
    if len(series) <= 12:
        axis.legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def draw(series: list[Series], folder: Path) -> list[Path]:
    """``overview.svg`` and ``history-<benchmark>.svg`` per series; returns the files written."""
    plt = pyplot()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "overview.svg"]
        _overview(plt, series, written[0])
        for one in series:
            path = folder / f"history-{file_name(one.label + '-' + one.kind)}.svg"
            _series_chart(plt, one, path)
            written.append(path)
    except OSError as exc:
        raise ChartError(f"cannot write charts into {folder} ({exc})") from None
    return written
