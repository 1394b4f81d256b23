"""One suite, run once per process, that the memory, determinism and recompile tests all read: its runs
are the expensive part (a pytest session each), so they happen once and are shared."""

from __future__ import annotations

import pytest
from shared_sessions import SharedProject

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--factor", type=int, default=1)
"""

# numpy only: the doubled and unchanged reruns need no JAX or torch.
MEMORY = """
import numpy as np
import pytest

@pytest.mark.accel(framework="numpy")
@pytest.mark.parametrize("copy", [0, 1, 2])
def test_alloc(accel_device, request, copy):
    count = 10_000_000 * request.config.getoption("--factor")  # 80 MB of float64, doubled by --factor=2
    accel_device.bench(lambda: np.ones(count).sum(), name="ones")
"""

MEASURES = """
import itertools

import numpy as np
import pytest

CALLS = itertools.count()

@pytest.mark.accel(framework="numpy", deterministic=True)
def test_planted_nondeterminism(accel_device):
    x = accel_device.randn(64)
    accel_device.check(x.sum(), name="exact")
    accel_device.check(x * (1 + 1e-7 * next(CALLS)), name="low_bits")  # other low bits at each call

@pytest.mark.accel(framework=["numpy", "jax"], deterministic=True)
def test_reductions(accel_device):
    xp = accel_device.framework_xp
    x = accel_device.randn(4096)
    accel_device.check(xp.sum(x), name="sum")
    accel_device.check(xp.cumsum(x), name="cumsum")

@pytest.mark.accel(framework="jax")
def test_jit(accel_device):
    import jax

    f = jax.jit(lambda a: a * 2 + 1)
    x = accel_device.randn(1 << 14)
    sizes = itertools.count(1)
    accel_device.bench(lambda: f(x[: next(sizes)]), name="new_shape_each_call")
    accel_device.bench(f, x, name="stable")
"""

_PROJECT: list[SharedProject] = []


def measurement_project(factory: pytest.TempPathFactory) -> SharedProject:
    """The suite's folder, made once per process."""
    if not _PROJECT:
        project = SharedProject(factory.mktemp("measurements"), hosted=True)
        project.write("conftest.py", CONFTEST)
        project.write("test_memory_suite.py", MEMORY)
        project.write("test_measures.py", MEASURES)
        _PROJECT.append(project)
    return _PROJECT[0]


BASE = ("--accel-save=base.json", "--accel-report=r.md", "--accel-report=r.json", "--accel-bench-budget=0.01")
MEMORY_ONLY = ("test_memory_suite.py", "--accel-bench-budget=0.01")
