"""Shared helpers for the plugin's own tests: they run real pytest sessions with ``pytester``."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pkgutil
import sys
from pathlib import Path

import pytest

# JAX preallocates most of a GPU's memory in every process; this session and its pytester subprocesses
# share one GPU (with torch), so they allocate on demand. Set before any JAX import.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# The benchmarks' shared noise model (benchmarks/noise_model.py) is what the statistics tests check
# the gate and the history against: one model for both.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed")

TWO_CPU_DEVICES = "--xla_force_host_platform_device_count=2"

# pytester's in-process runs drop the modules a run imported; compiled extensions such as numpy's
# cannot be imported twice in one process, so the frameworks are imported once, here, up front. So is
# session_host: dropped with a test's modules, it would take the session hosts it started with it.
import numpy  # noqa: E402, F401
import session_host  # noqa: E402

import pytest_accel.frameworks.numpy_adapter  # noqa: E402

if importlib.util.find_spec("hypothesis") is not None:
    import hypothesis  # noqa: F401  (its pytest plugin imports it in every inner run otherwise)

if HAS_TORCH:
    import pytest_accel.frameworks.torch_adapter
if HAS_JAX:
    import pytest_accel.frameworks.jax_adapter

# The plugin's own modules too, each once: an in-process run would otherwise import (and assertion-rewrite)
# again each plugin module that this process had not imported before it, a tenth of a second every run.
for _module in pkgutil.walk_packages(pytest_accel.__path__, "pytest_accel."):
    if _module.name != "pytest_accel.__main__":
        with contextlib.suppress(Exception):  # a module that cannot be imported fails its own tests alone
            importlib.import_module(_module.name)


# The pytest sessions the tests start (pytester subprocesses, xdist workers, duets) see the CPU alone, so
# that the items, rows and columns they count are the same on a GPU machine (with JAX's CUDA plugin) as
# here. Tests marked gpu (tests/test_gpu.py) keep the GPUs. In-process pytester runs share this process's
# JAX and torch, already imported; they use the default --accel=cpu, hence PYTEST_ACCEL is dropped.
CPU_ONLY_ENVIRONMENT = {"JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}


def pin_sessions_to_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the sessions a test starts see only CPUs (JAX's CPU platform, no CUDA device for torch)."""
    for name, value in CPU_ONLY_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTEST_ACCEL", raising=False)


# What every session a test starts sees besides: an 80-column terminal wherever the suite runs (CI's is
# wider; a test about another width sets COLUMNS itself), and no Hypothesis plugin, which no inner
# session uses and which costs each one a second of imports. The user's own PYTEST_ADDOPTS is replaced.
INNER_SESSION_ENVIRONMENT = {"COLUMNS": "80", "PYTEST_ADDOPTS": "-p no:hypothesispytest"}


@pytest.fixture(autouse=True)
def _inner_session_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in INNER_SESSION_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def _cpu_only_sessions(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("gpu") is None:
        pin_sessions_to_cpu(monkeypatch)


@pytest.fixture
def two_jax_devices(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest in a subprocess where JAX shows two CPU devices (cpu and cpu:1)."""
    if not HAS_JAX:
        pytest.skip("jax is not installed")
    monkeypatch.setenv("XLA_FLAGS", TWO_CPU_DEVICES)

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*args)

    return run


@pytest.fixture
def two_jax_devices_hosted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest where JAX shows two CPU devices, as ``two_jax_devices`` does, in a session host: a
    process that keeps JAX imported from one session to the next (tests/session_host.py)."""
    if not HAS_JAX:
        pytest.skip("jax is not installed")
    monkeypatch.setenv("XLA_FLAGS", TWO_CPU_DEVICES)

    def run(*args: str) -> pytest.RunResult:
        return session_host.runpytest_hosted(pytester, *args)

    return run
