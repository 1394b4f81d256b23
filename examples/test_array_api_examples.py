"""One test body for torch, jax and numpy: a framework-agnostic library tested on every device.

``accel_device.xp`` is an Array API standard namespace for the item's framework (numpy 2 and jax.numpy
follow the standard; torch goes through array-api-compat), so these bodies use only standard calls and
run unchanged under all three. numpy has no bfloat16: its bfloat16 items are left out, with the reason,
while torch's and jax's run. Each framework's items compare with its own reference device.
"""

from __future__ import annotations

import importlib.util

import pytest

# torch follows the standard through array-api-compat (the torch extra installs it).
FRAMEWORKS = [
    name
    for name in ("torch", "jax", "numpy")
    if importlib.util.find_spec(name) and (name != "torch" or importlib.util.find_spec("array_api_compat"))
]
# bfloat16 only where a framework that has it is installed (with numpy alone it could run nowhere).
DTYPES = ["float32", "bfloat16"] if set(FRAMEWORKS) & {"torch", "jax"} else ["float32"]
pytestmark = pytest.mark.accel(framework=FRAMEWORKS, dtypes=DTYPES)


def softmax(xp, x):
    """A library function written against the Array API standard."""
    shifted = x - xp.max(x, axis=-1, keepdims=True)
    weights = xp.exp(shifted)
    return weights / xp.sum(weights, axis=-1, keepdims=True)


def test_matmul(accel_device):
    xp = accel_device.xp
    a, b = accel_device.randn(64, 96), accel_device.randn(96, 32)
    accel_device.check(accel_device.bench(xp.matmul, a, b))


def test_softmax(accel_device):
    xp = accel_device.xp
    logits = accel_device.randn(16, 256) * 3.0
    probs = accel_device.bench(softmax, xp, logits)
    accel_device.check(probs)


def test_reductions(accel_device):
    xp = accel_device.xp
    x = accel_device.randn(32, 128)
    accel_device.check({"sum": xp.sum(x, axis=1), "mean": xp.mean(x), "max": xp.max(x, axis=0)})


def test_cumulative_sum(accel_device):
    xp = accel_device.xp
    x = accel_device.randn(512)
    accel_device.check(xp.cumulative_sum(x), rtol=5e-4 if accel_device.dtype_name == "float32" else None)
