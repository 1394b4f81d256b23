"""Adopting an existing suite: its own fixtures from ``accel_fixture`` (a conftest-only change), parity
from the asserts it already makes (capture), and the example in ``examples/adoption``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import HAS_TORCH, needs_torch

from pytest_accel.adoption import accel_fixture

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "adoption"
CAPTURE_ON = ("-o", "accel_capture_asserts=true", "--accel-no-bench", "-p", "no:cacheprovider")

SUITE_CONFTEST = """
from pytest_accel.adoption import accel_fixture

device = accel_fixture("native")
dtype = accel_fixture("dtype")
device_name = accel_fixture("name")
kind_upper = accel_fixture(lambda d: d.kind.upper())
"""

SUITE_TESTS = """
def test_uses_only_the_suites_fixtures(device, dtype, device_name, kind_upper):
    assert (device_name, kind_upper) == ("cpu", "CPU")
    assert str(dtype) in ("float32", "float64", "torch.float32", "torch.float64")

def test_members_are_accel_devices(device, dtype, device_name, accel_device):
    assert device is accel_device.native and dtype is accel_device.dtype
    assert device_name == accel_device.name
    if accel_device.framework == "torch":
        assert device_name == str(device)  # the string torch.device() and .to() take

def test_plain():
    pass
"""


def test_the_suites_own_fixture_names_make_its_tests_accel_tests(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SUITE_CONFTEST)
    pytester.makepyfile(test_suite=SUITE_TESTS)
    frameworks = "numpy torch" if HAS_TORCH else "numpy"
    pytester.makeini(f"[pytest]\naccel_framework = {frameworks}\naccel_dtypes = float32 float64\n")
    result = pytester.runpytest("-v", "--accel-no-bench", "-p", "no:cacheprovider")
    per_test = 2 * len(frameworks.split())  # every framework x dtype
    result.assert_outcomes(passed=2 * per_test + 1)
    result.stdout.fnmatch_lines(
        ["*test_uses_only_the_suites_fixtures[[]numpy-cpu-float64[]] PASSED*", "*test_plain PASSED*"]
    )


def test_an_unknown_member_fails_at_conftest_import_naming_the_members() -> None:
    with pytest.raises(ValueError, match=r"'device'.*native, dtype, name"):
        accel_fixture("device")


CAPTURED = """
import numpy as np
import pytest
from numpy.testing import assert_allclose

import helpers

ORIGINAL = {"assert_allclose": np.testing.assert_allclose}  # in a dict: module globals are patched

@pytest.mark.accel(framework="numpy")
def test_captured(accel_device):
    original = ORIGINAL["assert_allclose"]
    assert np.testing.assert_allclose is not original and assert_allclose is not original
    x = accel_device.randn(8)
    assert_allclose(x, x)
    np.testing.assert_allclose(x * 2, x * 2)
    np.testing.assert_equal(x.shape, (8,))  # ints only (a shape, a count): counted, not recorded
    np.testing.assert_equal("text", "text")  # no numbers: counted, not recorded
    helpers.assert_close(x + 1, x + 1)  # a wrapper of assert_allclose: recorded once
    np.testing.assert_equal({"sum": x.sum(), "n": 8}, {"sum": x.sum(), "n": 8})

@pytest.mark.accel(framework="numpy")
def test_own_assert_fails(accel_device):
    x = accel_device.randn(4)
    np.testing.assert_allclose(x, x + 1)

def test_plain_sees_the_originals():
    original = ORIGINAL["assert_allclose"]
    assert np.testing.assert_allclose is original and assert_allclose is original
"""

HELPERS = """
import numpy as np

def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6)
"""


def test_captured_asserts_record_checks_and_the_suites_assert_still_decides(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_captured=CAPTURED, helpers=HELPERS)
    pytester.makeini("[pytest]\naccel_capture_functions = helpers.assert_close\n")
    original = np.testing.assert_allclose
    result = pytester.runpytest(*CAPTURE_ON, "--accel-save=out.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_own_assert_fails*", "E*AssertionError*", "E*Not equal to tolerance*"])
    assert np.testing.assert_allclose is original  # restored after the session, failure included
    checks = {
        r["nodeid"].split("::")[1]: [c["name"] for c in r["checks"]]
        for r in json.loads((pytester.path / "out.json").read_text())["results"]
    }
    assert checks["test_captured[numpy-cpu-float32]"] == [
        "assert_allclose#0",
        "assert_allclose#1",
        "assert_close#0",
        "assert_equal#2",
    ]


def test_without_capture_nothing_is_patched_or_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        ORIGINAL = np.testing.assert_allclose

        @pytest.mark.accel(framework="numpy")
        def test_unpatched(accel_device):
            assert np.testing.assert_allclose is ORIGINAL
            x = accel_device.randn(3)
            np.testing.assert_allclose(x, x)
        """
    )
    result = pytester.runpytest("--accel-no-bench", "--accel-save=out.json")
    result.assert_outcomes(passed=1)
    assert json.loads((pytester.path / "out.json").read_text())["results"][0]["checks"] == []


# torch items compare with numpy's run of the same body (reference="numpy"): two "devices" in one process.
AGAINST_NUMPY = """
import numpy as np
import pytest
import torch

@pytest.mark.accel(framework=["torch", "numpy"], reference="numpy")
def test_device_only_bug(accel_device):
    out = accel_device.framework_xp.exp(accel_device.randn(64))
    if accel_device.framework == "torch":
        out = out * 1.001  # a bug only torch's path has: the suite's own assert cannot see it
    torch.testing.assert_close(out, out)

@pytest.mark.accel(framework=["torch", "numpy"], reference="numpy")
def test_more_asserts_on_torch(accel_device):
    x = accel_device.randn(4)
    for _ in range(2 if accel_device.framework == "torch" else 1):
        np.testing.assert_allclose(x, x)

@pytest.mark.accel(framework=["torch", "numpy"], reference="numpy")
def test_asserts_in_another_order(accel_device):
    x = accel_device.randn(4)
    first, second = np.testing.assert_allclose, np.testing.assert_array_equal
    if accel_device.framework == "torch":
        first, second = second, first
    first(x, x)
    second(x, x)
"""


@needs_torch
def test_a_device_only_bug_and_differing_asserts_fail_naming_the_captured_assert(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_against_numpy=AGAINST_NUMPY)
    result = pytester.runpytest(*CAPTURE_ON)
    result.assert_outcomes(passed=3, failed=3)
    output = result.stdout.str()
    for test in ("test_device_only_bug", "test_more_asserts_on_torch", "test_asserts_in_another_order"):
        assert f"FAILED test_against_numpy.py::{test}[torch-cpu-float32]" in output
    result.stdout.fnmatch_lines(
        [
            "*parity failed on torch cpu (float32) against the reference numpy cpu, check 'assert_close#0'*",
            "*check #2 ('assert_allclose#1') on cpu has no counterpart*'assert_allclose#0'*",
            "*check #1 is named 'assert_array_equal#0' on cpu but 'assert_allclose#0'*",
        ]
    )


def test_a_misspelt_capture_function_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    pytester.makeini("[pytest]\naccel_capture_functions = mylib.assert_close assert-close\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*accel_capture_functions: 'assert-close' is not a dotted name*"])


def test_capture_in_a_numpy_only_session_loads_no_torch(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            print("TORCH LOADED:", "torch" in sys.modules)
        """
    )
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="numpy")
        def test_numpy(accel_device):
            x = accel_device.randn(3)
            np.testing.assert_allclose(x, x)
        """
    )
    result = pytester.runpytest_subprocess(*CAPTURE_ON, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TORCH LOADED: False*"])


# ---- the example: examples/adoption, a JAX suite adopted by its conftest ---------------------------


def _copy_example(destination: Path) -> None:
    shutil.copytree(EXAMPLE, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


def _plant_cpu1_bug(folder: Path) -> None:
    """mylib.scale 2e-4 too large on JAX's second CPU device only: within the suite's own tolerance."""
    path = folder / "mylib.py"
    line = "    return x * jnp.asarray(factor, x.dtype)\n"
    text = path.read_text()
    assert line in text, "examples/adoption/mylib.py changed: update the planted bug"
    bug = "    import jax\n\n    if jax.devices('cpu')[1] in x.devices():\n        factor = factor * 1.0002\n"
    path.write_text(text.replace(line, bug + line))


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """test id -> PASSED/FAILED/..., from a -v run."""
    found = re.findall(r"^test_mylib\.py::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", result.stdout.str(), re.M)
    return dict(found)


def test_example_a_bug_on_one_device_fails_there_naming_the_captured_assert(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    _copy_example(pytester.path)
    _plant_cpu1_bug(pytester.path)
    adopted = two_jax_devices_hosted("--accel=all", "--accel-no-bench", "-v", "-p", "no:cacheprovider")
    outcomes = _outcomes(adopted)
    failed = sorted(test for test, outcome in outcomes.items() if outcome != "PASSED")
    assert failed == ["test_scale[jax-cpu:1-float32]"], adopted.stdout.str()[-3000:]
    # The same test passes on the reference device, and in float16 (2.5 x 1.0002 rounds to 2.5 there).
    assert outcomes["test_scale[jax-cpu-float32]"] == outcomes["test_scale[jax-cpu:1-float16]"] == "PASSED"
    adopted.stdout.fnmatch_lines(
        ["*parity failed on jax cpu:1 (float32) against the reference cpu, check 'assert_allclose#0'*"]
    )

    # Without capture the adopted suite gives its own outcomes, as the original conftest does on cpu:1.
    uncaptured = two_jax_devices_hosted(
        "--accel=all", "--accel-no-bench", "-v", "-p", "no:cacheprovider", "-o", "accel_capture_asserts=false"
    )
    (pytester.path / "conftest.py").write_text((pytester.path / "conftest_original.py").read_text())
    original = two_jax_devices_hosted("--device", "cpu:1", "--dtype", "float32", "-v", "-p", "no:accel")
    original_outcomes = _outcomes(original)
    assert set(original_outcomes.values()) == {"PASSED"}, original.stdout.str()[-3000:]
    uncaptured_outcomes = _outcomes(uncaptured)
    assert uncaptured_outcomes.keys() == outcomes.keys(), uncaptured.stdout.str()[-3000:]
    for test, outcome in uncaptured_outcomes.items():
        assert outcome == original_outcomes[test.partition("[")[0]], test


def test_example_is_its_own_suite_and_the_examples_run_leaves_it_out(pytester: pytest.Pytester) -> None:
    _copy_example(pytester.path / "examples" / "adoption")
    pytester.makeini("[pytest]\n")  # the repository's own configuration, above the example
    whole = pytester.runpytest("--collect-only", "-q", "examples")
    assert whole.ret == pytest.ExitCode.NO_TESTS_COLLECTED, whole.stdout.str()
    own = pytester.runpytest("--collect-only", "-q", "examples/adoption")
    assert own.ret == pytest.ExitCode.OK, own.stdout.str()
    own.stdout.fnmatch_lines(["test_mylib.py::test_scale[[]jax-cpu-float16[]]"])


BODY_RUNS = """
import pathlib

import numpy as np
import pytest

@pytest.mark.accel(framework=["torch", "numpy"], reference="numpy")
@pytest.mark.parametrize("asserts", [0, 1])
def test_body(accel_device, asserts):
    with pathlib.Path(f"runs-{asserts}.txt").open("a") as runs:
        runs.write(accel_device.framework + " ")
    x = accel_device.randn(4)
    for _ in range(asserts):
        np.testing.assert_allclose(x, x)
"""


@needs_torch
def test_an_item_with_no_captured_assert_pays_no_reference_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_runs=BODY_RUNS)
    result = pytester.runpytest(*CAPTURE_ON, "-k", "torch")  # the numpy items, which cache, are left out
    result.assert_outcomes(passed=2, deselected=2)
    assert (pytester.path / "runs-0.txt").read_text().split() == ["torch"]
    assert (pytester.path / "runs-1.txt").read_text().split() == ["torch", "numpy"]


def test_a_listed_function_that_is_not_there_is_warned_about_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="numpy")
        @pytest.mark.parametrize("i", [0, 1])
        def test_twice(accel_device, i):
            x = accel_device.randn(3)
            np.testing.assert_allclose(x, x)
        """
    )
    pytester.makeini("[pytest]\naccel_capture_functions = numpy.testing.assert_missing\n")
    result = pytester.runpytest(*CAPTURE_ON)
    result.assert_outcomes(passed=2, warnings=1)
    assert result.stdout.str().count("numpy.testing has no function assert_missing") == 1
