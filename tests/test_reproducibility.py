"""Tests that draw their inputs from global or unseeded generators (as real suites do: einops' tests draw
from ``np.random.default_rng()`` made at import) must not fail parity for a difference of inputs. The
global generators start each body (and its reference pass) from one state per test; a check whose values
differ between two runs on the reference device itself is not judged, and the summary says so; a real
defect of one device still fails."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from conftest import HAS_JAX
from session_host import runpytest_hosted

LIBRARY = """
def scale(x):
    out = x * 2.0
    if next(iter(x.devices())).id == 1:  # a defect of JAX's second device only, inside the suite's rtol
        out = out * 1.01
    return out
"""

TESTS = """
import random

import jax.numpy as jnp
import numpy as np

import mylib

generator = np.random.default_rng()  # made at import without a seed: other numbers in every run


def test_global_draws():
    x = jnp.asarray(np.random.rand(16) + random.random())
    np.testing.assert_allclose(x * 3.0, np.asarray(x) * 3.0, rtol=1e-6)


def test_unseeded_module_generator():
    x = jnp.asarray(generator.random(16))
    np.testing.assert_allclose(x + 1.0, np.asarray(x) + 1.0, rtol=1e-6)


def test_device_defect():
    x = jnp.asarray(np.random.rand(8))
    np.testing.assert_allclose(mylib.scale(x), np.asarray(x) * 2, rtol=0.05)
"""


@pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (its two CPU devices are compared)")
def test_unseeded_inputs_are_not_parity_failures_and_real_defects_still_are(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makepyfile(mylib=LIBRARY, test_mylib=TESTS)
    pytester.makeconftest("from pytest_accel.adoption import each_test_on_every_device  # noqa: F401\n")
    pytester.makeini("[pytest]\naccel_framework = jax\naccel_capture_asserts = true\n")
    result = runpytest_hosted(
        pytester, "--accel=all", "--accel-no-bench", "--accel-save=out.json", "-p", "no:randomly", "-rf"
    )
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_mylib.py::test_device_defect[[]jax-cpu:1-float32[]]*"])
    records = {
        r["nodeid"].split("::")[1]: r for r in json.loads((pytester.path / "out.json").read_text())["results"]
    }
    global_draws = records["test_global_draws[jax-cpu:1-float32]"]["checks"][0]
    assert global_draws["passed"] and global_draws["headroom"] is not None  # judged: the same inputs
    module_draws = records["test_unseeded_module_generator[jax-cpu:1-float32]"]["checks"][0]
    assert module_draws["reproducible"] is False and module_draws["headroom"] is None
    assert records["test_device_defect[jax-cpu:1-float32]"]["checks"][0]["passed"] is False
    text = " ".join(result.stdout.str().split())  # the note may wrap
    assert "parity not judged in 1 item(s)" in text
    assert "test_mylib.py::test_unseeded_module_generator [jax cpu:1] (1 check(s))" in text


def test_the_global_generators_are_given_back_as_they_were() -> None:
    """A hidden pass inside an item's body draws what the body drew, and then gives the body back the
    state it found, so that the body's later draws are as they would have been."""
    from pytest_accel.reference.global_rngs import global_generators_seeded

    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.rand())
    random.seed(5)
    np.random.seed(5)
    with global_generators_seeded(1234):
        inside = (random.random(), np.random.rand())
        with global_generators_seeded(1234):  # a hidden pass inside the body draws what the body drew
            assert (random.random(), np.random.rand()) == inside
    assert (random.random(), np.random.rand()) == expected
