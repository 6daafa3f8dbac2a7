"""Feedback HTML for students (`python -m graders feedback`, or plain `nbgrader generate_feedback`).

nbgrader's own feedback would show hidden test source and tracebacks from hidden
code.  The course configures GenerateFeedback with nbgrader's `ClearHiddenTests`
and `HideGraderOutputs` below, so the HTML holds points, the check messages
(expected, found, hint) and the student's own cells — nothing from the grader zone.
"""
from __future__ import annotations

from pathlib import Path

import nbgrader
from jinja2 import FileSystemLoader, PrefixLoader
from nbconvert.exporters import HTMLExporter
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

MOBILE_TEMPLATE = Path(__file__).resolve().parent / "templates" / "feedback_mobile"
NBGRADER_FEEDBACK = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates" / "feedback"


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter with our page head in front of nbgrader's `feedback` template:
    a phone-width viewport, wrapping messages, and no MathJax fetched from a CDN.
    Only GenerateFeedback uses it (formgrader's own pages keep their templates)."""

    def _extra_loaders_default(self):
        # ours answers for "index.html.j2"; it extends nbgrader's page, reached under its own prefix
        return [FileSystemLoader(str(MOBILE_TEMPLATE)),
                PrefixLoader({"nbgrader_feedback": FileSystemLoader(str(NBGRADER_FEEDBACK))})]


class HideGraderOutputs(NbGraderPreprocessor):
    """Keep only the check messages in graded cells; drop errors and tracebacks there."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            cell.outputs = [o for o in cell.get("outputs", [])
                            if o.get("output_type") == "stream" and o.get("name") == "stdout"]
            for o in cell.outputs:
                o.pop("traceback", None)
        return cell, resources
