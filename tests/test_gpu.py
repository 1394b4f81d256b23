"""Tests that need a CUDA GPU. They run wherever torch (or jax) sees one, and skip elsewhere, saying so."""

from __future__ import annotations

import pytest
from conftest import HAS_JAX, HAS_TORCH

pytestmark = pytest.mark.gpu  # conftest leaves these tests' sessions the GPUs


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
    # torch's AcceleratorError carries the CUDA code; the message names it (cudaErrorAssert is sticky)
    result.stdout.fnmatch_lines(
        ["torch cuda:0 is unusable: AcceleratorError: *CUDA error 710 (cudaErrorAssert)*"]
    )
    assert "INTERNALERROR" not in result.stdout.str()


@needs_torch_cuda
def test_a_cuda_error_that_leaves_the_device_working_does_not_break_it(pytester: pytest.Pytester) -> None:
    # A code the plugin does not know re-tests the device with a tiny kernel: it works, so the next
    # CUDA test runs. A known recoverable code (an invalid launch configuration) is an ordinary failure.
    pytester.makepyfile(
        """
        import pytest
        import torch

        def _error(code):
            error = torch.AcceleratorError(f"CUDA error: code {code} from a test")
            error.error_code = code
            return error

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_a_unknown_code(accel_device):
            if accel_device.kind == "cuda":
                accel_device.check(accel_device.randn(8) * 2)
                raise _error(12345)

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_b_invalid_configuration(accel_device):
            if accel_device.kind == "cuda":
                raise _error(9)

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_c_cuda_after(accel_device):
            accel_device.check(accel_device.randn(8) + 1)
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "--accel-save=out.json")
    result.assert_outcomes(passed=1, failed=2)
    import json

    saved = json.loads((pytester.path / "out.json").read_text())
    assert saved["device_events"] == []


@needs_torch_cuda
@needs_jax_cuda
def test_jax_and_torch_share_the_gpu_without_preallocation(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nobody set JAX's memory variables: the plugin sets XLA_PYTHON_CLIENT_PREALLOCATE=false before JAX
    # starts, says so in the header, and torch can then take half the GPU after JAX has run there.
    from pytest_accel.frameworks.jax_memory import USER_CHOICES

    for name in USER_CHOICES:
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.accel(framework="jax", devices=["cuda"])
        def test_a_jax(accel_device):
            assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
            accel_device.check(accel_device.randn(1024, 1024).sum())

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_b_torch_half_the_gpu(accel_device):
            import torch

            if accel_device.kind == "cuda":
                total = torch.cuda.get_device_properties(accel_device.native).total_memory
                block = torch.empty(total // 2, dtype=torch.uint8, device=accel_device.native)
                del block
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["accel: *XLA_PYTHON_CLIENT_PREALLOCATE=false set by pytest-accel*"])


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


@needs_torch_cuda
def test_each_cuda_item_runs_with_its_device_current_and_pinned_workers_agree(
    pytester: pytest.Pytester,
) -> None:
    """Issue 19.5 and 20.1 on real GPUs: an item on cuda:i has cuda:i as torch's current device (so
    device="cuda" and torch.cuda.* in the test mean it), serially and under pinned xdist workers, and the
    pinned run judges what the serial run judges (on a single GPU: its one device)."""
    pytester.makepyfile(
        """
        import pytest
        import torch

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        @pytest.mark.parametrize("n", range(4))
        def test_current(accel_device, n):
            x = torch.ones(3, device="cuda")
            if accel_device.kind == "cuda":  # the reference pass (on the CPU) runs inside the item
                assert torch.cuda.current_device() == accel_device.index
                assert x.device == accel_device.native
            accel_device.check(accel_device.randn(3) + x.cpu().to(accel_device.native))
        """
    )
    serial = pytester.runpytest_subprocess("--accel=cpu,cuda", "--accel-no-bench", "-rA")
    count = torch_cuda_count()
    serial.assert_outcomes(passed=4 * count)
    pytest.importorskip("xdist", reason="pytest-xdist (the test extra) is not installed")
    pinned = pytester.runpytest_subprocess(
        "--accel=cpu,cuda", "--accel-no-bench", "-n", "2", "--accel-pin-workers", "-rA"
    )
    pinned.assert_outcomes(passed=4 * count)


def torch_cuda_count() -> int:
    import torch

    return torch.cuda.device_count()


@needs_torch_cuda
def test_cuda_memory_determinism_and_recompiles(pytester: pytest.Pytester) -> None:
    """Issue 18 on a GPU: a 64 MiB allocation reads 64 MiB from the allocator (and the body's peak is
    saved); index_add under torch.use_deterministic_algorithms gives the same bits twice; a function
    torch.compile recompiles at every call is flagged, a stable one is not."""
    pytester.makepyfile(
        """
        import itertools

        import pytest
        import torch

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_memory(accel_device):
            accel_device.bench(lambda: torch.ones(16 * 2**20, device=accel_device.native).sum(), name="ones")

        @pytest.mark.accel(framework="torch", devices=["cuda"], deterministic=True)
        def test_index_add(accel_device):
            torch.use_deterministic_algorithms(True)
            try:
                values = accel_device.randn(100_000)
                index = accel_device.randint(0, 64, (100_000,))
                out = torch.zeros(64, device=values.device).index_add_(0, index, values)
                accel_device.check(out, name="index_add")
            finally:
                torch.use_deterministic_algorithms(False)

        @pytest.mark.accel(framework="torch", devices=["cuda"])
        def test_compile(accel_device):
            f = torch.compile(lambda a: a * 2, backend="eager", dynamic=False)
            x = accel_device.randn(4096)
            sizes = itertools.count(1)
            accel_device.bench(lambda: f(x[: next(sizes)]), name="new_shape_each_call")
            accel_device.bench(f, x, name="stable")
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "--accel-save=r.json", "--accel-bench-budget=0.05")
    result.assert_outcomes(passed=3)
    import json

    document = json.loads((pytester.path / "r.json").read_text())
    by_test = {r["nodeid"].split("[")[0].split("::")[1]: r for r in document["results"]}
    bench = by_test["test_memory"]["benches"][0]
    assert bench["memory_method"] == "torch.cuda"
    assert abs(bench["peak_bytes"] - 64 * 2**20) <= 0.1 * 64 * 2**20, bench
    assert by_test["test_memory"]["peak_bytes"] >= 64 * 2**20  # the body's own peak
    assert by_test["test_index_add"]["deterministic"] is True
    benches = {b["name"]: b for b in by_test["test_compile"]["benches"]}
    assert benches["new_shape_each_call"]["recompiles"] > 0 and benches["stable"]["recompiles"] == 0
    assert "peak mem" in result.stdout.str()
    result.stdout.fnmatch_lines(["*bench 'new_shape_each_call' compiled*"])


@needs_jax_cuda
def test_jax_gpu_memory_is_read_from_memory_stats(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import jax.numpy as jnp
        import pytest

        @pytest.mark.accel(framework="jax", devices=["cuda"])
        def test_memory(accel_device):
            accel_device.bench(lambda: jnp.ones(32 * 2**20, dtype=jnp.float32).sum(), name="ones")
        """
    )
    result = pytester.runpytest_subprocess("--accel=cuda", "--accel-save=r.json", "--accel-bench-budget=0.05")
    result.assert_outcomes(passed=1)
    import json

    (record,) = json.loads((pytester.path / "r.json").read_text())["results"]
    bench = record["benches"][0]
    assert bench["memory_method"] == "jax memory_stats"
    # a new peak (128 MiB) is measured; were it below an earlier peak, "not measured" with that reason
    assert bench["peak_bytes"] is None or bench["peak_bytes"] >= 100 * 2**20, bench
