"""Explanations of a float mismatch: TF32 arithmetic, values rounded through a narrower format
(bfloat16, float16, float8), a systematic scale or offset, NaN and Inf."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pytest_accel.float_formats import FORMATS
from pytest_accel.leaves import HostLeaf
from pytest_accel.tolerances import Tolerance

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
# A difference that a scale and an offset explain this well is systematic; TF32's truncation of
# positive data shrinks a product too, but never this exactly, so an exact fit rules TF32 out.
SYSTEMATIC_SHARE = 0.9
# TF32 truncates its inputs' mantissas toward zero: on data that does not cancel, products shrink by
# up to about two TF32 units. A systematic shrink that small, and nothing else, may be TF32's.
TF32_MAX_SHRINK = 4 * TF32_UNIT
# A systematic difference is spread out: most elements differ and none carries much of it alone.
MIN_SHARE_DIFFERING = 0.25
MAX_SHARE_OF_ONE_ELEMENT = 0.25


def _rounded_through(a: np.ndarray, r: np.ndarray, dtype: str) -> str | None:
    """The coarsest format that every finite actual value fits and that the actual values mostly
    equal the reference rounded to, while most reference values do not fit it. Requiring the match
    keeps an unwritten (zero), constant or integer-valued result from looking rounded."""
    if a.size < 8 or np.iscomplexobj(a) or np.iscomplexobj(r) or a.shape != r.shape:
        return None
    both = np.isfinite(a) & np.isfinite(r)
    finite_a, finite_r = a[both], r[both]
    if np.unique(finite_a[finite_a != 0]).size < 8:
        return None
    for name, spoils in ROUNDED_THROUGH.items():
        fmt = FORMATS[name]
        # The first thousand values rule most formats out: the whole result is read only for a fit.
        fits = dtype in spoils and bool(fmt.holds(finite_a[:1024]).all()) and bool(fmt.holds(finite_a).all())
        if fits and np.mean(fmt.holds(finite_r)) < 0.5 and np.mean(finite_a == fmt.round(finite_r)) >= 0.5:
            return name
    return None


@dataclass(frozen=True)
class SystematicFit:
    """``actual - reference ~ offset + slope * reference``, and the share of the difference it explains."""

    offset: float
    slope: float
    share: float
    text: str
    tf32_like: bool  # a pure shrink of TF32's size: TF32's truncation could produce it


def _systematic_fit(a: np.ndarray, r: np.ndarray) -> SystematicFit | None:
    """The fit, when a scale and an offset explain most of a difference spread over the result (a
    wrong constant, a missing term, accumulation in a narrower type); None otherwise."""
    if np.iscomplexobj(a) or np.iscomplexobj(r) or a.shape != r.shape:
        return None
    both = np.isfinite(a) & np.isfinite(r)
    if int(both.sum()) < MIN_ELEMENTS:
        return None
    x = r[both].astype(np.float64)
    d = a[both].astype(np.float64) - x
    squares = d * d
    total = float(np.sum(squares))
    if total == 0.0 or np.mean(d != 0) < MIN_SHARE_DIFFERING:
        return None
    if float(np.max(squares)) > MAX_SHARE_OF_ONE_ELEMENT * total:
        return None  # one element (or a few) carries it: a local defect, not a scale
    design = np.stack([np.ones_like(x), x], axis=1)
    (offset, slope), *_ = np.linalg.lstsq(design, d, rcond=None)
    share = 1.0 - float(np.sum((d - offset - slope * x) ** 2)) / total
    if share < SYSTEMATIC_SHARE:
        return None
    rms_d = math.sqrt(total / d.size)
    with_scale = abs(slope) * math.sqrt(float(np.mean(x * x))) >= 0.1 * rms_d
    fit = f"{1.0 + slope:.7g} x reference" if with_scale else "reference"
    if abs(offset) >= 0.1 * rms_d:
        fit += f" {'+' if offset > 0 else '-'} {abs(offset):.3g}"
    text = (
        f"diagnosis: the difference is systematic (a scale or offset): actual = {fit} accounts for "
        f"{100.0 * share:.1f}% of it; a wrong constant, a missing term, or accumulation in a narrower type"
    )
    # The same difference fitted by a scale alone: a TF32 shrink needs no offset.
    shrink = float(np.dot(d, x) / np.dot(x, x)) if np.dot(x, x) > 0 else 0.0
    shrink_share = 1.0 - float(np.sum((d - shrink * x) ** 2)) / total
    tf32_like = -TF32_MAX_SHRINK <= shrink < 0 and shrink_share >= SYSTEMATIC_SHARE
    return SystematicFit(float(offset), float(slope), share, text, tf32_like)


def _constant_line(a: np.ndarray, r: np.ndarray) -> str | None:
    """An actual result that holds one value everywhere while the reference varies: never computed
    (zeros: unwritten), filled, or saturated."""
    finite = a[np.isfinite(a)]
    if a.size < 2 or finite.size != a.size or np.iscomplexobj(a) or not np.all(finite == finite[0]):
        return None
    if np.all(r == r.reshape(-1)[0]):
        return None
    value = finite[0]
    what = "unwritten (never computed)" if value == 0 else "filled with a constant, or saturated"
    return f"diagnosis: every actual value is {float(value):.7g} while the reference's vary: it looks {what}"


def _tf32_line(
    actual: HostLeaf, expected: HostLeaf, a: np.ndarray, r: np.ndarray, scale: float
) -> str | None:
    """TF32 when a float32 error has TF32's size and is spread over the whole result."""
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
    # The shape of an error shows in a sample as well as in the whole: large results are read on an
    # evenly strided sample, so a failing comparison of 10^7 elements stays cheap.
    step = max(1, a.size // SAMPLE_SIZE)
    a, r = a.reshape(-1)[::step], r.reshape(-1)[::step]
    constant = _constant_line(a, r)
    if constant is not None:
        return [constant]
    rounded = _rounded_through(a, r, expected.dtype)
    if rounded is not None:
        return [
            f"diagnosis: every actual value is exactly representable in {rounded} and the reference's "
            f"are not: the result looks computed in or rounded through {rounded}"
        ]
    systematic = _systematic_fit(a, r)
    tf32 = _tf32_line(actual, expected, a, r, scale) if expected.dtype in ("float32", "complex64") else None
    if systematic is None:
        return [tf32] if tf32 is not None else []
    if tf32 is not None and systematic.tf32_like:
        return [systematic.text, tf32]  # a small shrink: TF32's truncation of positive data does this
    return [systematic.text]
