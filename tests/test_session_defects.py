"""Defects a user met (issues 19 and 20), each in a real session: the header names only the kinds that
were asked for, each absent one in a short line; an oracle that cannot run says why once."""

from __future__ import annotations

import pytest
from conftest import needs_jax

JAX_TEST = """
import pytest

@pytest.mark.accel(framework="jax")
def test_values(accel_device):
    accel_device.check(accel_device.randn(3))
"""

ABSENT_LINE = "not available:"


@pytest.fixture
def jax_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("JAX_ENABLE_X64", raising=False)
    monkeypatch.delenv("PYTEST_ACCEL", raising=False)
    pytester.makepyfile(test_values=JAX_TEST)
    return pytester


@needs_jax
def test_header_names_absent_kinds_only_when_asked_and_oracle_says_why_once(
    jax_suite: pytest.Pytester,
) -> None:
    only_cpu = jax_suite.runpytest_subprocess("--accel=cpu", "--accel-oracle")
    only_cpu.assert_outcomes(failed=1)
    output = only_cpu.stdout.str()
    # --accel=cpu asked for no TPU, GPU or MPS: their absence is not news (issue 19.11)
    assert ABSENT_LINE not in output
    assert "libtpu" not in output
    # the oracle cannot run without 64-bit JAX: said once, not as a chained exception (issue 20.12)
    assert output.count("jax computes float64 only with 64-bit mode on") == 1
    assert "During handling of the above exception" not in output

    everything = jax_suite.runpytest_subprocess("--accel=all", "--accel-no-bench")
    everything.assert_outcomes(passed=1)
    header = [line for line in everything.stdout.lines if line.startswith("accel:") and ABSENT_LINE in line]
    assert any(" tpu: " in line for line in header), header  # asked for by `all`, absent on this machine
    assert all(len(line) <= 160 for line in header), header  # one short line each, never a traceback
