"""Where a compare run's baseline comes from: one saved results file, several (replicates of the same
code), or the last runs of a branch in the performance history (``db:PATH``, ``db:PATH?last=K``).

Several runs are what lets the gate learn each benchmark's run-to-run noise (gate/replicates.py); the
history already holds them, so a main branch that records its runs needs no baseline artifact at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HISTORY_PREFIX = "db:"
LAST_PARAMETER = "?last="
DEFAULT_LAST = 5  # the history's runs taken as replicates when db:PATH names no count
DEFAULT_BRANCH = "main"


class BaselineError(Exception):
    """A baseline that cannot be used (missing, damaged, no matching runs); the message says why."""


@dataclass(frozen=True)
class BaselineSource:
    """What ``--accel-compare`` names: result files, or a history database and how many runs of it."""

    files: tuple[Path, ...] = ()
    history: Path | None = None
    last: int = DEFAULT_LAST

    def __str__(self) -> str:
        """The paths as resolved (saved in the results' options, named in messages)."""
        if self.history is not None:
            return f"{HISTORY_PREFIX}{self.history}{LAST_PARAMETER}{self.last}"
        return ",".join(str(path) for path in self.files)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file the baseline is read from: a compare run must never write over one."""
        return self.files if self.history is None else (self.history,)


def parse_source(text: str, base: Path) -> BaselineSource:
    """``a.json``, ``a.json,b.json,c.json`` or ``db:PATH[?last=K]``, relative paths from ``base``.

    Raises ValueError with what to write instead."""
    value = text.strip()
    if value.startswith(HISTORY_PREFIX):
        where, asked, count = value.removeprefix(HISTORY_PREFIX).partition(LAST_PARAMETER)
        if not where.strip():
            raise ValueError(f"{value!r} names no database: write db:PATH, e.g. db:history.db")
        last = DEFAULT_LAST
        if asked:
            if not count.strip().isdigit() or int(count) < 1:
                raise ValueError(f"{value!r}: last= takes a whole number of runs of at least 1, e.g. ?last=5")
            last = int(count)
        return BaselineSource(history=Path(base, where.strip()), last=last)
    names = [name.strip() for name in value.split(",")]
    if not value or not all(names):
        raise ValueError(f"{value!r}: give a results file, several separated by commas, or db:PATH")
    return BaselineSource(files=tuple(Path(base, name) for name in names))


def load_baseline(source: BaselineSource, branch: str | None) -> Any:
    """The session's Baseline (gate.baseline): every run of the source, replicates when several."""
    from pytest_accel.gate.baseline import Baseline

    paths = source.paths
    return Baseline.from_documents(paths[0], load_documents(source, branch))


def load_documents(source: BaselineSource, branch: str | None) -> list[dict[str, Any]]:
    """The baseline's runs, oldest first: each file loaded, or the history's last runs of ``branch``
    (default main) on this machine's kinds. Raises BaselineError naming the file and the fix."""
    from pytest_accel.results.file import ResultsFileError, load_results

    if source.history is None:
        try:
            return [load_results(path, role="baseline") for path in source.files]
        except ResultsFileError as exc:
            raise BaselineError(str(exc)) from None
    return history_documents(source.history, branch or DEFAULT_BRANCH, source.last)


def host_kinds(kinds: set[str]) -> set[str]:
    """The machine kinds among ``kinds`` that this host measures on: its CPU, and any device it drives.
    Known before any device is probed, since a kind names the host's CPU (history/ingest.py)."""
    from pytest_accel.frameworks.base import cpu_model, host_cpu_label
    from pytest_accel.history.ingest import machine_kind

    fingerprint = {"cpu": cpu_model(), "cpu_count": os.cpu_count()}
    own_cpu = machine_kind(fingerprint, host_cpu_label())
    driven = machine_kind(fingerprint, "")  # ', host <cpu> x<count>': the end of a device's kind here
    return {kind for kind in kinds if kind == own_cpu or kind.endswith(driven)}


def history_documents(path: Path, branch: str, last: int) -> list[dict[str, Any]]:
    """The last ``last`` runs of ``branch`` in the history at ``path`` measured on this host's kinds."""
    from pytest_accel.history.baselines import last_runs
    from pytest_accel.history.store import HistoryError, open_store

    where = f"history {path}"
    if not path.is_file():
        raise BaselineError(f"{where} does not exist; record runs with --accel-history={path} first")
    try:
        with open_store(path) as store:
            runs = store.runs(branch)
            recorded = set().union(*store.kinds_of_runs([run.id for run in runs]).values()) if runs else set()
            branches = store.branches()
        if not runs:
            known = ", ".join(f"{name or '(none)'} ({count})" for name, count in branches.items())
            raise BaselineError(
                f"{where} has no runs of branch {branch!r} (runs by branch: {known or 'none'}); name the "
                "base branch with --accel-history-branch"
            )
        kinds = host_kinds(recorded)
        documents = last_runs(path, branch, last, kinds) if kinds else []
    except HistoryError as exc:
        raise BaselineError(str(exc)) from None
    if not documents:
        raise BaselineError(
            f"{where} has {len(runs)} run(s) of branch {branch!r}, none on this machine's kinds (its "
            f"kinds: {', '.join(sorted(recorded)) or 'none'}): a baseline must come from the same hardware"
        )
    return documents


def label(source: BaselineSource, branch: str | None, shown: str, runs: int) -> str:
    """How reports name the baseline: 'base.json', 'a.json and 2 more', 'history.db (branch main)'."""
    if source.history is not None:
        return f"{shown} (the last {runs} run(s) of {branch or DEFAULT_BRANCH})"
    return shown if len(source.files) == 1 else f"{shown} and {len(source.files) - 1} more"
