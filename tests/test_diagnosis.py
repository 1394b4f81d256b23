"""What a failure's diagnosis line says, for the causes it names and for look-alikes it must not name:
TF32 (also when its truncation shrinks positive data), a systematic scale or offset, a result never
written, and values rounded through a narrower format."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_accel import ParityError, assert_parity

RNG = np.random.default_rng(7)


def diagnosis(actual: np.ndarray, reference: np.ndarray) -> list[str]:
    with pytest.raises(ParityError) as raised:
        assert_parity(actual, reference)
    return [line.strip() for line in str(raised.value).splitlines() if "diagnosis:" in line]


def tf32(values: np.ndarray, truncate: bool) -> np.ndarray:
    """float32 values with TF32's 10-bit mantissa: truncated toward zero (as tensor cores read their
    inputs) or rounded to nearest."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    if not truncate:
        bits = bits + 0xFFF + ((bits >> 13) & 1)
    return (bits & 0xFFFFE000).astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("mean", [0.0, 3.0], ids=["zero-mean", "positive"])
def test_tf32_is_named_for_truncated_inputs_also_when_they_shrink_the_product(mean):
    a = (RNG.standard_normal((64, 256)) + mean).astype(np.float32)
    b = (RNG.standard_normal((256, 64)) + mean).astype(np.float32)
    lines = diagnosis(tf32(a, truncate=True) @ tf32(b, truncate=True), a @ b)
    assert any("fits TF32 precision" in line for line in lines), lines
    if mean:  # truncation toward zero shrinks every product of positive data: a systematic scale
        assert any("systematic" in line and "0.999" in line for line in lines), lines


def test_an_offset_is_systematic_and_not_tf32():
    r = (RNG.standard_normal(256) * 2).astype(np.float32)
    lines = diagnosis(r + np.float32(1e-3), r)
    assert lines == [
        "diagnosis: the difference is systematic (a scale or offset): actual = reference + 0.001 accounts "
        "for 100.0% of it; a wrong constant, a missing term, or accumulation in a narrower type"
    ]


def test_a_wrong_scale_is_systematic():
    r = RNG.standard_normal((32, 32))
    (line,) = diagnosis(r * 1.25, r)
    assert "actual = 1.25 x reference accounts for 100.0%" in line


def test_one_element_off_is_not_called_systematic_even_when_it_dominates():
    r = RNG.standard_normal(1000).astype(np.float32)
    r[10] = 1000.0
    bad = r.copy()
    bad[10] = 900.0
    assert diagnosis(bad, r) == []


def test_an_unwritten_result_is_said_to_be_unwritten_not_rounded():
    r = RNG.standard_normal((16, 16)).astype(np.float32)
    assert diagnosis(np.zeros_like(r), r) == [
        "diagnosis: every actual value is 0 while the reference's vary: it looks unwritten (never computed)"
    ]


@pytest.mark.parametrize(
    ("dtype", "narrow", "expected"),
    [
        ("float32", np.float16, "float16"),
        ("float64", np.float32, "float32"),
    ],
)
def test_a_result_rounded_through_a_narrower_format_names_it(dtype, narrow, expected):
    r = RNG.standard_normal((32, 32)).astype(dtype)
    (line,) = diagnosis(r.astype(narrow).astype(dtype), r)
    assert f"rounded through {expected}" in line


def test_integer_valued_results_are_not_called_rounded():
    r = RNG.standard_normal((32, 32)).astype(np.float32)
    lines = diagnosis(np.round(r), r)
    assert not any("rounded through" in line for line in lines), lines


@pytest.mark.parametrize("k", [16, 256])
def test_a_float32_product_computed_in_float16_is_named_not_blamed_on_tf32(k):
    # Half-precision inputs and accumulation: the values fit float16 and stay within a few of its steps.
    x, w = RNG.standard_normal((64, k)).astype(np.float32), RNG.standard_normal((k, 64)).astype(np.float32)
    lines = diagnosis((x.astype(np.float16) @ w.astype(np.float16)).astype(np.float32), x @ w)
    assert len(lines) == 1 and "rounded through float16" in lines[0], lines


def test_relu_outputs_rounded_through_float16_are_named_despite_their_zeros():
    r = np.maximum(RNG.standard_normal((64, 64)), 0).astype(np.float32)
    (line,) = diagnosis(r.astype(np.float16).astype(np.float32), r)
    assert "rounded through float16" in line


def test_integer_results_get_neither_rounded_through_nor_tf32():
    pixels = RNG.uniform(0, 255, (32, 32)).astype(np.float32)
    assert diagnosis(np.floor(pixels), pixels) == []


def test_a_partly_unwritten_result_is_said_to_be():
    r = RNG.standard_normal(1000).astype(np.float32)
    bad = r.copy()
    bad[100:] = 0.0
    (line,) = diagnosis(bad, r)
    assert line.startswith("diagnosis: 900 of 1000 values are exactly 0 where the reference's are not")


def test_an_offset_on_positive_data_is_not_blamed_on_tf32():
    # Around 100, a scale explains an offset almost as well; the offset still wins, and TF32 stays out.
    r = (100 + RNG.standard_normal(512)).astype(np.float32)
    (line,) = diagnosis(r - np.float32(0.05), r)
    assert "actual = reference - 0.05" in line


def test_huge_values_give_a_true_fit_or_none_never_nan():
    r = RNG.standard_normal(256) * 1e300
    garbage = RNG.standard_normal(256) * 1e307  # like uninitialized float64 memory
    assert not any("nan%" in line for line in diagnosis(garbage, r))
    (line,) = diagnosis(r * 1.5, r)
    assert "actual = 1.5 x reference accounts for 100.0%" in line


def test_finite_values_where_the_reference_has_inf_are_said():
    r = np.concatenate([np.full(4, np.inf), RNG.standard_normal(60)]).astype(np.float32)
    bad = r.copy()
    bad[:4] = 1.0
    assert "diagnosis: 4 finite number(s) where the reference has Inf" in diagnosis(bad, r)


@pytest.mark.parametrize("magnitude", [1e160, 1e-170])
def test_float64_results_beyond_the_square_range_are_still_compared(magnitude):
    # Squaring 1e160 overflows float64: the scale must not become Inf (every allowance with it).
    r = RNG.standard_normal(100) * magnitude
    with pytest.raises(ParityError):
        assert_parity(-r, r)
    assert_parity(r * (1 + 1e-13), r)
