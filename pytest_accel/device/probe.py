"""Device discovery in a process of its own, for pytest-xdist: the controller decides the devices once and
hands them to every worker, so that no two workers can see (and parametrize) different devices.

Run as ``python -m pytest_accel.device.probe FRAMEWORK...``; prints one JSON object (framework ->
discovery, or the reason it is unavailable). A separate process keeps CUDA contexts out of the controller.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import asdict
from typing import Any

from pytest_accel.frameworks.discovery import DeviceInfo, Discovery

PROBE_TIMEOUT_S = 300


def discovery_to_data(found: Discovery) -> dict[str, Any]:
    return asdict(found)


def discovery_from_data(data: dict[str, Any]) -> Discovery:
    devices = [DeviceInfo(**device) for device in data["devices"]]
    return Discovery(data["framework"], data["version"], devices, dict(data["missing"]))


def installed_frameworks() -> list[str]:
    return [name for name in ("numpy", "torch", "jax") if importlib.util.find_spec(name) is not None]


def probe(frameworks: list[str]) -> dict[str, Any]:
    from pytest_accel.frameworks import FrameworkMissing, load_adapter

    found: dict[str, Any] = {}
    for framework in frameworks:
        try:
            found[framework] = discovery_to_data(load_adapter(framework).discover())
        except FrameworkMissing as exc:
            found[framework] = {"unavailable": str(exc)}
    return found


def probe_in_subprocess(frameworks: list[str]) -> tuple[dict[str, Any] | None, str]:
    """The discovery of ``frameworks``, or None and why it could not be made."""
    if "jax" in frameworks:
        from pytest_accel.frameworks.jax_memory import share_gpu_memory

        share_gpu_memory()  # here too, so that the header of this (controller) process says so
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest_accel.device.probe", *frameworks],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the device probe did not finish ({exc})"
    if done.returncode != 0:
        return None, f"the device probe failed: {done.stderr.strip().splitlines()[-1:]}"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, "the device probe printed no result"


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))
