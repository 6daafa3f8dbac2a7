"""Feedback HTML for students (`python -m graders feedback`, or plain `nbgrader generate_feedback`).

nbgrader's own feedback would show hidden test source and tracebacks from hidden
code.  The course configures GenerateFeedback with nbgrader's `ClearHiddenTests`
and `HideGraderOutputs` below, so the HTML holds points, the check messages
(expected, found, hint) and the student's own cells — nothing from the grader zone.
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool


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
