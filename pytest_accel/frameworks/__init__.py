"""One adapter per tensor framework; an adapter module imports its framework only when loaded."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_accel.frameworks.base import Adapter

KNOWN_FRAMEWORKS: tuple[str, ...] = ("torch", "jax", "numpy")
# The device kinds each framework can have at all; a kind outside this set never applies to its tests.
FRAMEWORK_KINDS: dict[str, tuple[str, ...]] = {
    "torch": ("cpu", "cuda", "mps"),
    "jax": ("cpu", "cuda", "tpu"),
    "numpy": ("cpu",),
}
ALL_KINDS: tuple[str, ...] = ("cpu", "cuda", "mps", "tpu")


class FrameworkMissing(RuntimeError):
    """The framework's package is not installed or fails to import."""


@cache
def load_adapter(framework: str) -> Adapter:
    """Import the framework's adapter (and with it the framework); raise FrameworkMissing if absent."""
    if framework not in KNOWN_FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}")
    try:
        module = importlib.import_module(f"pytest_accel.frameworks.{framework}_adapter")
    except ImportError as exc:
        raise FrameworkMissing(f"{framework} is not installed ({exc})") from exc
    return module.ADAPTER
