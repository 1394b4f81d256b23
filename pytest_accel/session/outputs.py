"""What a finished run produces besides its saved file: the gate's verdicts and the reports."""

from __future__ import annotations

import os
from typing import Any

from pytest_accel.session.state import SessionState
from pytest_accel.summary.formatting import display_path, format_percent


def gate_config(state: SessionState) -> Any:
    from pytest_accel.gate.comparison import GateConfig

    settings = state.settings
    return GateConfig(
        fail_slower=settings.fail_slower,
        run_noise=settings.gate_noise,
        any_hardware=settings.compare_any_hardware,
        include_concurrent=settings.gate_concurrent,
        fail_memory=settings.fail_memory,
        gate_recompiles=settings.gate_recompiles,
    )


def baseline_label(state: SessionState) -> str:
    """The baseline as reports name it: its file, how many more files, or the history's branch."""
    from pytest_accel.gate.replicate_files import expand
    from pytest_accel.gate.sources import label

    settings, baseline = state.settings, state.baseline
    assert settings.compare is not None and baseline is not None
    runs = len(expand(baseline.document))
    return label(settings.compare, settings.history_branch, display_path(baseline.path), runs)


def no_baseline_note(state: SessionState) -> str | None:
    """The run asked for a gate (--accel-fail-slower or its ini key) but gave no baseline: nothing gated.

    Said on a line of its own: a CI job that forgot its baseline would otherwise go green ungated. A
    marker's fail_slower alone says nothing: it is the test's threshold for whenever a run compares, and
    an everyday run without a baseline is not a mistake."""
    settings = state.settings
    if state.baseline is not None or (settings.fail_slower is None and settings.fail_memory is None):
        return None
    asked = [
        f"--accel-{name} (or ini accel_{name.replace('-', '_')}) set a {format_percent(value)} threshold"
        for name, value in (("fail-slower", settings.fail_slower), ("fail-memory", settings.fail_memory))
        if value is not None
    ]
    return (
        f"accel: no baseline given: nothing was gated, though {' and '.join(asked)}; give one with "
        "--accel-compare=PATH (a results file saved by --accel-save)"
    )


def cite_history(state: SessionState, gate: Any, document: dict[str, Any]) -> None:
    """Each verdict gets its benchmark's recent runs on the base branch, where a history is at hand (the
    compare baseline's database, else --accel-history's), for the reports to show beside the verdict."""
    settings = state.settings
    source = settings.compare.history if settings.compare is not None else None
    path = source or settings.history_path
    if path is None:
        return
    from pytest_accel.history.recent import recent_trends

    trends = recent_trends(path, settings.history_branch or "main", document)
    for verdict in gate.verdicts:
        verdict.recent = trends.get(
            (verdict.test, verdict.framework, verdict.device, verdict.dtype, verdict.bench), ""
        )


def finish_outputs(state: SessionState, document: dict[str, Any]) -> tuple[Any, list[str], bool]:
    """Compare ``document`` (this run's results) with the baseline in compare mode, write reports and
    charts, append the step summary.

    Returns the gate report (or None), lines for the terminal, and whether every output was written.
    """
    settings = state.settings
    gate = None
    if state.baseline is not None:
        from pytest_accel.gate.comparison import compare_documents

        gate = compare_documents(state.baseline.document, document, gate_config(state), baseline_label(state))
        cite_history(state, gate, document)
    notes: list[str] = []
    ok = True
    ungated = no_baseline_note(state)
    if ungated:
        notes.append(ungated)
    if settings.report_paths:
        from pytest_accel.summary.writer import write_reports

        written, ok = write_reports(
            list(settings.report_paths), gate, document["results"], document["machines"]
        )
        notes.extend(written)
    if settings.plot_dir is not None:
        from pytest_accel.summary.charts import PlotError, draw_charts

        baseline = state.baseline.document if state.baseline is not None else None
        undrawn: list[str] = []  # charts that could not be drawn, and why
        try:
            paths = draw_charts(document["results"], settings.plot_dir, gate, baseline, document, undrawn)
            notes.append(f"accel: {len(paths)} chart(s) written to {display_path(settings.plot_dir)}")
            notes.extend(f"accel: {line}" for line in undrawn)
        except PlotError as exc:
            notes.append(f"accel: charts NOT written: {exc}")
            ok = False
    if settings.step_summary and os.environ.get("GITHUB_STEP_SUMMARY"):
        from pytest_accel.summary.markdown import render_markdown
        from pytest_accel.summary.writer import append_step_summary

        note = append_step_summary(render_markdown(gate, document["results"], document["machines"]))
        if note:
            notes.append(note)
    return gate, notes, ok
