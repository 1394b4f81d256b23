"""The examples pass in every documented mode: plain, float64 oracle (JAX_ENABLE_X64=1), without timing,
under pytest-xdist, and with JAX showing two CPU devices (so that cross-device parity really runs).

Modes that can share a session do (two runs in all): the oracle run is also the run without timing, and
the xdist run is also the run with two JAX devices, timed (the plain run is the README's quickstart).
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

MODES = {
    "oracle-without-timing": (
        {"JAX_ENABLE_X64": "1"},
        ["--accel-oracle", "--accel-no-bench", "--accel-summary=full"],  # the table, with its oracle column
    ),
    "xdist-two-jax-devices": (
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
        ["-n", "2", "--accel-bench-budget=0.01"],
    ),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_examples_pass_in_every_documented_mode(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    environment, arguments = MODES[mode]
    if "-n" in arguments:
        pytest.importorskip("xdist", reason="pytest-xdist (the test extra) is not installed")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = pytester.runpytest_subprocess("--accel=all", "-p", "no:cacheprovider", *arguments, str(EXAMPLES))
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()[-4000:]
    assert outcomes.get("passed", 0) >= 6 and not outcomes.get("failed") and not outcomes.get("errors")
    if mode == "oracle-without-timing":
        result.stdout.fnmatch_lines(["vs oracle: *"])
        assert "first-call times" not in result.stdout.str()  # nothing was timed
    if mode == "xdist-two-jax-devices" and "jax" in result.stdout.str():
        # more rows than a screen: the compact summary, with JAX's second device passing everything
        result.stdout.re_match_lines([r"jax cpu:1\s+\d+\s+0\s+0\s+0\s.*"])
