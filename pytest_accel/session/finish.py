"""The end of a session, in one place: save the results, run the gate, write the reports and charts.

Returns what it did, for the terminal summary to show; the hooks only call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_accel.session.state import SessionState


@dataclass
class SessionEnd:
    """What the end of a session wrote and decided."""

    notes: list[str] = field(default_factory=list)  # lines for the terminal (saved to..., not saved...)
    gate: Any = None  # the gate's report (gate.comparison.GateReport) in compare mode
    run_fails: bool = False  # a file CI needs is missing, or the gate failed: the run must not pass


def finish_session(state: SessionState, session: pytest.Session, exitstatus: int) -> SessionEnd:
    from pytest_accel.session.saving import current_document, save_run, stopped_early

    end = SessionEnd()
    # Built once: the machine fingerprint behind it may ask nvidia-smi.
    document = current_document(state) if state.records else None
    if state.settings.save_path is not None:
        note, saved = save_run(state, session, exitstatus, document)
        end.notes.append(note)
        end.run_fails = not saved  # CI must not pass without its file
    if state.settings.history_path is not None:
        from pytest_accel.session.saving import record_history

        note, recorded = record_history(state, session, exitstatus, document)
        end.notes.append(note)
        end.run_fails |= not recorded
    if document is not None and not stopped_early(session, exitstatus):
        from pytest_accel.session.outputs import finish_outputs

        end.gate, notes, written = finish_outputs(state, document)
        end.notes.extend(notes)
        end.run_fails |= not written or (end.gate is not None and end.gate.failed)
    return end
