"""The ``accel_device`` object a test receives: one device, one dtype, seeded data, check and bench."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_accel.errors import CheckSequenceError, ParityError
from pytest_accel.float_formats import FLOAT8_DTYPES, FORMATS
from pytest_accel.frameworks.base import Adapter, DeviceInfo, host_dtype_for, host_float32, round_host
from pytest_accel.leaves import HostLeaf, flatten
from pytest_accel.markers import TestOptions
from pytest_accel.oracle import accuracy_verdict, nest_error
from pytest_accel.parity import compare_leaf_maps
from pytest_accel.results import CheckResult, ItemRecord
from pytest_accel.tolerances import ToleranceTable, tolerance_for_check

ROLE_REFERENCE = "reference"  # the item that runs on the reference device: records, times
ROLE_DEVICE = "device"  # an item on another device: compares with the reference pass, times
ROLE_REFERENCE_PASS = "reference-pass"  # the hidden run on the reference device: records only
ROLE_ORACLE_PASS = "oracle-pass"  # the hidden float64 run on the reference device: records only
HIDDEN_ROLES = (ROLE_REFERENCE_PASS, ROLE_ORACLE_PASS)


@dataclass(frozen=True)
class RecordedCheck:
    """What one ``check`` call saw on the reference device: its name and host copies."""

    name: str
    leaves: dict[str, HostLeaf | None]


def seed_for(test_key: str, seed: int) -> int:
    """A 64-bit seed from the test's id (device excluded) and the user's seed: same on every device."""
    digest = hashlib.sha256(f"{test_key}|{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


class AccelDevice:
    """One device and dtype for one test; see the README for each member."""

    def __init__(
        self,
        *,
        adapter: Adapter,
        info: DeviceInfo,
        dtype_name: str,
        options: TestOptions,
        test_key: str,
        role: str,
        record: ItemRecord | None,
        bench_budget_s: float | None,
        tolerances: ToleranceTable | None = None,
        input_dtype: str | None = None,
        gate_lookup: Callable[[str], Any] | None = None,
    ) -> None:
        self._gate_lookup = gate_lookup
        self._adapter = adapter
        self._tolerances = tolerances or ToleranceTable({})
        self._input_dtype = input_dtype
        self._info = info
        self._options = options
        self._role = role
        self._record = record
        self._bench_budget_s = bench_budget_s
        self._rng = np.random.Generator(np.random.PCG64(seed_for(test_key, options.seed)))
        self._native = adapter.native_device(info)
        self._dtype = adapter.dtype(dtype_name)
        self.dtype_name = dtype_name
        self.recorded: list[RecordedCheck] = []
        self.expected: list[RecordedCheck] | None = None
        self.oracle: list[RecordedCheck] | None = None
        self.reference_name = record.reference_device if record else info.name
        self._checks_done = 0

    # -- identity ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._info.name

    @property
    def kind(self) -> str:
        return self._info.kind

    @property
    def index(self) -> int:
        return self._info.index

    @property
    def framework(self) -> str:
        return self._info.framework

    @property
    def hardware(self) -> str:
        return self._info.hardware

    @property
    def dtype(self) -> Any:
        return self._dtype

    @property
    def native(self) -> Any:
        return self._native

    @property
    def adapter(self) -> Adapter:
        """The plugin's framework adapter (for the plugin's own use: faults, timing)."""
        return self._adapter

    @property
    def xp(self) -> Any:
        """An Array API standard namespace: one test body written against it runs on every framework."""
        return self._adapter.array_api_namespace()

    @property
    def framework_xp(self) -> Any:
        """The framework's own array module (``torch``, ``jax.numpy``, ``numpy``), with all its extras."""
        return self._adapter.namespace()

    @property
    def is_reference(self) -> bool:
        return self._role != ROLE_DEVICE

    @property
    def record(self) -> ItemRecord | None:
        """What this item produced (checks, timings); None in the hidden passes."""
        return self._record

    @property
    def pass_label(self) -> str:
        """How messages name the hidden run this device serves."""
        return "the float64 oracle pass" if self._role == ROLE_ORACLE_PASS else "the reference pass"

    def __repr__(self) -> str:
        return f"<accel_device {self.framework} {self.name} {self.dtype_name} ({self._role})>"

    # -- data -------------------------------------------------------------------------------------
    def _float_dtype_name(self) -> str:
        return self.dtype_name if self.dtype_name.startswith(("float", "bfloat", "complex")) else "float32"

    def _from_host(self, host: np.ndarray, dtype_name: str) -> Any:
        __tracebackhide__ = True
        if self._input_dtype is not None:
            host = round_host(host, self._input_dtype)
        host = np.asarray(host, dtype=host_dtype_for(dtype_name))
        if dtype_name in FLOAT8_DTYPES:
            host = _rounded_to_float8(host, dtype_name)
        return self._adapter.from_host(host, self._native, self._adapter.dtype(dtype_name))

    def asarray(self, value: Any) -> Any:
        """Host data (numpy, scalars, nested lists/tuples/dicts) onto this device, floats in ``dtype``."""
        __tracebackhide__ = True  # a bad value is the test's: show its line, not the plugin's
        if isinstance(value, Mapping):
            return {key: self.asarray(child) for key, child in value.items()}
        if isinstance(value, (list, tuple)) and _holds_containers_or_arrays(value):
            converted = [self.asarray(child) for child in value]
            if hasattr(value, "_fields"):
                return type(value)(*converted)
            return type(value)(converted)
        if self._adapter.is_array(value):
            value = self._adapter.to_host(value)
        host = host_float32(np.asarray(value))
        if host.dtype.kind in "fc":
            target = self._float_dtype_name()
            if host.dtype.kind == "c" and not target.startswith("complex"):
                target = "complex128" if target == "float64" else "complex64"
            return self._from_host(host, target)
        if host.dtype.kind in "biu":
            return self._adapter.from_host(host, self._native, None)
        raise TypeError(f"accel_device.asarray cannot move {type(value).__name__} values to a device")

    @staticmethod
    def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            return tuple(int(s) for s in shape[0])
        return tuple(int(s) for s in shape)

    def randn(self, *shape: Any) -> Any:
        """Standard normal values, drawn on the host from the test's seed: identical on every device."""
        __tracebackhide__ = True
        dims = self._shape(shape)
        target = self._float_dtype_name()
        values = self._rng.standard_normal(dims)
        if target.startswith("complex"):
            values = values + 1j * self._rng.standard_normal(dims)
        return self._from_host(values, target)

    def rand(self, *shape: Any) -> Any:
        """Uniform values in [0, 1), seeded like ``randn``."""
        __tracebackhide__ = True
        return self._from_host(self._rng.random(self._shape(shape)), self._float_dtype_name())

    def randint(self, low: int, high: int | None = None, size: Any = ()) -> Any:
        """Integers in [low, high) (or [0, low)), seeded like ``randn``; int64 unless dtype is integer."""
        dims = self._shape((size,)) if isinstance(size, (tuple, list)) else (int(size),) if size != () else ()
        values = self._rng.integers(low, high, size=dims, dtype=np.int64)
        int_dtype = self.dtype_name if self.dtype_name.startswith(("int", "uint")) else None
        if int_dtype:
            return self._from_host(values, int_dtype)
        return self._adapter.from_host(values, self._native, None)

    def sync(self, value: Any = None) -> None:
        """Wait for the device's queued work (or for ``value`` to be ready)."""
        self._adapter.sync(self._native, value)

    # -- parity -----------------------------------------------------------------------------------
    def check(
        self,
        value: Any,
        name: str | None = None,
        rtol: float | None = None,
        atol: float | None = None,
    ) -> None:
        """Parity of ``value`` (an array, scalar or nest) with the same check on the reference pass."""
        __tracebackhide__ = True  # a failure shows the test's line and the message, not this method
        _check_arguments(name, rtol, atol)
        index = self._checks_done
        self._checks_done += 1
        label = name or f"check{index}"
        # Compared values stay on their device (the comparison runs there); recorded ones go to the host.
        keep = self._role == ROLE_DEVICE
        leaves = flatten(value, label, scalar_dtype=self._float_dtype_name(), keep_on_device=keep)
        if self._role in HIDDEN_ROLES:
            self.recorded.append(RecordedCheck(label, leaves))
            return
        result = CheckResult(label, True, None)
        if self._record is not None:
            self._record.checks.append(result)
        failures: list[str] = []
        reference_leaves = leaves
        if self._role == ROLE_REFERENCE:
            self.recorded.append(RecordedCheck(label, leaves))
        else:
            expected = self._matching_check(self.expected, index, label, "the reference device")
            reference_leaves = expected.leaves
            outcome = compare_leaf_maps(leaves, expected.leaves, self._tolerance_rule(rtol, atol))
            result.passed, result.headroom = outcome.passed, outcome.headroom
            if not outcome.passed:
                outcome.context = (
                    f"on {self.framework} {self.name} ({self.dtype_name}) against the reference "
                    f"{self.reference_name}, check {label!r}"
                )
                failures.append(outcome.message())
        if self.oracle is not None:
            oracle = self._matching_check(self.oracle, index, label, "the float64 oracle pass")
            result.error_vs_oracle = nest_error(leaves, oracle.leaves)
            result.reference_error_vs_oracle = nest_error(reference_leaves, oracle.leaves)
            verdict = accuracy_verdict(
                self.dtype_name, result.error_vs_oracle, result.reference_error_vs_oracle
            )
            if verdict is not None and self._role == ROLE_DEVICE:
                result.passed = False
                failures.append(
                    f"accuracy check failed on {self.framework} {self.name} ({self.dtype_name}), "
                    f"check {label!r}: {verdict}"
                )
        if failures:
            raise ParityError("\n".join(failures))

    def _tolerance_rule(self, rtol: float | None, atol: float | None) -> Callable[[str], Any]:
        def rule(dtype: str) -> Any:
            return tolerance_for_check(
                dtype,
                kind=self.kind,
                table=self._tolerances,
                tf32=self._options.tf32,
                marker=(self._options.rtol, self._options.atol),
                call=(rtol, atol),
            )

        return rule

    def _matching_check(
        self, recorded: list[RecordedCheck] | None, index: int, label: str, where: str
    ) -> RecordedCheck:
        recorded = recorded or []
        if index >= len(recorded):
            raise CheckSequenceError(
                f"check #{index + 1} ({label!r}) on {self.name} has no counterpart: in {where} "
                f"({self.reference_name}) the test called check {len(recorded)} time(s) "
                f"({_names(recorded)}). A test must make the same checks on every device."
            )
        if recorded[index].name != label:
            raise CheckSequenceError(
                f"check #{index + 1} is named {label!r} on {self.name} but "
                f"{recorded[index].name!r} in {where} ({self.reference_name}): a test must make the "
                "same checks, in the same order, on every device."
            )
        return recorded[index]

    def verify_all_checks_made(self) -> None:
        """After the body: the device must have made every check the reference pass made."""
        expected = self.expected or self.oracle or []
        if self._checks_done < len(expected):
            raise CheckSequenceError(
                f"the test called check {self._checks_done} time(s) on {self.name} but "
                f"{len(expected)} time(s) on the reference device {self.reference_name} "
                f"({_names(expected)}). A test must make the same checks on every device."
            )

    # -- timing -----------------------------------------------------------------------------------
    def bench(self, fn: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any) -> Any:
        """Time ``fn(*args, **kwargs)`` on this device and return its (first) result.

        ``name`` labels the measurement when a test benches several things.
        """
        __tracebackhide__ = True
        if not callable(fn):
            raise TypeError(
                f"accel_device.bench(fn, *args): fn must be callable, got {fn!r} ({type(fn).__name__}); "
                "pass the function and then its arguments, e.g. bench(torch.matmul, a, b)"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"accel_device.bench(..., name={name!r}): name must be a string")
        if self._role in HIDDEN_ROLES or self._bench_budget_s is None or self._record is None:
            return fn(*args, **kwargs)
        from pytest_accel.timing import measure

        label = name or getattr(fn, "__name__", "<")
        if label.startswith("<"):  # lambdas and partials get a positional name
            label = f"bench{len(self._record.benches)}"
        if any(b.name == label for b in self._record.benches):
            label = f"{label}#{len(self._record.benches)}"
        result, measured = measure(
            fn,
            args,
            kwargs,
            self._adapter.timer(self._native),
            name=label,
            budget_s=self._bench_budget_s,
            gate=self._gate_lookup(label) if self._gate_lookup is not None else None,
        )
        self._record.benches.append(measured)
        return result


def _check_arguments(name: Any, rtol: Any, atol: Any) -> None:
    """Wrong types in a check call are the test's mistake: say which argument and what it takes."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"accel_device.check(..., name={name!r}): name must be a string")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise TypeError(f"accel_device.check(..., {label}={value!r}): {label} must be a number >= 0")


def _rounded_to_float8(host: np.ndarray, dtype_name: str) -> np.ndarray:
    """Float8 values rounded here, on the host, by one rule (torch's and ml_dtypes' casts agree with it
    in range). Values beyond the range of a format without Inf are refused: there torch saturates and
    JAX makes NaN, and float8 data is scaled into range in practice anyway."""
    __tracebackhide__ = True
    fmt = FORMATS[dtype_name]
    rounded = round_host(host, dtype_name)
    lost = np.isnan(rounded) & ~np.isnan(host)
    if lost.any():
        largest = float(np.nanmax(np.abs(host[lost])))
        raise ValueError(
            f"{lost.sum()} value(s) up to {largest:.6g} lie beyond {dtype_name}'s largest finite value "
            f"{fmt.max_finite:g}, and {dtype_name} has no Inf: scale the data into range first "
            "(float8 tensors are stored with a scale factor)"
        )
    return rounded.astype(np.float32)


def _holds_containers_or_arrays(values: list[Any] | tuple[Any, ...]) -> bool:
    return any(
        isinstance(v, (Mapping, np.ndarray)) or hasattr(v, "__array__") or hasattr(v, "_fields")
        for v in values
    ) or hasattr(values, "_fields")


def _names(checks: list[RecordedCheck]) -> str:
    return ", ".join(repr(c.name) for c in checks) or "none"
