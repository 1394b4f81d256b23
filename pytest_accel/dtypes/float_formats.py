"""The low-precision float formats as numbers (precision, range), and rounding to them on the host.

One table serves the default tolerances, the oracle's unit roundoffs, the diagnosis of values rounded
through a narrower format, and the rounding of float8 inputs on the host. In range, that rounding agrees
bit for bit with torch's and ml_dtypes' casts (a test checks); out of range the frameworks disagree
(torch saturates float8_e4m3fn at 448 where ml_dtypes, JAX's host conversion, makes NaN), so the plugin
refuses such data instead of letting each framework pick.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class FloatFormat:
    """A binary float format: ``mantissa_bits`` stored fraction bits, normals from 2**min_exponent."""

    name: str
    mantissa_bits: int
    min_exponent: int
    max_finite: float
    overflows_to_inf: bool  # False: values beyond max_finite become NaN (the format has no Inf)
    has_negative_zero: bool = True  # False for the fnuz formats, whose -0 bit pattern is their NaN

    @property
    def unit_roundoff(self) -> float:
        """Half the distance from 1 to the next number: the largest relative error of one rounding."""
        return 2.0 ** -(self.mantissa_bits + 1)

    @property
    def step(self) -> float:
        """The largest distance between neighbours relative to their size (at a power of two): 2 u."""
        return 2.0 * self.unit_roundoff

    @property
    def smallest_subnormal(self) -> float:
        return 2.0 ** (self.min_exponent - self.mantissa_bits)

    def round(self, values: np.ndarray) -> np.ndarray:
        """``values`` rounded to this format (to nearest, ties to even), as float64."""
        import numpy as np  # here, not at the top: the plugin loads without numpy

        with np.errstate(invalid="ignore", over="ignore"):
            x = np.asarray(values, dtype=np.float64)
            _, exponent = np.frexp(x)  # |x| = m * 2**exponent with 0.5 <= m < 1
            exponent = np.maximum(exponent - 1, self.min_exponent)  # subnormals share the last quantum
            quantum = np.ldexp(1.0, exponent - self.mantissa_bits)
            rounded = np.round(x / quantum) * quantum
            rounded = np.where(np.isfinite(x), rounded, x)
            over = np.abs(rounded) > self.max_finite
            if self.overflows_to_inf:
                rounded = np.where(over, np.copysign(math.inf, x), rounded)
            else:
                rounded = np.where(over, math.nan, rounded)
            if not self.has_negative_zero:
                rounded = np.where(rounded == 0, 0.0, rounded)
        return rounded

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Elementwise: the value is exactly one of this format's finite numbers."""
        import numpy as np

        x = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.isfinite(x) & (self.round(x) == x)


FORMATS: dict[str, FloatFormat] = {
    "float8_e5m2": FloatFormat("float8_e5m2", 2, -14, 57344.0, overflows_to_inf=True),
    "float8_e4m3fn": FloatFormat("float8_e4m3fn", 3, -6, 448.0, overflows_to_inf=False),
    # The "fnuz" variants (AMD MI300): no Inf, no negative zero, one more binade of subnormal range.
    "float8_e5m2fnuz": FloatFormat("float8_e5m2fnuz", 2, -15, 57344.0, False, has_negative_zero=False),
    "float8_e4m3fnuz": FloatFormat("float8_e4m3fnuz", 3, -7, 240.0, False, has_negative_zero=False),
    "bfloat16": FloatFormat("bfloat16", 7, -126, math.ldexp(2 - 2.0**-7, 127), overflows_to_inf=True),
    "float16": FloatFormat("float16", 10, -14, 65504.0, overflows_to_inf=True),
    "float32": FloatFormat("float32", 23, -126, math.ldexp(2 - 2.0**-23, 127), overflows_to_inf=True),
    "float64": FloatFormat("float64", 52, -1022, sys.float_info.max, overflows_to_inf=True),
}
FLOAT8_DTYPES = ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz")
# Dtypes numpy has no type for: they travel to and from the host as float32, which holds them exactly.
HOST_AS_FLOAT32 = ("bfloat16", *FLOAT8_DTYPES)


def unit_roundoff(dtype: str) -> float:
    """The unit roundoff of a float or complex dtype name (complex64 is float32's)."""
    base = {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
    return FORMATS[base].unit_roundoff if base in FORMATS else FORMATS["float32"].unit_roundoff
