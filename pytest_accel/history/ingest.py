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

MAX_BLOCKS = 10
MIN_SAMPLES_PER_BLOCK = 3
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def machine_kind(fingerprint: dict[str, Any], hardware: str) -> str:
    """What a series may not mix: the device's hardware, and the host CPU that drives it."""
    cpu = str(fingerprint.get("cpu") or "?")
    if cpu in hardware:  # a CPU device: its hardware names the host already ("AMD EPYC (2 cores)")
        return hardware
    return f"{hardware}, host {cpu} x{fingerprint.get('cpu_count', '?')}"


def level_interval(samples: list[float]) -> tuple[float, float, float]:
    """The run's median and a ~95% interval of its level: contiguous blocks' medians (a machine's speed
    comes in bursts, so single samples are not independent), Student's t over the blocks."""
    median = statistics.median(samples)
    blocks = min(MAX_BLOCKS, len(samples) // MIN_SAMPLES_PER_BLOCK)
    if blocks < 2:
        return median, min(samples), max(samples)
    size = len(samples) / blocks
    logs = [
        math.log(statistics.median(samples[round(i * size) : round((i + 1) * size)])) for i in range(blocks)
    ]
    half = T95[blocks - 1] * statistics.stdev(logs) / math.sqrt(blocks)
    return median, median * math.exp(-half), median * math.exp(half)


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
