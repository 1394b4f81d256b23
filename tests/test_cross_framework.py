"""Cross-framework parity: reference="numpy" makes torch's and jax's items compare with numpy's results
for the same test, inputs and dtype, so a multi-framework test proves the frameworks agree."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import HAS_JAX, HAS_TORCH

pytestmark = pytest.mark.skipif(
    not (HAS_TORCH and HAS_JAX and importlib.util.find_spec("array_api_compat")),
    reason="needs torch, jax and array-api-compat (the all extra)",
)

COMMON_OPS = """
import pytest

@pytest.mark.accel(framework=["torch", "jax", "numpy"], reference="numpy")
@pytest.mark.parametrize("op", ["matmul", "softmax", "sum", "cumsum"])
def test_ops(accel_device, op):
    xp = accel_device.xp
    a, b = accel_device.randn(32, 48), accel_device.randn(48, 16)
    if op == "matmul":
        out = xp.matmul(a, b)
    elif op == "softmax":
        e = xp.exp(a - xp.max(a, axis=-1, keepdims=True))
        out = e / xp.sum(e, axis=-1, keepdims=True)
    elif op == "sum":
        out = xp.sum(a, axis=0)
    else:
        out = xp.cumulative_sum(xp.reshape(a, (-1,)))
    accel_device.check(out)
"""

JAX_ONLY_BUG = """
import pytest

@pytest.mark.accel(framework=["torch", "jax", "numpy"], reference="numpy")
def test_scaled(accel_device):
    out = accel_device.randn(64) * 2
    if accel_device.framework == "jax":
        out = out + 1e-3  # a bug only jax's code path has
    accel_device.check(out, name="scaled")
"""


def test_three_frameworks_agree_on_common_ops_at_default_tolerances(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(COMMON_OPS)
    result = pytester.runpytest("--accel-no-bench", "-v")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*test_ops[[]torch-cpu-float32-matmul[]] PASSED*"])


def test_a_jax_only_bug_fails_naming_both_frameworks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(JAX_ONLY_BUG)
    result = pytester.runpytest("--accel-no-bench")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*parity failed on jax cpu (float32) against the reference numpy cpu, check 'scaled'*"]
    )
    result.stdout.fnmatch_lines(["FAILED *test_scaled[[]jax-cpu-float32[]]*"])
    # An offset is a systematic defect, said as such; it is not blamed on TF32 (a CPU has no TF32).
    result.stdout.fnmatch_lines(
        ["*diagnosis: the difference is systematic (a scale or offset): actual = reference + 0.001 accounts*"]
    )
    assert "TF32" not in result.stdout.str()


def test_the_cross_framework_reference_works_alone_under_xdist_and_with_lf(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist (the test extra) is not installed")
    pytester.makepyfile(JAX_ONLY_BUG)
    alone = pytester.runpytest("--accel-no-bench", "-k", "jax")  # numpy's item deselected: a hidden pass
    alone.assert_outcomes(failed=1)
    alone.stdout.fnmatch_lines(["*against the reference numpy cpu*"])
    parallel = pytester.runpytest_subprocess("--accel-no-bench", "-n", "2")
    parallel.assert_outcomes(passed=2, failed=1)
    rerun = pytester.runpytest("--accel-no-bench", "--lf", "-v")  # the failed jax item alone
    rerun.assert_outcomes(failed=1)
    rerun.stdout.fnmatch_lines(
        [
            "*collected 1 item*",
            "run-last-failure: rerun previous 1 failure",
            "*test_scaled[[]jax-cpu-float32[]] FAILED*",
            "*against the reference numpy cpu*",
        ]
    )


def test_a_reference_framework_outside_the_test_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework=["torch", "jax"], reference="numpy")
        def test_x(accel_device):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*reference='numpy' names numpy, which is not among the test's frameworks*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_dtypes_the_reference_framework_lacks_are_left_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(
            framework=["torch", "jax", "numpy"], dtypes=["float32", "bfloat16"], reference="numpy"
        )
        def test_x(accel_device):
            accel_device.check(accel_device.randn(8) * 3)
        """
    )
    result = pytester.runpytest("--accel-no-bench", "-rs")
    result.assert_outcomes(passed=3, skipped=3)
    result.stdout.fnmatch_lines(
        ["*left out: the reference framework numpy cannot give it (numpy has no bfloat16*"]
    )


def test_the_summary_shows_each_framework_against_the_reference_framework(pytester: pytest.Pytester) -> None:
    # One device (cpu), three frameworks: jax's and torch's rows get a speedup against numpy's time and
    # their parity against numpy's result; numpy's row is the reference.
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework=["torch", "jax", "numpy"], reference="numpy")
        def test_mm(accel_device):
            a = accel_device.randn(64, 64)
            accel_device.check(accel_device.bench(accel_device.xp.matmul, a, a))
        """
    )
    result = pytester.runpytest("--accel-bench-budget=0.02")
    result.assert_outcomes(passed=3)
    # numpy's memory is measured (tracemalloc), torch's and JAX's on the CPU are not (issue 18)
    result.stdout.re_match_lines([r"test\s+framework\s+dtype\s+cpu\s+speedup\s+parity\s+peak mem\s*$"])
    time, speedup, memory = r"\S+ \S+ ±\d+%", r"(~1x|\S+x) \[\S+\]", r"(not measured|[\d.]+ k?B)"
    dtype = "(float32|f32)"  # a noisy, wide interval makes the table take short dtype names at 80 columns
    for framework in ("jax", "torch"):
        result.stdout.re_match_lines(
            [rf"test_mm\s+{framework}\s+{dtype}\s+{time}\s+{speedup}\s+0\.\d\d\s+not measured\s*$"]
        )
    result.stdout.re_match_lines([rf"test_mm\s+numpy\s+{dtype}\s+{time}\s+-\s+reference\s+{memory}\s*$"])
