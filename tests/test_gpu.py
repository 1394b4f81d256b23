"""Tests that need a CUDA GPU. They run wherever torch (or jax) sees one, and skip elsewhere, saying so."""

from __future__ import annotations

import pytest
from conftest import HAS_JAX, HAS_TORCH


def _torch_cuda() -> bool:
    if not HAS_TORCH:
        return False
    import torch

    return torch.cuda.is_available()


def _jax_cuda() -> bool:
    if not HAS_JAX:
        return False
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


needs_torch_cuda = pytest.mark.skipif(not _torch_cuda(), reason="no CUDA device visible to torch")
needs_jax_cuda = pytest.mark.skipif(not _jax_cuda(), reason="no GPU visible to jax")


@needs_torch_cuda
def test_torch_model_fixture_passes_parity_on_cuda(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

        @pytest.fixture
        def model(accel_device):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                layer = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.GELU(),
                                            torch.nn.Linear(128, 8))
            return layer.to(accel_device.native, accel_device.dtype)

        @pytest.mark.accel(framework="torch", dtypes=["float32", "bfloat16"])
        def test_model(accel_device, model):
            x = accel_device.randn(32, 64)
            with torch.inference_mode():
                y = accel_device.bench(model, x)
            accel_device.check(y, name="y")
        """
    )
    result = pytester.runpytest_subprocess("--accel=cpu,cuda", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_model[[]torch-cuda:0-float32[]] PASSED*"])
    result.stdout.re_match_lines([r".*test_model\s+torch cuda:0\s+float32\s+ok \(\d.*passed"])
    only_cuda = pytester.runpytest_subprocess("--accel=cuda", "-k", "float32")
    only_cuda.assert_outcomes(passed=1)


@needs_torch_cuda
def test_tf32_matmul_is_caught_and_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch

        @pytest.mark.accel(framework="torch")
        def test_mm(accel_device):
            torch.backends.cuda.matmul.allow_tf32 = True
            a = accel_device.randn(512, 512)
            accel_device.check(a @ a)
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*fits TF32 precision*torch.backends.cuda.matmul.allow_tf32*"])


@needs_jax_cuda
def test_jax_parity_on_gpu(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import jax
        import jax.numpy as jnp
        import pytest

        @pytest.mark.accel(framework="jax", dtypes=["float32", "bfloat16"])
        def test_softmax(accel_device):
            x = accel_device.randn(64, 256)
            y = accel_device.bench(jax.jit(jax.nn.softmax), x)
            accel_device.check(y)
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "-v")
    result.assert_outcomes(passed=2)
