"""A results document (``--accel-save``'s format) as history rows: the run, and one entry per benchmark.

A series is one benchmark (test, framework, device, dtype, bench name) on one machine kind: the device's
hardware and the host's CPU. Two runners of the same kind share a series; hardware never mixes.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import statistics
from typing import Any

from pytest_accel.history.store import BenchEntry, RunEntry

# A run's interval comes from batch means, as the gate's (pytest_accel/gate/stats.py, which this layer may
# not import): blocks of at least MIN_BLOCK contiguous samples, up to MAX_BLOCKS of them. Blocks of 3
# made the variance of a level 2.3-2.6x smaller than it was at 30 samples of this machine's bursty,
# autocorrelated noise (tests/test_history_store.py measures the interval's coverage).
MAX_BLOCKS = 10
MIN_BLOCK = 20
RESOLUTION = 1e-3  # smallest log-scale spread a block median is credited with (a coarse clock)
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def machine_kind(fingerprint: dict[str, Any], hardware: str) -> str:
    """What a series may not mix: the device's hardware, and the host CPU that drives it."""
    cpu = str(fingerprint.get("cpu") or "?")
    if cpu in hardware:  # a CPU device: its hardware names the host already ("AMD EPYC (2 cores)")
        return hardware
    return f"{hardware}, host {cpu} x{fingerprint.get('cpu_count', '?')}"


def block_size(count: int) -> int:
    """Samples per block: ``MIN_BLOCK``, more for long runs (about ``MAX_BLOCKS`` blocks), fewer only when
    there are not samples for two blocks of ``MIN_BLOCK`` (then two blocks, and a wide interval)."""
    return max(1, min(max(MIN_BLOCK, math.ceil(count / MAX_BLOCKS)), count // 2))


def batch_level(samples: list[float]) -> tuple[float, float, int]:
    """The run's log level from batch means, the variance of that estimate and its degrees of freedom:
    contiguous blocks' log-medians (a machine's speed comes in bursts, so neighbouring samples are not
    independent), the earliest samples that fill no block left out. The variance is made median-unbiased
    (too small only half the time), as few blocks often give far too small an estimate."""
    size = block_size(len(samples))
    blocks = len(samples) // size
    start = len(samples) - blocks * size
    logs = [
        math.log(statistics.median(samples[start + i * size : start + (i + 1) * size])) for i in range(blocks)
    ]
    dof = blocks - 1
    variance = max(statistics.variance(logs), RESOLUTION**2) / blocks
    return statistics.fmean(logs), variance / (1.0 - 2.0 / (9.0 * dof)) ** 3, dof


def level_interval(samples: list[float]) -> tuple[float, float, float]:
    """The run's median (the level ``history check`` follows) and a ~95% interval of its level: Student's
    t over the batch means of ``batch_level``, widened to hold the median. Fewer than 4 samples: their
    range."""
    median = statistics.median(samples)
    timed = [s for s in samples if s > 0 and math.isfinite(s)]  # a coarse clock's zeros have no log
    if len(timed) < 4:
        return median, min(samples), max(samples)
    level, variance, dof = batch_level(timed)
    half = T95[dof] * math.sqrt(variance)
    low, high = math.exp(level - half), math.exp(level + half)
    return median, min(low, median), max(high, median)


def run_key(document: dict[str, Any]) -> str:
    """The same run imported twice (an artifact downloaded again) is recognised and kept once."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_entry(document: dict[str, Any], commit: str | None, branch: str | None, source: str) -> RunEntry:
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    created = document.get("created")
    options = document.get("options")
    return RunEntry(
        run_key=run_key(document),
        created=created if isinstance(created, str) and created else now,
        recorded=now,
        commit=commit,
        branch=branch,
        source=source,
        options=options if isinstance(options, dict) else {},
    )


def bench_entries(document: dict[str, Any]) -> list[BenchEntry]:
    """One entry per timed bench of every result (a document as ``load_results`` returns it)."""
    entries = []
    machines = document["machines"]
    for result in document["results"]:
        fingerprint = machines.get(result["machine"], {})
        hardware = str(result.get("hardware") or result["device"])
        for bench in result.get("benches", []):
            samples = [float(s) for s in bench["samples"]]
            if not samples:
                continue
            median, low, high = level_interval(samples)
            entries.append(
                BenchEntry(
                    machine=result["machine"],
                    kind=machine_kind(fingerprint, hardware),
                    test=result["test"],
                    framework=result["framework"],
                    framework_version=_text_or_none(result.get("framework_version")),
                    device=result["device"],
                    hardware=hardware,
                    dtype=result["dtype"],
                    bench=bench["name"],
                    outcome=str(result.get("outcome", "unknown")),
                    median_s=median,
                    low_s=low,
                    high_s=high,
                    samples=len(samples),
                )
            )
    return entries


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
