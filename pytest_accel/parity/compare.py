"""Comparison of nests of arrays against a reference: verdict, headroom, and a message that explains."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_accel.parity.diagnosis import diagnose_float_mismatch
from pytest_accel.parity.error_kernels import error_stats, host_copy
from pytest_accel.parity.leaves import HostLeaf, flatten
from pytest_accel.parity.tolerances import EXACT_DTYPES, Layer, Tolerance, default_tolerance, layered

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
    if expected.dtype in EXACT_DTYPES or _is_integer_leaf(expected):
        return _compare_exact(path, actual, expected)
    return _compare_float(path, actual, expected, tolerance_for(expected.dtype))


def _is_integer_leaf(leaf: HostLeaf) -> bool:
    """Integers and booleans of any width compare exactly, whatever their dtype is called."""
    kind = getattr(getattr(leaf.values, "dtype", None), "kind", None)
    return kind in ("b", "i", "u")


def _python_scalar_pair(actual: HostLeaf, expected: HostLeaf) -> bool:
    return "python" in (actual.framework, expected.framework) and len(actual.shape) == 0


def _compare_exact(path: str, actual: HostLeaf, expected: HostLeaf) -> LeafOutcome:
    actual_values, expected_values = host_copy(actual.values), host_copy(expected.values)
    differs = np.asarray(actual_values != expected_values)
    count = int(differs.sum())
    if count == 0:
        return LeafOutcome(path, True, 0.0)
    lines = [f"{count} of {differs.size} elements differ ({expected.dtype} compares exactly)"]
    for flat in np.flatnonzero(differs)[:WORST_SHOWN]:
        index = _index_text(flat, differs.shape)
        lines.append(
            f"at {index}: {actual_values.flat[flat]!r} where the reference has {expected_values.flat[flat]!r}"
        )
    return LeafOutcome(path, False, float("inf"), lines)


def _compare_float(path: str, actual: HostLeaf, expected: HostLeaf, tol: Tolerance) -> LeafOutcome:
    stats = error_stats(actual.values, expected.values, tol, WORST_SHOWN, expected.dtype)
    if stats.worst <= 1.0:
        return LeafOutcome(path, True, stats.worst)
    worst = (
        f"the worst error is {stats.worst:.3g}x the allowed error"
        if math.isfinite(stats.worst)
        else "the worst has NaN or Inf on one side only (or Infs of opposite sign)"
    )
    lines = [
        f"{stats.count_off} of {stats.size} elements ({100.0 * stats.count_off / stats.size:.3g}%) are "
        f"off; {worst}",
        f"tolerance for {expected.dtype}: {tol} (allowed = atol + rtol * (|reference| + "
        f"rms of the reference, {stats.scale:.4g}))",
        f"{'index':>14} {'actual':>14} {'reference':>14} {'|difference|':>14} {'allowed':>12}",
    ]
    shape = expected.shape
    for flat, a_value, r_value, difference, allowed in stats.top:
        lines.append(
            f"{_index_text(flat, shape):>14} {_num(a_value):>14} {_num(r_value):>14} "
            f"{_num(difference):>14} {_num(allowed):>12}"
        )
    a, r = host_copy(actual.values), host_copy(expected.values)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines.extend(diagnose_float_mismatch(actual, expected, a, r, stats.scale, tol))
    return LeafOutcome(path, False, stats.worst, lines)


def _index_text(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    index = np.unravel_index(int(flat), shape)
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _num(value: Any) -> str:
    return f"{complex(value):.6g}" if isinstance(value, complex) else f"{float(value):.7g}"


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
        flatten(actual, root, keep_on_device=True),
        flatten(expected, root, keep_on_device=True),
        lambda dtype: layered(
            default_tolerance(dtype),
            Layer(rtol, None, "from assert_parity(rtol=...)"),
            Layer(None, atol, "from assert_parity(atol=...)"),
        ),
    )
