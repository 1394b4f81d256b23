"""Turning an accel test into one item per framework x dtype x device, with short stable ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pytest_accel.device_info import DeviceInfo
from pytest_accel.devices import DeviceRegistry
from pytest_accel.errors import AccelConfigError
from pytest_accel.markers import TestOptions


@dataclass(frozen=True)
class AccelParam:
    """What one item runs on; the value of ``request.param`` in the ``accel_device`` fixture."""

    framework: str
    device: DeviceInfo
    dtype: str
    reference: DeviceInfo
    options: TestOptions

    @property
    def id(self) -> str:
        return f"{self.framework}-{self.device.name}-{self.dtype}"

    @property
    def is_reference(self) -> bool:
        return self.device == self.reference


def _dtype_problems(
    options: TestOptions, registry: DeviceRegistry, test_name: str
) -> dict[tuple[str, str], str]:
    """(framework, dtype) pairs a framework cannot give, with the reason; a dtype that no requested
    framework has is an error for the whole test (the marker asks for something that cannot run)."""
    from pytest_accel.frameworks import load_adapter

    problems: dict[tuple[str, str], str] = {}
    usable = [f for f in options.frameworks if registry.state(f).discovery is not None]
    for framework in usable:
        adapter = load_adapter(framework)
        for dtype in options.dtypes:
            try:
                adapter.dtype(dtype)
            except ValueError as exc:
                problems[(framework, dtype)] = str(exc)
    for dtype in options.dtypes:
        reasons = [problems[(f, dtype)] for f in usable if (f, dtype) in problems]
        if usable and len(reasons) == len(usable):
            raise AccelConfigError(f"{test_name}: dtype {dtype!r}: " + "; ".join(reasons))
    return problems


def build_params(options: TestOptions, registry: DeviceRegistry, test_name: str) -> list[Any]:
    """``pytest.param`` values for every selected combination; unusable ones carry a skip reason.

    A framework that cannot give one of the dtypes (numpy has no bfloat16) loses only those items: they
    are skipped with the reason, and the header lists them, while the other frameworks' items run.
    """
    params: list[Any] = []
    problems = _dtype_problems(options, registry, test_name)
    reference_framework, _ = split_reference(options.reference)
    if reference_framework is not None and reference_framework not in options.frameworks:
        raise AccelConfigError(
            f"{test_name}: reference={options.reference!r} names {reference_framework}, which is not among "
            f"the test's frameworks ({', '.join(options.frameworks)}); add it to framework=[...]"
        )
    if reference_framework is not None:
        for (framework, dtype), reason in list(problems.items()):
            if framework == reference_framework:
                for other in options.frameworks:
                    why = f"the reference framework {reference_framework} cannot give it ({reason})"
                    problems.setdefault((other, dtype), why)
    for (framework, dtype), reason in problems.items():
        registry.note_left_out(f"{framework} x {dtype}: {reason}")
    for framework in options.frameworks:
        state = registry.state(framework)
        if state.discovery is None or state.selection is None:
            reason = state.unavailable or f"{framework} is unavailable"
            params.extend(
                pytest.param(None, id=f"{framework}-cpu-{dtype}", marks=pytest.mark.skip(reason=reason))
                for dtype in options.dtypes
            )
            continue
        reference = _reference_device(options, registry, framework, test_name)
        devices = [d for d in state.selection.devices if options.kinds is None or d.kind in options.kinds]
        devices.sort(key=lambda d: d != reference)  # the reference item first: its values get reused
        if not devices:
            reason = (
                f"none of the requested devices ({registry.spec.text}) is one this test runs on "
                f"(devices={list(options.kinds or ())})"
            )
            params.extend(
                pytest.param(None, id=f"{framework}-{dtype}", marks=pytest.mark.skip(reason=reason))
                for dtype in options.dtypes
            )
            continue
        for dtype in options.dtypes:
            if (framework, dtype) in problems:
                reason = f"left out: {problems[(framework, dtype)]}"
                params.append(
                    pytest.param(None, id=f"{framework}-{dtype}", marks=pytest.mark.skip(reason=reason))
                )
                continue
            for device in devices:
                value = AccelParam(framework, device, dtype, reference, options)
                params.append(pytest.param(value, id=value.id))
    return params


def split_reference(text: str) -> tuple[str | None, str]:
    """'numpy' -> ('numpy', 'cpu'); 'torch:cuda' -> ('torch', 'cuda'); 'cuda:1' -> (None, 'cuda:1')."""
    from pytest_accel.frameworks import KNOWN_FRAMEWORKS

    head, _, rest = text.partition(":")
    if head.strip().lower() in KNOWN_FRAMEWORKS:
        return head.strip().lower(), (rest.strip() or "cpu")
    return None, text


def _reference_device(
    options: TestOptions, registry: DeviceRegistry, framework: str, test_name: str
) -> DeviceInfo:
    other, device = split_reference(options.reference)
    if other is not None:
        framework = other  # cross-framework parity: every framework's items compare with this one's
        if registry.state(other).discovery is None:
            raise AccelConfigError(
                f"{test_name}: reference={options.reference!r}: {other} is not usable here "
                f"({registry.state(other).unavailable})"
            )
    try:
        found = registry.find(framework, device)
    except AccelConfigError as exc:
        raise AccelConfigError(f"{test_name}: reference={options.reference!r}: {exc}") from None
    if found is None:
        raise AccelConfigError(
            f"{test_name}: the reference device {options.reference!r} is not present for {framework}; "
            "choose a present device with reference=... in the marker or the ini key accel_reference"
        )
    return found
