"""The elementwise work of a float comparison, on the host (numpy) or on the device (torch).

On an accelerator the result under test stays where it is: the reference is moved to the device, the
error ratios are computed there, and only the worst few elements and a few scalars come back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_accel.frameworks.base import host_float32
from pytest_accel.parity.tolerances import Tolerance


@dataclass
class ErrorStats:
    """Summary of ``|actual - reference| / allowed`` over one array."""

    worst: float
    finite: bool  # both sides hold finite values only
    count_off: int
    size: int
    scale: float
    # (flat index, actual, reference, |difference|, allowed) of the worst elements, worst first
    top: list[tuple[int, Any, Any, float, float]]


def _is_torch(values: Any) -> bool:
    return type(values).__module__.split(".", 1)[0] == "torch"


def _is_jax(values: Any) -> bool:
    return type(values).__module__.split(".", 1)[0] in ("jax", "jaxlib")


def _work_kind(dtype: str) -> tuple[bool, bool]:
    """(wide, complex): float64-based work for float64/complex128, float32-based otherwise."""
    return dtype in ("float64", "complex128"), dtype.startswith("complex")


def float64_support(device_type: str) -> bool:
    """Whether torch computes float64 on this device type: Apple's MPS has no float64 at all."""
    return device_type != "mps"


def _host(values: Any) -> np.ndarray:
    return values if isinstance(values, np.ndarray) else host_copy(values)


class _NumpyOps:
    """Array operations of the host path."""

    @staticmethod
    def prepare(actual: Any, reference: Any, dtype: str) -> tuple[Any, Any, Any]:
        wide, is_complex = _work_kind(dtype)
        work = (
            (np.complex128 if wide else np.complex64) if is_complex else (np.float64 if wide else np.float32)
        )
        return np, np.asarray(_host(actual), dtype=work), np.asarray(_host(reference), dtype=work)

    @staticmethod
    def rms(values: Any, count: int) -> float:
        return float(np.sqrt(np.sum(np.square(values, dtype=np.float64)) / count)) if count else 0.0

    @staticmethod
    def largest(values: Any) -> float:
        return float(np.max(values))

    @staticmethod
    def top_indices(flat: Any, k: int) -> np.ndarray:
        picked = np.argpartition(-flat, k - 1)[:k] if flat.size > k else np.arange(flat.size)
        return picked[np.argsort(-flat[picked], kind="stable")]

    @staticmethod
    def to_numpy(values: Any) -> np.ndarray:
        return np.asarray(values)


def _torch_device(actual: Any, reference: Any) -> Any:
    """Where the comparison runs: the side held on an accelerator, else the torch side's device."""
    return next(
        (v.device for v in (actual, reference) if _is_torch(v) and v.device.type != "cpu"),
        actual.device if _is_torch(actual) else reference.device,
    )


def _torch_tensor(values: Any) -> Any:
    """A torch tensor of a leaf's values. JAX's bfloat16 and float8 arrays reach numpy as ml_dtypes
    arrays, which ``torch.from_numpy`` rejects: they come through float32, which holds them exactly."""
    import torch

    if _is_torch(values):
        return values.detach()
    return torch.from_numpy(np.array(host_float32(np.asarray(values)), order="C"))


class _TorchOps:
    """Array operations of the device path: both sides as torch tensors on the accelerator's device."""

    @staticmethod
    def prepare(actual: Any, reference: Any, dtype: str) -> tuple[Any, Any, Any]:
        import torch

        wide, is_complex = _work_kind(dtype)
        if is_complex:
            work = torch.complex128 if wide else torch.complex64
        else:
            work = torch.float64 if wide else torch.float32
        device = _torch_device(actual, reference)
        return torch, _torch_tensor(actual).to(device, work), _torch_tensor(reference).to(device, work)

    @staticmethod
    def rms(values: Any, count: int) -> float:
        return float(values.double().square().sum().sqrt()) / count**0.5 if count else 0.0

    @staticmethod
    def largest(values: Any) -> float:
        return float(values.max())

    @staticmethod
    def top_indices(flat: Any, k: int) -> Any:
        return flat.topk(min(k, flat.numel())).indices

    @staticmethod
    def to_numpy(values: Any) -> np.ndarray:
        return values.detach().resolve_conj().resolve_neg().cpu().numpy()


class _TorchFloat32Ops(_TorchOps):
    """The device path on a device without float64 (MPS): every step in float32.

    The sum of squares may overflow or underflow in float32; ``_scale`` then rescales by the largest
    value, as it does for float64.
    """

    @staticmethod
    def rms(values: Any, count: int) -> float:
        return float(values.square().sum().sqrt()) / count**0.5 if count else 0.0


def torch_kernel(device_type: str, dtype: str) -> Any:
    """The array operations for torch tensors on ``device_type`` comparing ``dtype``: on the device,
    float64 included where it has float64; float32 work where it lacks it, and float64 work on the host."""
    if float64_support(device_type):
        return _TorchOps
    wide, _ = _work_kind(dtype)
    return _NumpyOps if wide else _TorchFloat32Ops


class _JaxOps:
    """Array operations of the device path for JAX arrays (eager jax.numpy on their device)."""

    @staticmethod
    def prepare(actual: Any, reference: Any, dtype: str) -> tuple[Any, Any, Any]:
        import jax
        import jax.numpy as jnp

        wide, is_complex = _work_kind(dtype)
        if wide and not jax.config.read("jax_enable_x64"):
            wide = False  # jax computes float64 only in 64-bit mode; its arrays cannot be float64 then
        if is_complex:
            work = jnp.complex128 if wide else jnp.complex64
        else:
            work = jnp.float64 if wide else jnp.float32
        device = next(
            (next(iter(v.devices())) for v in (actual, reference) if _is_jax(v)),
            None,
        )
        return (
            jnp,
            jax.device_put(jnp.asarray(actual, dtype=work), device),
            jax.device_put(jnp.asarray(reference, dtype=work), device),
        )

    @staticmethod
    def rms(values: Any, count: int) -> float:
        import jax.numpy as jnp

        return float(jnp.sqrt(jnp.sum(jnp.square(values)) / count)) if count else 0.0

    @staticmethod
    def largest(values: Any) -> float:
        import jax.numpy as jnp

        return float(jnp.max(values))

    @staticmethod
    def top_indices(flat: Any, k: int) -> Any:
        import jax

        return jax.lax.top_k(flat, min(k, flat.size))[1]

    @staticmethod
    def to_numpy(values: Any) -> np.ndarray:
        return np.asarray(values)


def error_stats(actual: Any, reference: Any, tol: Tolerance, top_k: int, dtype: str) -> ErrorStats:
    """Elementwise ``|a - r| <= atol + rtol * (|r| + rms(r))``; NaN matches NaN, equal Infs match.

    Runs on the device with torch or jax when either side is a tensor of theirs, else with numpy.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        stats = _stats(_kernel(actual, reference, dtype), actual, reference, tol, top_k, dtype)
        if not math.isfinite(stats.worst) and stats.finite and dtype not in ("float64", "complex128"):
            # Finite values whose difference overflowed the working precision: redo in 64 bits.
            wide = "complex128" if dtype.startswith("complex") else "float64"
            stats = _stats(_kernel(actual, reference, wide), actual, reference, tol, top_k, wide)
        return stats


def _kernel(actual: Any, reference: Any, dtype: str) -> Any:
    """The array operations for this pair: torch's or jax's where either side is theirs, else numpy's."""
    if _is_torch(actual) or _is_torch(reference):
        return torch_kernel(_torch_device(actual, reference).type, dtype)
    if _is_jax(actual) or _is_jax(reference):
        return _JaxOps
    return _NumpyOps


def _stats(ops: Any, actual: Any, reference: Any, tol: Tolerance, top_k: int, dtype: str) -> ErrorStats:
    xp, a, r = ops.prepare(actual, reference, dtype)
    size = int(np.prod(tuple(reference.shape), dtype=np.int64))
    finite_r = xp.isfinite(r)
    diff = xp.abs(a - r)
    magnitude = xp.abs(r)
    finite = bool(finite_r.all()) and bool(xp.isfinite(a).all())
    if finite:
        scale = _scale(ops, magnitude, size)
    else:
        magnitude = xp.where(finite_r, magnitude, 0.0)
        scale = _scale(ops, magnitude, int(finite_r.sum()))
        same_special = (xp.isnan(a) & xp.isnan(r)) | ((a == r) & ~finite_r)
        diff = xp.where(same_special, 0.0, xp.where(xp.isnan(diff), math.inf, diff))
    allowed = magnitude * tol.rtol + (tol.atol + tol.rtol * scale)
    ratio = diff / allowed
    worst = float(ratio.max()) if size else 0.0
    if worst <= 1.0:
        return ErrorStats(worst, finite, 0, size, scale, [])
    count = int((ratio > 1.0).sum())
    flat = ratio.reshape(-1)
    index = ops.top_indices(flat, min(top_k, count))
    picked = [ops.to_numpy(x.reshape(-1)[index]) for x in (a, r, diff, allowed)]
    top = [
        (int(i), av.item(), rv.item(), float(dv), float(lv))
        for i, av, rv, dv, lv in zip(ops.to_numpy(index), *picked, strict=True)
    ]
    return ErrorStats(worst, finite, count, size, scale, top)


def _scale(ops: Any, magnitude: Any, count: int) -> float:
    """rms(reference), also where squaring its values would overflow (float64 beyond 1e154, float32
    work beyond 1e19: every allowance would become Inf and anything would pass) or underflow."""
    scale = ops.rms(magnitude, count)
    if count and (not math.isfinite(scale) or scale == 0.0):
        largest = ops.largest(magnitude)
        if largest > 0 and math.isfinite(largest):
            scale = largest * ops.rms(magnitude / largest, count)
    return scale


def host_copy(values: Any) -> np.ndarray:
    """A host numpy copy of a leaf's values (used for messages and diagnoses, on failure only)."""
    from pytest_accel.parity.leaves import adapter_of

    adapter = adapter_of(values)
    return adapter.to_host(values) if adapter is not None else np.asarray(values)
