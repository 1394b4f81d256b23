"""Benchmarks of a saved results document, indexed by what makes two of them comparable.

A key is (test, framework, device, dtype, bench name): the test's id without its accel part, so that
the same benchmark of a baseline and of a new run meet whatever else changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

BenchKey = tuple[str, str, str, str, str]


def key_label(key: BenchKey) -> str:
    test, framework, device, dtype, bench = key
    return f"{test} [{framework} {device} {dtype}] {bench}"


@dataclass
class Verdict:
    """What every gate verdict (time's, memory's) starts with: the benchmark, the verdict, the threshold.
    One base, so that reports and JSON name a benchmark the same way whichever gate judged it."""

    test: str
    framework: str
    device: str
    dtype: str
    bench: str
    verdict: str
    threshold: float

    @property
    def key(self) -> BenchKey:
        return (self.test, self.framework, self.device, self.dtype, self.bench)

    @property
    def label(self) -> str:
        return key_label(self.key)


@dataclass
class BenchRun:
    """One benchmark as one run measured it: samples in time order, and where."""

    key: BenchKey
    nodeid: str
    hardware: str
    machine: str
    samples: list[float]
    fail_slower: float | None = None
    concurrent_workers: int = 1
    recompiled: bool = False  # compiled during its timed calls: its time includes compilation


def bench_runs(document: dict[str, Any]) -> dict[BenchKey, BenchRun]:
    """Every benchmark of a results document (any readable version) by key."""
    from pytest_accel.timing.recompiles import recompiled

    runs: dict[BenchKey, BenchRun] = {}
    for result in document["results"]:
        for bench in result.get("benches", []):
            key = (result["test"], result["framework"], result["device"], result["dtype"], bench["name"])
            runs[key] = BenchRun(
                key=key,
                nodeid=result["nodeid"],
                hardware=str(result.get("hardware", "?")),
                machine=str(result.get("machine", "")),
                samples=[float(s) for s in bench.get("samples", [])],
                fail_slower=result.get("fail_slower"),
                concurrent_workers=_count(result.get("concurrent_workers")),
                recompiled=recompiled(bench),
            )
    return runs


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


CheckKey = tuple[str, str, str, str, str]


def check_headrooms(document: dict[str, Any]) -> dict[CheckKey, float]:
    """Parity headroom of every check (worst error / allowed error) by (test, fw, device, dtype, check)."""
    headrooms: dict[CheckKey, float] = {}
    for result in document["results"]:
        for check in result.get("checks", []):
            value = check.get("headroom")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                key = (result["test"], result["framework"], result["device"], result["dtype"], check["name"])
                headrooms[key] = float(value)
    return headrooms


@dataclass
class Baseline:
    """A baseline file, loaded once per session: its path, its document and its benchmarks."""

    path: Path
    document: dict[str, Any]
    runs: dict[BenchKey, BenchRun]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        from pytest_accel.results.file import load_results

        return cls.from_documents(path, [load_results(path, role="baseline")])

    @classmethod
    def from_documents(cls, path: Path, documents: list[dict[str, Any]]) -> Baseline:
        """A baseline of one or several loaded runs (replicates: files, a ``merge --replicates`` file, a
        history's last runs); ``path`` names it in reports. Sampling aims at its last run's samples."""
        from pytest_accel.gate.replicate_files import combine, expand

        parts = expand(documents)
        document = parts[0] if len(parts) == 1 else combine(parts)
        return cls(path, document, bench_runs(parts[-1]))
