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


def test_tolerance_entries_take_the_summarys_short_dtype_names() -> None:
    """The summary prints bf16 and f32; accel_tolerances accepts what it prints (issue 20.9)."""
    from pytest_accel.parity.tolerances import parse_tolerance_table

    table = parse_tolerance_table(["bf16: rtol=0.1", "cuda.f32: atol=1e-6"])
    assert table.entries == {"bfloat16": (0.1, None), "cuda.float32": (None, 1e-6)}


def test_a_speedup_that_cannot_be_told_keeps_a_short_cell() -> None:
    """Three noisy samples give an interval of many decades; its bounds are said in two digits, not as a
    14-digit number that pushes the table past the terminal (seen: ~1x [9.7e-18-17359766318365])."""
    from pytest_accel.summary.layout import speedup_cell
    from pytest_accel.timing.measure import BenchResult

    def bench(samples: list[float]) -> BenchResult:
        return BenchResult("mm", "perf_counter", samples, 1, 0.0, 0, "budget")

    cell = speedup_cell(bench([8e-6, 8.3e-6, 8.1e-6]), bench([1e-4, 1e-2]))
    assert cell.startswith(("~1x [", "0.")) and len(cell) <= 24, cell
