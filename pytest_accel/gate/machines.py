"""What differs between the machine a baseline was measured on and this run's machine."""

from __future__ import annotations

from typing import Any


def _flatten(fingerprint: dict[str, Any]) -> dict[str, str]:
    """Fingerprint fields by a name a person reads: 'cpu', 'torch version', 'torch cuda:0', ..."""
    flat: dict[str, str] = {}
    for name in ("cpu", "cpu_count", "machine", "platform", "python"):
        if name in fingerprint:
            flat[name.replace("_", " ")] = str(fingerprint[name])
    for framework, entry in sorted((fingerprint.get("frameworks") or {}).items()):
        if not isinstance(entry, dict):
            continue
        flat[f"{framework} version"] = str(entry.get("version"))
        for device, hardware in sorted((entry.get("devices") or {}).items()):
            flat[f"{framework} {device}"] = str(hardware)
    for name, value in sorted((fingerprint.get("cuda") or {}).items()):
        flat[f"cuda {name.replace('_', ' ')}"] = str(value)
    return flat


def differences(baseline: dict[str, Any], current: dict[str, Any]) -> list[dict[str, str]]:
    """Fields whose values differ, as {'what', 'baseline', 'current'}; a field one side lacks is skipped
    (a run that used no GPU says nothing about the driver)."""
    old, new = _flatten(baseline), _flatten(current)
    return [
        {"what": name, "baseline": old[name], "current": new[name]}
        for name in old
        if name in new and old[name] != new[name]
    ]


def machine_differences(
    pairs: set[tuple[str, str]], baseline_machines: dict[str, Any], current_machines: dict[str, Any]
) -> list[dict[str, str]]:
    """Differences over every (baseline machine, current machine) pair that was compared, deduplicated."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for old_id, new_id in sorted(pairs):
        old, new = baseline_machines.get(old_id), current_machines.get(new_id)
        if not isinstance(old, dict) or not isinstance(new, dict):
            continue
        for difference in differences(old, new):
            seen.setdefault((difference["what"], difference["baseline"], difference["current"]), difference)
    return list(seen.values())
