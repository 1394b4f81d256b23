"""Bad input everywhere gets a clean usage or collection error, never an internal traceback.

Hypothesis feeds random, mostly malformed values to the command-line options, the ini keys and the
marker's arguments; every run must end with a known exit code, without INTERNALERROR and without a
traceback through the plugin's own code.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("hypothesis", reason="Hypothesis (the test extra) is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_accel.config.marker import MARKER_KEYS
from pytest_accel.config.options import SETTINGS

# A fixed set of examples in CI; PYTEST_ACCEL_FUZZ_EXAMPLES=500 explores new ones at random.
_DEEP = int(os.environ.get("PYTEST_ACCEL_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_DEEP or 25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=not _DEEP,
)
ALLOWED_EXITS = {0, 1, 2, 4, 5}

TEST_MODULE = """
import json
import pytest

KWARGS = json.loads(open("marker.json").read())

@pytest.mark.accel(**KWARGS)
def test_fuzzed(accel_device):
    accel_device.check(accel_device.randn(3))
"""

# Every setting's ini key, and every option that takes a value (a flag given a value is argparse's error):
# read from the plugin's table, so that a new setting is fuzzed too.
OPTIONS = tuple(setting.option for setting in SETTINGS if setting.metavar)
INI_KEYS = tuple(setting.name for setting in SETTINGS)

texts = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
    st.sampled_from(
        [
            "",
            "-1",
            "0",
            "nan",
            "inf",
            "1e999",
            "10%%",
            "%",
            "cpu,,cuda",
            "cuda:-1",
            "cuda:x",
            "all,cpu",
            "a.md",
            "b.txt",
            "dir/",
            "1,2",
            "true",
            "maybe",
            "float33: rtol=x",
        ]
    ),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=True), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)
marker_kwargs = st.dictionaries(st.one_of(st.sampled_from(MARKER_KEYS), texts), json_values, max_size=4)


def _assert_clean(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert int(result.ret) in ALLOWED_EXITS, output[-3000:]
    assert "INTERNALERROR" not in output, output[-3000:]
    assert "/pytest_accel/" not in output, output[-3000:]  # no traceback through the plugin's code


@FUZZ
@given(option=st.sampled_from(OPTIONS), value=texts)
def test_fuzzed_option_values(pytester: pytest.Pytester, option: str, value: str) -> None:
    pytester.makepyfile(test_plain=TEST_MODULE)
    (pytester.path / "marker.json").write_text(json.dumps({"framework": "numpy"}))
    _assert_clean(pytester.runpytest(f"{option}={value}", "-p", "no:cacheprovider"))


@FUZZ
@given(key=st.sampled_from(INI_KEYS), value=texts)
def test_fuzzed_ini_values(pytester: pytest.Pytester, key: str, value: str) -> None:
    pytester.makepyfile(test_plain=TEST_MODULE)
    (pytester.path / "marker.json").write_text(json.dumps({"framework": "numpy"}))
    pytester.makeini(f"[pytest]\n{key} = {value.replace(chr(10), ' ').replace(chr(13), ' ')}\n")
    _assert_clean(pytester.runpytest("-p", "no:cacheprovider"))


@FUZZ
@given(kwargs=marker_kwargs)
def test_fuzzed_marker_arguments(pytester: pytest.Pytester, kwargs: dict) -> None:
    kwargs.setdefault("framework", "numpy")
    pytester.makepyfile(test_plain=TEST_MODULE)
    (pytester.path / "marker.json").write_text(json.dumps(kwargs, allow_nan=True))
    _assert_clean(pytester.runpytest("-p", "no:cacheprovider"))
