"""One adapter per tensor framework; an adapter module imports its framework only when loaded."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_accel.frameworks.base import Adapter
    from pytest_accel.frameworks.discovery import Discovery

KNOWN_FRAMEWORKS: tuple[str, ...] = ("torch", "jax", "numpy")
# The device kinds each framework can have at all; a kind outside this set never applies to its tests.
FRAMEWORK_KINDS: dict[str, tuple[str, ...]] = {
    "torch": ("cpu", "cuda", "mps", "xpu", "hpu"),  # cuda includes ROCm (torch.version.hip tells)
    "jax": ("cpu", "cuda", "tpu", "mps"),  # JAX's gpu/cuda/rocm platforms are cuda, METAL is mps
    "numpy": ("cpu",),
}
ALL_KINDS: tuple[str, ...] = ("cpu", "cuda", "mps", "tpu", "xpu", "hpu")
# Kinds whose absence `--accel=all` says in the header; the rarer ones only when named in --accel.
ANNOUNCED_KINDS: dict[str, tuple[str, ...]] = {
    "torch": ("cpu", "cuda", "mps"),
    "jax": ("cpu", "cuda", "tpu"),
    "numpy": ("cpu",),
}


class FrameworkMissing(RuntimeError):
    """The framework's package is not installed or fails to import."""


@cache
def load_adapter(framework: str) -> Adapter:
    """Import the framework's adapter (and with it the framework); raise FrameworkMissing if absent."""
    if framework not in KNOWN_FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}")
    if framework == "jax":
        from pytest_accel.frameworks.jax_memory import share_gpu_memory

        share_gpu_memory()  # before JAX starts its GPU backend: no 75% of each GPU per process
    try:
        module = importlib.import_module(f"pytest_accel.frameworks.{framework}_adapter")
    except ImportError as exc:
        raise FrameworkMissing(f"{framework} is not installed ({exc})") from exc
    return module.ADAPTER


def framework_notes(framework: str, found: Discovery | None) -> list[str]:
    """Lines the collection header adds under a framework's devices (JAX: preallocation turned off)."""
    if framework != "jax":
        return []
    from pytest_accel.frameworks.jax_memory import jax_memory_note

    note = jax_memory_note(found)
    return [note] if note else []
