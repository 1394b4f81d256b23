"""Example accel tests for a JAX library.

Run with ``pytest --accel=all examples``: every test runs once per JAX device found (CPUs, GPUs,
TPUs) and per dtype. Inputs from ``accel_device.randn`` are committed to the test's device, so
jitted functions run there. ``accel_device.bench`` keeps the first call (compilation) out of the
samples and reports it as "first call"; it waits for results with ``block_until_ready``.

Try it on two host "devices": ``XLA_FLAGS=--xla_force_host_platform_device_count=2``.
"""

from __future__ import annotations

import math

import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

from pytest_accel import assert_parity  # noqa: E402

FLOATS = ["float32", "bfloat16"]

# On GPUs and TPUs JAX computes float32 matmuls at reduced precision by default (TF32 on NVIDIA GPUs).
# A library that promises float32 results asks for full precision, as these examples do; without it,
# pytest-accel fails the float32 checks on a GPU and its message names TF32 and this very setting.
# (To accept TF32 on purpose instead, mark a test @pytest.mark.accel(..., tf32=True).)
jax.config.update("jax_default_matmul_precision", "highest")


@jax.jit
def matmul(a, b):
    return a @ b


@pytest.mark.accel(framework="jax", dtypes=FLOATS)
def test_matmul(accel_device):
    """A jitted matmul: seeded inputs on the device, timed, checked against the reference device."""
    a = accel_device.randn(256, 256)
    b = accel_device.randn(256, 256)
    out = accel_device.bench(matmul, a, b)
    assert out.dtype == accel_device.dtype
    assert out.devices() == {accel_device.native}  # the work ran where the inputs live
    accel_device.check(out)


@jax.jit
def softmax(x):
    return jax.nn.softmax(x, axis=-1)


@pytest.mark.accel(framework="jax", dtypes=FLOATS)
def test_softmax(accel_device):
    """``accel_device.xp`` is ``jax.numpy`` here: framework-neutral helpers can use it."""
    xp = accel_device.xp
    logits = accel_device.randn(64, 1024) * 4.0
    probs = accel_device.bench(softmax, logits)

    row_sums = probs.astype(xp.float32).sum(axis=-1)
    allowance = 1e-2 if accel_device.dtype == jnp.bfloat16 else 1e-5
    assert bool(xp.allclose(row_sums, 1.0, atol=allowance))
    accel_device.check(probs)


@jax.jit
def attention(q, k, v):
    """Hand-written attention on (batch, heads, time, head_dim); the softmax runs in float32."""
    scores = q @ jnp.swapaxes(k, -1, -2) * (1.0 / math.sqrt(q.shape[-1]))
    weights = jax.nn.softmax(scores.astype(jnp.float32), axis=-1).astype(q.dtype)
    return weights @ v


@jax.jit
def library_attention(q, k, v):
    """``jax.nn.dot_product_attention`` takes (batch, time, heads, dim): transpose around it."""
    out = jax.nn.dot_product_attention(*(x.transpose(0, 2, 1, 3) for x in (q, k, v)))
    return out.transpose(0, 2, 1, 3)


@pytest.mark.accel(framework="jax", dtypes=FLOATS)
def test_attention(accel_device):
    """Two implementations, each timed under its own name, checked, and compared to each other."""
    q, k, v = (accel_device.randn(2, 4, 128, 64) for _ in range(3))
    ours = accel_device.bench(attention, q, k, v, name="hand-written")
    theirs = accel_device.bench(library_attention, q, k, v, name="jax.nn attention")
    assert_parity(ours, theirs)
    accel_device.check(ours, name="hand-written")
    accel_device.check(theirs, name="jax.nn attention")


@jax.jit
def reductions(x):
    return {
        "sum": x.sum(axis=-1),
        "logsumexp": jax.nn.logsumexp(x, axis=-1),
        "total": x.astype(jnp.float32).sum(),
    }


@pytest.mark.accel(framework="jax", dtypes=FLOATS)
def test_reductions(accel_device):
    """A jitted function returning a dict: ``check`` compares each entry by its path."""
    x = accel_device.randn(512, 1024)
    out = accel_device.bench(reductions, x)
    accel_device.check(out)


@pytest.fixture
def params(accel_device):
    """MLP parameters as a dict of arrays, drawn with ``accel_device.randn``: same on every device.

    A fixture that depends on ``accel_device`` is built again for the reference pass.
    """
    return {
        "w1": accel_device.randn(128, 256) * (1.0 / math.sqrt(128)),
        "b1": accel_device.randn(256) * 0.1,
        "w2": accel_device.randn(256, 64) * (1.0 / math.sqrt(256)),
        "b2": accel_device.randn(64) * 0.1,
    }


@jax.jit
def mlp(params, x):
    hidden = jax.nn.gelu(x @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


@pytest.mark.accel(framework="jax", dtypes=FLOATS)
def test_mlp_forward(accel_device, params):
    """A layer whose parameters come from a fixture; the params dict is an ordinary jit argument."""
    x = accel_device.randn(32, 128)
    out = accel_device.bench(mlp, params, x, name="forward")
    assert out.shape == (32, 64)
    accel_device.check(out)


@jax.jit
def loss_and_grads(params, x, target):
    def loss(p):
        return jnp.mean(jnp.square(mlp(p, x) - target))

    return jax.value_and_grad(loss)(params)


@pytest.mark.accel(framework="jax", dtypes=["float32"])
def test_mlp_gradients(accel_device, params):
    """``jax.value_and_grad`` returns the loss and a dict of gradients; both are checked."""
    x = accel_device.randn(32, 128)
    target = accel_device.randn(32, 64)
    loss, grads = accel_device.bench(loss_and_grads, params, x, target, name="value_and_grad")
    accel_device.check(loss, name="loss")
    accel_device.check(grads, name="grads")


# float8 is a storage format: kernels hold inputs and weights in float8, accumulate in float32
# (preferred_element_type), and store the output in float8 again with a per-tensor scale. JAX does not
# promote float8 implicitly, so the wider type is named.
FLOAT8_TARGET = 448.0  # the largest float8_e4m3fn value; inside float8_e5m2's range too


@jax.jit
def float8_linear(x, w):
    compute = jnp.float64 if x.dtype == jnp.float64 else jnp.float32  # float64: the oracle pass
    y = jnp.matmul(x, w, preferred_element_type=compute)
    scale = FLOAT8_TARGET / jnp.max(jnp.abs(y))
    return (y * scale).astype(x.dtype), scale


@pytest.mark.accel(framework="jax", dtypes=["float8_e4m3fn", "float8_e5m2"])
def test_float8_linear(accel_device):
    """float8 operands, float32 accumulation, a float8 output with its scale, both checked."""
    x = accel_device.randn(128, 256)
    w = accel_device.randn(256, 64)
    assert x.dtype == accel_device.dtype
    out, scale = accel_device.bench(float8_linear, x, w)
    accel_device.check(out, name="out")
    # The scale comes from the largest magnitude of a float32 product; a float8 GEMM on a GPU may
    # accumulate in less than float32, so it is checked at a float8-kernel's precision, not float32's.
    accel_device.check(scale, name="scale", rtol=1e-3)
