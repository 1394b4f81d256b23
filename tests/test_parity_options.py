"""Tolerance layers, TF32 acceptance, the float64 oracle mode, and parity messages in real sessions."""

from __future__ import annotations

import pytest

# On cpu:1 the float32 matmul's inputs go through TF32 (10-bit mantissa), as on a GPU with TF32 on.
TF32_TEST = """
import jax.numpy as jnp
import numpy as np
import pytest

def tf32(x):
    bits = np.asarray(x).view(np.uint32)
    rounded = (bits + 0xFFF + ((bits >> 13) & 1)) & np.uint32(0xFFFFE000)
    return jnp.asarray(rounded.view(np.float32))

@pytest.mark.accel(framework="jax"{marker})
def test_mm(accel_device):
    a = accel_device.randn(256, 256)
    b = accel_device.randn(256, 256)
    if accel_device.name == "cpu:1":
        a, b = tf32(a), tf32(b)
    accel_device.check(jnp.matmul(a, b, precision="highest"), name="mm")
"""


def test_tf32_drift_fails_naming_tf32_and_its_switch(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(TF32_TEST.format(marker=""))
    result = two_jax_devices_hosted()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*parity failed on jax cpu:1 (float32)*",
            "*diagnosis: this float32 mismatch * fits TF32 precision (10-bit mantissa)*"
            "jax_default_matmul_precision*tf32=True*",
        ]
    )


def test_tf32_level_parity_can_be_accepted_on_purpose(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(TF32_TEST.format(marker=", tf32=True"))
    result = two_jax_devices_hosted()
    result.assert_outcomes(passed=2)


def test_configured_tolerances_layer_under_marker_and_call(pytester: pytest.Pytester) -> None:
    """defaults < ini by dtype < ini by kind.dtype < marker (tf32=True, then rtol/atol) < call."""
    pytester.makepyfile(
        """
        import numpy as np
        import pytest
        from pytest_accel.parity.tolerances import TF32_RTOL, tolerance_for_check

        def test_layers(pytestconfig):
            from pytest_accel.session.state import STATE_KEY
            table = pytestconfig.stash[STATE_KEY].settings.tolerances
            rule = lambda **kw: tolerance_for_check("float32", kind="cuda", table=table, tf32=False,
                                                    marker=kw.get("m", (None, None)),
                                                    call=kw.get("c", (None, None)))
            assert rule().rtol == 3e-5 and rule().atol == 1e-6          # cuda.float32 beats float32
            assert tolerance_for_check("float32", kind="cpu", table=table, tf32=False,
                                       marker=(None, None), call=(None, None)).rtol == 2e-5
            assert rule(m=(1e-4, None)).rtol == 1e-4 and rule(m=(1e-4, None)).atol == 1e-6
            assert rule(m=(1e-4, None), c=(5e-4, None)).rtol == 5e-4
            assert tolerance_for_check("float16", kind="cuda", table=table, tf32=False,
                                       marker=(None, None), call=(None, None)).rtol == 1e-2
            # tf32=True is the marker's: it beats the configuration, and the marker's own rtol beats it
            assert tolerance_for_check("float32", kind="cuda", table=table, tf32=True,
                                       marker=(None, None), call=(None, None)).rtol == TF32_RTOL
            assert rule(m=(1e-4, None)).rtol == tolerance_for_check(
                "float32", kind="cuda", table=table, tf32=True, marker=(1e-4, None), call=(None, None)).rtol
        """
    )
    pytester.makeini(
        """
        [pytest]
        accel_tolerances =
            float32: rtol=2e-5
            cuda.float32: rtol=3e-5, atol=1e-6
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("float31: rtol=1e-3", "*unknown dtype 'float31'*"),
        ("gpu.float32: rtol=1e-3", "*unknown device kind 'gpu'*"),
        ("float32: rtol=abc", "*rtol='abc'*is not a number*"),
        ("float32 tolerance", "*cannot read 'float32 tolerance'*"),
    ],
)
def test_bad_tolerance_configuration_is_a_usage_error(
    pytester: pytest.Pytester, line: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\naccel_tolerances =\n    {line}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: ini accel_tolerances: {message.lstrip('*')}"])


def test_tolerances_from_pyproject(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        accel_tolerances = ["float64: rtol=0.5"]
        """
    )
    pytester.makepyfile(
        """
        import numpy as np
        import pytest
        from pytest_accel import assert_parity

        @pytest.mark.accel(framework="numpy", dtypes=["float64"])
        def test_x(accel_device, pytestconfig):
            from pytest_accel.session.state import STATE_KEY
            table = pytestconfig.stash[STATE_KEY].settings.tolerances
            assert table.entries == {"float64": (0.5, None)}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


ORACLE_TEST = """
import pytest

@pytest.mark.accel(framework="jax", dtypes=["float32"]{marker})
def test_cumsum(accel_device):
    x = accel_device.randn(4096)
    s = accel_device.xp.cumsum(x)
    if accel_device.name == "cpu:1":
        s = s.astype("bfloat16").astype("float32")  # a device computing in lower precision
    accel_device.check(s, name="cumsum", rtol=1.0)  # parity alone would accept it
"""


def test_oracle_mode_fails_a_much_less_accurate_device(
    pytester: pytest.Pytester, two_jax_devices_hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ORACLE_TEST.format(marker=", oracle=True"))
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    monkeypatch.setenv("COLUMNS", "100")  # the whole row, names unshortened (80 columns shorten them)
    result = two_jax_devices_hosted("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*accuracy check failed on jax cpu:1 (float32), check 'cumsum': error against the float64 "
            "oracle is * on this device but * on the reference device*",
        ]
    )
    result.stdout.re_match_lines(
        [
            # the reference's error and the failing device's beside it, one row
            r"test\s+dtype\s+cpu\s+vs oracle\s+cpu:1\s+speedup\s+parity\s+vs oracle\s*$",
            # the parity held: the cell says the oracle failed, and by what factor over the reference
            # (the reference passed without bench: its whole-test time in parentheses)
            r"test_cumsum\s+float32\s+\(.+\)\s+\d\S*\s+FAILED\s+-\s+oracle FAIL \d+x\s+\d\S*\s*$",
        ]
    )


def test_oracle_mode_from_the_command_line(
    pytester: pytest.Pytester, two_jax_devices_hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(ORACLE_TEST.format(marker=""))
    without = two_jax_devices_hosted()
    without.assert_outcomes(passed=2)
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    with_oracle = two_jax_devices_hosted("--accel-oracle")
    with_oracle.assert_outcomes(passed=1, failed=1)


def test_oracle_mode_without_float64_says_how_to_enable_it(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(ORACLE_TEST.format(marker=", oracle=True"))
    result = two_jax_devices_hosted()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*oracle mode needs float64*JAX_ENABLE_X64=1*"])


def test_oracle_mode_with_numpy_reports_the_reference_accuracy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="numpy", dtypes=["float32", "float16"], oracle=True)
        def test_mean(accel_device):
            x = accel_device.randn(1000)
            assert x.dtype == accel_device.dtype
            accel_device.check(np.cumsum(x), name="cumsum")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.re_match_lines_random(
        [
            r"test_mean\s+float32\s+\(.+\)\s+\d\.\d+e-0[5-8]\s*$",
            r"test_mean\s+float16\s+\(.+\)\s+0\.0\d+\s*$",
        ]
    )


LAYER_TEST = """
import pytest
import jax.numpy as jnp

@pytest.mark.accel(framework="jax"{marker})
def test_{name}(accel_device):
    x = accel_device.randn(64)
    out = jnp.tanh(x)
    if accel_device.name == "cpu:1":
        out = out * 1.001  # 0.1% off: fails float32's default, passes rtol=1e-2
    accel_device.check(out, name="out"{call})
"""

# Per ini configuration (one session each), the tests it holds: name -> (marker, call, passes).
LAYER_SESSIONS = {
    "": {
        "default": ("", "", False),
        "call_beats_marker": (", rtol=1e-2", ", rtol=1e-6", False),
        "call": ("", ", rtol=1e-2", True),
    },
    "float32: rtol=1e-2": {"ini_dtype": ("", "", True)},
    "float32: rtol=1e-2\n    cpu.float32: rtol=1e-6": {
        "ini_kind_beats_dtype": ("", "", False),
        "marker_beats_ini": (", rtol=1e-2", "", True),
    },
}


@pytest.mark.parametrize("ini", list(LAYER_SESSIONS), ids=["no-ini", "ini-dtype", "ini-kind-and-dtype"])
def test_tolerance_layers_in_a_session(pytester: pytest.Pytester, two_jax_devices_hosted, ini: str) -> None:
    if ini:
        pytester.makeini(f"[pytest]\naccel_tolerances =\n    {ini}\n")
    tests = LAYER_SESSIONS[ini]
    pytester.makepyfile(
        **{
            f"test_{name}": LAYER_TEST.format(name=name, marker=marker, call=call)
            for name, (marker, call, _) in tests.items()
        }
    )
    result = two_jax_devices_hosted("-k", "cpu:1", "-rA")
    for name, (_, _, passes) in tests.items():
        outcome = "PASSED" if passes else "FAILED"
        result.stdout.fnmatch_lines([f"{outcome} test_{name}.py::test_{name}*"])
    failing = sum(not passes for _, _, passes in tests.values())
    result.assert_outcomes(passed=len(tests) - failing, failed=failing, deselected=len(tests))
