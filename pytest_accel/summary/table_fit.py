"""Fitting a table to the terminal's width: key columns give way (names lose their middle, dtypes take
their short names) until it fits. The full and the compact summary both use it."""

from __future__ import annotations

from tabulate import tabulate

from pytest_accel.dtypes.names import SHORT_DTYPES
from pytest_accel.summary.layout import shorten_all

MIN_SHORTENED = 12
# Key columns that give way when a table is too wide, in order, with the width each keeps at least
# ("dtype" switches to short names). The harder round is used only when it makes the table fit.
SHORTENED_FIRST = (("bench", 12), ("test", MIN_SHORTENED), ("dtype", 0))
SHORTENED_HARDER = (("bench", 6), ("test", 8))


def widest(text: str) -> int:
    """The width of a multi-line text: its longest line."""
    return max(len(line) for line in text.splitlines())


def tabulated(headers: list[str], rows: list[list[str]]) -> str:
    """A plain table of text cells (numbers are not realigned: cells are already formatted)."""
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _shrunk(
    headers: list[str], rows: list[list[str]], width: int, steps: tuple[tuple[str, int], ...]
) -> tuple[list[list[str]], str]:
    """Rows with key columns shortened step by step until the table fits; different names stay
    different (rows must stay tellable apart)."""
    text = tabulated(headers, rows)
    for name, least in steps:
        excess = widest(text) - width
        if excess <= 0 or not rows:
            break
        if name not in headers:
            continue
        column = headers.index(name)
        if name == "dtype":
            short = [SHORT_DTYPES.get(row[column], row[column]) for row in rows]
        else:
            longest = max(len(row[column]) for row in rows)
            limit = max(least, longest - excess, len(name))
            short = shorten_all([row[column] for row in rows], limit)
        rows = [[*row[:column], cell, *row[column + 1 :]] for row, cell in zip(rows, short, strict=True)]
        text = tabulated(headers, rows)
    return rows, text


def fit_table(headers: list[str], rows: list[list[str]], width: int) -> str:
    """The table; if it is wider than the terminal, names give way: columns named bench and test lose
    their middle, dtypes take their short names (f32, bf16, f8e4m3)."""
    rows, text = _shrunk(headers, rows, width, SHORTENED_FIRST)
    if widest(text) > width:
        _, harder = _shrunk(headers, rows, width, SHORTENED_HARDER)
        if widest(harder) <= width:
            text = harder
    return text
