"""The suite's conftest AFTER the adoption (``conftest_original.py`` is the one before): its ``device``
and ``dtype`` fixtures now come from pytest-accel's ``accel_device``, so every test that takes them is
an accel test, on every device and dtype, with no test edited. pytest.ini adds the ``accel_`` keys:
the framework, the dtypes, and capture (each assert's ``actual`` is also compared with the reference
device's). Run it as a suite of its own: ``pytest examples/adoption --accel=all`` (on a machine without
a GPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` gives JAX a second CPU device to compare).
"""

from __future__ import annotations

from pathlib import Path

from pytest_accel.adoption import accel_fixture

device = accel_fixture("native")  # a jax.Device, as the suite's own fixture gave
dtype = accel_fixture("dtype")  # a jnp.dtype


# Not part of the recipe: this folder is a suite of its own inside pytest-accel's repository. A run of
# the repository's examples/ (the README's quickstart) has not its pytest.ini and leaves it out.
def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    own_ini = Path(__file__).resolve().parent / "pytest.ini"
    return True if config.inipath is None or Path(config.inipath).resolve() != own_ini else None
