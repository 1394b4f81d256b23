"""The float format table's rounding against the frameworks' own casts: the plugin rounds float8 (and
the oracle's bfloat16 and float16) inputs on the host, so it must give exactly the bits torch and
ml_dtypes (JAX's host conversion) give wherever they agree with each other, that is, in range."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_accel.dtypes.float_formats import FLOAT8_DTYPES, FORMATS


def _float32_values() -> np.ndarray:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2**32, size=1_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    spread = rng.standard_normal(500_000) * np.exp(rng.uniform(-25, 12, 500_000))
    special = [0.0, -0.0, 1.0625, 1.1875, 464.0, 465.0, 240.0, 248.0, 2.0**-9, 2.0**-10, 3 * 2.0**-11]
    values = np.concatenate([bits, spread.astype(np.float32), np.float32(special)])
    return values[np.isfinite(values)]


VALUES = _float32_values()
LOW_PRECISION = [*FLOAT8_DTYPES, "bfloat16", "float16"]


@pytest.mark.parametrize("name", LOW_PRECISION)
def test_rounding_matches_ml_dtypes_bit_for_bit(name):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    target = np.float16 if name == "float16" else getattr(ml_dtypes, name)
    with np.errstate(over="ignore", invalid="ignore"):
        theirs = VALUES.astype(target).astype(np.float64)
    ours = FORMATS[name].round(VALUES)
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
    assert same.all(), (VALUES[~same][:5], ours[~same][:5], theirs[~same][:5])
    assert np.array_equal(np.signbit(ours[ours == 0]), np.signbit(theirs[theirs == 0]))  # fnuz: no -0


@pytest.mark.parametrize("name", LOW_PRECISION)
def test_rounding_matches_torch_in_range(name):
    torch = pytest.importorskip("torch")
    fmt = FORMATS[name]
    # torch saturates float8_e4m3fn beyond 448 where ml_dtypes gives NaN: only in range do they agree,
    # and only in range does the plugin hand such values to a framework.
    in_range = VALUES[np.abs(fmt.round(VALUES)) <= fmt.max_finite]
    theirs = torch.from_numpy(in_range).to(getattr(torch, name)).double().numpy()
    assert np.array_equal(fmt.round(in_range), theirs)


def test_overflow_follows_the_format():
    assert np.isnan(FORMATS["float8_e4m3fn"].round(np.array([465.0]))).all()  # no Inf: NaN
    assert FORMATS["float8_e4m3fn"].round(np.array([464.0]))[0] == 448.0  # a tie rounds to even
    assert FORMATS["float8_e5m2"].round(np.array([61440.0]))[0] == np.inf
    assert FORMATS["float16"].round(np.array([65519.0]))[0] == 65504.0
    assert FORMATS["float8_e4m3fn"].holds(np.array([448.0, 0.5, 0.3])).tolist() == [True, True, False]
