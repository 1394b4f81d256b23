"""float8_e4m3fn and float8_e5m2 in real sessions: items for torch and jax, numpy's left out with the
reason, the same bits on every framework, the float8 default tolerance in failures, bad data refused."""

from __future__ import annotations

import json

import pytest
from conftest import HAS_JAX, HAS_TORCH

pytestmark = pytest.mark.skipif(not (HAS_TORCH and HAS_JAX), reason="needs torch and jax installed")

# A float8 matmul as kernels do it: float8 inputs, float32 accumulation, the result scaled and stored
# in float8 again. Each framework spells it its own way.
QUANTIZED_MATMUL = """
import pytest

@pytest.mark.accel(framework=["torch", "jax", "numpy"], dtypes=["float32", "float8_e4m3fn", "float8_e5m2"],
                   reference="torch")
def test_qmm(accel_device):
    a, b = accel_device.randn(32, 128), accel_device.randn(128, 16)
    assert accel_device.dtype_name in str(a.dtype)
    xp = accel_device.framework_xp
    if accel_device.framework == "torch":
        out = (a.float() @ b.float() / 16).to(a.dtype)
    elif accel_device.framework == "jax":
        out = (xp.matmul(a, b, preferred_element_type=xp.float32) / 16).astype(a.dtype)
        {jax_bug}
    else:
        out = a @ b / 16
    accel_device.check(a, name="inputs")
    accel_device.check(out, name="out")
"""


JAX_SCALE_BUG = "out = (out.astype(xp.float32) * 1.5).astype(a.dtype)  # a bug only jax's path has"


def test_float8_items_run_under_torch_and_jax_and_numpy_is_left_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(QUANTIZED_MATMUL.format(jax_bug="pass"))
    result = pytester.runpytest("--accel-no-bench", "-v", "-rs", "--accel-save=results.json")
    result.assert_outcomes(passed=7, skipped=2)
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        result.stdout.fnmatch_lines([f"accel: left out (skipped): numpy x {dtype}: numpy has no {dtype}*"])
        result.stdout.fnmatch_lines([f"*test_qmm[[]numpy-{dtype}[]] SKIPPED*"])
        for framework in ("torch", "jax"):
            result.stdout.fnmatch_lines([f"*test_qmm[[]{framework}-cpu-{dtype}[]] PASSED*"])
    saved = json.loads((pytester.path / "results.json").read_text())
    jax_float8 = [r for r in saved["results"] if r["framework"] == "jax" and r["dtype"].startswith("float8")]
    assert len(jax_float8) == 2
    for record in jax_float8:
        inputs, out = record["checks"]
        # The inputs are bitwise the same under both frameworks: the plugin rounds them on the host.
        assert inputs["name"] == "inputs" and inputs["headroom"] == 0.0
        assert out["passed"] and out["headroom"] < 1.0


def test_float8_items_are_selectable_by_dtype(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(QUANTIZED_MATMUL.format(jax_bug="pass"))
    result = pytester.runpytest("--accel-no-bench", "-v", "-k", "float8_e5m2 and not numpy")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_qmm[[]jax-cpu-float8_e5m2[]] PASSED*"])


def test_a_float8_defect_fails_naming_the_float8_tolerance(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(QUANTIZED_MATMUL.format(jax_bug=JAX_SCALE_BUG))
    result = pytester.runpytest("--accel-no-bench", "-k", "float8_e4m3fn")
    result.assert_outcomes(passed=1, failed=1, skipped=1, deselected=6)
    result.stdout.fnmatch_lines(
        [
            "*parity failed on jax cpu (float8_e4m3fn) against the reference torch cpu, check 'out'*",
            "*tolerance for float8_e4m3fn: rtol=0.125, atol=0.00195*",
            "*diagnosis: the difference is systematic (a scale or offset): actual = 1.* x reference*",
        ]
    )


def test_float8_tolerances_can_be_configured(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(QUANTIZED_MATMUL.format(jax_bug=JAX_SCALE_BUG))
    pytester.makeini("[pytest]\naccel_tolerances =\n    float8_e4m3fn: rtol=0.6\n")
    result = pytester.runpytest("--accel-no-bench", "-k", "float8_e4m3fn")
    result.assert_outcomes(passed=2, skipped=1, deselected=6)


def test_float8_data_beyond_its_range_is_refused_with_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="torch", dtypes=["float8_e4m3fn", "float8_e5m2"])
        def test_big(accel_device):
            x = accel_device.asarray([1.0, 500.0])
            accel_device.check(x)
        """
    )
    result = pytester.runpytest("--accel-no-bench")
    # float8_e4m3fn has no Inf: 500 would saturate in torch and become NaN in JAX. float8_e5m2 holds it.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*x = accel_device.asarray(*",
            "E*ValueError: 1 value(s) up to 500 lie beyond float8_e4m3fn's largest finite value 448, and "
            "float8_e4m3fn has no Inf: scale the data into range first*",
        ]
    )
    assert "pytest_accel/fixture.py" not in result.stdout.str()


ORACLE_TEST = """
import pytest

@pytest.mark.accel(framework="jax", dtypes=["float8_e4m3fn"], oracle=True)
def test_qmm(accel_device):
    xp = accel_device.framework_xp
    a, b = accel_device.randn(16, 64), accel_device.randn(64, 8)
    wide = xp.float64 if a.dtype == xp.float64 else xp.float32  # float64 in the oracle pass
    out = (xp.matmul(a, b, preferred_element_type=wide) / 8).astype(a.dtype)
    if accel_device.name == "cpu:1":
        {bug}
    accel_device.check(a, name="inputs")
    accel_device.check(out, name="out")
"""


def test_the_float64_oracle_starts_from_float8_rounded_inputs(
    pytester: pytest.Pytester, two_jax_devices_hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ORACLE_TEST.format(bug="pass"))
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    result = two_jax_devices_hosted("--accel-no-bench", "--accel=all", "--accel-save=out.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([r"*vs oracle*"])
    saved = json.loads((pytester.path / "out.json").read_text())
    for record in saved["results"]:
        inputs, out = record["checks"]
        # The oracle's float64 inputs are the float8 inputs exactly: no error at all.
        assert inputs["error_vs_oracle"] == 0.0
        # The float8 output is within half a float8 step of the exact product (u = 2^-4).
        assert 0.0 < out["error_vs_oracle"] <= 2.0**-4


def test_the_oracle_fails_a_float8_result_much_less_accurate_than_the_reference(
    pytester: pytest.Pytester, two_jax_devices_hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ORACLE_TEST.format(bug="out = (out.astype(xp.float32) * 1.5).astype(a.dtype)"))
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    result = two_jax_devices_hosted("--accel-no-bench", "--accel=all")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*accuracy check failed on jax cpu:1 (float8_e4m3fn), check 'out': error against the float64*"]
    )


def test_the_fnuz_formats_of_amd_gpus_work_as_the_others(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        QUANTIZED_MATMUL.format(jax_bug="pass").replace(
            '["float32", "float8_e4m3fn", "float8_e5m2"]', '["float8_e4m3fnuz", "float8_e5m2fnuz"]'
        )
    )
    result = pytester.runpytest("--accel-no-bench", "-v", "--accel-save=results.json")
    result.assert_outcomes(passed=4, skipped=2)
    result.stdout.fnmatch_lines(["*test_qmm[[]jax-cpu-float8_e4m3fnuz[]] PASSED*"])
    saved = json.loads((pytester.path / "results.json").read_text())
    for record in (r for r in saved["results"] if r["framework"] == "jax"):
        inputs, out = record["checks"]
        assert inputs["headroom"] == 0.0 and out["passed"]
