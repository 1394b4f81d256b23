"""The memory gate (``--accel-fail-memory=PCT``): a benchmark whose peak memory grew by more than PCT
against the baseline fails.

Memory is exact where it is measured (the device allocator's counters, tracemalloc's), so there is no
interval and no run-to-run noise to allow for: the verdict compares the two numbers. Several runs on a
side (a duet's rounds, merged shards) are combined conservatively: the baseline's largest peak against
the new code's smallest, so that a verdict of "grew" holds for every run. Growth below MIN_GROWTH_BYTES
never fails (Python's own bookkeeping moves tracemalloc's count by some hundred bytes between runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pytest_accel.gate.baseline import Verdict
from pytest_accel.gate.stats import MISSING, NEW, NOT_COMPARABLE, UNCHANGED

GREW = "grew"
SHRANK = "shrank"
NOT_MEASURED = "not measured"
# Report order: regressions first, then what needs a look, the quiet ones last.
ORDER = (GREW, SHRANK, NOT_COMPARABLE, NOT_MEASURED, NEW, MISSING, UNCHANGED)
MIN_GROWTH_BYTES = 4096

MemoryKey = tuple[str, str, str, str, str]  # test, framework, device, dtype, bench (as the time gate's)


@dataclass
class MemoryVerdict(Verdict):
    """The verdict on one benchmark's peak memory; builtin types only (reports and JSON)."""

    baseline_bytes: int | None = None
    current_bytes: int | None = None
    ratio: float | None = None  # new / baseline
    note: str = ""

    @property
    def fails(self) -> bool:
        return self.verdict == GREW

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Peak:
    bytes: int | None
    hardware: str
    note: str


def _peaks(documents: Iterable[dict[str, Any]], combine: Any) -> dict[MemoryKey, _Peak]:
    """Each benchmark's peak over the documents: ``combine`` (max or min) of the measured ones."""
    found: dict[MemoryKey, _Peak] = {}
    for document in documents:
        for result in document.get("results", []):
            for bench in result.get("benches", []):
                key = (result["test"], result["framework"], result["device"], result["dtype"], bench["name"])
                value = bench.get("peak_bytes")
                peak = _Peak(value, str(result.get("hardware", "?")), str(bench.get("memory_note") or ""))
                earlier = found.get(key)
                if earlier is not None and earlier.bytes is not None:
                    if value is None:
                        continue
                    peak.bytes = combine(earlier.bytes, value)
                found[key] = peak
    return found


def _as_list(documents: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [documents] if isinstance(documents, dict) else list(documents)


def memory_verdicts(
    baseline: dict[str, Any] | list[dict[str, Any]],
    current: dict[str, Any] | list[dict[str, Any]],
    threshold: float,
    any_hardware: bool = False,
) -> list[MemoryVerdict]:
    """One verdict per benchmark of either side, regressions first (largest growth first).

    ``threshold`` is a fraction (0.2 for ``20%``): a peak above baseline x (1 + threshold), by at least
    MIN_GROWTH_BYTES, grew; one below baseline / (1 + threshold) shrank. Results files of any readable
    version: version 2 has no memory, so its benchmarks are "not measured".
    """
    before = _peaks(_as_list(baseline), max)
    after = _peaks(_as_list(current), min)
    verdicts = [
        _verdict(key, before.get(key), after.get(key), threshold, any_hardware)
        for key in sorted(set(before) | set(after))
    ]
    return sorted(verdicts, key=lambda v: (ORDER.index(v.verdict), -(v.ratio or 0.0)))


def _verdict(
    key: MemoryKey, before: _Peak | None, after: _Peak | None, threshold: float, any_hardware: bool
) -> MemoryVerdict:
    verdict = MemoryVerdict(*key, verdict=UNCHANGED, threshold=threshold)
    if before is None or after is None:
        verdict.verdict = NEW if before is None else MISSING
        verdict.current_bytes = after.bytes if after is not None else None
        verdict.baseline_bytes = before.bytes if before is not None else None
        return verdict
    verdict.baseline_bytes, verdict.current_bytes = before.bytes, after.bytes
    if before.hardware != after.hardware and not any_hardware:
        verdict.verdict = NOT_COMPARABLE
        verdict.note = f"hardware {before.hardware} in the baseline, {after.hardware} now"
        return verdict
    if before.bytes is None or after.bytes is None:
        verdict.verdict = NOT_MEASURED
        side = "the baseline" if before.bytes is None else "this run"
        reason = (before if before.bytes is None else after).note
        verdict.note = f"not measured in {side}" + (f": {reason}" if reason else "")
        return verdict
    if before.bytes > 0:
        verdict.ratio = after.bytes / before.bytes
    growth = after.bytes - before.bytes
    if growth >= MIN_GROWTH_BYTES and after.bytes > before.bytes * (1 + threshold):
        verdict.verdict = GREW
    elif -growth >= MIN_GROWTH_BYTES and after.bytes * (1 + threshold) < before.bytes:
        verdict.verdict = SHRANK
    return verdict


def memory_gate_failed(verdicts: list[MemoryVerdict]) -> bool:
    return any(v.fails for v in verdicts)


def failure_line(verdicts: list[MemoryVerdict]) -> str | None:
    """The final line of a failed memory gate, naming the benchmarks (None when nothing grew)."""
    if not memory_gate_failed(verdicts):
        return None
    return f"accel memory gate: FAILED - {memory_reason(verdicts)}"


def memory_reason(verdicts: list[MemoryVerdict]) -> str:
    """Why the memory gate failed (naming what grew) or passed (the counts), in one sentence."""
    grew = [v for v in verdicts if v.fails]
    if not grew:
        counts = ", ".join(f"{n} {name}" for name in ORDER if (n := sum(v.verdict == name for v in verdicts)))
        return f"no benchmark's peak memory grew beyond its threshold ({counts or 'no benchmarks'})"
    named = ", ".join(f"{v.label} ({_ratio(v)})" for v in grew[:5])
    more = f" and {len(grew) - 5} more" if len(grew) > 5 else ""
    return (
        f"{len(grew)} benchmark(s) use more than {100 * grew[0].threshold:g}% more peak memory than the "
        f"baseline: {named}{more}"
    )


def _ratio(verdict: MemoryVerdict) -> str:
    return f"{verdict.ratio:.2f}x" if verdict.ratio is not None else "from 0 bytes"
