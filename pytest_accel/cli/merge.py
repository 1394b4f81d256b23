"""``merge``: results of parallel jobs or several machines in one file, which the gate can then compare.

A test measured twice with different results is a conflict, not something to average: which of the two
is the baseline is the user's decision, so the merge stops and names them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_accel.cli import EXIT_OK, UsageError, load_input

MAX_LISTED_CONFLICTS = 10


def check_output_path(path: Path) -> None:
    """Fail before reading anything when the merged file could not be written."""
    from pytest_accel.results.file import ResultsFileError, check_writable

    try:
        check_writable(path, option="-o ")
    except ResultsFileError as exc:
        raise UsageError(str(exc)) from None


def _merge_machines(documents: list[tuple[Path, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Union of the files' machines; an id is a hash of its fingerprint, so one id means one machine."""
    machines: dict[str, dict[str, Any]] = {}
    source: dict[str, Path] = {}
    for path, document in documents:
        for ident, fingerprint in document["machines"].items():
            if ident in machines and machines[ident] != fingerprint:
                raise UsageError(
                    f"machine {ident} is described differently in {source[ident]} and {path}; "
                    "one of the files was edited by hand"
                )
            machines.setdefault(ident, fingerprint)
            source.setdefault(ident, path)
    return machines


def _merge_results(documents: list[tuple[Path, dict[str, Any]]]) -> list[dict[str, Any]]:
    """All results in file order; identical duplicates once, differing ones a conflict."""
    kept: dict[str, tuple[Path, dict[str, Any]]] = {}
    results: list[dict[str, Any]] = []
    conflicts: list[str] = []
    for path, document in documents:
        for result in document["results"]:
            nodeid = result["nodeid"]
            if nodeid not in kept:
                kept[nodeid] = (path, result)
                results.append(result)
            elif kept[nodeid][1] != result:
                conflicts.append(f"{nodeid}: {kept[nodeid][0]} and {path}")
    if conflicts:
        raise UsageError(_conflict_message(conflicts))
    return results


def _conflict_message(conflicts: list[str]) -> str:
    listed = "\n".join(f"  {line}" for line in conflicts[:MAX_LISTED_CONFLICTS])
    more = len(conflicts) - MAX_LISTED_CONFLICTS
    tail = f"\n  ... and {more} more" if more > 0 else ""
    return (
        f"{len(conflicts)} test(s) have different results in two files; merge combines different tests "
        f"(e.g. parallel jobs or machines), so keep only one file's run of each:\n{listed}{tail}"
    )


def run_merge(args: argparse.Namespace) -> int:
    """Load every input, combine, and write the output atomically (it may be one of the inputs)."""
    from pytest_accel.results.file import assemble_document, save_atomically

    inputs: list[Path] = args.inputs
    output: Path = args.output
    check_output_path(output)
    documents = [(path, load_input(path, role="results file")) for path in inputs]
    if getattr(args, "replicates", False):
        return _write_replicates(documents, output)
    machines = _merge_machines(documents)
    results = _merge_results(documents)
    document = assemble_document(machines, {"merged_from": [str(path) for path in inputs]}, results)
    try:
        save_atomically(output, document)
    except OSError as exc:
        raise UsageError(f"-o {output}: cannot write it ({exc})") from None
    print(f"merged {len(results)} results from {len(inputs)} files ({len(machines)} machines) into {output}")
    return EXIT_OK


def _write_replicates(documents: list[tuple[Path, dict[str, Any]]], output: Path) -> int:
    """Runs of the same tests (the baseline run several times) kept apart as replicates, not merged: the
    gate learns each benchmark's run-to-run noise from them."""
    from pytest_accel.gate.replicate_files import combine, expand
    from pytest_accel.results.file import save_atomically

    _merge_machines(documents)  # the same machine id described differently is an edited file
    for path, document in documents:
        for part in expand(document):
            nodeids = [result["nodeid"] for result in part["results"]]
            if len(nodeids) != len(set(nodeids)):
                raise UsageError(
                    f"{path}: a test appears twice in one run; merge its shards first, without --replicates"
                )
    document = combine([doc for _, doc in documents], {"merged_from": [str(path) for path, _ in documents]})
    try:
        save_atomically(output, document)
    except OSError as exc:
        raise UsageError(f"-o {output}: cannot write it ({exc})") from None
    count = document["options"]["replicates"]
    print(f"kept {count} runs as replicates ({len(document['results'])} results) in {output}")
    return EXIT_OK
