"""Oracle mode: each device's error against a float64 CPU run of the same test, next to the reference's.

Parity says two devices agree; the oracle says how close each is to the exact answer. A device much
less accurate than the reference device fails, with both errors in the message.
"""

from __future__ import annotations

import math

import numpy as np

from pytest_accel.error_kernels import host_copy
from pytest_accel.float_formats import FLOAT8_DTYPES, unit_roundoff
from pytest_accel.leaves import HostLeaf

# A device fails when its error exceeds this multiple of the reference's error (or of the floor):
# reorderings of the same arithmetic stay well within it; lower-precision arithmetic does not.
ACCURACY_FACTOR = 4.0
# Errors below this many unit roundoffs of the dtype are never "much less accurate". float8 results
# are rounded once from a wider computation, so a correct one is at most half a step (1 u) from the
# oracle: its floor is half a unit, so that the allowance starts at one float8 step (2 u); 8 units
# would allow 32 u, more than the whole value, and no float8 result could ever fail.
FLOOR_UNITS = 8.0
FLOAT8_FLOOR_UNITS = 0.5


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


def accuracy_verdict(dtype: str, device_error: float, reference_error: float) -> str | None:
    """None when the device is about as accurate as the reference; else the reason it is not."""
    units = FLOAT8_FLOOR_UNITS if dtype in FLOAT8_DTYPES else FLOOR_UNITS
    floor = units * unit_roundoff(dtype)
    allowed = ACCURACY_FACTOR * max(reference_error, floor)
    if device_error <= allowed:
        return None
    return (
        f"error against the float64 oracle is {device_error:.3g} on this device but "
        f"{reference_error:.3g} on the reference device (allowed: {ACCURACY_FACTOR:g}x the "
        f"reference's error, at least {ACCURACY_FACTOR * floor:.3g}); errors are "
        "|value - oracle| / (|oracle| + rms(oracle)), worst element"
    )


def oracle_dtype(dtype: str) -> str:
    """The dtype the oracle computes in: float64, or complex128 for complex tests."""
    return "complex128" if dtype.startswith("complex") else "float64"
