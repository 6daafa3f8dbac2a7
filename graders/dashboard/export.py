"""Grades as a CSV an LMS gradebook imports (format: docs/dashboard.md).

One header row, then one row per student of the roster:

    student_id, <assignment> (12), <assignment> (15), ..., total (98)

Each assignment column holds the score after nbgrader's late penalty
(max(0, score - penalty), as `nbgrader export` computes it), at most two decimals,
and is empty when nothing was submitted.  `total` is the sum of the row (empty = 0)
and its header carries the sum of the maximum points.  UTF-8 with a byte order mark
(Excel then reads Korean correctly), comma separated, CRLF line ends.

A CSV is data: a cell that a spreadsheet would read as a formula (it starts with = + - @,
a tab or a carriage return — a student id such as `=HYPERLINK(...)`) gets a leading `'`,
as OWASP advises; plain numbers (our scores) are left as they are.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

from . import DashboardError
from .data import GradebookData, load
from .report import num


def table(data: GradebookData) -> list[list[str]]:
    """The CSV as rows of strings, header first."""
    header = ["student_id"] + [f"{a.name} ({num(a.max_score)})" for a in data.assignments]
    header.append(f"total ({num(sum(a.max_score for a in data.assignments))})")
    out = [header]
    for student in data.students:
        row, total = [student], 0.0
        for a in data.assignments:
            sub = data.submissions.get((student, a.name))
            if sub is None:
                row.append("")
                continue
            score = max(0.0, sub.score - sub.penalty)
            total += score
            row.append(num(score))
        row.append(num(total))
        out.append(row)
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cell_text(value) -> str:
    """One CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def to_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([[cell_text(v) for v in row] for row in rows])
    return buf.getvalue()


def write_csv(cfg, out: str | Path, data: GradebookData | None = None) -> Path | None:
    """Write the CSV to `out` ('-': standard output, without the byte order mark)."""
    text = to_text(table(data if data is not None else load(cfg)))
    if str(out) == "-":
        sys.stdout.write(text)
        return None
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise DashboardError(f"cannot write {out}: {exc.strerror or exc}. "
                             "Fix: give --csv a path in a folder you can write to") from None
    return out
