"""Accelerators beyond CUDA: what torch's ``torch.accelerator`` API and JAX's platform names tell.

Functions of the framework module passed in (never imported here), so that the parts that take a device
name are tested on any machine with a stand-in module.
"""

from __future__ import annotations

from typing import Any

# torch device kinds found through torch.accelerator (CUDA and MPS keep their own probes); a privateuse1
# backend (an out-of-tree device such as Ascend's npu) is found under the name it registered.
TORCH_ACCELERATOR_KINDS = ("xpu", "hpu")
# JAX platform names -> the plugin's device kinds: ROCm GPUs are the cuda kind (as in torch), Apple's
# METAL plugin the mps kind.
JAX_PLATFORM_KINDS = {
    "cpu": "cpu",
    "gpu": "cuda",
    "cuda": "cuda",
    "rocm": "cuda",
    "tpu": "tpu",
    "metal": "mps",
}


def torch_current_accelerator(torch: Any) -> str | None:
    """The accelerator kind this torch build sees (``cuda``, ``xpu``, ``mps``, ``hpu``, a privateuse1
    name), or None: no ``torch.accelerator`` (torch < 2.6) or no accelerator present."""
    api = getattr(torch, "accelerator", None)
    if api is None or not hasattr(api, "current_accelerator"):
        return None
    try:
        if hasattr(api, "is_available") and not api.is_available():
            return None
        device = api.current_accelerator()
    except Exception:  # a broken driver: the kinds' own probes say why
        return None
    return None if device is None else str(getattr(device, "type", device))


def torch_kinds_to_discover(torch: Any) -> list[str]:
    """The kinds torch's discovery looks for beyond cpu, cuda and mps: xpu, hpu, and the accelerator
    torch sees when it is out-of-tree."""
    kinds = list(TORCH_ACCELERATOR_KINDS)
    current = torch_current_accelerator(torch)
    if current is not None and current not in ("cpu", "cuda", "mps", *kinds):
        kinds.append(current)
    return kinds


def torch_accelerator_count(torch: Any, kind: str) -> tuple[int, str]:
    """How many ``kind`` devices torch sees, and why none when it sees none."""
    current = torch_current_accelerator(torch)
    if current != kind:
        where = (
            f"this torch's accelerator is {current}" if current else "torch.accelerator sees no accelerator"
        )
        return 0, f"no {kind} device: {where} (torch {getattr(torch, '__version__', '?')})"
    try:
        count = int(torch.accelerator.device_count())
    except Exception as exc:  # driver errors surface here
        return 0, f"the {kind} driver failed: {exc}"
    return count, "" if count else f"torch.accelerator sees no {kind} device"


def torch_hardware_name(torch: Any, kind: str, index: int) -> str:
    """The device's name from its backend module (``torch.xpu.get_device_name``), else the kind; ROCm
    GPUs (torch's cuda kind on a HIP build) say so."""
    module = getattr(torch, kind, None)
    name = kind
    getter = getattr(module, "get_device_name", None)
    if getter is not None:
        try:
            name = str(getter(index))
        except Exception:
            name = kind
    hip = getattr(getattr(torch, "version", None), "hip", None)
    if kind == "cuda" and hip:
        return f"{name} (ROCm, HIP {hip})"
    return name


def jax_kind(platform: str, platform_version: str = "") -> str | None:
    """The plugin's kind of a JAX platform name (``gpu``, ``rocm``, ``METAL``), None for unknown ones."""
    return JAX_PLATFORM_KINDS.get(platform.lower())


def jax_hardware_name(device_kind: str, platform_version: str) -> str:
    """A JAX GPU's name, with ROCm said where the platform is AMD's."""
    return f"{device_kind} (ROCm)" if "rocm" in platform_version.lower() else device_kind
