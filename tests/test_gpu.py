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
    # Devices side by side: one row per test x dtype, the CPU's time, then cuda:0's time, speedup, parity.
    result.stdout.re_match_lines([r"test\s+dtype\s+cpu\s+cuda:0\s+speedup\s+parity\s*$"])
    time = r"\S+ \S+ ±\d+%"
    result.stdout.re_match_lines(
        [rf"test_model\s+float32\s+{time}\s+{time}\s+(~1x|\S+x) \[\S+\]\s+\d+\.\d\d\s*$"]
    )
    only_cuda = pytester.runpytest_subprocess("--accel=cuda", "-k", "float32")
    only_cuda.assert_outcomes(passed=1)


@needs_torch_cuda
@pytest.mark.parametrize("data", ["randn", "positive"])
def test_tf32_matmul_is_caught_and_named(pytester: pytest.Pytester, data: str) -> None:
    # Positive data too: there TF32's truncated inputs shrink every product, a systematic scale, and
    # the TF32 line must still be there.
    pytester.makepyfile(
        f"""
        import pytest
        import torch

        @pytest.mark.accel(framework="torch")
        def test_mm(accel_device):
            torch.backends.cuda.matmul.allow_tf32 = True
            a = accel_device.randn(512, 512)
            if "{data}" == "positive":
                a = a.abs() + 1
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


@needs_torch_cuda
def test_real_cuda_out_of_memory_fails_one_test_and_the_next_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_a_too_big(accel_device):
            if accel_device.kind == "cuda":  # the hidden reference pass on the CPU allocates nothing
                total = torch.cuda.get_device_properties(accel_device.native).total_memory
                torch.empty(int(total * 2), dtype=torch.uint8, device=accel_device.native)

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_b_next(accel_device):
            accel_device.check(accel_device.randn(1024) * 2)
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "--accel-save=out.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["out of memory on torch cuda:0: OutOfMemoryError:*Tried to allocate*free of*"]
    )


@needs_torch_cuda
def test_real_device_side_assert_breaks_cuda_but_not_the_cpu(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_a_assert(accel_device):
            if accel_device.kind == "cuda":  # an out-of-range index: a device-side assert on the GPU
                values = torch.zeros(4, device=accel_device.native)
                index = torch.tensor([10], device=accel_device.native)
                values[index] = 1.0
                torch.cuda.synchronize(accel_device.native)

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_b_cuda_after(accel_device):
            accel_device.check(accel_device.randn(8))

        @pytest.mark.accel(framework="torch", devices=["cpu"])
        def test_c_cpu_after(accel_device):
            accel_device.check(accel_device.randn(8))
        """
    )
    result = pytester.runpytest_subprocess("--accel=cpu,cuda", "--accel-save=out.json")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*torch cuda:0 is unusable in this process since *test_a_assert*"])
    assert "INTERNALERROR" not in result.stdout.str()


@needs_torch_cuda
def test_float8_parity_on_cuda(pytester: pytest.Pytester) -> None:
    # float8 inputs rounded on the host reach the GPU bit for bit; the float32 product is stored in
    # float8 on each device and compared on the GPU (the device-side comparison upcasts float8 there).
    pytester.makepyfile(
        """
        import pytest
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False

        @pytest.mark.accel(framework="torch", dtypes=["float8_e4m3fn", "float8_e5m2"])
        def test_qmm(accel_device):
            x, w = accel_device.randn(256, 512), accel_device.randn(512, 128)
            assert x.dtype == accel_device.dtype and x.device.type == accel_device.kind
            y = x.float() @ w.float()
            scale = 448.0 / y.abs().max()
            accel_device.check(x, name="inputs")
            accel_device.check((y * scale).to(x.dtype), name="out")
        """
    )
    result = pytester.runpytest_subprocess("--accel=cpu,cuda", "-v", "--accel-save=out.json")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_qmm[[]torch-cuda:0-float8_e4m3fn[]] PASSED*"])
    import json

    saved = json.loads((pytester.path / "out.json").read_text())
    on_cuda = [r for r in saved["results"] if r["device"] == "cuda:0"]
    assert len(on_cuda) == 2
    for record in on_cuda:
        inputs, out = record["checks"]
        assert inputs["headroom"] == 0.0 and out["headroom"] < 1.0


@needs_jax_cuda
def test_jax_float8_parity_on_gpu(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import jax
        import jax.numpy as jnp
        import pytest

        @jax.jit
        def qmm(x, w):
            y = jnp.matmul(x, w, preferred_element_type=jnp.float32)
            return (y * (448.0 / jnp.max(jnp.abs(y)))).astype(x.dtype)

        @pytest.mark.accel(framework="jax", dtypes=["float8_e4m3fn", "float8_e5m2"])
        def test_qmm(accel_device):
            x, w = accel_device.randn(256, 512), accel_device.randn(512, 128)
            accel_device.check(accel_device.bench(qmm, x, w))
        """
    )
    result = pytester.runpytest_subprocess("--accel=cpu,cuda", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_qmm[[]jax-cuda:0-float8_e5m2[]] PASSED*"])
