"""Dtype names: the ones users write (markers, ini keys) and the short ones narrow summaries print."""

from __future__ import annotations

# Dtype names users may write in the marker.
FLOAT_DTYPES = (
    "float64",
    "float32",
    "float16",
    "bfloat16",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
)
COMPLEX_DTYPES = ("complex128", "complex64")
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")
DTYPE_NAMES = FLOAT_DTYPES + COMPLEX_DTYPES + INT_DTYPES
# The short names narrow summaries print; the marker, accel_dtypes and accel_tolerances accept them too.
SHORT_DTYPES = {
    "float64": "f64",
    "float32": "f32",
    "float16": "f16",
    "bfloat16": "bf16",
    "float8_e4m3fn": "f8e4m3",
    "float8_e5m2": "f8e5m2",
    "float8_e4m3fnuz": "f8e4m3z",
    "float8_e5m2fnuz": "f8e5m2z",
    "complex128": "c128",
    "complex64": "c64",
}
FULL_DTYPE_NAMES = {short: full for full, short in SHORT_DTYPES.items()}


def full_dtype_name(name: str) -> str | None:
    """The full dtype name for a full or short name (``bf16`` -> ``bfloat16``), None if it is neither."""
    if name in DTYPE_NAMES:
        return name
    return FULL_DTYPE_NAMES.get(name)
