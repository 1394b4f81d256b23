"""What one accel test item produced: parity verdicts and timings, as builtin-typed data.

A record travels on the test report (``report.accel``), so it reaches the terminal summary and the
saved results the same way with or without xdist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_accel.timing.measure import BenchResult

REFERENCE = "reference"


@dataclass
class CheckResult:
    """One ``check`` call: ``headroom`` is worst error / allowed error (None on the reference)."""

    name: str
    passed: bool
    headroom: float | None
    error_vs_oracle: float | None = None
    reference_error_vs_oracle: float | None = None
    # False when two runs on the reference device disagreed on this check (its inputs are not reproducible,
    # e.g. drawn from an unseeded generator): parity could not be judged, and headroom is None
    reproducible: bool = True


@dataclass
class ItemRecord:
    nodeid: str
    test: str  # the test's id without the accel part: rows of one test on all devices share it
    framework: str
    framework_version: str
    device: str
    hardware: str
    dtype: str
    is_reference: bool
    reference_device: str
    checks: list[CheckResult] = field(default_factory=list)
    benches: list[BenchResult] = field(default_factory=list)
    outcome: str = "unknown"
    fail_slower: float | None = None  # the marker's gate threshold (fraction), if it set one
    fault: dict[str, Any] | None = None  # a device fault of this item (faults.DeviceFault.to_dict())
    worker: str | None = None  # the pytest-xdist worker that ran it (gw0, ...), None without xdist
    concurrent_workers: int = 1  # processes that timed benchmarks on this device at the same time
    physical_device: str | None = None  # files of older versions: where a pinned worker ran the item
    # The body's whole duration on this device in seconds (bench calls included, hidden passes left
    # out): what an adopted test without bench shows as its time. None where the body did not run.
    call_s: float | None = None
    # The body's peak memory on its device above what was in use at its start, where the device counts
    # it cheaply (torch's accelerators, JAX's memory_stats); None: not measured. Benches have their own.
    peak_bytes: int | None = None
    memory_method: str | None = None
    # --accel-deterministic: True when a second run of the body gave the same bits in every check,
    # False when not; None when not asked.
    deterministic: bool | None = None

    def worst_headroom(self) -> float | None:
        values = [c.headroom for c in self.checks if c.headroom is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["checks"] = [dict(vars(check)) for check in self.checks]
        data["benches"] = [bench.to_dict() for bench in self.benches]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemRecord:
        values = dict(data)
        check_fields = CheckResult.__dataclass_fields__
        values["checks"] = [
            CheckResult(
                **{"passed": True, "headroom": None, **{k: v for k, v in c.items() if k in check_fields}}
            )
            for c in data.get("checks", [])
        ]
        values["benches"] = [BenchResult.from_dict(b) for b in data.get("benches", [])]
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})
