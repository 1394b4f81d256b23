"""Example accel tests for a PyTorch library.

Run with ``pytest --accel=all examples``: every test runs once per device found (CPU, each CUDA GPU,
MPS) and per dtype in its marker. On a device other than the reference (CPU), ``accel_device.check``
compares the result with the same test run on the reference device; ``accel_device.bench`` times the
call on the device it runs on, and the ``accel`` summary lists parity and timings side by side.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from pytest_accel import assert_parity  # noqa: E402

FLOATS = ["float32", "bfloat16"]


@pytest.mark.accel(framework="torch", dtypes=FLOATS)
def test_matmul(accel_device):
    """The smallest useful accel test: seeded inputs, a timed op, one parity check."""
    a = accel_device.randn(256, 256)  # the same values on every device
    b = accel_device.randn(256, 256)
    out = accel_device.bench(torch.matmul, a, b)
    assert out.dtype == accel_device.dtype
    accel_device.check(out)


@pytest.mark.accel(framework="torch", dtypes=FLOATS)
def test_softmax(accel_device):
    """``bench`` forwards keyword arguments to the function; ordinary asserts work alongside."""
    logits = accel_device.randn(64, 1024) * 4.0
    probs = accel_device.bench(torch.softmax, logits, dim=-1)

    # A property that holds on any device, checked in float32 with a dtype-sized allowance.
    row_sums = probs.float().sum(dim=-1)
    allowance = 1e-2 if accel_device.dtype == torch.bfloat16 else 1e-5
    assert torch.allclose(row_sums, torch.ones_like(row_sums), atol=allowance)
    accel_device.check(probs)


def attention(q, k, v, causal=False):
    """Hand-written scaled dot-product attention; the softmax runs in at least float32, as kernels do
    (float64 stays float64, so the float64 oracle pass of --accel-oracle computes in float64 throughout)."""
    scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        t, s = scores.shape[-2:]
        keep = torch.ones(t, s, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores.to(torch.promote_types(scores.dtype, torch.float32)), dim=-1).to(q.dtype)
    return weights @ v


@pytest.mark.accel(framework="torch", dtypes=FLOATS)
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_attention(accel_device, causal):
    """Two implementations of one op on each device: both timed (named benches), both checked.

    ``check`` compares each across devices; ``assert_parity`` compares the two on this device
    with the same dtype-aware tolerances.
    """
    q, k, v = (accel_device.randn(2, 4, 128, 64) for _ in range(3))
    ours = accel_device.bench(attention, q, k, v, causal=causal, name="hand-written")
    theirs = accel_device.bench(F.scaled_dot_product_attention, q, k, v, is_causal=causal, name="torch sdpa")
    assert_parity(ours, theirs)
    accel_device.check(ours, name="hand-written")
    accel_device.check(theirs, name="torch sdpa")


def reductions(x):
    return {
        "sum": x.sum(dim=-1),
        "logsumexp": torch.logsumexp(x, dim=-1),
        "total": x.float().sum(),
    }


@pytest.mark.accel(framework="torch", dtypes=FLOATS)
def test_reductions(accel_device):
    """``check`` takes nests: each entry of the dict is compared (and reported) by its path.

    Long sums are summed in a different order on each device; the default tolerance scales with
    the size of the whole result, so the cancelling near-zero entries of ``sum`` still pass.
    """
    x = accel_device.randn(512, 1024)
    out = accel_device.bench(reductions, x)
    accel_device.check(out)


@pytest.fixture
def mlp(accel_device):
    """A small model built from a fixed seed on the CPU, then moved to the test's device and dtype.

    A fixture that depends on ``accel_device`` is built again for the reference pass, so the
    reference run gets its own copy of the same weights.
    """
    with torch.random.fork_rng(devices=[]):  # leave the global RNG state untouched
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(128, 256),
            torch.nn.GELU(),
            torch.nn.Linear(256, 64),
        )
    return model.to(accel_device.native, accel_device.dtype)


@pytest.mark.accel(framework="torch", dtypes=FLOATS)
def test_mlp_forward(accel_device, mlp):
    """Timing a module: inference mode keeps autograd bookkeeping out of the numbers."""
    x = accel_device.randn(32, 128)
    with torch.inference_mode():
        out = accel_device.bench(mlp, x, name="forward")
    assert out.shape == (32, 64)
    accel_device.check(out)


def loss_and_grads(model, x, target):
    """The loss and its gradient for every parameter, by name; leaves ``.grad`` untouched."""
    loss = F.mse_loss(model(x), target)
    names, tensors = zip(*model.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, tensors)
    return loss.detach(), dict(zip(names, grads, strict=True))


@pytest.mark.accel(framework="torch", dtypes=["float32"])
def test_mlp_gradients(accel_device, mlp):
    """A backward pass, timed; the gradients are checked as one dict keyed by parameter name."""
    x = accel_device.randn(32, 128)
    target = accel_device.randn(32, 64)
    loss, grads = accel_device.bench(loss_and_grads, mlp, x, target, name="forward+backward")
    accel_device.check(loss, name="loss")
    accel_device.check(grads, name="grads")


# float8 (torch 2.1+) is a storage format: a float8 tensor supports few operations (no +, sum or exp on
# the CPU). Kernels hold inputs and weights in float8, compute in float32, and store the output in
# float8 again with a per-tensor scale; two correct results then differ by at most one float8 step,
# which is the default float8 tolerance.
FLOAT8_TARGET = 448.0  # the largest float8_e4m3fn value; inside float8_e5m2's range too


def float8_linear(x, w):
    """``x @ w`` from float8 operands, accumulated in float32 (float64 in the oracle pass), stored in
    x's dtype with the scale that maps its largest magnitude to FLOAT8_TARGET."""
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    y = x.to(compute) @ w.to(compute)
    scale = FLOAT8_TARGET / y.abs().max()
    return (y * scale).to(x.dtype), scale


@pytest.mark.accel(framework="torch", dtypes=["float8_e4m3fn", "float8_e5m2"])
def test_float8_linear(accel_device):
    """float8 inputs (rounded on the host: the same bits on every device), a float32 matmul, a float8
    output with its scale, both checked."""
    x = accel_device.randn(128, 256)
    w = accel_device.randn(256, 64)
    assert x.dtype == accel_device.dtype
    out, scale = accel_device.bench(float8_linear, x, w)
    accel_device.check(out, name="out")
    # The scale comes from the largest magnitude of a float32 product; a float8 GEMM on a GPU may
    # accumulate in less than float32, so it is checked at a float8-kernel's precision, not float32's.
    accel_device.check(scale, name="scale", rtol=1e-3)
