"""Durations as a person reads them (``1.5 ms``): shared by the terminal summary, the gate and reports."""

from __future__ import annotations

import math


def format_seconds(seconds: float) -> str:
    """Three significant digits in the largest unit that keeps the number at 1 or more."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "-" if not math.isfinite(seconds) else f"{seconds:.3g} s"
    rounded = float(f"{seconds:.3g}")  # 0.00099995 s is shown as 1 ms, not as 1e+03 us
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if rounded >= factor:
            return f"{rounded / factor:.3g} {unit}"
    return f"{rounded / 1e-9:.3g} ns"


def display_path(path: object) -> str:
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    import os

    text = str(path)
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return text
    return relative if not relative.startswith("..") else text
