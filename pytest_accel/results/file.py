"""The saved results of a run (``--accel-save``): the file the performance gate compares against.

Builtin types only, written atomically (a temporary file in the same folder, then a rename), so an
interrupted or failed run never leaves a damaged or half-written file in place of a good one.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from pathlib import Path
from typing import Any

FORMAT_NAME = "pytest-accel-results"
# Version 2: machines by id (a merged file holds several), each result names its machine, benches carry
# their budget and whether the gate extended them, results carry the marker's fail_slower.
# Version 3: benches carry their peak memory (peak_bytes, memory_method, memory_note; null: not measured)
# and their compilations during the timed calls (recompiles); results their body's peak_bytes and
# memory_method, and deterministic. Version-2 files read as "not measured" everywhere.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


class ResultsFileError(ValueError):
    """A results file that cannot be written or read; the message says what to do."""


def finite_or_none(value: Any) -> Any:
    """A copy for JSON, which has no Inf or NaN: they become null (an unbounded or undefined error);
    builtin containers only, keys as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def check_writable(path: Path, option: str = "--accel-save=") -> None:
    """Fail before the work, not after it, when a results file could not be written there."""
    folder = path.parent if str(path.parent) else Path(".")
    where = f"{option}{path}"
    if path.is_dir():
        raise ResultsFileError(f"{where}: that is a folder; name a file such as results.json")
    if not folder.is_dir():
        raise ResultsFileError(f"{where}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ResultsFileError(f"{where}: the folder {folder} is not writable")


def machine_fingerprint(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the numbers were measured on: host, CPU, devices, framework versions, CUDA driver."""
    from pytest_accel.frameworks.base import cpu_model

    frameworks: dict[str, Any] = {}
    for record in records:
        entry = frameworks.setdefault(
            record["framework"], {"version": record.get("framework_version"), "devices": {}}
        )
        entry["devices"][record["device"]] = record["hardware"]
    fingerprint: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "frameworks": frameworks,
    }
    if any(record["device"].startswith("cuda") for record in records):
        fingerprint["cuda"] = _cuda_versions()
    return fingerprint


def _cuda_versions() -> dict[str, Any]:
    import shutil
    import subprocess

    versions: dict[str, Any] = {}
    try:
        import torch

        versions["torch_cuda"] = torch.version.cuda
    except ImportError:
        pass
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            versions["driver"] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else None
        except (OSError, subprocess.SubprocessError):
            versions["driver"] = None
    return versions


def machine_id(fingerprint: dict[str, Any]) -> str:
    """A short stable id of a fingerprint: the same machine gets the same id in every file."""
    import hashlib

    text = json.dumps(fingerprint, sort_keys=True, default=str)
    return "m-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def build_document(records: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    fingerprint = machine_fingerprint(records)
    ident = machine_id(fingerprint)
    return assemble_document({ident: fingerprint}, options, records, ident)


def assemble_document(
    machines: dict[str, dict[str, Any]],
    options: dict[str, Any],
    results: list[dict[str, Any]],
    default_machine: str | None = None,
) -> dict[str, Any]:
    """A version-2 document; results without a ``machine`` entry get ``default_machine``."""
    rows = []
    for record in results:
        row = dict(record)
        if default_machine is not None:
            row.setdefault("machine", default_machine)
        rows.append(finite_or_none(row))
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machines": machines,
        "options": options,
        "device_events": [row["fault"] for row in rows if isinstance(row.get("fault"), dict)],
        "results": rows,
    }


def save_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it over ``path`` in one step."""
    from pytest_accel.results.atomic import write_text_atomically

    write_text_atomically(path, json.dumps(document, indent=1, allow_nan=False, sort_keys=False) + "\n")


def load_results(path: Path, role: str = "results file") -> dict[str, Any]:
    """Read a saved results file (plain JSON: nothing in it is executed), as a version-2 document.

    Version-1 files are upgraded in memory (their one machine gets an id). Every problem raises
    ResultsFileError naming the file and what is wrong.
    """
    where = f"{role} {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{where}: no such file; create one with --accel-save={path}") from None
    except IsADirectoryError:
        raise ResultsFileError(f"{where}: that is a folder, not a results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{where}: cannot read it ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{where}: not valid JSON ({exc}); it is truncated or damaged, or not a pytest-accel "
            "results file. Save it again with --accel-save."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ResultsFileError(f"{where}: not a pytest-accel results file (no 'format': '{FORMAT_NAME}')")
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ResultsFileError(
            f"{where}: results format version {version}, written by a newer pytest-accel; this one reads "
            f"versions {', '.join(map(str, READABLE_VERSIONS))}. Upgrade pytest-accel."
        )
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ResultsFileError(
            f"{where}: results format version {version!r} is not one this pytest-accel reads "
            f"({', '.join(map(str, READABLE_VERSIONS))}). Save the file again with --accel-save."
        )
    if not isinstance(document.get("results"), list):
        raise ResultsFileError(f"{where}: its 'results' entry is missing or not a list")
    if version == 1:
        document = _upgraded_from_version_1(document, where)
    _check_machines(document, where)
    for index, result in enumerate(document["results"]):
        _check_result(result, f"{where}: results[{index}]", document["machines"])
    return document


def _upgraded_from_version_1(document: dict[str, Any], where: str) -> dict[str, Any]:
    machine = document.get("machine")
    if not isinstance(machine, dict):
        raise ResultsFileError(f"{where}: version 1 file without a 'machine' entry")
    ident = machine_id(machine)
    upgraded = {k: v for k, v in document.items() if k != "machine"}
    upgraded["version"] = FORMAT_VERSION
    upgraded["machines"] = {ident: machine}
    upgraded["results"] = [
        dict(result, machine=ident) if isinstance(result, dict) else result for result in document["results"]
    ]
    return upgraded


def _check_machines(document: dict[str, Any], where: str) -> None:
    machines = document.get("machines")
    if not isinstance(machines, dict) or not all(isinstance(m, dict) for m in machines.values()):
        raise ResultsFileError(f"{where}: its 'machines' entry is missing or not an object of objects")
    for ident, fingerprint in machines.items():
        frameworks = fingerprint.get("frameworks", {})
        nested = [frameworks, fingerprint.get("cuda", {})]
        if isinstance(frameworks, dict):
            nested += [entry for entry in frameworks.values()]
            nested += [entry.get("devices", {}) for entry in frameworks.values() if isinstance(entry, dict)]
        if not all(isinstance(part, dict) for part in nested):
            raise ResultsFileError(f"{where}: machine {ident!r} is not a pytest-accel machine fingerprint")


def _is_seconds(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return 0 < value < 1e300  # an int too large for a float is no duration either


def _is_count(value: Any) -> bool:
    """None (not measured) or a whole number >= 0: what the memory gate and the summaries read."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


_TEXT_FIELDS = ("nodeid", "test", "framework", "device", "dtype")


def _check_result(result: Any, where: str, machines: dict[str, Any]) -> None:
    """The fields the gate reads must be there with the right types, or the file is rejected whole."""
    if not isinstance(result, dict):
        raise ResultsFileError(f"{where} is not an object")
    for name in _TEXT_FIELDS:
        if not isinstance(result.get(name), str):
            raise ResultsFileError(f"{where} has no text field {name!r}")
    if not isinstance(result.get("hardware", ""), str):
        raise ResultsFileError(f"{where}: 'hardware' is not text")
    if not isinstance(result.get("machine"), str) or result["machine"] not in machines:
        raise ResultsFileError(f"{where} names machine {result.get('machine')!r}, which the file lacks")
    benches = result.get("benches", [])
    if not isinstance(benches, list):
        raise ResultsFileError(f"{where}: 'benches' is not a list")
    for number, bench in enumerate(benches):
        if not isinstance(bench, dict) or not isinstance(bench.get("name"), str):
            raise ResultsFileError(f"{where}.benches[{number}] has no name")
        samples = bench.get("samples")
        if not isinstance(samples, list) or not all(_is_seconds(s) for s in samples):
            raise ResultsFileError(
                f"{where}.benches[{number}] ({bench['name']!r}): 'samples' must be a list of positive "
                "finite seconds"
            )
        for count in ("peak_bytes", "recompiles"):
            if not _is_count(bench.get(count)):
                raise ResultsFileError(
                    f"{where}.benches[{number}] ({bench['name']!r}): {count!r} must be a whole number >= 0 "
                    "or null (not measured)"
                )
    if not _is_count(result.get("peak_bytes")):
        raise ResultsFileError(f"{where}: 'peak_bytes' must be a whole number >= 0 or null (not measured)")
    checks = result.get("checks", [])
    if not isinstance(checks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) for c in checks
    ):
        raise ResultsFileError(f"{where}: 'checks' is not a list of objects with a text 'name'")
