"""mylib's own tests, unchanged by the adoption: they take the suite's ``device`` and ``dtype`` fixtures
and compare with a NumPy reference implementation in float64, as device tests usually do."""

from __future__ import annotations

import jax
import mylib
import numpy as np
from numpy.testing import assert_array_almost_equal
from testing_utils import TOLERANCES, assert_close

DECIMALS = {"float16": 2, "float32": 5}


def make_input(shape, dtype, device, seed=0):
    """Seeded host data in ``dtype``, put on ``device``."""
    data = np.random.default_rng(seed).standard_normal(shape)
    return jax.device_put(data.astype(dtype), device)


def test_scale(device, dtype):
    x = make_input((64, 32), dtype, device)
    expected = np.asarray(x, np.float64) * 2.5
    rtol, atol = TOLERANCES[dtype.name]
    np.testing.assert_allclose(mylib.scale(x, 2.5), expected, rtol=rtol, atol=atol)


def test_softplus(device, dtype):
    x = make_input((256,), dtype, device, seed=1) * 4
    expected = np.logaddexp(np.asarray(x, np.float64), 0.0)
    assert_array_almost_equal(mylib.softplus(x), expected, decimal=DECIMALS[dtype.name])


def test_normalize(device, dtype):
    x = make_input((16, 64), dtype, device, seed=2)
    host = np.asarray(x, np.float64)
    assert_close(mylib.normalize(x), host / np.linalg.norm(host, axis=-1, keepdims=True))
