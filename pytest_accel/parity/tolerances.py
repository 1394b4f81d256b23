"""Default error allowances per dtype, and how overrides are layered on top of them.

The allowed error of element i is ``atol + rtol * (|reference_i| + rms(reference))``: the rms term
carries the scale of the whole result, so outputs that cancel to near zero (sums, prefix sums, matmul
entries) get the error bound their computation really has, not one relative to their tiny value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from pytest_accel.dtypes.float_formats import FLOAT8_DTYPES, FORMATS

EXACT_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@dataclass(frozen=True)
class Tolerance:
    """An allowance, with the layer each value came from, so that a failure says which one to change."""

    rtol: float
    atol: float
    rtol_source: str = field(default="", compare=False)  # e.g. "from the marker", "default for float32"
    atol_source: str = field(default="", compare=False)

    def __str__(self) -> str:
        rtol, atol = f"rtol={self.rtol:.3g}", f"atol={self.atol:.3g}"
        if not (self.rtol_source or self.atol_source):
            return f"{rtol}, {atol}"
        if self.rtol_source == self.atol_source:
            return f"{rtol}, {atol}, both {self.rtol_source}"
        return f"{_sourced(rtol, self.rtol_source)}, {_sourced(atol, self.atol_source)}"


def _sourced(setting: str, source: str) -> str:
    return f"{setting} {source}" if source else setting


class Layer(NamedTuple):
    """One layer of overrides: None leaves a value to the layers below; ``source`` names the layer."""

    rtol: float | None
    atol: float | None
    source: str = "from an override"


# rtol: about 500 unit roundoffs for float32 (a sequential float32 prefix sum of ~130,000 values
# against a correctly rounded one still passes with 1.5x margin) and about 20 for the half types
# (GPU vs CPU reductions in the corpus reach 11), far below a real defect. float32's rtol is also
# more than 15x below TF32's error, so a float32 result computed in TF32 is caught.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-12, atol=1e-300),
    "float32": Tolerance(rtol=3e-5, atol=1e-30),
    "float16": Tolerance(rtol=1e-2, atol=1e-7),
    "bfloat16": Tolerance(rtol=8e-2, atol=1e-30),
    "complex128": Tolerance(rtol=1e-12, atol=1e-300),
    "complex64": Tolerance(rtol=3e-5, atol=1e-30),
    # float8 is a storage format: kernels compute in float32 (or bfloat16) and round the result once,
    # so two correct results differ by at most one float8 step at an element, 2 u of its size (GPU and
    # CPU results of the corpus rounded to float8 reach 1.5 u, jax's float8 elementwise ops 1.2 u).
    # rtol is that one step; atol the smallest subnormal, one step of the tiniest values. 20 u, as
    # for the half types, would be more than 1 and let a result twice too large pass. Results summed
    # in float8 itself are several steps off (jax's float8 sum of 256 values: 4.7 u) and fail.
    **{
        name: Tolerance(rtol=FORMATS[name].step, atol=FORMATS[name].smallest_subnormal)
        for name in FLOAT8_DTYPES
    },
}


def default_tolerance(dtype: str) -> Tolerance:
    """The default for a dtype name; exact dtypes get zero, unknown floats the float32 default."""
    if dtype in EXACT_DTYPES:
        return Tolerance(0.0, 0.0, "exact", "exact")
    name = dtype if dtype in DEFAULT_TOLERANCES else "float32"
    source = f"default for {name}"
    return replace(DEFAULT_TOLERANCES[name], rtol_source=source, atol_source=source)


def layered(base: Tolerance, *overrides: Layer | tuple[float | None, float | None]) -> Tolerance:
    """Apply overrides, None meaning unset, from the most general to the most specific; each value
    keeps the name of the layer that set it."""
    result = base
    for override in overrides:
        rtol, atol, source = Layer(*override)
        if rtol is not None:
            result = replace(result, rtol=rtol, rtol_source=source)
        if atol is not None:
            result = replace(result, atol=atol, atol_source=source)
    return result


# A float32 result computed through TF32 (10-bit mantissa, unit roundoff 2^-11) on purpose gets the
# rtol of float16, whose unit roundoff is the same. It is the marker's setting, so it sits in the
# marker's layer: above the configuration, below the marker's own rtol and the call's.
TF32_RTOL = DEFAULT_TOLERANCES["float16"].rtol
TF32_AFFECTED = ("float32", "complex64")

_ENTRY = re.compile(r"^\s*(?:(?P<kind>[a-z]+)\.)?(?P<dtype>[a-z0-9_]+)\s*[:=]?\s*(?P<rest>.*)$")
_SETTING = re.compile(r"(rtol|atol)\s*=\s*([^\s,;]+)")


@dataclass(frozen=True)
class ToleranceTable:
    """Configured overrides: keys ``dtype`` or ``kind.dtype`` mapping to (rtol, atol), None = unset."""

    entries: dict[str, tuple[float | None, float | None]]

    def layers_for(self, kind: str, dtype: str) -> list[Layer]:
        """The configured layers that apply, most general first, each named by its entry."""
        keys = (dtype, f"{kind}.{dtype}")
        return [
            Layer(*self.entries[key], f"from accel_tolerances {key!r}") for key in keys if key in self.entries
        ]


def parse_tolerance_table(lines: list[str], what: str = "ini accel_tolerances") -> ToleranceTable:
    """Parse lines such as ``float32: rtol=2e-5, atol=1e-7`` or ``cuda.bfloat16: rtol=0.1``."""
    from pytest_accel.dtypes.names import full_dtype_name
    from pytest_accel.errors import AccelConfigError
    from pytest_accel.frameworks import ALL_KINDS

    entries: dict[str, tuple[float | None, float | None]] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENTRY.match(line.lower())
        hint = "write entries like 'float32: rtol=2e-5, atol=1e-7' or 'cuda.bfloat16: rtol=0.1'"
        if match is None:
            raise AccelConfigError(f"{what}: cannot read {raw!r}; {hint}")
        kind, rest = match["kind"], match["rest"]
        dtype = full_dtype_name(match["dtype"])  # the summary's short names (bf16) are accepted too
        if dtype is None:
            raise AccelConfigError(f"{what}: unknown dtype {match['dtype']!r} in {raw!r}; {hint}")
        if kind is not None and kind not in ALL_KINDS:
            raise AccelConfigError(f"{what}: unknown device kind {kind!r} in {raw!r}; {hint}")
        settings = dict(_SETTING.findall(rest))
        leftover = _SETTING.sub("", rest).replace(",", " ").replace(";", " ").strip()
        if not settings or leftover:
            raise AccelConfigError(f"{what}: cannot read {raw!r}; {hint}")
        values: dict[str, float] = {}
        for name, text in settings.items():
            try:
                values[name] = float(text)
            except ValueError:
                raise AccelConfigError(f"{what}: {name}={text!r} in {raw!r} is not a number") from None
            if not (values[name] >= 0 and values[name] < float("inf")):
                raise AccelConfigError(f"{what}: {name} in {raw!r} must not be negative")
        key = f"{kind}.{dtype}" if kind else dtype
        entries[key] = (values.get("rtol"), values.get("atol"))
    return ToleranceTable(entries)


def tolerance_for_check(
    dtype: str,
    *,
    kind: str,
    table: ToleranceTable,
    tf32: bool,
    marker: tuple[float | None, float | None],
    call: tuple[float | None, float | None],
) -> Tolerance:
    """Layers, least specific first: defaults, configuration by dtype, configuration by device kind and
    dtype, the marker (its tf32=True, then its own rtol/atol), the call."""
    marker_layers: list[Layer] = []
    if tf32 and dtype in TF32_AFFECTED:
        marker_layers.append(Layer(TF32_RTOL, None, "from the marker's tf32=True"))
    marker_layers.append(Layer(*marker, "from the marker"))
    call_layers = [Layer(call[0], None, "from check(rtol=...)"), Layer(None, call[1], "from check(atol=...)")]
    return layered(default_tolerance(dtype), *table.layers_for(kind, dtype), *marker_layers, *call_layers)
