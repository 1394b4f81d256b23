"""When and what to save at the end of a session (``--accel-save``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_accel.results.file import build_document, save_atomically
from pytest_accel.summary.formatting import display_path

if TYPE_CHECKING:
    from pytest_accel.session.state import SessionState


def current_document(state: SessionState) -> dict[str, Any]:
    """This run's results as a results document: what is saved, compared and reported."""
    settings = state.settings
    options = {
        "accel": settings.spec.text,
        "bench": settings.bench_enabled,
        "bench_budget_s": settings.bench_budget_s,
        "oracle": settings.oracle,
        "compare": str(settings.compare) if settings.compare else None,
        "fail_slower": settings.fail_slower,
    }
    # Completion order differs from run to run (and under xdist): the file lists results in test order.
    records = sorted(
        state.records,
        key=lambda r: (r["test"], r["framework"], r["dtype"], not r["is_reference"], r["device"]),
    )
    document = build_document(records, options)
    document["lost_items"] = list(state.lost_items)
    if settings.pin_workers and any(r.get("worker") for r in records):
        document["worker_devices"] = worker_devices(records)
    return document


def stopped_early(session: pytest.Session, exitstatus: int) -> bool:
    """Ctrl-C, -x, an internal or usage error: the run's results are partial, nothing is saved or judged."""
    return bool(session.shouldstop) or exitstatus in (
        pytest.ExitCode.INTERRUPTED,
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.USAGE_ERROR,
    )


def save_run(
    state: SessionState, session: pytest.Session, exitstatus: int, document: dict[str, Any] | None
) -> tuple[str, bool]:
    """Save ``document`` (this run's results) unless the run stopped early; a line for the terminal, and
    success."""
    assert state.settings.save_path is not None
    path = display_path(state.settings.save_path)
    if stopped_early(session, exitstatus):
        note = f"accel: results NOT saved to {path}: the run stopped early; an existing file is left as is"
        return note, True
    if document is None:
        return f"accel: results NOT saved to {path}: no accel test ran", True
    try:
        save_atomically(state.settings.save_path, document)
    except OSError as exc:
        return f"accel: results NOT saved to {path}: {exc}", False
    return f"accel: results of {len(state.records)} items saved to {path}", True


def worker_devices(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Which pinned devices each worker ran: ``{"gw1": ["jax cpu:1"]}``, for the saved file."""
    owners: dict[str, list[str]] = {}
    for record in records:
        worker = record.get("worker")
        if worker is None or record["device"] == "cpu":  # the host CPU: every worker shares it
            continue
        label = f"{record['framework']} {record['device']}"
        devices = owners.setdefault(worker, [])
        if label not in devices:
            devices.append(label)
    return {worker: sorted(devices) for worker, devices in sorted(owners.items())}


def record_history(
    state: SessionState, session: pytest.Session, exitstatus: int, document: dict[str, Any] | None
) -> tuple[str, bool]:
    """Append ``document`` to the history (``--accel-history``) unless the run stopped early; a line for
    the terminal, and success."""
    from pytest_accel.history.record import add_session_run
    from pytest_accel.history.store import HistoryError

    settings = state.settings
    assert settings.history_path is not None
    path = display_path(settings.history_path)
    if stopped_early(session, exitstatus):
        return f"accel: run NOT added to the history {path}: the run stopped early", True
    if document is None:
        return f"accel: run NOT added to the history {path}: no accel test ran", True
    try:
        _, commit, branch = add_session_run(
            settings.history_path,
            document,
            session.config.rootpath,
            settings.history_commit,
            settings.history_branch,
        )
    except HistoryError as exc:
        return f"accel: run NOT added to the history: {exc}", False
    where = f"commit {commit[:10] if commit else '(none)'}, branch {branch or '(none)'}"
    return f"accel: run added to the history {path} ({where})", True
