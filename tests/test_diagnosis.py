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
