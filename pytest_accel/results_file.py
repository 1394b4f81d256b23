"""The saved results of a run (``--accel-save``): the file the performance gate compares against.

Builtin types only, written atomically (a temporary file in the same folder, then a rename), so an
interrupted or failed run never leaves a damaged or half-written file in place of a good one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

FORMAT_NAME = "pytest-accel-results"
FORMAT_VERSION = 1


class ResultsFileError(ValueError):
    """A results file that cannot be written or read; the message says what to do."""


def _finite_or_none(value: Any) -> Any:
    """JSON has no Inf or NaN: they become null (an unbounded or undefined error)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def check_writable(path: Path) -> None:
    """Fail before the run, not after it, when the results could not be saved."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ResultsFileError(f"--accel-save={path}: that is a folder; name a file such as results.json")
    if not folder.is_dir():
        raise ResultsFileError(f"--accel-save={path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ResultsFileError(f"--accel-save={path}: the folder {folder} is not writable")


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


def build_document(records: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_fingerprint(records),
        "options": options,
        "results": [_finite_or_none(record) for record in records],
    }


def save_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it over ``path`` in one step."""
    text = json.dumps(document, indent=1, allow_nan=False, sort_keys=False)
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load_results(path: Path) -> dict[str, Any]:
    """Read a saved results file (plain JSON: nothing in it is executed) and check its format."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such results file; create one with --accel-save={path}") from None
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read it ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{path}: not valid JSON ({exc}); it is not a pytest-accel results file, or it is damaged"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ResultsFileError(f"{path}: not a pytest-accel results file (no 'format': '{FORMAT_NAME}')")
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise ResultsFileError(
            f"{path}: results format version {version!r}; this pytest-accel reads version {FORMAT_VERSION}. "
            "Save the baseline again with this version."
        )
    if not isinstance(document.get("results"), list):
        raise ResultsFileError(f"{path}: its 'results' entry is missing or not a list")
    return document
