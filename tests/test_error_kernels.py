"""The device path of the comparison (torch ops) must agree with the host path (numpy) exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_accel.parity.error_kernels import error_stats
from pytest_accel.parity.tolerances import Tolerance

torch = pytest.importorskip("torch")


def _pair(seed: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference = rng.standard_normal((64, 33)).astype(dtype)
    actual = reference * (1 + rng.standard_normal(reference.shape).astype(dtype) * 1e-6)
    actual[3, 5] += 0.5
    actual[10, 0] = np.nan
    actual[11, 1] = np.inf
    reference[12, 2] = np.nan
    actual[12, 2] = np.nan  # NaN where the reference has NaN: equal
    return actual, reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_torch_path_matches_numpy_path(dtype: np.dtype) -> None:
    actual, reference = _pair(1, np.dtype(dtype))
    tol = Tolerance(rtol=3e-5, atol=1e-30)
    on_host = error_stats(actual, reference, tol, top_k=5, dtype=np.dtype(dtype).name)
    on_torch = error_stats(torch.from_numpy(actual), reference, tol, top_k=5, dtype=np.dtype(dtype).name)
    assert on_host.count_off == on_torch.count_off == 3
    assert on_host.worst == on_torch.worst == float("inf")
    assert on_host.scale == pytest.approx(on_torch.scale, rel=1e-6)
    assert {t[0] for t in on_host.top} == {t[0] for t in on_torch.top}
    assert {t[0] for t in on_torch.top} >= {3 * 33 + 5, 10 * 33 + 0, 11 * 33 + 1}
    assert 12 * 33 + 2 not in {t[0] for t in on_torch.top}


def test_passing_pair_reports_headroom_on_both_paths() -> None:
    rng = np.random.default_rng(2)
    reference = rng.standard_normal(10_000).astype(np.float32)
    actual = (reference.astype(np.float64) * (1 + 1e-6)).astype(np.float32)
    tol = Tolerance(rtol=3e-5, atol=1e-30)
    on_host = error_stats(actual, reference, tol, top_k=5, dtype="float32")
    on_torch = error_stats(torch.from_numpy(actual), reference, tol, top_k=5, dtype="float32")
    assert on_host.count_off == on_torch.count_off == 0
    assert 0 < on_host.worst < 1 and on_torch.worst == pytest.approx(on_host.worst, rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_jax_path_matches_numpy_path(dtype: np.dtype) -> None:
    jnp = pytest.importorskip("jax.numpy")
    actual, reference = _pair(3, np.dtype(dtype))
    tol = Tolerance(rtol=3e-5, atol=1e-30)
    on_host = error_stats(actual, reference, tol, top_k=5, dtype=np.dtype(dtype).name)
    on_jax = error_stats(jnp.asarray(actual), reference, tol, top_k=5, dtype=np.dtype(dtype).name)
    assert on_host.count_off == on_jax.count_off == 3
    assert on_host.worst == on_jax.worst == float("inf")
    assert on_host.scale == pytest.approx(on_jax.scale, rel=1e-6)
    assert {t[0] for t in on_host.top} == {t[0] for t in on_jax.top}


def test_device_paths_report_the_same_headroom() -> None:
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(4)
    reference = rng.standard_normal((300, 7)).astype(np.float32)
    actual = reference + np.float32(1e-5) * rng.standard_normal(reference.shape).astype(np.float32)
    tol = Tolerance(rtol=3e-5, atol=1e-30)
    worst = [
        error_stats(a, reference, tol, top_k=5, dtype="float32").worst
        for a in (actual, torch.from_numpy(actual), jnp.asarray(actual))
    ]
    assert worst[0] > 1
    assert worst[1] == pytest.approx(worst[0], rel=1e-5) and worst[2] == pytest.approx(worst[0], rel=1e-5)
