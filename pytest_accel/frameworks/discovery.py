"""What a framework's discovery found: devices that passed their probe, and why other kinds are missing.

Plain data, free of numpy and frameworks, so the plugin loads fast and it crosses process boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeviceInfo:
    """A device that passed its probe. Plain data, so it can cross process boundaries."""

    framework: str
    kind: str
    index: int
    hardware: str

    @property
    def name(self) -> str:
        """Short stable name used in test ids: ``cpu`` for the first CPU, else ``kind:index``."""
        if self.kind == "cpu" and self.index == 0:
            return "cpu"
        return f"{self.kind}:{self.index}"


@dataclass
class Discovery:
    """What probing a framework found: working devices, and why each missing kind is missing."""

    framework: str
    version: str
    devices: list[DeviceInfo] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[DeviceInfo]:
        return [d for d in self.devices if d.kind == kind]
