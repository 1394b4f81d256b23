"""Which devices this session has: probed lazily per framework, once, when a test first needs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_accel.device.spec import (
    DeviceRequest,
    DeviceSpec,
    Selection,
    parse_device_request,
    select_devices,
)
from pytest_accel.frameworks import (
    ANNOUNCED_KINDS,
    FRAMEWORK_KINDS,
    FrameworkMissing,
    framework_notes,
    load_adapter,
)
from pytest_accel.frameworks.discovery import DeviceInfo, Discovery


@dataclass
class FrameworkState:
    """One framework's probe result in this session: its devices, or why it cannot be used."""

    discovery: Discovery | None
    unavailable: str | None
    selection: Selection | None


@dataclass
class DeviceRegistry:
    """Discovers devices per framework on first use and remembers what the spec could not get."""

    spec: DeviceSpec
    frameworks: dict[str, FrameworkState] = field(default_factory=dict)
    handed: dict[str, Any] | None = None  # under xdist: the controller's discovery (probe.py)
    left_out: list[str] = field(default_factory=list)  # framework x dtype pairs that cannot exist

    def note_left_out(self, line: str) -> None:
        if line not in self.left_out:
            self.left_out.append(line)

    def state(self, framework: str) -> FrameworkState:
        if framework not in self.frameworks:
            self.frameworks[framework] = self._discover(framework)
        return self.frameworks[framework]

    def _discover(self, framework: str) -> FrameworkState:
        if self.handed is not None and framework in self.handed:
            from pytest_accel.device.probe import discovery_from_data

            data = self.handed[framework]
            if "unavailable" in data:
                return FrameworkState(
                    None, f"{data['unavailable']}: pip install 'pytest-accel[{framework}]'", None
                )
            found = discovery_from_data(data)
            return FrameworkState(found, None, select_devices(self.spec, found))
        try:
            adapter = load_adapter(framework)
        except FrameworkMissing as exc:
            return FrameworkState(None, f"{exc}: pip install 'pytest-accel[{framework}]'", None)
        found = adapter.discover()
        return FrameworkState(found, None, select_devices(self.spec, found))

    def find(self, framework: str, name: str) -> DeviceInfo | None:
        """The probed device called ``name`` (``cpu``, ``cuda`` meaning ``cuda:0``, ``cuda:1``)."""
        found = self.state(framework).discovery
        if found is None:
            return None
        request = parse_device_request(name, what="reference device")
        wanted = request if request.index is not None else DeviceRequest(request.kind, 0)
        return next((d for d in found.devices if wanted.matches(d)), None)

    def absent_requests(self) -> list[str]:
        """Lines naming each explicitly requested device that a used framework does not have."""
        lines = []
        for framework, state in self.frameworks.items():
            if state.selection is None:
                continue
            for request, reason in state.selection.absent.items():
                lines.append(f"{self.spec}: {framework} has no {request}: {reason}")
        return lines

    def unmatched_requests(self) -> list[str]:
        """Explicit requests that no framework in use can have at all (e.g. mps for jax tests)."""
        used = [f for f, s in self.frameworks.items() if s.discovery is not None]
        if not used:
            return []
        return [
            f"{self.spec}: {request} applies to none of the frameworks of the "
            f"collected tests ({', '.join(used)})"
            for request in self.spec.explicit_requests
            if not any(request.kind in FRAMEWORK_KINDS[f] for f in used)
        ]

    def _asked_for(self, framework: str, kind: str) -> bool:
        """Whether the spec asks for this kind (`all` asks for the usual ones: cuda, tpu, mps; xpu or
        hpu only when named): only then is its absence said."""
        wanted = kind.partition(":")[0]
        if self.spec.every_device:
            return wanted in ANNOUNCED_KINDS.get(framework, ())
        return any(r.kind == wanted for r in self.spec.requests)

    def header_lines(self) -> list[str]:
        """One line per framework in use: version, devices found, kinds missing and why."""
        lines = []
        for framework, state in self.frameworks.items():
            if state.discovery is None:
                lines.append(f"{framework}: unavailable ({state.unavailable})")
                continue
            found = state.discovery
            devices = ", ".join(f"{d.name} ({d.hardware})" for d in found.devices)
            lines.append(f"{framework} {found.version}: {devices}")
            for kind, reason in found.missing.items():
                if self._asked_for(framework, kind):
                    lines.append(f"  {framework} {kind}: not available: {one_line(reason)}")
            lines.extend(f"  {note}" for note in framework_notes(framework, found))
        lines.extend(f"left out (skipped): {line}" for line in self.left_out)
        return lines


def worker_number(workerid: object) -> int:
    """'gw3' -> 3: pytest-xdist's worker ids."""
    return int(str(workerid).removeprefix("gw") or 0)


def one_line(reason: str, limit: int = 110) -> str:
    """A probe's reason in one short line: a framework's multi-line error (libtpu's) cut to its start."""
    first = reason.strip().splitlines()[0] if reason.strip() else reason
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."
