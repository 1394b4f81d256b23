"""Determinism: a second run of the body on the same device must give every check the same bits; a
planted function whose low bits change at each call fails, naming its check; numpy and JAX CPU
reductions pass."""

from __future__ import annotations

import numpy as np
import pytest
from measurement_suite import BASE, measurement_project
from shared_sessions import SharedProject

from pytest_accel.config.marker import read_marker
from pytest_accel.errors import AccelConfigError
from pytest_accel.fixture.determinism import bitwise_differences, same_bits
from pytest_accel.fixture.factory import deterministic_enabled
from pytest_accel.fixture.item_run import RecordedCheck
from pytest_accel.parity.leaves import HostLeaf
from pytest_accel.results.file import load_results


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    return measurement_project(tmp_path_factory)


def test_a_planted_nondeterministic_check_fails_by_name_and_reductions_pass(project: SharedProject) -> None:
    result = project.run(*BASE)
    result.assert_outcomes(passed=6, failed=1)
    output = result.stdout.str()
    assert "determinism failed on numpy cpu (float32)" in output
    assert "gave other bits in check(s) 'low_bits':" in output  # the check that differs, and only it
    assert "'exact'" not in output.split("gave other bits in check(s)")[1].splitlines()[0]
    assert "64 of 64 elements differ in their bits" in output  # how much: count, largest, vs parity
    assert "x the allowed parity error" in output
    assert "torch.use_deterministic_algorithms(True)" in output  # the switches are named
    document = load_results(project.path / "base.json")
    verdicts = {r["nodeid"].split("::")[1]: r["deterministic"] for r in document["results"]}
    assert verdicts["test_planted_nondeterminism[numpy-cpu-float32]"] is False
    assert verdicts["test_reductions[numpy-cpu-float32]"] is True
    assert verdicts["test_reductions[jax-cpu-float32]"] is True
    assert verdicts["test_jit[jax-cpu-float32]"] is None  # not asked
    text = " ".join(line.strip() for line in result.outlines)
    assert "determinism: 2 of 3 item(s) gave the same bits twice; not: test_measures.py::test_planted" in text


def _check(name: str, *values: np.ndarray) -> RecordedCheck:
    leaves = {f"{name}[{i}]": HostLeaf(v, v.dtype.name, "numpy") for i, v in enumerate(values)}
    return RecordedCheck(name, leaves)


def test_bits_not_tolerances_decide() -> None:
    x = np.linspace(-1, 1, 8, dtype=np.float32)
    assert same_bits(HostLeaf(x, "float32", "numpy"), HostLeaf(x.copy(), "float32", "numpy"))
    negative_zero = np.array([-0.0], dtype=np.float32)
    assert not same_bits(
        HostLeaf(np.zeros(1, np.float32), "float32", "numpy"), HostLeaf(negative_zero, "float32", "numpy")
    )
    nan = np.array([np.nan], dtype=np.float64)
    assert same_bits(HostLeaf(nan, "float64", "numpy"), HostLeaf(nan.copy(), "float64", "numpy"))
    nudged = x.copy()
    nudged[3] = np.nextafter(nudged[3], np.float32(2))
    names, lines = bitwise_differences(
        [_check("y", x), _check("z", x)], [_check("y", nudged), _check("z", x)]
    )
    assert names == ["y"]
    assert lines[0].startswith("y[0]: 1 of 8 elements differ in their bits between the two runs")
    assert "(3,)" in lines[2]  # the element, with both runs' values


def test_checks_made_differently_are_named() -> None:
    x = np.ones(2)
    names, lines = bitwise_differences([_check("a", x)], [_check("b", x)])
    assert names == ["(the checks made)"] and "['b']" in lines[0]


def test_the_marker_wins_over_the_option_and_takes_booleans_only() -> None:
    assert deterministic_enabled(None, True) and not deterministic_enabled(False, True)
    assert deterministic_enabled(True, False)
    arguments = dict(default_frameworks=("numpy",), default_dtypes=("float32",), default_reference="cpu")
    options = read_marker((), {"deterministic": True}, default_seed=0, test_name="t", **arguments)
    assert options.deterministic is True
    with pytest.raises(AccelConfigError, match=r"deterministic='yes'\): use True or False"):
        read_marker((), {"deterministic": "yes"}, default_seed=0, test_name="t", **arguments)
