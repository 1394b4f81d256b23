"""The run as a machine-readable report: the gate's verdicts and one compact row per result.

Smaller than the results file (no samples), for dashboards and bots; builtin types only, and never
NaN or Inf, which strict JSON readers reject.
"""

from __future__ import annotations

from typing import Any

from pytest_accel.gate.comparison import GateReport
from pytest_accel.results.file import finite_or_none

FORMAT_NAME = "pytest-accel-report"
FORMAT_VERSION = 1


def _worst_headroom(result: dict[str, Any]) -> float | None:
    values = [
        float(c["headroom"])
        for c in result.get("checks") or []
        if isinstance(c, dict)
        and isinstance(c.get("headroom"), (int, float))
        and not isinstance(c.get("headroom"), bool)
    ]
    return max(values) if values else None


def _compact_bench(bench: dict[str, Any]) -> dict[str, Any]:
    samples = bench.get("samples")
    return {
        "name": bench.get("name"),
        "median_s": bench.get("median_s"),
        "iqr_s": bench.get("iqr_s"),
        "samples_count": len(samples) if isinstance(samples, list) else 0,
        "stop_reason": bench.get("stop_reason"),
        "peak_bytes": bench.get("peak_bytes"),  # null: not measured
        "recompiles": bench.get("recompiles"),
    }


def compact_result(result: dict[str, Any]) -> dict[str, Any]:
    """What a reader of the report needs of one result; the samples stay in the results file."""
    row = {
        name: result.get(name)
        for name in ("nodeid", "test", "framework", "device", "hardware", "dtype", "outcome")
    }
    row["worst_headroom"] = _worst_headroom(result)
    row["peak_bytes"] = result.get("peak_bytes")  # the body's, where the device counts it; null: not measured
    row["deterministic"] = result.get("deterministic")
    row["benches"] = [_compact_bench(b) for b in result.get("benches") or [] if isinstance(b, dict)]
    return row


def build_json_report(
    gate: GateReport | None, results: list[dict[str, Any]], machines: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The report document; ``gate`` None for a run without a baseline."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "gate": gate.to_dict() if gate is not None else None,
        "machines": machines,
        "results": [compact_result(r) for r in results],
    }
    return finite_or_none(document)
