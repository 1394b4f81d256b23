"""Reports of a run for people and programs outside the terminal: markdown (pull-request comments,
the GitHub step summary) and JSON."""

from pytest_accel.reports.json_report import build_json_report
from pytest_accel.reports.markdown import render_markdown
from pytest_accel.reports.writer import ReportError, append_step_summary, check_report_path, write_reports

__all__ = [
    "ReportError",
    "append_step_summary",
    "build_json_report",
    "check_report_path",
    "render_markdown",
    "write_reports",
]
