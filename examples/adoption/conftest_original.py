"""The suite's conftest BEFORE the adoption, kept for comparison (pytest loads only conftest.py, so this
file is never loaded). The suite chose one device and dtype per run from options of its own:

    pytest --device cpu:1 --dtype float16

``conftest.py`` beside it is the same suite adopted: the two fixtures come from ``accel_device``, and
``pytest --accel=all`` runs every test on every device and dtype, compared with the reference device.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest


def pytest_addoption(parser):
    parser.addoption("--device", default="cpu", help="JAX device to test on: cpu, cpu:1, gpu:0, ...")
    parser.addoption("--dtype", default="float32", choices=["float32", "float16"], help="dtype to test in")


@pytest.fixture
def device(request):
    platform, _, index = request.config.getoption("--device").partition(":")
    return jax.devices(platform)[int(index or 0)]


@pytest.fixture
def dtype(request):
    return jnp.dtype(request.config.getoption("--dtype"))
