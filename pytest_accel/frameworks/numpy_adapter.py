"""NumPy: one CPU device; arrays are already on the host."""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_accel.frameworks.base import (
    DTYPE_NAMES,
    BatchTimer,
    DeviceInfo,
    Discovery,
    HostClockTimer,
    host_cpu_label,
    host_fault_kind,
    release_host_memory,
)


class NumpyAdapter:
    name = "numpy"

    def discover(self) -> Discovery:
        found = Discovery("numpy", np.__version__)
        found.devices.append(DeviceInfo("numpy", "cpu", 0, host_cpu_label()))
        return found

    def dtype(self, name: str) -> Any:
        if name == "bfloat16":
            raise ValueError("numpy has no bfloat16; use framework='torch' or 'jax' for it")
        if name not in DTYPE_NAMES:
            raise ValueError(f"unknown dtype {name!r}")
        return np.dtype(name)

    def native_device(self, info: DeviceInfo) -> Any:
        return "cpu"

    def namespace(self) -> Any:
        return np

    def array_api_namespace(self) -> Any:
        return np  # numpy 2 follows the Array API standard in its main namespace

    def from_host(self, host: np.ndarray, native: Any, dtype: Any | None) -> Any:
        return np.array(host, dtype=dtype if dtype is not None else host.dtype, copy=True)

    def is_array(self, value: Any) -> bool:
        return isinstance(value, (np.ndarray, np.generic))

    def to_host(self, value: Any) -> np.ndarray:
        return np.asarray(value)

    def dtype_name(self, value: Any) -> str:
        return np.asarray(value).dtype.name

    def sync(self, native: Any, value: Any = None) -> None:
        return None

    def timer(self, native: Any) -> BatchTimer:
        return HostClockTimer()

    def fault_kind(self, exc: BaseException) -> str | None:
        return host_fault_kind(exc)

    def release_memory(self, native: Any) -> None:
        release_host_memory()

    def memory_note(self, native: Any) -> str:
        return ""


ADAPTER = NumpyAdapter()
