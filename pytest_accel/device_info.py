"""Plain descriptions of devices and dtypes; free of numpy and frameworks so the plugin loads fast."""

from __future__ import annotations

from dataclasses import dataclass, field

# Dtype names users may write in the marker.
FLOAT_DTYPES = (
    "float64",
    "float32",
    "float16",
    "bfloat16",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
)
COMPLEX_DTYPES = ("complex128", "complex64")
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")
DTYPE_NAMES = FLOAT_DTYPES + COMPLEX_DTYPES + INT_DTYPES
# The short names narrow summaries print; the marker, accel_dtypes and accel_tolerances accept them too.
SHORT_DTYPES = {
    "float64": "f64",
    "float32": "f32",
    "float16": "f16",
    "bfloat16": "bf16",
    "float8_e4m3fn": "f8e4m3",
    "float8_e5m2": "f8e5m2",
    "float8_e4m3fnuz": "f8e4m3z",
    "float8_e5m2fnuz": "f8e5m2z",
    "complex128": "c128",
    "complex64": "c64",
}
FULL_DTYPE_NAMES = {short: full for full, short in SHORT_DTYPES.items()}


def full_dtype_name(name: str) -> str | None:
    """The full dtype name for a full or short name (``bf16`` -> ``bfloat16``), None if it is neither."""
    if name in DTYPE_NAMES:
        return name
    return FULL_DTYPE_NAMES.get(name)


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
