"""Explanations of a float mismatch: TF32 arithmetic, values rounded through a narrower format
(bfloat16, float16, float8), a systematic scale or offset, NaN and Inf."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pytest_accel.dtypes.float_formats import FORMATS
from pytest_accel.parity.leaves import HostLeaf
from pytest_accel.parity.tolerances import Tolerance

# Unit roundoff of TF32 (10-bit mantissa). A float32 result computed through TF32 has errors of a
# few to some tens of these relative to the result's scale.
TF32_UNIT = 2.0**-11
SAMPLE_SIZE = 1 << 20
TF32_SWITCHES = {
    "torch": "torch.backends.cuda.matmul.allow_tf32 = False and torch.backends.cudnn.allow_tf32 = "
    "False (or torch.set_float32_matmul_precision('highest'))",
    "jax": "jax.config.update('jax_default_matmul_precision', 'highest') (or "
    "JAX_DEFAULT_MATMUL_PRECISION=highest)",
}


def _nan_inf_lines(a: np.ndarray, r: np.ndarray) -> list[str]:
    lines = []
    for label, bad in (
        ("NaN", np.isnan(a) & ~np.isnan(r)),
        ("Inf", np.isinf(a) & np.isfinite(r)),
        ("Inf of the opposite sign", np.isinf(a) & np.isinf(r) & (a != r)),
    ):
        count = int(bad.sum())
        if count:
            where = [str(tuple(int(i) for i in idx)) for idx in np.argwhere(bad)[:5]]
            lines.append(
                f"diagnosis: {count} {label} value(s) where the reference has "
                f"{'the other Inf' if 'opposite' in label else 'a number'}, at "
                f"{', '.join(where)}{' ...' if count > 5 else ''}"
            )
    missing_nan = int((np.isnan(r) & ~np.isnan(a)).sum())
    if missing_nan:
        lines.append(f"diagnosis: {missing_nan} number(s) where the reference has NaN")
    missing_inf = int((np.isinf(r) & np.isfinite(a)).sum())
    if missing_inf:
        lines.append(f"diagnosis: {missing_inf} finite number(s) where the reference has Inf")
    return lines


# Formats a result may have been rounded through by mistake (autocast left on, a narrower kernel or
# cache picked), coarsest first, with the dtypes whose results they can spoil.
ROUNDED_THROUGH = {
    "float8_e5m2": ("float64", "float32", "float16", "bfloat16"),
    "float8_e4m3fn": ("float64", "float32", "float16", "bfloat16"),
    "bfloat16": ("float64", "float32", "float16"),
    "float16": ("float64", "float32"),
    "float32": ("float64",),
}
MIN_ELEMENTS = 16
# A difference that a scale and an offset explain this well is systematic.
SYSTEMATIC_SHARE = 0.9
# A simpler fit (an offset alone, a scale alone) is said instead of both when it explains about as much.
SIMPLER_FIT_MARGIN = 0.01
# TF32 truncates its inputs' mantissas toward zero: on data that does not cancel, products shrink by
# up to about two TF32 units. A systematic shrink that small, and nothing else, may be TF32's.
TF32_MAX_SHRINK = 4 * TF32_UNIT
# A systematic difference is spread out: most elements that are not zero on both sides differ.
MIN_SHARE_DIFFERING = 0.25
# Values rounded through a narrower format stay within a few of its steps of the reference.
ROUNDED_CLOSE_STEPS = 4.0
ROUNDED_CLOSE_SHARE = 0.9


def _finite_pair(a: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The elements finite on both sides, in float64 (real results only): what the diagnoses below
    read."""
    both = np.isfinite(a) & np.isfinite(r)
    return a[both].astype(np.float64), r[both].astype(np.float64)


def _constant_line(fa: np.ndarray, fr: np.ndarray) -> str | None:
    """An actual result that holds one value everywhere while the reference varies: never computed
    (zeros: unwritten), filled, or saturated. ``fa``, ``fr``: the elements finite on both sides."""
    if fa.size < 2 or not np.all(fa == fa[0]) or np.all(fr == fr[0]):
        return None
    value = float(fa[0])
    what = "unwritten (never computed)" if value == 0 else "filled with a constant, or saturated"
    return f"diagnosis: every actual value is {value:.7g} while the reference's vary: it looks {what}"


def _partly_unwritten_line(fa: np.ndarray, fr: np.ndarray, scale: float, tol: Tolerance) -> str | None:
    """Most elements that are off are exact zeros where the reference has a number: part of the
    result was never written (a grid launched too small, a missed tail)."""
    off = np.abs(fa - fr) > tol.atol + tol.rtol * (np.abs(fr) + scale)
    zeros = off & (fa == 0)
    count, total = int(zeros.sum()), int(off.sum())
    if count < 4 or count < 0.9 * total:
        return None
    return (
        f"diagnosis: {count} of {fa.size} values are exactly 0 where the reference's are not: the result "
        "looks partly unwritten (never computed there)"
    )


def _rounded_through(fa: np.ndarray, fr: np.ndarray, scale: float, dtype: str) -> str | None:
    """The coarsest format that every finite actual value fits, that most of the reference's nonzero
    values do not, and whose rounding explains the difference (the values stay within a few of its
    steps of the reference). Integer-valued results are left alone: they fit every format."""
    nonzero = fa != 0
    if fa.size < 8 or np.unique(fa[nonzero]).size < 8 or np.all(fa == np.round(fa)):
        return None
    reference_nonzero = fr[fr != 0]
    for name, spoils in ROUNDED_THROUGH.items():
        fmt = FORMATS[name]
        # The first thousand values rule most formats out: the whole result is read only for a fit.
        if dtype not in spoils or not fmt.holds(fa[:1024]).all() or not fmt.holds(fa).all():
            continue
        if reference_nonzero.size == 0 or np.mean(fmt.holds(reference_nonzero)) >= 0.5:
            continue
        close = np.abs(fa - fr) <= ROUNDED_CLOSE_STEPS * fmt.step * (np.abs(fr) + scale)
        if np.mean(close) >= ROUNDED_CLOSE_SHARE:
            return name
    return None


@dataclass(frozen=True)
class SystematicFit:
    """``actual - reference`` explained by an offset and/or a scale of the reference."""

    text: str
    tf32_like: bool  # a pure shrink of TF32's size: TF32's truncation could produce it


def _residual(d: np.ndarray, fitted: np.ndarray) -> float:
    return float(np.sum((d - fitted) ** 2))


def _systematic_fit(fa: np.ndarray, fr: np.ndarray) -> SystematicFit | None:
    """The fit, when an offset and/or a scale explain most of a difference spread over the result (a
    wrong constant, a missing term, accumulation in a narrower type); None otherwise."""
    if fa.size < MIN_ELEMENTS:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        d = fa - fr
    if not np.all(np.isfinite(d)):
        return None
    unit = float(max(np.max(np.abs(d)), np.max(np.abs(fr))))
    if unit == 0.0:
        return None
    unit = 2.0 ** math.ceil(math.log2(unit))  # a power of two: scaling is exact, squares cannot overflow
    d, x = d / unit, fr / unit
    total = float(np.sum(d * d))
    active = (fa != 0) | (fr != 0)  # a mask or ReLU zero on both sides says nothing either way
    if total == 0.0 or np.mean(d[active] != 0) < MIN_SHARE_DIFFERING:
        return None
    mean_d, mean_x = float(np.mean(d)), float(np.mean(x))
    xx = float(np.dot(x, x))
    scale_only = float(np.dot(d, x)) / xx if xx > 0 else 0.0
    centred = x - mean_x
    spread = float(np.dot(centred, centred))
    slope = float(np.dot(d, centred)) / spread if spread > 1e-24 * max(xx, 1e-300) else 0.0
    offset = mean_d - slope * mean_x
    fits = {"offset": (mean_d, 0.0), "scale": (0.0, scale_only), "both": (offset, slope)}
    residual = {name: _residual(d, b + m * x) for name, (b, m) in fits.items()}
    share = {name: 1.0 - value / total for name, value in residual.items()}
    if not share["both"] >= SYSTEMATIC_SHARE:
        return None
    # The fit must hold without the element that differs most: one bad value is not a scale.
    worst = int(np.argmax(d * d))
    chosen = max(("offset", "scale"), key=lambda name: share[name])
    if share[chosen] < share["both"] - SIMPLER_FIT_MARGIN:
        chosen = "both"
    chosen_offset, chosen_slope = fits[chosen]
    rest = np.delete(d, worst)
    rest_total = float(np.sum(rest * rest))
    rest_fitted = chosen_offset + chosen_slope * np.delete(x, worst)
    if rest_total == 0.0 or 1.0 - _residual(rest, rest_fitted) / rest_total < SYSTEMATIC_SHARE:
        return None
    fit = f"{1.0 + chosen_slope:.7g} x reference" if chosen != "offset" else "reference"
    if chosen != "scale":
        value = chosen_offset * unit
        fit += f" {'+' if value > 0 else '-'} {abs(value):.3g}"
    text = (
        f"diagnosis: the difference is systematic (a scale or offset): actual = {fit} accounts for "
        f"{100.0 * share[chosen]:.1f}% of it; a wrong constant, a missing term, or accumulation in a "
        "narrower type"
    )
    tf32_like = (
        -TF32_MAX_SHRINK <= scale_only < 0
        and residual["scale"] <= 2 * residual["both"]
        and residual["scale"] < residual["offset"]
    )
    return SystematicFit(text, tf32_like)


def _tf32_line(
    actual: HostLeaf, expected: HostLeaf, a: np.ndarray, r: np.ndarray, scale: float
) -> str | None:
    """TF32 when a float32 error has TF32's size and is spread over the whole result."""
    finite = a[np.isfinite(a)]
    if finite.size and not np.iscomplexobj(finite) and np.all(finite == np.round(finite)):
        return None  # integer-valued results (a floor, a rounding to whole numbers) are not TF32's
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.abs(a - r) / (np.abs(r) + scale)
    worst = float(np.nanmax(relative)) if relative.size else 0.0
    typical = float(np.nanmedian(relative)) if relative.size else 0.0
    # TF32 spreads its error over the whole result: one bad element, or a few values, is not TF32.
    spread_out = relative.size >= MIN_ELEMENTS and typical >= TF32_UNIT / 64
    if not (TF32_UNIT / 8 < worst <= 64 * TF32_UNIT and spread_out):
        return None
    framework = actual.framework if actual.framework in TF32_SWITCHES else expected.framework
    switch = TF32_SWITCHES.get(framework, " / ".join(TF32_SWITCHES.values()))
    return (
        f"diagnosis: this float32 mismatch (worst {worst:.2g} of the result's scale) fits TF32 "
        f"precision (10-bit mantissa): the device probably ran float32 matmul or convolution "
        f"in TF32. To compute in full float32 set {switch}; to accept TF32-level parity on "
        f"purpose, mark the test @pytest.mark.accel(tf32=True)"
    )


def diagnose_float_mismatch(
    actual: HostLeaf,
    expected: HostLeaf,
    a: np.ndarray,
    r: np.ndarray,
    scale: float,
    tol: Tolerance,
) -> list[str]:
    """Lines that say what the mismatch looks like, when a known cause fits it."""
    lines = _nan_inf_lines(a, r)
    if lines:
        return lines
    if np.iscomplexobj(a) or np.iscomplexobj(r):
        tf32 = _tf32_line(actual, expected, a, r, scale) if expected.dtype == "complex64" else None
        return [tf32] if tf32 is not None else []
    # The shape of an error shows in a sample as well as in the whole: large results are read on an
    # evenly strided sample, so a failing comparison of 10^7 elements stays cheap.
    step = max(1, a.size // SAMPLE_SIZE)
    a, r = a.reshape(-1)[::step], r.reshape(-1)[::step]
    fa, fr = _finite_pair(a, r)
    for line in (_constant_line(fa, fr), _partly_unwritten_line(fa, fr, scale, tol)):
        if line is not None:
            return [line]
    rounded = _rounded_through(fa, fr, scale, expected.dtype)
    if rounded is not None:
        return [
            f"diagnosis: every actual value is exactly representable in {rounded} and the reference's "
            f"are not: the result looks computed in or rounded through {rounded}"
        ]
    systematic = _systematic_fit(fa, fr)
    tf32 = _tf32_line(actual, expected, a, r, scale) if expected.dtype == "float32" else None
    if systematic is None:
        return [tf32] if tf32 is not None else []
    if tf32 is not None and systematic.tf32_like:
        return [systematic.text, tf32]  # a small shrink: TF32's truncation of positive data does this
    return [systematic.text]
