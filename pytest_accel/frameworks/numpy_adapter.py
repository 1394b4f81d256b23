"""NumPy: one CPU device; arrays are already on the host, so all but the array operations are the
host's own, from ``base``."""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from pytest_accel.dtypes.float_formats import HOST_AS_FLOAT32
from pytest_accel.frameworks import base


@functools.lru_cache(maxsize=64)
def _dtype_name(dtype: np.dtype) -> str:
    """numpy computes ``dtype.name`` in Python at every access; asked for every captured assert."""
    return dtype.name


class NumpyAdapter:
    name = "numpy"

    def discover(self) -> base.Discovery:
        found = base.Discovery("numpy", np.__version__)
        found.devices.append(base.DeviceInfo("numpy", "cpu", 0, base.host_cpu_label()))
        return found

    def dtype(self, name: str) -> Any:
        if name in HOST_AS_FLOAT32:
            # ml_dtypes gives numpy these types, but numpy then sums in them (1024 bfloat16 values
            # land 18 unit roundoffs from torch's sum, a softmax 110) and promotes matmul to
            # float32: its results would differ from torch's and jax's for numpy's own reasons.
            raise ValueError(
                f"numpy has no {name} (ml_dtypes' {name} would make numpy sum in {name} itself); test it "
                "under torch or jax, with --accel-oracle for an exact float64 reference"
            )
        if name not in base.DTYPE_NAMES:
            raise ValueError(f"unknown dtype {name!r}")
        return np.dtype(name)

    def native_device(self, info: base.DeviceInfo) -> Any:
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
        return base.host_float32(np.asarray(value))  # a test's own ml_dtypes array compares as float32

    def dtype_name(self, value: Any) -> str:
        dtype = value.dtype if isinstance(value, (np.ndarray, np.generic)) else np.asarray(value).dtype
        return _dtype_name(dtype)

    def made_current(self, native: Any) -> AbstractContextManager[Any]:
        return base.nothing_made_current(native)

    def default_device(self, native: Any) -> AbstractContextManager[Any]:
        return base.nothing_made_current(native)  # numpy has one device

    def sync(self, native: Any, value: Any = None) -> None:
        return None

    def timer(self, native: Any) -> base.BatchTimer:
        return base.HostClockTimer()

    def fault_kind(self, exc: BaseException, native: Any) -> str | None:
        return base.host_fault_kind(exc)

    def release_memory(self, native: Any) -> None:
        base.release_host_memory()

    def memory_note(self, native: Any) -> str:
        return ""

    def memory_meter(self, native: Any) -> base.MemoryMeter | str:
        return base.TracemallocMeter()  # numpy reports its buffers to tracemalloc


ADAPTER = NumpyAdapter()
