"""Default error allowances per dtype, and how overrides are layered on top of them.

The allowed error of element i is ``atol + rtol * (|reference_i| + rms(reference))``: the rms term
carries the scale of the whole result, so outputs that cancel to near zero (sums, prefix sums, matmul
entries) get the error bound their computation really has, not one relative to their tiny value.
"""

from __future__ import annotations

from dataclasses import dataclass

EXACT_DTYPES = ("bool", "int8", "uint8", "int16", "int32", "int64")


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:.3g}, atol={self.atol:.3g}"


# rtol: about 100-200 unit roundoffs for float32 and 20 for the half types, enough for the
# reordering of long reductions between devices, far below a real defect. float32's rtol is also
# well below TF32's 10-bit mantissa, so a float32 result computed in TF32 is caught.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-12, atol=1e-300),
    "float32": Tolerance(rtol=1e-5, atol=1e-30),
    "float16": Tolerance(rtol=1e-2, atol=1e-7),
    "bfloat16": Tolerance(rtol=8e-2, atol=1e-30),
    "complex128": Tolerance(rtol=1e-12, atol=1e-300),
    "complex64": Tolerance(rtol=1e-5, atol=1e-30),
}


def default_tolerance(dtype: str) -> Tolerance:
    """The default for a dtype name; exact dtypes get zero, unknown floats the float32 default."""
    if dtype in EXACT_DTYPES:
        return Tolerance(0.0, 0.0)
    return DEFAULT_TOLERANCES.get(dtype, DEFAULT_TOLERANCES["float32"])


def layered(dtype: str, *overrides: tuple[float | None, float | None]) -> Tolerance:
    """Apply (rtol, atol) overrides from the most general to the most specific layer."""
    base = default_tolerance(dtype)
    rtol, atol = base.rtol, base.atol
    for override_rtol, override_atol in overrides:
        if override_rtol is not None:
            rtol = override_rtol
        if override_atol is not None:
            atol = override_atol
    return Tolerance(rtol, atol)
