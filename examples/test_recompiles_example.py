"""Recompilations: ``bench`` counts the compilations during its timed calls (JAX's compile events,
torch.compile's graph count). The first call is timed apart and may compile; a function that compiles
again later (a new shape at every call) is flagged in the summary with the count, and its time does not
gate. Here a stable jitted function, and one fed a growing shape (flagged, on purpose).
"""

from __future__ import annotations

import itertools

import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy


@jax.jit
def scaled(x):
    return 2 * x + 1


@pytest.mark.accel(framework="jax")
def test_a_stable_jit_does_not_recompile(accel_device):
    x = accel_device.randn(1024)
    accel_device.check(accel_device.bench(scaled, x))


@pytest.mark.accel(framework="jax")
def test_a_new_shape_at_every_call_is_flagged(accel_device):
    """Each call slices one more element: a new shape, so a new compilation, at every call. The summary
    warns about this bench; pad to a few fixed sizes (buckets) to fix such code."""
    x = accel_device.randn(1 << 16)
    sizes = itertools.count(1)

    def growing():
        return scaled(x[: next(sizes)])

    accel_device.bench(growing, name="growing")
    accel_device.check(scaled(x))
