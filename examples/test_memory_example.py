"""Peak memory per bench: the summary's "peak mem" column, the saved file's ``peak_bytes``.

``bench`` reads the peak in one call of its own after the timed ones: the device allocator's counters
for torch on a GPU, ``Device.memory_stats()`` for JAX where the device has them, tracemalloc for numpy.
torch on the CPU (and JAX's CPU) cannot tell, and the column says "not measured" there, never 0.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")


def normalized_rows(x):
    """Two temporaries the size of ``x`` (the centred rows and their squares) live at once: the peak is
    about three times the input. A change that kept one more would show in the column and fail a
    ``--accel-fail-memory`` gate."""
    centred = x - x.mean(axis=1, keepdims=True)
    return centred / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + 1e-6)


@pytest.mark.accel(framework="numpy", dtypes=["float32", "float64"])
def test_normalized_rows_memory(accel_device):
    x = accel_device.randn(512, 1024)
    out = accel_device.bench(normalized_rows, x)
    accel_device.check(out)


@pytest.mark.accel(framework=["torch", "jax"])
def test_matmul_memory_on_every_device(accel_device):
    """On a GPU the column shows the product's workspace and result; on the CPU, "not measured"."""
    xp = accel_device.framework_xp
    a = accel_device.randn(256, 256)
    out = accel_device.bench(xp.matmul, a, a)
    accel_device.check(out)
