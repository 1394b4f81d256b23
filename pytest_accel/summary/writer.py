"""Writing the reports: the format by the file's suffix, atomically, and the GitHub step summary.

A report is a by-product of the run, so a failure to write one becomes a note for the terminal and a
flag for the caller (who decides on the exit code) instead of an exception that hides the test results.
A bad path is caught before the run by ``check_report_path``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_accel.gate.comparison import GateReport
from pytest_accel.results.atomic import write_text_atomically
from pytest_accel.summary.formatting import display_path
from pytest_accel.summary.json_report import build_json_report
from pytest_accel.summary.markdown import render_markdown

SUFFIXES = {".md": "markdown", ".json": "JSON"}
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


class ReportError(ValueError):
    """A report path that cannot work; the message names it and says what to do."""


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _unknown_suffix(path: Path, where: str) -> ReportError:
    return ReportError(
        f"{where}: unknown report format {path.suffix or '(no suffix)'!r}; name the file with .md for "
        "markdown (a pull-request comment) or .json for JSON"
    )


def check_report_path(path: Path, option: str = "--accel-report") -> None:
    """Fail before the run, not after it, when a report could not be written."""
    where = f"{option}={path}"
    if path.is_dir():
        raise ReportError(f"{where}: that is a folder; name a file such as report.md or report.json")
    if _suffix(path) not in SUFFIXES:
        raise _unknown_suffix(path, where)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReportError(f"{where}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ReportError(f"{where}: the folder {folder} is not writable; choose another folder")


def write_atomically(path: Path, text: str) -> None:
    """A reader never sees half a report."""
    write_text_atomically(path, text)


def write_reports(
    paths: list[Path],
    gate: GateReport | None,
    results: list[dict[str, Any]],
    machines: dict[str, dict[str, Any]],
) -> tuple[list[str], bool]:
    """Write each report; returns one terminal note per file and whether all of them were written.

    Every suffix is checked before anything is written, so a bad one leaves no file half done.
    """
    for path in paths:
        if _suffix(path) not in SUFFIXES:
            raise _unknown_suffix(path, f"report {path}")
    texts: dict[str, str] = {}
    notes = []
    all_ok = True
    for path in paths:
        kind = _suffix(path)
        if kind not in texts:
            if kind == ".md":
                texts[kind] = render_markdown(gate, results, machines)
            else:
                document = build_json_report(gate, results, machines)
                texts[kind] = json.dumps(document, indent=1, allow_nan=False) + "\n"
        try:
            write_atomically(path, texts[kind])
        except OSError as exc:
            all_ok = False
            notes.append(f"accel: {SUFFIXES[kind]} report NOT written to {display_path(path)}: {exc}")
        else:
            notes.append(f"accel: {SUFFIXES[kind]} report written to {display_path(path)}")
    return notes, all_ok


def append_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Append to the job summary of a GitHub Actions step; None when not running in one."""
    target = environ.get(STEP_SUMMARY)
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as stream:
            stream.write(markdown)
            stream.write("\n")
    except OSError as exc:
        return (
            f"accel: could not append the report to the GitHub step summary ({STEP_SUMMARY}={target}): {exc}"
        )
    return f"accel: report appended to the GitHub step summary ({target})"
