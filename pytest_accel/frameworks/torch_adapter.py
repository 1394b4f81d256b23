"""PyTorch: CPU, each CUDA (or ROCm) device, Apple's MPS, and what ``torch.accelerator`` finds (XPU, HPU,
an out-of-tree backend); CUDA work is timed with CUDA events."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from pytest_accel.frameworks import base
from pytest_accel.frameworks.accelerators import (
    torch_accelerator_count,
    torch_hardware_name,
    torch_kinds_to_discover,
)
from pytest_accel.frameworks.cuda_errors import RETEST, classify_accelerator_error, error_code

_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)
_PEAK_CALLS = ("memory_allocated", "max_memory_allocated", "reset_peak_memory_stats")
TORCH_INDEXED = ("xpu", "hpu")  # kinds made current through torch.accelerator.device_index


def _probe(device: torch.device) -> None:
    """Allocate, compute and read back: a device that cannot do this is not present."""
    x = torch.arange(16, dtype=torch.float32, device=device)
    total = float((x * 2).sum().item())
    if total != 240.0:
        raise RuntimeError(f"probe computed {total}, expected 240.0")


def _cuda_missing_reason() -> str | None:
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return f"this torch build has no CUDA support (torch {torch.__version__})"
    try:
        count = torch.cuda.device_count()
    except Exception as exc:  # driver errors surface here
        return f"the CUDA driver failed: {exc}"
    if count == 0:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        where = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        return f"no CUDA device is visible{where}: check the driver with nvidia-smi"
    return None


def _error_type(exc: BaseException) -> str:
    """How cuda_errors names the exception's type: AcceleratorError, RuntimeError, or its own name."""
    accelerator_error = getattr(torch, "AcceleratorError", None)  # torch >= 2.8
    if accelerator_error is not None and isinstance(exc, accelerator_error):
        return "AcceleratorError"
    return "RuntimeError" if isinstance(exc, RuntimeError) else type(exc).__name__


def _still_works(native: Any) -> bool:
    """A tiny kernel on the device, waited for: does the device still compute after an error?"""
    try:
        _probe(native)
        if native.type == "cuda":
            torch.cuda.synchronize(native)
    except Exception:
        return False
    return True


class CudaEventTimer:
    """CUDA events around a batch of calls: the device's own clock, from the first kernel queued to the
    last one done. Host launch time shows only where it leaves the device idle (launch-bound calls),
    as it does for ``torch.utils.benchmark``."""

    method = "cuda-events"

    def __init__(self, device: torch.device) -> None:
        self._device = device

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        return None  # time_batch synchronizes the device before it records its first event

    def time_batch(self, call: Callable[[], Any], n: int) -> float:
        with torch.cuda.device(self._device):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(self._device)
            start.record()
            for _ in range(n):
                call()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0


def _discover_accelerator(found: base.Discovery, kind: str) -> None:
    """The devices of ``kind`` that torch.accelerator sees and that pass the probe, or why none."""
    count, reason = torch_accelerator_count(torch, kind)
    for index in range(count):
        try:
            _probe(torch.device(kind, index))
        except Exception as exc:
            found.missing[f"{kind}:{index}"] = f"{kind}:{index} failed its probe: {exc}"
            continue
        found.devices.append(base.DeviceInfo("torch", kind, index, torch_hardware_name(torch, kind, index)))
    if not found.of_kind(kind):
        found.missing[kind] = reason or "; ".join(found.missing.values()) or f"no {kind} device works"


class TorchMemoryMeter:
    """The device allocator's counters: torch.cuda's, torch.xpu's, or torch.accelerator's."""

    resets = True
    per_item = True

    def __init__(self, native: Any, module: Any, method: str) -> None:
        self._native = native
        self._module = module
        self.method = method

    def tracing(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def in_use(self) -> int:
        return int(self._module.memory_allocated(self._native))

    def reset_peak(self) -> int:
        before = int(self._module.max_memory_allocated(self._native))
        self._module.reset_peak_memory_stats(self._native)
        return before

    def peak(self) -> int:
        return int(self._module.max_memory_allocated(self._native))


def torch_memory_meter(native: Any) -> base.MemoryMeter | str:
    """The meter of a torch device, or why its memory cannot be measured."""
    if native.type == "cpu":
        return "torch does not count its CPU allocations"
    candidates = [(getattr(torch, native.type, None), f"torch.{native.type}")]
    candidates.append((getattr(torch, "accelerator", None), "torch.accelerator"))
    for module, method in candidates:
        if module is None or not all(hasattr(module, name) for name in _PEAK_CALLS):
            continue
        meter = TorchMemoryMeter(native, module, method)
        try:
            meter.in_use()
            meter.peak()
        except Exception:  # e.g. torch.accelerator's counters on a backend without peak statistics
            continue
        return meter
    return f"torch {torch.__version__} has no peak memory statistics for {native.type}"


class TorchAdapter:
    name = "torch"

    def discover(self) -> base.Discovery:
        found = base.Discovery("torch", torch.__version__)
        found.devices.append(base.DeviceInfo("torch", "cpu", 0, base.host_cpu_label()))
        reason = _cuda_missing_reason()
        if reason is None:
            for index in range(torch.cuda.device_count()):
                try:
                    _probe(torch.device("cuda", index))
                    hardware = torch_hardware_name(torch, "cuda", index)
                except Exception as exc:
                    found.missing[f"cuda:{index}"] = f"cuda:{index} failed its probe: {exc}"
                    continue
                found.devices.append(base.DeviceInfo("torch", "cuda", index, hardware))
            if not found.of_kind("cuda"):
                found.missing["cuda"] = "; ".join(found.missing.values()) or "no CUDA device works"
        else:
            found.missing["cuda"] = reason
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            try:
                _probe(torch.device("mps"))
                found.devices.append(base.DeviceInfo("torch", "mps", 0, "Apple MPS"))
            except Exception as exc:
                found.missing["mps"] = f"mps failed its probe: {exc}"
        else:
            found.missing["mps"] = "no Apple MPS device (torch.backends.mps.is_available() is False)"
        for kind in torch_kinds_to_discover(torch):
            _discover_accelerator(found, kind)
        return found

    def dtype(self, name: str) -> Any:
        if name not in base.DTYPE_NAMES:
            raise ValueError(f"unknown dtype {name!r}")
        found = getattr(torch, name, None)
        if found is None:  # float8 arrived in torch 2.1, its fnuz variants later
            raise ValueError(f"torch {torch.__version__} has no {name}; a newer torch has it")
        return found

    def native_device(self, info: base.DeviceInfo) -> Any:
        if info.kind == "cpu":
            return torch.device("cpu")
        if info.kind == "mps":
            return torch.device("mps")
        return torch.device(info.kind, info.index)

    def namespace(self) -> Any:
        return torch

    def array_api_namespace(self) -> Any:
        # torch's own namespace differs from the standard in places (dim= for axis=, no cumulative_sum
        # in older versions); array-api-compat, the Array API ecosystem's adapter, wraps it.
        try:
            import array_api_compat.torch as xp
        except ImportError:
            raise ImportError(
                "accel_device.xp for torch needs array-api-compat: pip install 'pytest-accel[torch]' (or "
                "pip install array-api-compat); accel_device.framework_xp is torch itself"
            ) from None
        return xp

    def from_host(self, host: np.ndarray, native: Any, dtype: Any | None) -> Any:
        # Convert on the CPU first so that every device receives bit-identical values. np.array copies
        # into a contiguous array of the same shape (np.ascontiguousarray would make a 0-d array 1-d).
        tensor = torch.from_numpy(np.array(host, order="C", copy=True))
        if dtype is not None:
            tensor = tensor.to(dtype)
        return tensor.to(native)

    def is_array(self, value: Any) -> bool:
        return isinstance(value, torch.Tensor)

    def to_host(self, value: Any) -> np.ndarray:
        tensor = value.detach()
        wider = torch.complex64 if tensor.dtype == torch.complex32 else torch.float32
        if tensor.dtype == torch.complex32 or (
            tensor.is_floating_point() and tensor.dtype not in _NUMPY_FLOATS
        ):
            try:
                tensor = tensor.to(wider)  # exact: numpy has no bfloat16 or float8 (of any kind)
            except (RuntimeError, NotImplementedError) as exc:
                raise TypeError(
                    f"cannot compare a torch {tensor.dtype} tensor: torch cannot convert it to {wider} "
                    f"({str(exc).splitlines()[0]}); check a float32 copy of it instead"
                ) from None
        return tensor.resolve_conj().resolve_neg().cpu().numpy()

    def dtype_name(self, value: Any) -> str:
        return str(value.dtype).removeprefix("torch.")

    def made_current(self, native: Any) -> contextlib.AbstractContextManager[Any]:
        """The item's CUDA device as the current one while it runs (device="cuda", .cuda(),
        torch.cuda.synchronize() in the test then mean it), the previous one restored afterwards."""
        if native.type == "cuda":
            return torch.cuda.device(native)
        if native.type in TORCH_INDEXED and hasattr(getattr(torch, "accelerator", None), "device_index"):
            return torch.accelerator.device_index(native.index)
        return contextlib.nullcontext()

    def default_device(self, native: Any) -> contextlib.AbstractContextManager[Any]:
        """Tensors a test makes without naming a device (``torch.randn``) land on ``native``; on CUDA
        it is also the current device."""
        if native.type == "cuda":
            stack = contextlib.ExitStack()
            stack.enter_context(torch.cuda.device(native))
            stack.enter_context(native)
            return stack
        return native  # a torch.device is a context manager for the default device (torch >= 2.0)

    def sync(self, native: Any, value: Any = None) -> None:
        if native.type == "cuda":
            torch.cuda.synchronize(native)
        elif native.type == "mps":
            torch.mps.synchronize()
        elif native.type != "cpu" and hasattr(getattr(torch, "accelerator", None), "synchronize"):
            torch.accelerator.synchronize(native)

    def timer(self, native: Any) -> base.BatchTimer:
        if native.type == "cuda":
            return CudaEventTimer(native)
        if native.type == "cpu":
            return base.HostClockTimer()
        return base.SyncingTimer(lambda: self.sync(native))

    def fault_kind(self, exc: BaseException, native: Any) -> str | None:
        # torch.OutOfMemoryError: the allocation failed and the device works again once memory is
        # released. torch.AcceleratorError: any failed CUDA call; its error code tells whether the
        # device is left unusable (cuda_errors.py), and an unknown code re-tests the device.
        if isinstance(exc, torch.OutOfMemoryError):
            return "out-of-memory"
        kind = classify_accelerator_error(_error_type(exc), error_code(exc), str(exc))
        if kind == RETEST:
            return None if _still_works(native) else "device-unusable"
        return kind if kind is not None else base.host_fault_kind(exc)

    def release_memory(self, native: Any) -> None:
        base.release_host_memory()
        if native.type == "cuda":
            torch.cuda.empty_cache()

    def memory_meter(self, native: Any) -> base.MemoryMeter | str:
        return torch_memory_meter(native)

    def memory_note(self, native: Any) -> str:
        if native.type != "cuda":
            return ""
        try:
            free, total = torch.cuda.mem_get_info(native)
        except RuntimeError:
            return ""
        return f"{base.gib(free)} free of {base.gib(total)} after releasing the cache"


ADAPTER = TorchAdapter()
