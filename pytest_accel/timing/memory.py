"""Peak memory of one ``bench`` call (and of a whole test body where a device counts it cheaply).

The peak is the highest memory in use during the call above what was in use before it. It is read in a
call of its own after the timed ones: the counters cost little on a device, but tracemalloc (numpy's)
slows every Python allocation, and no timed call may pay that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_accel.frameworks.base import MemoryMeter

NOT_MEASURED = "not measured"
NO_NEW_PEAK = (
    "the call stayed below the process's earlier peak, and JAX cannot reset its peak counter, so the "
    "call's own peak is unknown"
)


@dataclass
class MemoryReading:
    """A peak in bytes, or None with why it is not measured (never a 0 that means "unknown")."""

    peak_bytes: int | None
    method: str | None
    note: str = ""


def not_measured(reason: str) -> MemoryReading:
    return MemoryReading(None, None, reason)


def peak_of_call(call: Callable[[], Any], meter: MemoryMeter | str) -> MemoryReading:
    """Run ``call`` once (it waits for the device) and read its peak above the memory in use before."""
    if isinstance(meter, str):
        call()
        return not_measured(meter)
    with meter.tracing():
        try:
            base = meter.in_use()
            before = meter.reset_peak()
        except Exception as exc:  # a counter that fails is "not measured", not a failed test
            call()
            return not_measured(f"{meter.method} failed: {exc}")
        call()
        return _reading(meter, base, before)


def _reading(meter: MemoryMeter, base: int, before: int) -> MemoryReading:
    try:
        peak = meter.peak()
    except Exception as exc:
        return not_measured(f"{meter.method} failed: {exc}")
    if not meter.resets and peak <= before:
        return MemoryReading(None, meter.method, NO_NEW_PEAK)
    return MemoryReading(max(0, peak - base), meter.method)


class BodyMemory:
    """A test body's peak on a device whose counters are cheap (never tracemalloc): started before the
    body, read after it. A bench resets the device's peak for its own reading; ``keep_peak`` first keeps
    the body's peak so far, so that the body's reading still covers the whole body."""

    def __init__(self, meter: MemoryMeter) -> None:
        self._meter = meter
        self._base = meter.in_use()
        self._before = meter.reset_peak()
        self._highest = 0

    def keep_peak(self) -> None:
        self._highest = max(self._highest, self._meter.peak())

    def finish(self) -> MemoryReading:
        self.keep_peak()
        if not self._meter.resets and self._highest <= self._before:
            return MemoryReading(None, self._meter.method, NO_NEW_PEAK)
        return MemoryReading(max(0, self._highest - self._base), self._meter.method)


def body_memory(meter: MemoryMeter | str) -> BodyMemory | None:
    """A body's meter where the device counts cheaply, else None (its peak is then not measured)."""
    if isinstance(meter, str) or not meter.per_item:
        return None
    try:
        return BodyMemory(meter)
    except Exception:
        return None


def format_bytes(count: int | None) -> str:
    """Decimal units, three digits: ``80.0 MB``; None is ``not measured``, never 0."""
    if count is None:
        return NOT_MEASURED
    value = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 999.5 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    return f"{count} B"
