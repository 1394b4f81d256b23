"""A duet round after the first: a short burst of samples per bench, with the batch found in round 0.

The rounds are the repetitions: a round needs only a few samples of each side, taken within a moment
of the other side's, not a whole warm-up, calibration and budget. Both sides take the same number of
samples with the same batch (the driver says which), so that their rounds are alike; for a function
timed one call per sample, the first call (whose result the test gets) is the first sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_accel.timing.measure import BenchResult, BoundCall, gc_paused

STOP_REASON = "duet-burst"
CLOCK_TICK_S = 1e-9


@dataclass(frozen=True)
class Burst:
    """Takes the place of the gate's sampling target in ``measure``, which hands the bench over to it."""

    batch: int
    samples: int
    extra_budget_s: float = 0.0

    def undecided(self, samples: list[float]) -> bool:
        return False

    def burst(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], timer: Any, name: str
    ) -> tuple[Any, BenchResult]:
        """Call once for the result, then time ``samples`` batches of ``batch`` calls."""
        bound = BoundCall(fn, args, kwargs)
        timer.wait_for_inputs(args, kwargs)
        first_s = max(float(timer.time_batch(bound.first, 1)), CLOCK_TICK_S)
        samples = [first_s] if self.batch == 1 else []
        with gc_paused():
            while len(samples) < self.samples:
                elapsed = float(timer.time_batch(bound.call, self.batch))
                samples.append(max(elapsed, CLOCK_TICK_S) / self.batch)
        result = BenchResult(
            name=name,
            method=timer.method,
            samples=samples,
            calls_per_sample=self.batch,
            first_call_s=first_s,
            warmup_calls=0,
            stop_reason=STOP_REASON,
        )
        return bound.result, result


def lookup(plan: dict[str, Any]) -> Callable[[str], Burst | None]:
    """A bench name -> its burst, from the driver's {name: [batch, samples]}; None: a full measurement."""
    bursts = {
        name: Burst(max(1, int(spec[0])), max(1, int(spec[1])))
        for name, spec in plan.items()
        if isinstance(spec, list) and len(spec) == 2
    }
    return bursts.get
