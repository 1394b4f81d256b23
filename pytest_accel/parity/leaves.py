"""Nests of tensors (dict, list, tuple, namedtuple) flattened to host copies with readable paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_accel.frameworks import load_adapter
from pytest_accel.frameworks.base import Adapter

_SCALAR_TYPES = (bool, int, float, complex)


@dataclass(frozen=True)
class HostLeaf:
    """One array or scalar of a nest; ``dtype`` keeps names numpy lacks.

    ``values`` is a host numpy copy, except for a torch tensor on an accelerator that is being compared
    (not recorded): it stays on its device so that the comparison runs there.
    """

    values: np.ndarray
    dtype: str
    framework: str

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


def adapter_of(value: Any) -> Adapter | None:
    """The adapter for a framework array, found by its type's module so nothing extra is imported."""
    root = type(value).__module__.split(".", 1)[0]
    if root == "torch":
        return load_adapter("torch")
    if root in ("jax", "jaxlib"):
        return load_adapter("jax")
    if isinstance(value, (np.ndarray, np.generic)):
        return load_adapter("numpy")
    return None


def _on_accelerator(framework: str, value: Any) -> bool:
    """A floating-point torch or jax array held on a device other than the CPU."""
    if framework == "torch":
        return value.device.type != "cpu" and (value.is_floating_point() or value.is_complex())
    if framework == "jax":
        import jax.numpy as jnp

        floating = jnp.issubdtype(value.dtype, jnp.inexact)
        return floating and all(device.platform != "cpu" for device in value.devices())
    return False


def to_leaf(value: Any, scalar_dtype: str, keep_on_device: bool = False) -> HostLeaf:
    """Copy one array or Python scalar to the host; Python numbers take ``scalar_dtype``'s rules."""
    adapter = adapter_of(value)
    is_array = adapter is not None and adapter.is_array(value)
    if keep_on_device and is_array and _on_accelerator(adapter.name, value):
        kept = value.detach() if adapter.name == "torch" else value
        return HostLeaf(kept, adapter.dtype_name(value), adapter.name)
    if is_array:
        return HostLeaf(adapter.to_host(value), adapter.dtype_name(value), adapter.name)
    if isinstance(value, bool):
        return HostLeaf(np.asarray(value), "bool", "python")
    if isinstance(value, int):
        return HostLeaf(np.asarray(value, dtype=np.int64), "int64", "python")
    if isinstance(value, float):
        return HostLeaf(np.asarray(value, dtype=np.float64), scalar_dtype, "python")
    if isinstance(value, complex):
        return HostLeaf(np.asarray(value, dtype=np.complex128), "complex128", "python")
    raise TypeError(
        f"cannot compare a value of type {type(value).__name__}: check() and assert_parity() take "
        "torch, jax or numpy arrays, Python numbers, and dicts, lists and tuples of them"
    )


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def flatten(
    value: Any, root: str, scalar_dtype: str = "float32", keep_on_device: bool = False
) -> dict[str, HostLeaf | None]:
    """Map each leaf's path (``out["logits"][1]``) to its host copy; ``None`` leaves stay None."""
    leaves: dict[str, HostLeaf | None] = {}

    def walk(node: Any, path: str) -> None:
        if node is None:
            leaves[path] = None
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}[{key!r}]")
        elif _is_namedtuple(node):
            for key, child in zip(node._fields, node, strict=True):
                walk(child, f"{path}.{key}")
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]")
        else:
            leaves[path] = to_leaf(node, scalar_dtype, keep_on_device)

    walk(value, root)
    return leaves
