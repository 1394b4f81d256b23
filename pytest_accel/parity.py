"""Comparison of nests of arrays against a reference: verdict, headroom, and a message that explains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_accel.diagnosis import diagnose_float_mismatch
from pytest_accel.leaves import HostLeaf, flatten
from pytest_accel.tolerances import EXACT_DTYPES, Tolerance, layered

WORST_SHOWN = 5


@dataclass
class LeafOutcome:
    """The verdict on one array of a nest; ``headroom`` is worst error / allowed error."""

    path: str
    passed: bool
    headroom: float
    lines: list[str] = field(default_factory=list)


@dataclass
class ParityOutcome:
    """The verdict on a whole nest."""

    leaves: list[LeafOutcome]
    context: str = ""

    @property
    def passed(self) -> bool:
        return all(leaf.passed for leaf in self.leaves)

    @property
    def headroom(self) -> float:
        return max((leaf.headroom for leaf in self.leaves), default=0.0)

    def message(self) -> str:
        failed = [leaf for leaf in self.leaves if not leaf.passed]
        head = f"parity failed{' ' + self.context if self.context else ''}:"
        body = []
        for leaf in failed:
            body.append(f"{leaf.path}:")
            body.extend(f"  {line}" for line in leaf.lines)
        return "\n".join([head, *body])


ToleranceFor = Callable[[str], Tolerance]


def compare_leaf(
    path: str, actual: HostLeaf | None, expected: HostLeaf | None, tolerance_for: ToleranceFor
) -> LeafOutcome:
    """Judge one leaf: structure first (presence, shape, dtype), then the values."""
    if actual is None or expected is None:
        if actual is None and expected is None:
            return LeafOutcome(path, True, 0.0)
        which = "None" if actual is None else "a value"
        other = "None" if expected is None else "a value"
        return LeafOutcome(path, False, float("inf"), [f"is {which} but the reference is {other}"])
    if actual.shape != expected.shape:
        return LeafOutcome(
            path,
            False,
            float("inf"),
            [f"shape {actual.shape} differs from the reference's {expected.shape}"],
        )
    if actual.dtype != expected.dtype and not _python_scalar_pair(actual, expected):
        return LeafOutcome(
            path,
            False,
            float("inf"),
            [f"dtype {actual.dtype} differs from the reference's {expected.dtype}"],
        )
    if expected.dtype in EXACT_DTYPES:
        return _compare_exact(path, actual, expected)
    return _compare_float(path, actual, expected, tolerance_for(expected.dtype))


def _python_scalar_pair(actual: HostLeaf, expected: HostLeaf) -> bool:
    return "python" in (actual.framework, expected.framework) and actual.values.ndim == 0


def _compare_exact(path: str, actual: HostLeaf, expected: HostLeaf) -> LeafOutcome:
    differs = np.asarray(actual.values != expected.values)
    count = int(differs.sum())
    if count == 0:
        return LeafOutcome(path, True, 0.0)
    lines = [f"{count} of {differs.size} elements differ ({expected.dtype} compares exactly)"]
    for flat in np.flatnonzero(differs)[:WORST_SHOWN]:
        index = _index_text(flat, differs.shape)
        lines.append(
            f"at {index}: {actual.values.flat[flat]!r} where the reference has {expected.values.flat[flat]!r}"
        )
    return LeafOutcome(path, False, float("inf"), lines)


def _working_dtype(values: np.ndarray) -> np.dtype:
    if values.dtype in (np.float64, np.complex128):
        return values.dtype
    if np.iscomplexobj(values):
        return np.dtype(np.complex64)
    return np.dtype(np.float32)


def _compare_float(path: str, actual: HostLeaf, expected: HostLeaf, tol: Tolerance) -> LeafOutcome:
    work = _working_dtype(expected.values)
    a = np.asarray(actual.values, dtype=work)
    r = np.asarray(expected.values, dtype=work)
    real = np.float64 if work in (np.float64, np.complex128) else np.float32
    finite_r = np.isfinite(r)
    all_finite = bool(finite_r.all()) and bool(np.isfinite(a).all())
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - r).astype(real, copy=False)
        magnitude = np.abs(r).astype(real, copy=False)
        if all_finite:
            scale = float(np.sqrt(np.mean(np.square(magnitude, dtype=np.float64))))
        else:
            finite_mag = magnitude[finite_r]
            scale = (
                float(np.sqrt(np.mean(np.square(finite_mag, dtype=np.float64)))) if finite_mag.size else 0.0
            )
            same_special = (np.isnan(a) & np.isnan(r)) | ((a == r) & ~finite_r)
            diff = np.where(same_special, 0, np.where(np.isnan(diff), np.inf, diff))
            magnitude = np.where(finite_r, magnitude, 0)
        allowed = magnitude * real(tol.rtol)
        allowed += real(tol.atol + tol.rtol * scale)
        ratio = diff / allowed
    worst = float(ratio.max()) if ratio.size else 0.0
    if worst <= 1.0:
        return LeafOutcome(path, True, worst)
    off = ratio > 1.0
    count = int(off.sum())
    lines = [
        f"{count} of {ratio.size} elements ({100.0 * count / ratio.size:.3g}%) are off; "
        f"the worst error is {worst:.3g}x the allowed error",
        f"tolerance for {expected.dtype}: {tol} (allowed = atol + rtol * (|reference| + "
        f"rms of the reference, {scale:.4g}))",
        f"{'index':>14} {'actual':>14} {'reference':>14} {'|difference|':>14} {'allowed':>12}",
    ]
    flat_ratio = ratio.reshape(-1)
    shown = min(WORST_SHOWN, count)
    top = (
        np.argpartition(-flat_ratio, shown - 1)[:shown]
        if flat_ratio.size > shown
        else np.arange(flat_ratio.size)
    )
    top = sorted(top, key=lambda i: -flat_ratio[i])[:shown]
    for flat in top:
        lines.append(
            f"{_index_text(flat, ratio.shape):>14} {_num(a.reshape(-1)[flat]):>14} "
            f"{_num(r.reshape(-1)[flat]):>14} {_num(diff.reshape(-1)[flat]):>14} "
            f"{_num(allowed.reshape(-1)[flat]):>12}"
        )
    lines.extend(diagnose_float_mismatch(actual, expected, a, r, scale, tol))
    return LeafOutcome(path, False, worst, lines)


def _index_text(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    index = np.unravel_index(int(flat), shape)
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _num(value: Any) -> str:
    return f"{complex(value):.6g}" if np.iscomplexobj(value) else f"{float(value):.7g}"


def compare_leaf_maps(
    actual: dict[str, HostLeaf | None],
    expected: dict[str, HostLeaf | None],
    tolerance_for: ToleranceFor,
) -> ParityOutcome:
    """Compare two flattened nests; paths present on one side only fail as structure errors."""
    outcomes = []
    for path in expected:
        if path not in actual:
            outcomes.append(
                LeafOutcome(path, False, float("inf"), ["is missing: the reference has a value here"])
            )
    for path, leaf in actual.items():
        if path not in expected:
            outcomes.append(
                LeafOutcome(path, False, float("inf"), ["is extra: the reference has nothing here"])
            )
            continue
        outcomes.append(compare_leaf(path, leaf, expected[path], tolerance_for))
    return ParityOutcome(outcomes)


def compare_nests(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    root: str = "value",
) -> ParityOutcome:
    """Compare two nests of arrays with the dtype defaults, overridden by ``rtol``/``atol``."""
    return compare_leaf_maps(
        flatten(actual, root),
        flatten(expected, root),
        lambda dtype: layered(dtype, (rtol, atol)),
    )
