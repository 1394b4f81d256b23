"""Several runs of the same code in one results document: a ``merge --replicates`` file, a baseline
of several files, a history's last runs. Each result carries its run's index in an integer
``replicate`` field; documents only, so that loading a baseline needs none of the statistics.
"""

from __future__ import annotations

from typing import Any

REPLICATE_FIELD = "replicate"


def replicate_documents(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A results document as its replicates: one document per ``replicate`` index (in order), or the
    document itself when its results carry no index."""
    indexes = {r.get(REPLICATE_FIELD) for r in document["results"]}
    indexes = {i for i in indexes if isinstance(i, int) and not isinstance(i, bool)}
    if not indexes:
        return [document]
    return [
        {**document, "results": [r for r in document["results"] if r.get(REPLICATE_FIELD) == index]}
        for index in sorted(indexes)
    ]


def expand(baselines: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One loaded document, or a list of them (files, or a history's last runs): all their replicates."""
    documents = [baselines] if isinstance(baselines, dict) else list(baselines)
    return [part for document in documents for part in replicate_documents(document)]


def combine(documents: list[dict[str, Any]], options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One results document holding every replicate of ``documents`` (files, or a history's runs), each
    result tagged with its replicate's index: what ``merge --replicates`` writes, and what a baseline of
    several runs is handed to the gate as."""
    from pytest_accel.results.file import assemble_document

    parts = expand(documents)
    machines: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        machines.update(part.get("machines", {}))
        results.extend({**result, REPLICATE_FIELD: index} for result in part["results"])
    return assemble_document(machines, {"replicates": len(parts), **(options or {})}, results)
