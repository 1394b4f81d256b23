"""--accel, its ini key and environment variable; absent devices; missing frameworks; import cost."""

from __future__ import annotations

import pytest
from conftest import needs_torch
from session_host import runpytest_hosted

NUMPY_TEST = """
import pytest

@pytest.mark.accel(framework="numpy")
def test_x(accel_device):
    accel_device.check(accel_device.randn(3))
"""


@needs_torch
def test_absent_cuda_is_a_usage_error_with_the_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hide any GPU, in a process started so (CUDA reads it once): a session host (tests/session_host.py)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="torch")
        def test_x(accel_device):
            pass
        """
    )
    result = runpytest_hosted(pytester, "--accel=cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: pytest-accel: requested devices are not present*never a skip*",
            "*--accel=cuda: torch has no cuda: *",
            "*--accel=all*",
        ]
    )
    assert "passed" not in result.stdout.str()


def test_a_kind_no_collected_framework_can_have_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NUMPY_TEST)
    result = pytester.runpytest("--accel=cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cuda applies to none of the frameworks of the collected tests (numpy)*"])


def test_all_never_errors_and_runs_what_is_present(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NUMPY_TEST)
    result = pytester.runpytest("--accel=all", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["accel: numpy *: cpu (*", "*test_x[[]numpy-cpu-float32[]] PASSED*"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpu", "*'gpu' is spelled 'cuda' here*"),
        ("cuda:x", "*device index in 'cuda:x' must be a number*"),
        ("quantum", "*unknown device kind 'quantum'*"),
        ("all,cpu", "*'all' cannot be combined*"),
    ],
)
def test_bad_spec_is_a_usage_error(pytester: pytest.Pytester, spec: str, message: str) -> None:
    pytester.makepyfile(NUMPY_TEST)
    result = pytester.runpytest(f"--accel={spec}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_spec_from_environment_and_ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(NUMPY_TEST)
    pytester.makeini("[pytest]\naccel = tpu\n")
    from_ini = pytester.runpytest()
    assert from_ini.ret == pytest.ExitCode.USAGE_ERROR
    from_ini.stderr.fnmatch_lines(["*ini accel=tpu: tpu applies to none*"])
    monkeypatch.setenv("PYTEST_ACCEL", "cpu")
    env_beats_ini = pytester.runpytest()
    env_beats_ini.assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_ACCEL", "mps")
    option_beats_env = pytester.runpytest("--accel=cpu")
    option_beats_env.assert_outcomes(passed=1)


def test_devices_a_test_excludes_are_not_generated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="numpy", devices=["cuda"])
        def test_only_cuda(accel_device):
            pass
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*none of the requested devices (cpu) is one this test runs on*"])


def test_missing_framework_skips_with_reason(pytester: pytest.Pytester) -> None:
    """A framework that cannot be imported skips its tests and says why; others still run."""
    # A subprocess whose torch and jax imports fail, as in an environment without them.
    pytester.mkpydir("torch").joinpath("__init__.py").write_text("raise ImportError('no torch')")
    pytester.mkpydir("jax").joinpath("__init__.py").write_text("raise ImportError('no jax')")
    pytester.makepyfile(
        test_missing=NUMPY_TEST
        + """
@pytest.mark.accel(framework="torch")
def test_torch(accel_device):
    pass

@pytest.mark.accel(framework="jax")
def test_jax(accel_device):
    pass
"""
    )
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("test_missing.py", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*SKIPPED*torch is not installed*pip install 'pytest-accel[[]torch[]]'*",
            "*SKIPPED*jax is not installed*pip install 'pytest-accel[[]jax[]]'*",
        ]
    )


def test_plugin_import_with_no_accel_tests_imports_no_framework(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = [m for m in ("torch", "jax", "jaxlib") if m in sys.modules]
            print("FRAMEWORKS LOADED:", loaded or "none")
        """
    )
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *accel-*", "*FRAMEWORKS LOADED: none*"])
    result.stdout.no_fnmatch_line("*== accel ==*")
    empty = pytester.mkdir("empty")
    empty_run = pytester.runpytest_subprocess("-s", str(empty))
    empty_run.stdout.fnmatch_lines(["*FRAMEWORKS LOADED: none*"])


def test_absent_device_under_xdist_fails_with_usage_error(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(NUMPY_TEST)
    result = pytester.runpytest_subprocess("-n", "2", "--accel=tpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["ERROR: pytest-accel: requested devices are not present*", "*--accel=tpu: tpu applies to none*"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
