"""The noise models the gate's and the history's simulations assume, one copy for ``bench_gate.py`` and
the tests that check the statistics against them (tests/conftest.py puts this folder on their path).

- ``bursty``: a shared machine: AR(1) log times (phi 0.7, sd 3%) plus bursts 20-60% slower lasting 3-15
  samples, starting at 8% of samples.
- ``h200_document``: per-call timings of an H200 (issue 16): four steady kernels whose level wanders
  within about 5% from block to block and by a few percent from run to run, and one small matmul whose
  level drifts by about 30% within a run and from run to run; one saved results document per run.
"""

from __future__ import annotations

import math

import numpy as np

from pytest_accel.results.file import assemble_document, machine_id

PHI, SD = 0.7, 0.03


def bursty(rng: np.random.Generator, reps: int, count: int, settle: int = 30) -> np.ndarray:
    """``reps`` series of ``count`` time-ordered log times (level 0), taken after ``settle`` more (a run
    starts wherever the machine's bursts happen to be). Every series is generated at once."""
    count += settle
    noise = np.empty((reps, count))
    noise[:, 0] = rng.normal(0, SD / math.sqrt(1 - PHI * PHI), reps)
    for i in range(1, count):
        noise[:, i] = PHI * noise[:, i - 1] + rng.normal(0, SD, reps)
    bursts = np.zeros((reps, count))
    left, value = np.zeros(reps, dtype=int), np.zeros(reps)
    for i in range(count):
        start = (left == 0) & (rng.random(reps) < 0.08)
        left[start] = rng.integers(3, 15, int(start.sum()))
        value[start] = np.log(rng.uniform(1.2, 1.6, int(start.sum())))
        on = left > 0
        bursts[on, i] = value[on]
        left[on] -= 1
    return (noise + bursts)[:, settle:]


H200_MACHINE = {"python": "3.11.7", "platform": "linux", "machine": "x86_64", "cpu": "CPU", "cpu_count": 16}
H200_STEADY = ("mm_4096", "conv", "softmax", "layernorm")
H200_DRIFTING = "mm_64"
H200_SAMPLES = 200


def h200_run_logs(rng: np.random.Generator, drifting: bool) -> np.ndarray:
    """One run's time-ordered log times of one benchmark of the H200 model."""
    if drifting:  # a slow random walk: about 30% over the run, and a run-level shift of 10%
        walk = np.cumsum(rng.normal(0, 0.3 / math.sqrt(H200_SAMPLES), H200_SAMPLES))
        return rng.normal(0, 0.10) + walk + rng.normal(0, 0.02, H200_SAMPLES)
    wander = np.repeat(rng.uniform(-0.025, 0.025, H200_SAMPLES // 20), 20)  # within 5% block to block
    return rng.normal(0, 0.015) + wander + rng.normal(0, 0.01, H200_SAMPLES)


def h200_document(rng: np.random.Generator, slowed: str | None = None, factor: float = 1.0) -> dict:
    """One run of the H200 model as a saved results document; ``slowed`` takes ``factor`` times longer."""
    ident = machine_id(H200_MACHINE)
    results = []
    for name in (*H200_STEADY, H200_DRIFTING):
        logs = h200_run_logs(rng, name == H200_DRIFTING) + (math.log(factor) if name == slowed else 0.0)
        results.append(
            {
                "nodeid": f"test_k.py::test_{name}[torch-cuda:0-float32]",
                "test": f"test_k.py::test_{name}",
                "framework": "torch",
                "device": "cuda:0",
                "hardware": "NVIDIA H200",
                "dtype": "float32",
                "outcome": "passed",
                "benches": [{"name": name, "samples": list(1e-4 * np.exp(logs))}],
            }
        )
    return assemble_document({ident: H200_MACHINE}, {}, results, ident)
