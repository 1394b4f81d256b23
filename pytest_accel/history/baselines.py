"""The history as a gate's baseline: a branch's last runs on the same machine kinds, as results
documents (the shape ``results.file.load_results`` gives), each run one replicate of every benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_accel.history.ingest import machine_kind
from pytest_accel.history.store import open_store


def document_kinds(document: dict[str, Any]) -> set[str]:
    """The machine kinds a results document measured on (what a baseline must match)."""
    machines = document["machines"]
    return {
        machine_kind(machines.get(result["machine"], {}), str(result.get("hardware") or result["device"]))
        for result in document["results"]
    }


def _kept(document: dict[str, Any], kinds: set[str] | None) -> dict[str, Any] | None:
    """The document with only the results measured on ``kinds`` (None: all); None if none is left."""
    if kinds is None:
        return document
    machines = document["machines"]
    results = [
        result
        for result in document["results"]
        if machine_kind(machines.get(result["machine"], {}), str(result.get("hardware") or result["device"]))
        in kinds
    ]
    if not results:
        return None
    used = {result["machine"] for result in results}
    return {**document, "results": results, "machines": {k: v for k, v in machines.items() if k in used}}


def last_runs(path: Path, branch: str, count: int, kinds: set[str] | None = None) -> list[dict[str, Any]]:
    """The last ``count`` runs of ``branch`` that measured on any of ``kinds`` (None: any machine),
    oldest first, each cut to its results on those kinds. Raises ``HistoryError`` for a bad file."""
    documents: list[dict[str, Any]] = []
    with open_store(path) as store:
        runs = store.runs(branch)
        kinds_of = store.kinds_of_runs([run.id for run in runs]) if kinds is not None else {}
        for run in reversed(runs):
            if len(documents) >= count:
                break
            if kinds is not None and not (kinds_of.get(run.id, set()) & kinds):
                continue
            kept = _kept(store.document(run.id), kinds)
            if kept is not None:
                documents.append(kept)
    return documents[::-1]
