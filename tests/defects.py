"""Defects planted into a correct result, for the parity corpus tests of every dtype.

Each takes a torch tensor and a size ``delta`` (a normalized error: a fraction of |value| + rms of the
result, where that applies) and returns the defective result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def middle(x: Any) -> int:
    return x.numel() // 2


def _set_flat(x: Any, index: int, value: float) -> Any:
    out = x.clone().reshape(-1)
    out[index] = value
    return out.reshape(x.shape)


def _rms(x: Any) -> float:
    return float(x.double().square().mean().sqrt())


def one_element(g: Any, delta: float) -> Any:
    """The middle element off by delta * (|g_i| + rms(g)): a normalized error of delta, in one place."""
    i = middle(g)
    gi = float(g.reshape(-1)[i])
    return _set_flat(g, i, gi + delta * (abs(gi) + _rms(g)))


def factor(g: Any, delta: float) -> Any:
    """The whole result scaled by 1 + delta (a wrong normalization constant, a missing term...)."""
    return (g.double() * (1.0 + delta)).to(g.dtype)


def unwritten(g: Any, delta: float) -> Any:
    """The last quarter of the elements (in memory order) left at zero, as if never written."""
    out = g.clone().reshape(-1)
    out[out.numel() - math.ceil(out.numel() / 4) :] = 0
    return out.reshape(g.shape)


def nan(g: Any, delta: float) -> Any:
    return _set_flat(g, middle(g), float("nan"))


def inf(g: Any, delta: float) -> Any:
    return _set_flat(g, middle(g), float("inf"))


def sign_flip(g: Any, delta: float) -> Any:
    """The largest-magnitude element negated."""
    i = int(g.double().abs().reshape(-1).argmax())
    return _set_flat(g, i, -float(g.reshape(-1)[i]))


def shifted(g: Any, delta: float) -> Any:
    """Every value moved one position along the last axis (an off-by-one in the indexing).

    Not a wrap-around roll: the first value stays, so that the defect is judged by the neighbour
    differences all along the axis, not by one wrapped-around value that is far off by itself.
    """
    out = g.clone()
    out[..., 1:] = g[..., :-1]
    return out


def transposed(g: Any, delta: float) -> Any:
    return g.transpose(0, 1).contiguous()


def bfloat16_rounded(g: Any, delta: float) -> Any:
    """A float32 result that went through bfloat16 (autocast left on, a bf16 kernel picked)."""
    return g.to(torch.bfloat16).to(torch.float32)


def extra_element(g: Any, delta: float) -> Any:
    """One element too many along the last axis (a scalar becomes two values)."""
    base = g.reshape(1) if g.dim() == 0 else g
    return torch.cat([base, base[..., -1:]], dim=-1)


Defect = Callable[[Any, float], Any]
DEFECTS: dict[str, Defect] = {
    "one_element": one_element,
    "factor": factor,
    "unwritten": unwritten,
    "nan": nan,
    "inf": inf,
    "sign_flip": sign_flip,
    "shifted": shifted,
    "transposed": transposed,
    "bfloat16_rounded": bfloat16_rounded,
    "extra_element": extra_element,
}
