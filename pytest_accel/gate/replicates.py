"""Several runs of the baseline (replicates): each benchmark's run-to-run noise learned from them.

One run's samples cannot see a slow phase that lasted the whole run; several runs of the same code can.
A benchmark's level in each replicate gives a spread with k - 1 degrees of freedom, which is little for
3 replicates: a spread consistent with those of the other benchmarks on the same device is pooled with
theirs (as if ``PRIOR_DOF`` more degrees of freedom, never more), so that a benchmark whose few
replicates happened to agree does not claim to be steadier than its neighbours; one that drifts by
itself keeps its own large spread with its own few degrees of freedom (Student's t then widens its
interval as 3 replicates demand). How several runs travel in one document: ``replicate_files``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from pytest_accel.gate import stats
from pytest_accel.gate.baseline import BenchKey, BenchRun, bench_runs

PRIOR_DOF = 4.0  # the pooled spread counts as this many degrees of freedom, at most


@dataclass(frozen=True)
class Noise:
    """A benchmark's run-to-run variance of its level (log scale), and how much it is to be trusted."""

    variance: float  # of one run's level, the spread within a run included
    dof: float
    replicates: int
    within: float  # the mean within-run variance of the replicates' levels

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class ReplicateLevels:
    """One benchmark's levels in the replicates that measured it, cut alike with the new run's."""

    levels: list[stats.Level]
    new: stats.Level

    @property
    def spread(self) -> float:
        return statistics.variance([level.log for level in self.levels])


def replicate_levels(base_runs: list[BenchRun], new: BenchRun) -> ReplicateLevels:
    *levels, current = stats.levels_alike(*(run.samples for run in base_runs), new.samples)
    return ReplicateLevels(levels, current)


def learned_noise(measured: dict[BenchKey, ReplicateLevels]) -> dict[BenchKey, Noise]:
    """Each benchmark's noise from its replicates (at least two). A spread consistent with the others of
    its framework and device (not above their median by more than a 1% chi-square test could allow) is
    pooled with theirs, counted as at most PRIOR_DOF degrees of freedom; a larger one, a benchmark that
    drifts by itself, keeps its own spread and its own few degrees of freedom."""
    own = {key: entry for key, entry in measured.items() if len(entry.levels) >= 2}
    groups: dict[tuple[str, str], list[BenchKey]] = {}
    for key in own:
        groups.setdefault((key[1], key[2]), []).append(key)
    noises: dict[BenchKey, Noise] = {}
    for keys in groups.values():
        spreads = {key: max(own[key].spread, stats.RESOLUTION**2) for key in keys}
        dofs = {key: float(len(own[key].levels) - 1) for key in keys}
        typical = statistics.median(spreads.values())
        steady = [key for key in keys if spreads[key] <= typical * _chi2_upper(dofs[key]) / dofs[key]]
        for key in keys:
            within = statistics.fmean(level.variance for level in own[key].levels)
            others = [k for k in steady if k != key]
            if key not in steady or not others:  # taken at a value its estimate falls below half the time
                variance = spreads[key] * stats.median_unbiased(dofs[key])
                noises[key] = Noise(variance, dofs[key], len(own[key].levels), within)
                continue
            pooled = sum(dofs[k] * spreads[k] for k in others) / sum(dofs[k] for k in others)
            prior = min(PRIOR_DOF, sum(dofs[k] for k in others))
            variance = (prior * pooled + dofs[key] * spreads[key]) / (prior + dofs[key])
            noises[key] = Noise(variance, prior + dofs[key], len(own[key].levels), within)
    return noises


def _chi2_upper(dof: float, z: float = 2.326) -> float:
    """The 99% quantile of a chi-square with ``dof`` degrees of freedom (Wilson and Hilferty)."""
    scale = 2.0 / (9.0 * dof)
    return dof * (1.0 - scale + z * math.sqrt(scale)) ** 3


def replicate_change(entry: ReplicateLevels, noise: Noise) -> stats.Level:
    """new - mean of the replicates: one run's variance for the new run, 1/k of it for the mean, and
    whatever more the new run's own samples show beyond the replicates' (it took fewer samples)."""
    k = len(entry.levels)
    base = statistics.fmean(level.log for level in entry.levels)
    extra = max(0.0, entry.new.variance - noise.within) if math.isfinite(entry.new.variance) else math.inf
    variance = noise.variance * (1 + 1 / k) + extra
    return stats.Level(entry.new.log - base, variance, noise.dof)


def replicate_runs(documents: list[dict[str, Any]]) -> list[dict[BenchKey, BenchRun]]:
    return [bench_runs(document) for document in documents]
