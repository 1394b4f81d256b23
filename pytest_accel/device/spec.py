"""The device request (``--accel=SPEC``): parsing and matching it against what a framework has."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_accel.errors import AccelConfigError
from pytest_accel.frameworks import ALL_KINDS, FRAMEWORK_KINDS
from pytest_accel.frameworks.discovery import DeviceInfo, Discovery


@dataclass(frozen=True)
class DeviceRequest:
    """One entry of the spec: a kind, optionally one index of it (``cuda:1``)."""

    kind: str
    index: int | None = None

    def __str__(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"

    def matches(self, device: DeviceInfo) -> bool:
        return device.kind == self.kind and (self.index is None or device.index == self.index)


@dataclass(frozen=True)
class DeviceSpec:
    """The parsed ``--accel`` value: every device present (``all``) or an explicit list."""

    text: str
    every_device: bool
    requests: tuple[DeviceRequest, ...]
    source: str = "--accel"

    def __str__(self) -> str:
        """How messages name the request: ``--accel=cuda``, ``$PYTEST_ACCEL=cuda`` or ``ini accel=cuda``."""
        return f"{self.source}={self.text}"

    @property
    def explicit_requests(self) -> tuple[DeviceRequest, ...]:
        """Requests that must be honoured: absent devices here are errors, never skips."""
        return () if self.every_device else self.requests


def parse_device_request(text: str, *, what: str) -> DeviceRequest:
    """Parse ``kind`` or ``kind:index``; ``what`` names the source in error messages."""
    entry = text.strip().lower()
    kind, _, index_text = entry.partition(":")
    if kind == "gpu":
        raise AccelConfigError(f"{what}: device kind 'gpu' is spelled 'cuda' here (e.g. cuda, cuda:0)")
    if kind in ("rocm", "hip"):
        raise AccelConfigError(
            f"{what}: AMD GPUs are the 'cuda' kind here, as in torch (e.g. cuda, cuda:0); the header says "
            "ROCm where torch.version.hip or JAX's platform tells"
        )
    if kind not in ALL_KINDS:
        raise AccelConfigError(
            f"{what}: unknown device kind {kind!r}; use one of {', '.join(ALL_KINDS)}, "
            "a kind with an index such as cuda:1, a comma-separated list, or 'all'"
        )
    if not index_text:
        return DeviceRequest(kind)
    if not index_text.isdigit():
        raise AccelConfigError(f"{what}: device index in {text.strip()!r} must be a number, e.g. cuda:1")
    return DeviceRequest(kind, int(index_text))


def parse_spec(text: str, *, source: str = "--accel") -> DeviceSpec:
    """Parse ``cpu``, ``cuda:1``, ``cpu,cuda`` or ``all``."""
    entries = [part for part in (text or "").split(",") if part.strip()]
    if not entries:
        raise AccelConfigError(f"{source}={text!r} names no device; use e.g. cpu, cuda, cpu,cuda or all")
    if any(part.strip().lower() == "all" for part in entries):
        if len(entries) > 1:
            raise AccelConfigError(f"{source}={text!r}: 'all' cannot be combined with other devices")
        return DeviceSpec(text, True, (), source)
    requests: list[DeviceRequest] = []
    for part in entries:
        request = parse_device_request(part, what=f"{source}={text}")
        if request not in requests:
            requests.append(request)
    return DeviceSpec(text, False, tuple(requests), source)


@dataclass
class Selection:
    """The devices of one framework that the spec selects, and the requested ones that are absent."""

    devices: list[DeviceInfo]
    absent: dict[str, str]


def select_devices(spec: DeviceSpec, found: Discovery) -> Selection:
    """Match the spec against one framework's probed devices (kinds it cannot have are ignored)."""
    if spec.every_device:
        return Selection(list(found.devices), {})
    kinds = FRAMEWORK_KINDS[found.framework]
    chosen: list[DeviceInfo] = []
    absent: dict[str, str] = {}
    for request in spec.requests:
        if request.kind not in kinds:
            continue
        matching = [d for d in found.devices if request.matches(d)]
        if not matching:
            absent[str(request)] = _absence_reason(request, found)
        chosen.extend(d for d in matching if d not in chosen)
    return Selection(chosen, absent)


def _absence_reason(request: DeviceRequest, found: Discovery) -> str:
    exact = found.missing.get(str(request))
    if exact:
        return exact
    present = found.of_kind(request.kind)
    if request.index is not None and present:
        names = ", ".join(d.name for d in present)
        return f"{found.framework} sees {len(present)} {request.kind} device(s) ({names}), not {request}"
    return found.missing.get(request.kind, f"{found.framework} found no {request.kind} device")
