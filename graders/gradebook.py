"""Step 5 and the read side: nbgrader's gradebook (SQLite by default, any SQLAlchemy URL).

Only the grader zone writes here.  Points go into each graded cell's `auto_score`,
messages into the comment of the answer cell they are about, so formgrader,
`nbgrader generate_feedback` and `nbgrader export` all show them.
"""
from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry


def record(db_url: str, assignment: str, notebook: str, student: str,
           scores: dict[str, float], comments: dict[str, str]) -> None:
    with Gradebook(db_url) as gb:
        for grade_id, score in scores.items():
            grade = gb.find_grade(grade_id, notebook, assignment, student)
            grade.auto_score = float(score)
            grade.needs_manual_grade = grade.manual_score is not None
        for answer_id, text in comments.items():
            try:
                comment = gb.find_comment(answer_id, notebook, assignment, student)
            except MissingEntry:
                continue
            comment.auto_comment = text
        gb.db.commit()


def scores(db_url: str, assignment: str | None = None, student: str | None = None) -> list[dict]:
    """One row per graded cell of every submission: student, assignment, notebook, cell, score, max_score."""
    rows = []
    with Gradebook(db_url) as gb:
        for a in gb.assignments:
            if assignment and a.name != assignment:
                continue
            for sub in gb.assignment_submissions(a.name):
                if student and sub.student_id != student:
                    continue
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        rows.append({
                            "student": sub.student_id, "assignment": a.name, "notebook": nb.name,
                            "cell": grade.name, "score": grade.score, "max_score": grade.max_score,
                            "auto_score": grade.auto_score, "manual_score": grade.manual_score,
                            "timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
                        })
    rows.sort(key=lambda r: (r["assignment"], r["student"], r["notebook"], r["cell"]))
    return rows


def ensure_students(db_url: str, students: list[str]) -> None:
    with Gradebook(db_url) as gb:
        for s in students:
            gb.update_or_create_student(s)
