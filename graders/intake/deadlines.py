"""Extensions: a later due date for one student and assignment (EXTENSIONS in course_config.py).

nbgrader keeps an extension as `SubmittedAssignment.extension` (an interval added to the
assignment's due date): `submission.duedate` and `total_seconds_late` count from it, and so does
AssignLatePenalties.  `ApplyExtensions` runs in autograde right before AssignLatePenalties and
sets that interval from the configured new due date, so the config is the one place: an entry
removed from EXTENSIONS is removed from the gradebook at the next autograde.
"""
from __future__ import annotations

import datetime as dt

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict

from ..config import CourseConfig, parse_time


def due_date(cfg: CourseConfig, student: str, assignment: str) -> dt.datetime | None:
    """The due date that holds for this student (aware), extension included; None without a due date."""
    new = cfg.extensions.get(student, {}).get(assignment)
    if new:
        return parse_time(new)
    due = cfg.assignment(assignment).due_utc
    return None if due is None else due.replace(tzinfo=dt.timezone.utc)


def extension_interval(new_due: str | None, assignment_due: dt.datetime | None) -> dt.timedelta | None:
    """The interval nbgrader adds to the gradebook's due date (naive UTC) to reach `new_due`; None if none applies."""
    from nbgrader.utils import parse_utc
    if not new_due or assignment_due is None:
        return None
    delta = parse_utc(new_due) - assignment_due
    return delta if delta > dt.timedelta(0) else None


class ApplyExtensions(NbGraderPreprocessor):
    """Set this submission's extension in the gradebook from EXTENSIONS (before late penalties)."""

    extensions = Dict(help="student id -> assignment -> new due date (ISO 8601 with UTC offset)").tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        student, assignment = info["student"], info["assignment"]
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission(assignment, student)
            new_due = self.extensions.get(student, {}).get(assignment)
            want = extension_interval(new_due, submission.assignment.duedate)
            if new_due and want is None:
                self.log.warning("extension for %s/%s to %s is not after the gradebook's due date %s; not applied",
                                 student, assignment, new_due, submission.assignment.duedate)
            if submission.extension != want:
                submission.extension = want
                gb.db.commit()
            if want is not None:
                self.log.info("%s/%s: extension of %s (due %s)", student, assignment, want, new_due)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources
