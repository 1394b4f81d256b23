"""Adding runs to the history: this session's results at its end, or saved results files later."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_accel.history.gitinfo import commit_and_branch
from pytest_accel.history.ingest import bench_entries, run_entry
from pytest_accel.history.store import open_store


def add_document(
    path: Path, document: dict[str, Any], commit: str | None, branch: str | None, source: str
) -> int | None:
    """Append one results document (as ``load_results`` returns it) in one transaction, creating the
    file if there is none; returns the run's id, or None when that very run is there already."""
    with open_store(path, create=True) as store:
        return store.append(
            run_entry(document, commit, branch, source),
            document["machines"],
            bench_entries(document),
            document,
        )


def add_session_run(
    path: Path, document: dict[str, Any], folder: Path, commit: str | None, branch: str | None
) -> tuple[int | None, str | None, str | None]:
    """This session's results, with its commit and branch (given, from the CI, or from git in
    ``folder``); returns the run's id, commit and branch."""
    commit, branch = commit_and_branch(folder, commit, branch, os.environ)
    return add_document(path, document, commit, branch, "session"), commit, branch
