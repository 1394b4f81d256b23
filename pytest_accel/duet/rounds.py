"""The duet's rounds: what each round measured, how long the next bursts are, which tests are decided.

Round 0 runs every test in full on both sides (their outcomes, and each bench's batch). Later rounds
run only the tests that bench, each bench a short burst (``BURST_S`` per side, the same number of
samples on both sides), and a test leaves the rounds once all its benchmarks are decided. Verdicts are
looked at after the rounds of ``look_rounds`` only, and each look tests at alpha / looks (Bonferroni
over the looks), so that stopping as soon as a benchmark looks decided cannot raise the false-alarm rate.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from pytest_accel.gate import stats
from pytest_accel.gate.baseline import BenchKey

BURST_S = 0.01  # seconds of samples per bench, per side and round (the rounds are the repetitions)
MAX_BURST = 20  # samples per burst at most
LOOK_GROWTH = 1.5  # each look comes after about 1.5x the rounds of the one before


def look_rounds(first: int, last: int) -> list[int]:
    """Round counts after which verdicts are looked at: ``first``, then growing by LOOK_GROWTH, ``last``."""
    looks: list[int] = []
    count = first
    while count < last:
        looks.append(count)
        count = max(count + 1, math.ceil(count * LOOK_GROWTH))
    looks.append(last)
    return looks


@dataclass
class Tally:
    """Each side's mean log time per benchmark and round, as the sides answer."""

    logs: dict[tuple[str, BenchKey], dict[int, float]] = field(default_factory=dict)
    tests: dict[str, set[BenchKey]] = field(default_factory=dict)  # nodeid -> its benchmarks
    batches: dict[tuple[str, BenchKey], int] = field(default_factory=dict)  # round 0's batch
    sample_s: dict[tuple[str, BenchKey], float] = field(default_factory=dict)  # round 0's median sample
    thresholds: dict[BenchKey, float | None] = field(default_factory=dict)  # a marker's fail_slower

    def add(self, side: str, nodeid: str, round_number: int, answer: dict[str, Any]) -> None:
        for bench in answer.get("benches", []):
            key: BenchKey = tuple(bench["key"])  # type: ignore[assignment]
            samples = [float(s) for s in bench.get("samples", [])]
            if not samples:
                continue
            self.tests.setdefault(nodeid, set()).add(key)
            self.logs.setdefault((side, key), {})[round_number] = stats.mean_log(samples)
            if round_number == 0:
                batch = int(bench.get("batch") or 1)
                self.batches[(side, key)] = batch
                self.sample_s[(side, key)] = batch * statistics.median(samples)
                marker = bench.get("fail_slower")
                self.thresholds[key] = float(marker) if isinstance(marker, (int, float)) else None

    def paired_keys(self) -> list[BenchKey]:
        return sorted(key for keys in self.tests.values() for key in keys if self.paired_rounds(key))

    def paired_rounds(self, key: BenchKey) -> list[int]:
        base, new = self.logs.get(("base", key), {}), self.logs.get(("new", key), {})
        return sorted(set(base) & set(new))

    def bursts(self, nodeid: str) -> dict[str, list[int]]:
        """{bench name: [batch, samples]} for this test's benches: the base side's batch, and as many
        samples as fill BURST_S on the slower side."""
        plan: dict[str, list[int]] = {}
        for key in sorted(self.tests.get(nodeid, ())):
            if ("base", key) not in self.batches or ("new", key) not in self.batches:
                continue
            batch = self.batches[("base", key)]
            per_call = max(self.sample_s[(s, key)] / self.batches[(s, key)] for s in ("base", "new"))
            count = round(BURST_S / max(batch * per_call, 1e-9))
            plan[key[4]] = [batch, max(1, min(MAX_BURST, count))]
        return plan

    def change(self, key: BenchKey) -> stats.Level:
        rounds = self.paired_rounds(key)
        base, new = self.logs[("base", key)], self.logs[("new", key)]
        return stats.paired_level_difference([base[r] for r in rounds], [new[r] for r in rounds])

    def open_tests(self, nodeids: set[str], threshold: float, alpha: float, rule: str) -> set[str]:
        """The tests among ``nodeids`` with a benchmark not yet slower, faster or unchanged."""
        decided = (stats.SLOWER, stats.FASTER, stats.UNCHANGED)
        still = set()
        for nodeid in nodeids:
            for key in self.tests.get(nodeid, ()):
                if len(self.paired_rounds(key)) < 2:
                    continue
                limit = self.thresholds.get(key) or threshold
                if stats.judge(self.change(key), limit, alpha, rule).verdict not in decided:
                    still.add(nodeid)
        return still
