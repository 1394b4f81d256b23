"""Explanations of a float mismatch: reduced-precision arithmetic (TF32, bfloat16), NaN and Inf."""

from __future__ import annotations

import numpy as np

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


def _looks_bfloat16_rounded(a: np.ndarray, r: np.ndarray) -> bool:
    """True when every finite actual value fits bfloat16 and the reference's values do not."""
    if a.dtype != np.float32 or a.size < 8:
        return False
    finite = np.isfinite(a)
    low_bits_a = a[finite].view(np.uint32) & 0xFFFF
    low_bits_r = r[np.isfinite(r)].view(np.uint32) & 0xFFFF
    return bool(np.all(low_bits_a == 0)) and bool(np.mean(low_bits_r == 0) < 0.5)


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
    if lines or expected.dtype not in ("float32", "complex64"):
        return lines
    # The shape of an error shows in a sample as well as in the whole: large results are read on an
    # evenly strided sample, so a failing comparison of 10^7 elements stays cheap.
    step = max(1, a.size // SAMPLE_SIZE)
    a, r = a.reshape(-1)[::step], r.reshape(-1)[::step]
    if _looks_bfloat16_rounded(a, r):
        return [
            "diagnosis: every actual value is exactly representable in bfloat16 and the reference's "
            "are not: the result looks computed in or rounded through bfloat16"
        ]
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.abs(a - r) / (np.abs(r) + scale)
    worst = float(np.nanmax(relative)) if relative.size else 0.0
    typical = float(np.nanmedian(relative)) if relative.size else 0.0
    # TF32 spreads its error over the whole result: one bad element, or a few values, is not TF32.
    spread_out = relative.size >= 16 and typical >= TF32_UNIT / 64
    if TF32_UNIT / 8 < worst <= 64 * TF32_UNIT and spread_out:
        framework = actual.framework if actual.framework in TF32_SWITCHES else expected.framework
        switch = TF32_SWITCHES.get(framework, " / ".join(TF32_SWITCHES.values()))
        lines.append(
            f"diagnosis: this float32 mismatch (worst {worst:.2g} of the result's scale) fits TF32 "
            f"precision (10-bit mantissa): the device probably ran float32 matmul or convolution "
            f"in TF32. To compute in full float32 set {switch}; to accept TF32-level parity on "
            f"purpose, mark the test @pytest.mark.accel(tf32=True)"
        )
    return lines
