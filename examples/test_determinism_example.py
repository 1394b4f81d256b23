"""Determinism: ``deterministic=True`` runs the test body a second time on the same device and requires
every check to have the same bits both times (``--accel-deterministic`` asks it of every test).

Sequential CPU reductions are reproducible; on a GPU, atomics-based kernels (``index_add``, scatter, a
float32 ``cumsum``) may not be, and the failure names the check and how far apart the runs are. The
switches: ``torch.use_deterministic_algorithms(True)`` (with ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` on CUDA)
and ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` for JAX.
"""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")


@pytest.mark.accel(framework=["numpy", "jax"], deterministic=True)
def test_reductions_are_reproducible(accel_device):
    xp = accel_device.framework_xp
    x = accel_device.randn(4096)
    accel_device.check(xp.sum(x), name="sum")
    accel_device.check(xp.cumsum(x), name="cumsum")


@pytest.mark.accel(framework="torch", deterministic=True)
def test_index_add_is_reproducible(accel_device):
    """On CUDA, index_add accumulates with atomics: with repeated indices its bits may change from run
    to run unless torch.use_deterministic_algorithms(True) is set."""
    import torch

    values = accel_device.randn(10_000)
    index = accel_device.randint(0, 16, (10_000,))
    out = torch.zeros(16, dtype=values.dtype, device=values.device).index_add_(0, index, values)
    accel_device.check(out, name="index_add")
