"""Oracle mode: each device's error against a float64 CPU run of the same test, next to the reference's.

Parity says two devices agree; the oracle says how close each is to the exact answer. A device much
less accurate than the reference device fails, with both errors in the message.
"""

from __future__ import annotations

import math

import numpy as np

from pytest_accel.dtypes.float_formats import FLOAT8_DTYPES, unit_roundoff
from pytest_accel.parity.error_kernels import host_copy
from pytest_accel.parity.leaves import HostLeaf

# A device fails when its error is more than ACCURACY_FACTOR times the reference's and more than a floor
# of unit roundoffs u of the dtype: reorderings of the same arithmetic stay well within it; arithmetic in
# a narrower format does not. The floor is absolute (the factor does not multiply it), from measured
# errors (leaf_error) of correct results against float64 where the reference's error was too small for
# the factor to decide: the corpus' H200 and CPU results against its float64 oracle (whose inputs were
# not rounded to the half types: upper bounds there), and torch's and JAX's CPU results of the corpus'
# ops against float64 from inputs rounded to the dtype, as oracle mode computes it:
# - half types: an H200 float16 prefix sum of 131,072 values reaches 9.7 u against a CPU reference of
#   1.5 u (bfloat16: 7.9 u against 0.9 u), JAX's CPU float16 prefix sum 10.0 u against torch's 0.7 u.
#   12 u passes them and fails a bfloat16 result 86x less accurate than the reference (16 u vs 0.19 u).
# - float32 and wider: JAX's CPU float32 prefix sum of 131,072 values reaches 14.8 u against torch's
#   0.6 u, so the floor stays at 32 u; what it must catch there (TF32, bfloat16 or float16 arithmetic)
#   is thousands of u off.
# - float8: a result rounded once from a wider computation is at most half a step (1 u) from the
#   oracle, so the floor is one step (2 u); 12 u would be 75% (e4m3) or 150% (e5m2) of the value, and
#   no float8 result could ever fail.
ACCURACY_FACTOR = 4.0
HALF_FLOOR_UNITS = 12.0
WIDE_FLOOR_UNITS = 32.0
FLOAT8_FLOOR_UNITS = 2.0
HALF_DTYPES = ("float16", "bfloat16")


def leaf_error(actual: HostLeaf | None, oracle: HostLeaf | None) -> float:
    """Worst ``|actual - oracle| / (|oracle| + rms(oracle))``: the error on the result's own scale."""
    if actual is None or oracle is None:
        return 0.0 if actual is None and oracle is None else math.inf
    if actual.shape != oracle.shape:
        return math.inf
    host = host_copy(actual.values)
    a = np.asarray(host, dtype=np.complex128 if np.iscomplexobj(host) else np.float64)
    o = np.asarray(host_copy(oracle.values), dtype=a.dtype)
    finite = np.isfinite(o)
    if not np.array_equal(np.isfinite(a), finite):
        return math.inf
    if not finite.any():
        return 0.0
    a, o = a[finite], o[finite]
    scale = float(np.sqrt(np.mean(np.abs(o) ** 2)))
    denominator = np.abs(o) + scale
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(denominator > 0, np.abs(a - o) / denominator, np.where(a == o, 0.0, np.inf))
    return float(ratio.max())


def nest_error(actual: dict[str, HostLeaf | None], oracle: dict[str, HostLeaf | None]) -> float:
    """The worst leaf error of a nest; a nest whose paths differ from the oracle's is infinitely off."""
    if set(actual) != set(oracle):
        return math.inf
    return max((leaf_error(actual[path], oracle[path]) for path in oracle), default=0.0)


def floor_units(dtype: str) -> float:
    """Errors up to this many unit roundoffs of ``dtype`` are never "much less accurate"."""
    if dtype in FLOAT8_DTYPES:
        return FLOAT8_FLOOR_UNITS
    return HALF_FLOOR_UNITS if dtype in HALF_DTYPES else WIDE_FLOOR_UNITS


def allowed_error(dtype: str, reference_error: float) -> float:
    """The largest error against the oracle a device may have: 4x the reference's, at least the floor."""
    return max(ACCURACY_FACTOR * reference_error, floor_units(dtype) * unit_roundoff(dtype))


def accuracy_verdict(dtype: str, device_error: float, reference_error: float) -> str | None:
    """None when the device is about as accurate as the reference; else the reason it is not."""
    allowed = allowed_error(dtype, reference_error)
    if device_error <= allowed:
        return None
    floor = floor_units(dtype) * unit_roundoff(dtype)
    return (
        f"error against the float64 oracle is {device_error:.3g} on this device but "
        f"{reference_error:.3g} on the reference device (allowed: {allowed:.3g}, the larger of "
        f"{ACCURACY_FACTOR:g}x the reference's error and {floor_units(dtype):g} unit roundoffs of "
        f"{dtype}, {floor:.3g}); errors are |value - oracle| / (|oracle| + rms(oracle)), worst element"
    )


def oracle_dtype(dtype: str) -> str:
    """The dtype the oracle computes in: float64, or complex128 for complex tests."""
    return "complex128" if dtype.startswith("complex") else "float64"
