"""What every framework adapter offers the plugin: devices, dtypes, host transfer, sync and timing."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

import numpy as np

from pytest_accel.dtypes.float_formats import FORMATS, HOST_AS_FLOAT32
from pytest_accel.dtypes.names import DTYPE_NAMES
from pytest_accel.frameworks.discovery import DeviceInfo, Discovery

__all__ = ["DTYPE_NAMES", "Adapter", "BatchTimer", "DeviceInfo", "Discovery", "MemoryMeter"]


class BatchTimer(Protocol):
    """Times ``n`` back-to-back calls of a function on one device, in seconds, device work included."""

    method: str

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Wait until the arguments are on the device (transfers queued before ``bench`` are not timed)."""

    def time_batch(self, call: Callable[[], Any], n: int) -> float: ...


class MemoryMeter(Protocol):
    """A device's memory counters, as ``timing.memory`` reads them around one call or one test body.

    ``resets``: whether ``reset_peak`` really restarts the peak (JAX's peak is the process's, for good);
    ``per_item``: cheap enough to watch a whole test body (tracemalloc slows every allocation: it is not).
    """

    method: str
    resets: bool
    per_item: bool

    def tracing(self) -> AbstractContextManager[Any]: ...
    def in_use(self) -> int: ...
    def reset_peak(self) -> int: ...  # the peak before the reset
    def peak(self) -> int: ...


class Adapter(Protocol):
    """The framework-specific operations the plugin needs; one instance per framework."""

    name: str

    def discover(self) -> Discovery: ...
    def dtype(self, name: str) -> Any: ...
    def native_device(self, info: DeviceInfo) -> Any: ...
    def namespace(self) -> Any: ...
    def array_api_namespace(self) -> Any: ...
    def from_host(self, host: np.ndarray, native: Any, dtype: Any | None) -> Any: ...
    def is_array(self, value: Any) -> bool: ...
    def to_host(self, value: Any) -> np.ndarray: ...
    def dtype_name(self, value: Any) -> str: ...
    def sync(self, native: Any, value: Any = None) -> None: ...
    def made_current(self, native: Any) -> AbstractContextManager[Any]: ...
    def default_device(self, native: Any) -> AbstractContextManager[Any]: ...
    def timer(self, native: Any) -> BatchTimer: ...
    def fault_kind(self, exc: BaseException, native: Any) -> str | None: ...
    def release_memory(self, native: Any) -> None: ...
    def memory_note(self, native: Any) -> str: ...
    def memory_meter(self, native: Any) -> MemoryMeter | str: ...  # a str: why memory is not measured


def host_fault_kind(exc: BaseException) -> str | None:
    """The host ran out of memory (numpy's array allocation error is a MemoryError too)."""
    return "out-of-memory" if isinstance(exc, MemoryError) else None


def release_host_memory() -> None:
    import gc

    gc.collect()


def gib(count: float) -> str:
    return f"{count / 2**30:.2f} GiB"


def cpu_model() -> str:
    """The host CPU's marketing name, for report headers and machine fingerprints."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def host_cpu_label() -> str:
    return f"{cpu_model()} ({os.cpu_count()} cores)"


def host_dtype_for(name: str) -> np.dtype:
    """The numpy dtype that carries values of ``name`` on the host (bfloat16 and float8 travel as
    float32, which holds them exactly)."""
    if name in HOST_AS_FLOAT32:
        return np.dtype(np.float32)
    return np.dtype(name)


def host_float32(host: np.ndarray) -> np.ndarray:
    """A host array of a float type numpy lacks (ml_dtypes' bfloat16, float8, float4..., as JAX returns
    them: user-defined dtypes) as float32, exactly; other arrays unchanged."""
    dtype = host.dtype
    if dtype.isbuiltin == 2 and dtype.name.startswith(("float", "bfloat")):
        return host.astype(np.float32)
    return host


class HostClockTimer:
    """Wall clock around a batch of calls, for devices whose work is done when the call returns."""

    method = "perf_counter"

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        return None  # host arrays are ready when made

    def time_batch(self, call: Callable[[], Any], n: int) -> float:
        import time

        start = time.perf_counter()
        for _ in range(n):
            call()
        return time.perf_counter() - start


class SyncingTimer:
    """Wall clock with a device sync before and after the batch, for devices without event timers."""

    method = "perf_counter+sync"

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._sync()

    def time_batch(self, call: Callable[[], Any], n: int) -> float:
        import time

        self._sync()
        start = time.perf_counter()
        for _ in range(n):
            call()
        self._sync()
        return time.perf_counter() - start


class TracemallocMeter:
    """The host's Python allocations, numpy's array buffers among them (numpy reports them to
    tracemalloc). Tracing slows every allocation, so it runs around the one call measured, never around
    timed calls or whole test bodies."""

    method = "tracemalloc"
    resets = True
    per_item = False

    def tracing(self) -> AbstractContextManager[Any]:
        import contextlib
        import tracemalloc

        @contextlib.contextmanager
        def traced() -> Any:
            started = not tracemalloc.is_tracing()
            if started:
                tracemalloc.start()
            try:
                yield
            finally:
                if started:
                    tracemalloc.stop()

        return traced()

    def in_use(self) -> int:
        import tracemalloc

        return tracemalloc.get_traced_memory()[0]

    def reset_peak(self) -> int:
        import tracemalloc

        before = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        return before

    def peak(self) -> int:
        import tracemalloc

        return tracemalloc.get_traced_memory()[1]


def round_host(values: np.ndarray, dtype_name: str) -> np.ndarray:
    """``values`` rounded to ``dtype_name``'s precision (round to nearest even), returned as float64.

    The float64 oracle starts from the inputs exactly as the tested dtype sees them.
    """
    if dtype_name in HOST_AS_FLOAT32:
        # Through float32 first, as the inputs of the tested dtype are made (no double-rounding gap).
        return FORMATS[dtype_name].round(np.asarray(values, dtype=np.float32))
    if dtype_name in ("float32", "float16", "complex64"):
        return (
            np.asarray(values)
            .astype(dtype_name)
            .astype(np.complex128 if dtype_name == "complex64" else np.float64)
        )
    return np.asarray(values)


def nothing_made_current(native: Any) -> AbstractContextManager[Any]:
    """For frameworks whose arrays name their device: no current device to set for an item."""
    return nullcontext()
