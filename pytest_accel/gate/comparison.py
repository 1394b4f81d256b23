"""A whole run against a baseline: one verdict per benchmark, the run's verdict, and what to warn about.

Used alike by the plugin (``--accel-compare``), by ``python -m pytest_accel compare`` and by ``duet``, so
the three give the same verdicts for the same numbers.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_accel.gate import stats
from pytest_accel.gate.baseline import BenchKey, BenchRun, Verdict, bench_runs, check_headrooms
from pytest_accel.gate.machines import machine_differences
from pytest_accel.gate.memory import MemoryVerdict, memory_gate_failed, memory_reason, memory_verdicts

DEFAULT_THRESHOLD = 0.10  # the change that verdicts are about when no --accel-fail-slower is given
# Run-to-run sd of a benchmark's log level on a shared 2-core machine (README); the one default of the
# plugin's --accel-gate-noise, of `python -m pytest_accel compare` and of GateConfig.
DEFAULT_RUN_NOISE = 0.20
HEADROOM_WARN_FACTOR = 2.0  # a check's headroom at least doubled ...
HEADROOM_WARN_FLOOR = 0.25  # ... and now at least a quarter of the allowed error


@dataclass(frozen=True)
class GateConfig:
    """What the user asked of the gate. ``fail_slower`` None: report only (markers may still gate)."""

    fail_slower: float | None = None
    run_noise: float = DEFAULT_RUN_NOISE
    any_hardware: bool = False
    include_concurrent: bool = False  # timings taken while xdist workers shared a device may gate
    rule: str = stats.DEFAULT_RULE  # how 'slower' is decided (gate.stats)
    fail_memory: float | None = None  # the memory gate's threshold (gate.memory); None: no memory gate
    gate_recompiles: bool = False  # benches that compiled during their timed calls may gate on time

    @property
    def threshold(self) -> float:
        return self.fail_slower if self.fail_slower is not None else DEFAULT_THRESHOLD


@dataclass
class BenchVerdict(Verdict):
    """The verdict on one benchmark's time; builtin types only (reports and JSON)."""

    gating: bool  # a 'slower' verdict here fails the run
    ratio: float | None = None
    low: float | None = None
    high: float | None = None
    detectable_slowdown: float | None = None
    baseline_s: float | None = None
    current_s: float | None = None
    note: str = ""
    run_noise: float | None = None  # learned from the baseline's replicates (compare mode), else None
    replicates: int | None = None  # how many baseline runs measured it, when more than one
    recent: str = ""  # its recent runs on the base branch, from the history (reports cite it), or ""

    @property
    def fails(self) -> bool:
        return self.gating and self.verdict == stats.SLOWER

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateReport:
    """Everything a summary or report shows about a comparison."""

    mode: str  # "compare" (two separate runs) or "duet" (paired rounds in one job)
    baseline: str  # the baseline's path or git ref
    verdicts: list[BenchVerdict]
    config: GateConfig
    alpha: float
    machine_differences: list[dict[str, str]] = field(default_factory=list)
    headroom_warnings: list[dict[str, Any]] = field(default_factory=list)
    rounds: int | None = None
    replicates: int = 1  # baseline runs (compare mode)
    seconds: float | None = None  # duet: wall time of the rounds, start-up included
    plain_run_s: float | None = None  # duet: about what one plain run of the same tests takes
    budget_spent: bool = False  # duet: --budget stopped the rounds before every test was decided
    memory: list[MemoryVerdict] = field(default_factory=list)  # the memory gate's, when it was asked for

    @property
    def failures(self) -> list[BenchVerdict]:
        return [v for v in self.verdicts if v.fails]

    @property
    def memory_failed(self) -> bool:
        return memory_gate_failed(self.memory)

    @property
    def failed(self) -> bool:
        """Time or memory: either gate's failure fails the run."""
        return bool(self.failures) or self.memory_failed

    @property
    def gating(self) -> bool:
        """Whether anything could fail the run: a time threshold of a benchmark, or the memory gate."""
        return any(v.gating for v in self.verdicts) or self.config.fail_memory is not None

    def count(self, verdict: str) -> int:
        return sum(1 for v in self.verdicts if v.verdict == verdict)

    @property
    def reason(self) -> str:
        """Why the run passed or failed: the failing gate first, then the other (when memory gates)."""
        if self.config.fail_memory is None:
            return self.time_reason
        parts = [self.time_reason, f"memory: {memory_reason(self.memory)}"]
        return "; ".join(parts[::-1] if self.memory_failed and not self.failures else parts)

    @property
    def time_reason(self) -> str:
        counts = ", ".join(f"{self.count(v)} {v}" for v in stats.VERDICTS if self.count(v))
        if self.failures:
            names = "; ".join(f"{v.label} ({ratio_text(v)})" for v in self.failures)
            return (
                f"{len(self.failures)} benchmark(s) significantly slower than the baseline by more than "
                f"their threshold: {names}"
            )
        if not any(v.gating for v in self.verdicts):
            what = "time does not gate" if self.config.fail_memory is not None else "nothing gates"
            return f"no fail-slower threshold was given, {what}: {counts or 'no benchmarks'}"
        return f"no benchmark significantly slower than its threshold ({counts or 'no benchmarks'})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "baseline": self.baseline,
            "failed": self.failed,
            "reason": self.reason,
            "fail_slower": self.config.fail_slower,
            "threshold": self.config.threshold,
            "run_noise": self.config.run_noise if self.mode == "compare" else None,
            "family_alpha": stats.FAMILY_ALPHA,
            "alpha_per_benchmark": self.alpha,
            "rounds": self.rounds,
            "replicates": self.replicates if self.mode == "compare" else None,
            "rule": self.config.rule,
            "seconds": self.seconds,
            "plain_run_seconds": self.plain_run_s,
            "budget_spent": self.budget_spent,
            "counts": {v: self.count(v) for v in stats.VERDICTS},
            "verdicts": [v.to_dict() for v in self.verdicts],
            "machine_differences": self.machine_differences,
            "headroom_warnings": self.headroom_warnings,
            "fail_memory": self.config.fail_memory,
            "memory_failed": self.memory_failed,
            "memory_verdicts": [v.to_dict() for v in self.memory],
        }


def format_bound(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "?"
    return "inf" if math.isinf(value) else f"{value:.2f}"


def ratio_text(verdict: BenchVerdict) -> str:
    """'1.31x [1.22, 1.41]': the estimate new/baseline and its interval."""
    if verdict.ratio is None or math.isnan(verdict.ratio):
        return "-"
    text = f"{verdict.ratio:.2f}x"
    if verdict.low is not None and verdict.high is not None:
        text += f" [{format_bound(verdict.low)}, {format_bound(verdict.high)}]"
    return text


ORDER = {name: rank for rank, name in enumerate(stats.VERDICTS)}


def _sorted(verdicts: list[BenchVerdict]) -> list[BenchVerdict]:
    return sorted(verdicts, key=lambda v: (ORDER[v.verdict], -(v.ratio or 0.0), v.label))


def _threshold_for(run: BenchRun | None, config: GateConfig) -> tuple[float, bool]:
    """A test's marker ``fail_slower`` wins over the option; either one makes the benchmark gate."""
    marker = run.fail_slower if run is not None else None
    if isinstance(marker, (int, float)) and not isinstance(marker, bool) and marker > 0:
        return float(marker), True
    return config.threshold, config.fail_slower is not None


def _comparable(base: BenchRun, new: BenchRun, config: GateConfig) -> str:
    """Why two measurements must not gate, or '' when they may."""
    if base.hardware != new.hardware and not config.any_hardware:
        return f"hardware differs: baseline {base.hardware}, now {new.hardware}"
    shared = max(base.concurrent_workers, new.concurrent_workers)
    if shared > 1 and not config.include_concurrent:
        return f"timed while {shared} xdist workers shared the device (--accel-gate-concurrent gates anyway)"
    if (base.recompiled or new.recompiled) and not config.gate_recompiles:
        sides: str = " and ".join(
            name for name, run in (("the baseline", base), ("this run", new)) if run.recompiled
        )
        return f"compiled during its timed calls in {sides} (--accel-gate-recompiles gates anyway)"
    return ""


def _verdict(
    key: BenchKey,
    base: BenchRun | None,
    new: BenchRun | None,
    change: stats.Level | None,
    config: GateConfig,
    alpha: float,
) -> BenchVerdict:
    threshold, gating = _threshold_for(new or base, config)
    verdict = BenchVerdict(*key, verdict=stats.NEW, threshold=threshold, gating=gating)
    if base is not None and base.samples:
        verdict.baseline_s = statistics.median(base.samples)
    if new is not None and new.samples:
        verdict.current_s = statistics.median(new.samples)
    if new is None or not new.samples:
        verdict.verdict, verdict.gating = stats.MISSING, False
        verdict.note = "in the baseline, not measured in this run"
        return verdict
    if base is None or not base.samples:
        verdict.gating = False
        verdict.note = "not in the baseline"
        return verdict
    reason = _comparable(base, new, config)
    if reason:
        verdict.verdict, verdict.gating, verdict.note = stats.NOT_COMPARABLE, False, reason
        return verdict
    assert change is not None
    estimate = stats.judge(change, threshold, alpha, config.rule)
    verdict.verdict = estimate.verdict
    verdict.ratio, verdict.low, verdict.high = estimate.ratio, estimate.low, estimate.high
    verdict.detectable_slowdown = (
        estimate.detectable_slowdown if math.isfinite(estimate.detectable_slowdown) else None
    )
    if estimate.verdict == stats.INCONCLUSIVE:
        detectable = verdict.detectable_slowdown
        verdict.note = (
            f"too noisy to decide: only slowdowns above {100 * detectable:.0f}% could be detected"
            if detectable is not None
            else "too few samples to decide"
        )
    return verdict


def compared_count(base_runs: dict[BenchKey, BenchRun], new_runs: dict[BenchKey, BenchRun]) -> int:
    return max(1, sum(1 for key in new_runs if key in base_runs))


def compare_documents(
    baseline: dict[str, Any] | list[dict[str, Any]], current: dict[str, Any], config: GateConfig, label: str
) -> GateReport:
    """Two separate runs: batch-means levels of each, plus the run-to-run noise the samples cannot see.

    ``baseline`` may be several loaded documents (replicates: files, a ``merge --replicates`` file, or
    the last runs of a history): then each benchmark measured in two replicates or more gets its own
    run-to-run noise from them (``gate.replicates``), and the others the configured one.
    """
    from pytest_accel.gate import replicate_files, replicates

    documents = replicate_files.expand(baseline)
    base_rounds = replicates.replicate_runs(documents)
    new_runs = bench_runs(current)
    base_keys = set().union(*base_rounds)
    alpha = stats.one_sided_alpha(max(1, sum(1 for key in new_runs if key in base_keys)))
    measured: dict[BenchKey, replicates.ReplicateLevels] = {}
    for key, new in new_runs.items():
        present = [runs[key] for runs in base_rounds if key in runs and runs[key].samples]
        if len(present) >= 2 and new.samples:
            measured[key] = replicates.replicate_levels(present, new)
    noises = replicates.learned_noise(measured)
    verdicts = []
    pairs: set[tuple[str, str]] = set()
    for key in sorted(base_keys | set(new_runs)):
        base, new = _pooled(key, base_rounds), new_runs.get(key)
        change, noise = None, None
        if key in noises:
            noise = noises[key]
            change = replicates.replicate_change(measured[key], noise)
        elif base is not None and new is not None and base.samples and new.samples:
            last = next(runs[key] for runs in reversed(base_rounds) if key in runs and runs[key].samples)
            change = stats.difference(*stats.levels_alike(last.samples, new.samples), config.run_noise)
        if base is not None and new is not None:
            pairs.add((base.machine, new.machine))
        verdict = _verdict(key, base, new, change, config, alpha)
        if noise is not None:
            verdict.run_noise = noise.sd
            verdict.replicates = noise.replicates
        verdicts.append(verdict)
    differences = machine_differences(pairs, documents[0].get("machines", {}), current.get("machines", {}))
    return _report(
        "compare",
        label,
        verdicts,
        config,
        alpha,
        (documents, [current]),
        machine_differences=differences,
        headroom_warnings=headroom_warnings(documents[-1], current),
        replicates=len(documents),
    )


def compare_rounds(
    base_documents: list[dict[str, Any]],
    new_documents: list[dict[str, Any]],
    config: GateConfig,
    label: str,
    looks: int = 1,
) -> GateReport:
    """Duet: round r of the base and round r of the new code ran side by side; pair them round by round,
    over the rounds in which both sides measured the benchmark (later rounds may hold a few only).

    A round's level is the mean log time of its samples (a burst's median would shift with its length);
    ``looks``: how many times the rounds were judged on the way, each at alpha / looks."""
    base_rounds = [bench_runs(doc) for doc in base_documents]
    new_rounds = [bench_runs(doc) for doc in new_documents]
    keys = sorted(set().union(*base_rounds, *new_rounds)) if base_rounds else []
    both = {
        k: [r for r in range(len(base_rounds)) if k in base_rounds[r] and k in new_rounds[r]] for k in keys
    }
    paired = [k for k in keys if len(both[k]) >= 2]
    alpha = stats.one_sided_alpha(len(paired)) / max(1, looks)
    verdicts = []
    for key in keys:
        base = _pooled(key, base_rounds)
        new = _pooled(key, new_rounds)
        change = None
        if key in paired:
            base_logs = [stats.mean_log(base_rounds[r][key].samples) for r in both[key]]
            new_logs = [stats.mean_log(new_rounds[r][key].samples) for r in both[key]]
            change = stats.paired_level_difference(base_logs, new_logs)
        elif base is not None and new is not None:
            verdicts.append(_unpaired(key, config))
            continue
        verdicts.append(_verdict(key, base, new, change, config, alpha))
    last = next((doc for doc in reversed(new_documents) if doc["results"]), None)
    first_base = next((doc for doc in reversed(base_documents) if doc["results"]), None)
    warnings = headroom_warnings(first_base, last) if first_base and last else []
    return _report(
        "duet",
        label,
        verdicts,
        config,
        alpha,
        (base_documents, new_documents),
        headroom_warnings=warnings,
        rounds=len(base_documents),
    )


def _report(
    mode: str,
    label: str,
    verdicts: list[BenchVerdict],
    config: GateConfig,
    alpha: float,
    sides: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    **only_this_mode: Any,
) -> GateReport:
    """What every gate report has (verdicts in report order, the memory gate's over both ``sides``),
    and what only its mode knows."""
    return GateReport(
        mode=mode,
        baseline=label,
        verdicts=_sorted(verdicts),
        config=config,
        alpha=alpha,
        memory=_memory(*sides, config),
        **only_this_mode,
    )


def _memory(base: list[dict[str, Any]], new: list[dict[str, Any]], config: GateConfig) -> list[MemoryVerdict]:
    """The memory gate's verdicts when it was asked for (each side's runs combined conservatively)."""
    if config.fail_memory is None:
        return []
    return memory_verdicts(base, new, config.fail_memory, config.any_hardware)


def _unpaired(key: BenchKey, config: GateConfig) -> BenchVerdict:
    verdict = BenchVerdict(*key, verdict=stats.INCONCLUSIVE, threshold=config.threshold, gating=False)
    verdict.note = "measured by both sides in fewer than two rounds, so the rounds cannot be paired"
    return verdict


def _pooled(key: BenchKey, rounds: list[dict[BenchKey, BenchRun]]) -> BenchRun | None:
    """A benchmark's samples over all rounds (for the medians shown), or None if no round has it."""
    present = [r[key] for r in rounds if key in r]
    if not present:
        return None
    first = present[0]
    return BenchRun(
        key=key,
        nodeid=first.nodeid,
        hardware=first.hardware,
        machine=first.machine,
        samples=[s for run in present for s in run.samples],
        fail_slower=first.fail_slower,
        concurrent_workers=max(run.concurrent_workers for run in present),
        recompiled=any(run.recompiled for run in present),
    )


def headroom_warnings(baseline: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks still passing whose parity headroom grew sharply: closer to failing than they were."""
    old, new = check_headrooms(baseline), check_headrooms(current)
    warnings = []
    for key, value in sorted(new.items()):
        before = old.get(key)
        if before is None or value > 1:
            continue  # new checks have no history; failing ones fail their test already
        if value >= HEADROOM_WARN_FLOOR and value >= HEADROOM_WARN_FACTOR * before:
            test, framework, device, dtype, check = key
            warnings.append(
                {
                    "test": test,
                    "framework": framework,
                    "device": device,
                    "dtype": dtype,
                    "check": check,
                    "baseline": before,
                    "current": value,
                }
            )
    return warnings
