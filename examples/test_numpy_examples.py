"""Example accel tests for a NumPy library.

NumPy has a single device, the CPU, so these items are all reference items: ``check`` records the
values (nothing to compare them with) and ``bench`` gives the timings for the ``accel`` summary.
The same test body would run unchanged under another framework through ``accel_device.xp``.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

FLOATS = ["float32", "float64"]


@pytest.mark.accel(framework="numpy", dtypes=FLOATS)
def test_matmul(accel_device):
    """Seeded inputs in the test's dtype, a timed matmul, a check."""
    a = accel_device.randn(256, 256)
    b = accel_device.randn(256, 256)
    out = accel_device.bench(np.matmul, a, b)
    assert out.dtype == accel_device.dtype
    accel_device.check(out)


def softmax(xp, x, axis=-1):
    """A numerically stable softmax written against an array namespace (numpy, torch or jax)."""
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=axis, keepdims=True)


@pytest.mark.accel(framework="numpy", dtypes=FLOATS)
def test_softmax(accel_device):
    """``accel_device.xp`` is the framework's array namespace, here ``numpy``."""
    xp = accel_device.xp
    logits = accel_device.randn(64, 1024) * 4.0
    probs = accel_device.bench(softmax, xp, logits)
    assert probs.dtype == accel_device.dtype
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-5)
    accel_device.check(probs)


def logsumexp(x, axis=-1):
    peak = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(peak, axis=axis) + np.log(np.sum(np.exp(x - peak), axis=axis))


@pytest.mark.accel(framework="numpy", dtypes=FLOATS)
def test_reductions(accel_device):
    """Two reductions benched under their own names and checked together as a dict."""
    x = accel_device.randn(512, 1024)
    sums = accel_device.bench(np.sum, x, axis=-1, name="sum")
    lse = accel_device.bench(logsumexp, x, name="logsumexp")
    assert lse.dtype == accel_device.dtype
    accel_device.check({"sum": sums, "logsumexp": lse})
