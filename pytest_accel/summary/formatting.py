"""Numbers and names as a person reads them (``1.5 ms``, ``10%``, a long id without its middle): one
place for the terminal summary, the gate section and the reports."""

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


def seconds_or_dash(value: object) -> str:
    """A duration for a table cell; '-' where there is none (None, not finite, not positive)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return format_seconds(float(value))
    return "-"


def format_percent(fraction: float) -> str:
    """0.1 -> '10%': thresholds and noise levels as the user wrote them."""
    return f"{100 * fraction:g}%"


def shorten(text: str, width: int) -> str:
    """Long names lose their middle, where ids differ least: 'tests/test_...ention[causal]'. A test id
    first loses its file's folders, then its file, so that the function's name stays readable."""
    if len(text) <= width:
        return text
    if "::" in text:
        file, _, rest = text.partition("::")
        for shorter in (f"{file.rsplit('/', 1)[-1]}::{rest}", rest):
            if len(shorter) <= width:
                return shorter
        text = rest
    keep = width - 1
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2) :]


def display_path(path: object) -> str:
    """A path as the user would type it: relative to the current folder when it lies inside it."""
    import os

    text = str(path)
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return text
    return relative if not relative.startswith("..") else text
