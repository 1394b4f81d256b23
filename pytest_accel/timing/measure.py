"""The measurement loop of ``accel_device.bench``: warm-up, batch calibration, adaptive sampling.

Each sample times a batch of back-to-back calls with the device's own timer (CUDA events, waiting for
results, or the host clock), so that launch jitter and clock resolution are small against the sample.
Sampling stops once the median is known to within ``target_rel`` or the time budget is spent. Compilations
during the timed calls are counted (``recompiles.py``); the peak memory is read in one more call after
them (``memory.py``), so that no timed call pays for the counting.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pytest_accel.frameworks.base import BatchTimer, MemoryMeter
from pytest_accel.timing.memory import peak_of_call
from pytest_accel.timing.recompiles import CompileCounter


class SamplingGate(Protocol):
    """What ``measure`` asks of the performance gate in compare mode (``gate.sampling.GateTarget``):
    whether more samples could still decide the verdict, and for how long it may sample past the budget."""

    extra_budget_s: float

    def undecided(self, samples: list[float]) -> bool: ...


MIN_SAMPLES = 10
MAX_SAMPLES = 2000
WARMUP_MAX_CALLS = 20
# "Stable" needs samples spread over this share of the budget at least: on a shared machine, speed
# comes in bursts, and samples from one burst agree with each other but not with the next burst.
MIN_SPAN_OF_BUDGET = 0.4
BLOCKS = 5
CLOCK_TICK_S = 1e-9


@dataclass
class BenchResult:
    """What one ``bench`` call measured; builtin types only, so it crosses xdist and JSON."""

    name: str
    method: str
    samples: list[float]  # seconds per call, one entry per timed batch
    calls_per_sample: int
    first_call_s: float
    warmup_calls: int
    stop_reason: str
    budget_s: float | None = None
    gate_extended_s: float = 0.0  # seconds sampled past the budget because the gate was undecided
    peak_bytes: int | None = None  # peak memory of one call above what was in use before; None: unknown
    memory_method: str | None = None  # what counted it: torch.cuda, jax memory_stats, tracemalloc
    memory_note: str = ""  # why the peak is not measured, where it is not
    recompiles: int | None = None  # compilations during the timed calls; None: no compiler watched

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr(self) -> float:
        return interquartile_range(self.samples)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median_s=self.median, iqr_s=self.iqr)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchResult:
        """From a record or a saved file; fields an older or hand-made file lacks get neutral values."""
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        defaults = {
            "method": "?",
            "samples": [],
            "calls_per_sample": 1,
            "first_call_s": math.nan,
            "warmup_calls": 0,
            "stop_reason": "?",
        }
        return cls(**{**defaults, **fields})


def interquartile_range(samples: list[float]) -> float:
    if len(samples) < 2:
        return 0.0
    quartiles = statistics.quantiles(samples, n=4, method="inclusive")
    return quartiles[2] - quartiles[0]


def median_relative_uncertainty(samples: list[float]) -> float:
    """Relative half-width of the median's ~95% interval.

    The larger of the boxplot notch (1.57 IQR / sqrt(n), which assumes independent samples) and half
    the spread of the medians of contiguous blocks (which sees drift between bursts of speed).
    """
    if len(samples) < 2:
        return math.inf
    median = statistics.median(samples)
    if median <= 0:
        return math.inf
    notch = 1.57 * interquartile_range(samples) / math.sqrt(len(samples))
    drift = 0.0
    if len(samples) >= 2 * BLOCKS:
        size = len(samples) // BLOCKS
        block_medians = [statistics.median(samples[i * size : (i + 1) * size]) for i in range(BLOCKS)]
        drift = (max(block_medians) - min(block_medians)) / 2
    return max(notch, drift) / median


def _min_sample_seconds(timer: BatchTimer) -> float:
    # Event and wait timers carry launch and sync jitter of some microseconds: samples of a
    # millisecond and more keep it near 1%. The host clock resolves far finer.
    return 1e-3 if timer.method != "perf_counter" else 5e-4


class BoundCall:
    """``fn`` with its arguments: ``first`` keeps the result the test gets, ``call`` (the timed repeats)
    drops it."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.result: Any = None

    def first(self) -> Any:
        self.result = self._fn(*self._args, **self._kwargs)
        return self.result

    def call(self) -> Any:
        return self._fn(*self._args, **self._kwargs)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection inside the timed batches (a collection would land in one sample)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def measure(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timer: BatchTimer,
    *,
    name: str,
    budget_s: float,
    target_rel: float = 0.01,
    gate: SamplingGate | None = None,
    memory: MemoryMeter | str | None = None,
    before_memory: Callable[[], None] | None = None,
) -> tuple[Any, BenchResult]:
    """Time ``fn(*args, **kwargs)``; return its first result and the measurement.

    ``memory``: the device's meter (or why it has none), read in one call after the timed ones;
    ``before_memory`` runs just before that call (a test body's own peak is kept there).
    """
    if getattr(gate, "burst", None) is not None:  # a duet round after the first (duet/burst.py)
        return gate.burst(fn, args, kwargs, timer, name)  # type: ignore[union-attr]
    bound = BoundCall(fn, args, kwargs)
    call = bound.call
    timer.wait_for_inputs(args, kwargs)  # pending transfers of the inputs are not the first call's time
    started = time.perf_counter()
    first_call = _per_call(timer.time_batch(bound.first, 1), 1)
    warmup_times = _warm_up(call, timer, budget_s * 0.2)
    per_call = min(warmup_times) if warmup_times else first_call
    batch = _calibrate(call, timer, per_call, _min_sample_seconds(timer))

    samples: list[float] = []
    stop_reason = "max-samples"
    sampling_started = time.perf_counter()
    extended = 0.0
    with gc_paused(), CompileCounter() as compiles:
        while len(samples) < MAX_SAMPLES:
            samples.append(_per_call(timer.time_batch(call, batch), batch))
            now = time.perf_counter()
            spent = now - started
            long_enough = now - sampling_started >= MIN_SPAN_OF_BUDGET * budget_s
            if (
                long_enough
                and len(samples) >= MIN_SAMPLES
                and median_relative_uncertainty(samples) <= target_rel
            ):
                stop_reason = "stable"
                break
            if spent >= budget_s and len(samples) >= 3:
                stop_reason = "budget"
                break
        if gate is not None and gate.undecided(samples):
            stop_reason, extended = _sample_for_gate(call, timer, batch, samples, gate)
    result = BenchResult(
        name=name,
        method=timer.method,
        samples=samples,
        calls_per_sample=batch,
        first_call_s=first_call,
        warmup_calls=len(warmup_times),
        stop_reason=stop_reason,
        budget_s=budget_s,
        gate_extended_s=extended,
        recompiles=compiles.count,
    )
    if memory is not None:
        if before_memory is not None:
            before_memory()
        reading = peak_of_call(lambda: timer.time_batch(call, 1), memory)
        result.peak_bytes, result.memory_method, result.memory_note = (
            reading.peak_bytes,
            reading.method,
            reading.note,
        )
    return bound.result, result


def _per_call(elapsed: float, batch: int) -> float:
    """A batch the clock could not resolve counts as one tick, never as zero (a zero time is no time).

    A timer that returns no finite, non-negative number is broken: the measurement stops with why.
    """
    if not isinstance(elapsed, (int, float)) or not math.isfinite(elapsed) or elapsed < 0:
        raise TimingError(
            f"the device timer returned {elapsed!r} seconds for a batch of {batch} call(s); timings must be "
            "finite and not negative (a device clock that failed, or events recorded on another stream)"
        )
    return max(elapsed, CLOCK_TICK_S) / batch


class TimingError(RuntimeError):
    """The device's clock gave a time that is no time."""


def _sample_for_gate(
    call: Callable[[], Any], timer: BatchTimer, batch: int, samples: list[float], gate: SamplingGate
) -> tuple[str, float]:
    """Keep sampling while the verdict against the baseline is undecided and more samples can help."""
    started = time.perf_counter()
    while len(samples) < MAX_SAMPLES:
        for _ in range(max(1, len(samples) // 10)):  # judge every ~10% more samples
            samples.append(_per_call(timer.time_batch(call, batch), batch))
        spent = time.perf_counter() - started
        if not gate.undecided(samples):
            return "gate-decided", spent
        if spent >= gate.extra_budget_s:
            return "gate-budget", spent
    return "max-samples", time.perf_counter() - started


def _warm_up(call: Callable[[], Any], timer: BatchTimer, budget_s: float) -> list[float]:
    """Call until two consecutive calls agree within 10% (compilation, autotuning and caches done)."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < WARMUP_MAX_CALLS:
        times.append(_per_call(timer.time_batch(call, 1), 1))
        if len(times) >= 2 and abs(times[-1] - times[-2]) <= 0.1 * max(times[-1], times[-2]):
            break
        if time.perf_counter() - started > budget_s:
            break
    return times


def _calibrate(call: Callable[[], Any], timer: BatchTimer, per_call: float, target: float) -> int:
    """The number of calls per sample that makes one sample last at least ``target`` seconds.

    A size is accepted only when two batches in a row reach the target, so that one stalled call
    cannot fix the batch size at a value far too small.
    """
    batch = max(1, math.ceil(target / max(per_call, 1e-9)))
    reached = 0
    for _ in range(10):
        elapsed = _per_call(timer.time_batch(call, batch), 1)
        if elapsed >= target:
            reached += 1
            if reached == 2:
                return batch
            continue
        reached = 0
        grow = target / max(elapsed, 1e-9)
        batch = max(batch + 1, math.ceil(batch * min(grow * 1.2, 100.0)))
    return batch
