"""``plot``: charts from saved results (and a baseline), without rerunning anything."""

from __future__ import annotations

import argparse

from pytest_accel.cli import EXIT_OK, UsageError, load_input


def run_plot(args: argparse.Namespace) -> int:
    """Write SVG charts into ``-o``; a missing matplotlib or a bad file is a usage error (exit 4)."""
    from pytest_accel.summary.charts import PlotError, draw_charts

    current = load_input(args.results, role="results file")
    gate = baseline = None
    if args.compare is not None:
        from pytest_accel.gate.comparison import GateConfig, compare_documents

        baseline = load_input(args.compare, role="baseline")
        gate = compare_documents(baseline, current, GateConfig(), label=str(args.compare))
    notes: list[str] = []
    try:
        paths = draw_charts(current["results"], args.output, gate, baseline, current, notes)
    except PlotError as exc:
        raise UsageError(str(exc)) from None
    print(f"{len(paths)} chart(s) written to {args.output}")
    for note in notes:
        print(note)
    return EXIT_OK
