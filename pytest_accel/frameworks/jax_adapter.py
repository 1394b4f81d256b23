"""JAX: CPU devices, GPUs (kind ``cuda``, ROCm's too), TPUs and Apple's METAL plugin (kind ``mps``); work
is timed by waiting for its results."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pytest_accel.frameworks.accelerators import jax_hardware_name
from pytest_accel.frameworks.base import (
    DTYPE_NAMES,
    BatchTimer,
    DeviceInfo,
    Discovery,
    MemoryMeter,
    gib,
    host_cpu_label,
    host_fault_kind,
    host_float32,
    nothing_made_current,
    release_host_memory,
)

_PLATFORM_OF_KIND = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu", "mps": "METAL"}
_NEEDS_X64 = ("float64", "complex128", "int64")


def _probe(device: Any) -> None:
    """Allocate, compute and read back: a device that cannot do this is not present."""
    x = jax.device_put(np.arange(16, dtype=np.float32), device)
    total = float(jax.device_get((x * 2).sum()))
    if total != 240.0:
        raise RuntimeError(f"probe computed {total}, expected 240.0")


def _wait_for_arrays(outputs: Any) -> None:
    """Wait for every jax array in ``outputs``; other leaves (None, generators) are not waited on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # odd leaves warn in tree_leaves
        arrays = [leaf for leaf in jax.tree_util.tree_leaves(outputs) if isinstance(leaf, jax.Array)]
    jax.block_until_ready(arrays)


def add_local_devices(
    found: Discovery, kind: str, devices: Sequence[Any], process_index: int, probe: Callable[[Any], None]
) -> None:
    """Add the devices of ``kind`` that belong to process ``process_index`` and pass ``probe``.

    Indices count this process's devices (``jax.local_devices`` order); devices of other processes are
    neither listed nor missing: each host tests its own.
    """
    local = [device for device in devices if device.process_index == process_index]
    for index, device in enumerate(local):
        try:
            probe(device)
        except Exception as exc:
            found.missing[f"{kind}:{index}"] = f"{kind}:{index} failed its probe: {exc}"
            continue
        version = str(getattr(getattr(device, "client", None), "platform_version", ""))
        hardware = host_cpu_label() if kind == "cpu" else jax_hardware_name(str(device.device_kind), version)
        found.devices.append(DeviceInfo("jax", kind, index, hardware))
    if not found.of_kind(kind) and kind not in found.missing:
        found.missing[kind] = f"no working jax {_PLATFORM_OF_KIND[kind]} device"


class JaxWaitTimer:
    """Wall clock from dispatch until the batch's results are ready (``block_until_ready``).

    On accelerators one stream runs the calls in order, so waiting for the last result waits for all;
    on the CPU calls may overlap, so every result of the batch is waited for.
    """

    method = "block_until_ready"

    def __init__(self, wait_for_all: bool) -> None:
        self._wait_for_all = wait_for_all

    def wait_for_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # device_put returns before the transfer is done: the first call's clock must not include it
        _wait_for_arrays((args, kwargs))

    def time_batch(self, call: Callable[[], Any], n: int) -> float:
        start = time.perf_counter()
        if self._wait_for_all:
            outputs = [call() for _ in range(n)]
        else:
            outputs = None
            for _ in range(n):
                outputs = call()
        _wait_for_arrays(outputs)
        return time.perf_counter() - start


class JaxMemoryMeter:
    """``Device.memory_stats()``: bytes in use and their peak. The peak is the process's and cannot be
    reset, so a call's own peak is known only when it sets a new one (``timing.memory`` says so)."""

    method = "jax memory_stats"
    resets = False
    per_item = True

    def __init__(self, device: Any) -> None:
        self._device = device

    def tracing(self) -> AbstractContextManager[Any]:
        import contextlib

        return contextlib.nullcontext()

    def _stats(self) -> dict[str, Any]:
        return self._device.memory_stats() or {}

    def in_use(self) -> int:
        return int(self._stats().get("bytes_in_use", 0))

    def reset_peak(self) -> int:
        return self.peak()

    def peak(self) -> int:
        return int(self._stats()["peak_bytes_in_use"])


def jax_memory_meter(device: Any) -> MemoryMeter | str:
    """The device's meter where ``memory_stats()`` gives a peak, else why not (JAX's CPU gives none)."""
    try:
        stats = device.memory_stats()
    except Exception as exc:  # a plugin without the call
        return f"jax's {device.platform} device has no memory_stats() ({type(exc).__name__})"
    if not stats or "peak_bytes_in_use" not in stats:
        return f"jax's {device.platform} device gives no peak_bytes_in_use in memory_stats()"
    return JaxMemoryMeter(device)


class JaxAdapter:
    name = "jax"

    def discover(self) -> Discovery:
        found = Discovery("jax", jax.__version__)
        for kind, platform in _PLATFORM_OF_KIND.items():
            try:
                # This process's devices: on a TPU pod or a multi-node GPU job, the other hosts' devices
                # belong to their own processes (jax.devices() lists them too, but they cannot be used here).
                devices = jax.local_devices(backend=platform)
            except RuntimeError as exc:
                hint = " (install jax[cuda13] or jax[cuda12])" if kind == "cuda" else ""
                detail = str(exc).split(". ")[0].split("\n")[0][:160]
                found.missing[kind] = f"jax has no {platform} backend{hint}: {detail}"
                continue
            add_local_devices(found, kind, devices, jax.process_index(), _probe)
        return found

    def dtype(self, name: str) -> Any:
        if name not in DTYPE_NAMES:
            raise ValueError(f"unknown dtype {name!r}")
        if name in _NEEDS_X64 and not jax.config.read("jax_enable_x64"):
            raise ValueError(
                f"jax computes {name} only with 64-bit mode on: set JAX_ENABLE_X64=1 in the "
                "environment (or jax.config.update('jax_enable_x64', True) in conftest.py)"
            )
        return jnp.dtype(name)

    def native_device(self, info: DeviceInfo) -> Any:
        return jax.local_devices(backend=_PLATFORM_OF_KIND[info.kind])[info.index]

    def namespace(self) -> Any:
        return jnp

    def array_api_namespace(self) -> Any:
        return jnp  # jax.numpy follows the Array API standard itself (jax >= 0.4.32)

    def from_host(self, host: np.ndarray, native: Any, dtype: Any | None) -> Any:
        converted = np.asarray(host, dtype=dtype) if dtype is not None else np.asarray(host)
        return jax.device_put(converted, native)

    def is_array(self, value: Any) -> bool:
        return isinstance(value, jax.Array)

    def to_host(self, value: Any) -> np.ndarray:
        # bfloat16 and float8 (ml_dtypes types) as float32, exactly: the comparison uses numpy's own
        return host_float32(np.asarray(jax.device_get(value)))

    def dtype_name(self, value: Any) -> str:
        return str(jnp.dtype(value.dtype))

    def made_current(self, native: Any) -> AbstractContextManager[Any]:
        return nothing_made_current(native)

    def default_device(self, native: Any) -> AbstractContextManager[Any]:
        """Arrays a test makes without naming a device (``jnp.ones``) land on ``native``."""
        return jax.default_device(native)

    def sync(self, native: Any, value: Any = None) -> None:
        if value is not None:
            jax.block_until_ready(value)
            return
        # No device-wide barrier exists in JAX: a computation queued after all earlier work and
        # waited for is the closest equivalent (the device runs its queue in order).
        marker = jax.device_put(np.zeros((), dtype=np.float32), native) + 1
        marker.block_until_ready()
        jax.effects_barrier()

    def timer(self, native: Any) -> BatchTimer:
        return JaxWaitTimer(wait_for_all=native.platform == "cpu")

    def fault_kind(self, exc: BaseException, native: Any) -> str | None:
        # JAX reports an allocation failure as JaxRuntimeError (XlaRuntimeError before) whose message
        # starts with RESOURCE_EXHAUSTED; the device recovers once the arrays are freed.
        runtime_error = getattr(jax.errors, "JaxRuntimeError", None)
        is_runtime_error = (runtime_error is not None and isinstance(exc, runtime_error)) or type(
            exc
        ).__name__ in ("JaxRuntimeError", "XlaRuntimeError")
        if is_runtime_error and "RESOURCE_EXHAUSTED" in str(exc):
            return "out-of-memory"
        return host_fault_kind(exc)

    def release_memory(self, native: Any) -> None:
        release_host_memory()

    def memory_meter(self, native: Any) -> MemoryMeter | str:
        return jax_memory_meter(native)

    def memory_note(self, native: Any) -> str:
        stats = getattr(native, "memory_stats", lambda: None)()
        if not stats or "bytes_limit" not in stats:
            return ""
        free = stats["bytes_limit"] - stats.get("bytes_in_use", 0)
        return f"{gib(free)} free of {gib(stats['bytes_limit'])} after garbage collection"


ADAPTER = JaxAdapter()
