"""Step 5 and the read side: nbgrader's gradebook (SQLite by default, any SQLAlchemy URL).

Only the grader zone writes here.  Points go into each graded cell's `auto_score`,
messages into the comment of the answer cell they are about, so formgrader,
`nbgrader generate_feedback` and `nbgrader export` all show them.
"""
from __future__ import annotations

import datetime as dt

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import (Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table,
                        UniqueConstraint, delete, insert, inspect)

# Our own table in nbgrader's database: one row per fine-grained check of a graded cell
# (nbgrader keeps only the cell's total).  Own MetaData, so nbgrader's schema is untouched.
CHECK_METADATA = MetaData()
check_results = Table(
    "dlcourse_check_result", CHECK_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("notebook", String(128), nullable=False),
    Column("grade_cell", String(128), nullable=False),
    Column("check_name", String(128), nullable=False),
    Column("position", Integer, nullable=False),      # order of the check within its notebook
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("recorded_at", DateTime, nullable=False),  # UTC, naive like nbgrader's timestamps
    UniqueConstraint("student", "assignment", "notebook", "grade_cell", "check_name",
                     name="uq_dlcourse_check_result"),
    Index("ix_dlcourse_check_result_assignment", "assignment"),
)


def ensure_check_table(engine) -> None:
    """Create the check table if missing (two grader processes may race: the loser finds it made)."""
    try:
        CHECK_METADATA.create_all(bind=engine)
    except Exception:
        if not inspect(engine).has_table(check_results.name):
            raise


def _check_rows(assignment: str, notebook: str, student: str, checks: dict) -> list[dict]:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = []
    for grade_id, results in checks.items():
        for r in results:
            score, max_score = float(r.score), float(r.max_score)
            rows.append({"student": student, "assignment": assignment, "notebook": notebook,
                         "grade_cell": grade_id, "check_name": r.name, "position": len(rows),
                         "score": score, "max_score": max_score, "passed": bool(r.passed),
                         "recorded_at": now})
    return rows


def record(db_url: str, assignment: str, notebook: str, student: str,
           scores: dict[str, float], comments: dict[str, str], checks: dict | None = None) -> None:
    """Write a graded notebook: cell points, answer comments and (given `checks`, grade_id ->
    results with name/score/max_score/passed) its check rows, which replace that notebook's old ones."""
    with Gradebook(db_url) as gb:
        if checks is not None:
            ensure_check_table(gb.engine)
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
        if checks is not None:
            t = check_results
            gb.db.execute(delete(t).where(t.c.student == student, t.c.assignment == assignment,
                                          t.c.notebook == notebook))
            rows = _check_rows(assignment, notebook, student, checks)
            if rows:
                gb.db.execute(insert(t), rows)
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


def check_rows(db_url: str, assignment: str | None = None, student: str | None = None) -> list[dict]:
    """Every recorded check (our own table): student, assignment, notebook, cell, check, score, max_score, passed."""
    from sqlalchemy import create_engine, select
    engine = create_engine(db_url)
    try:
        if not inspect(engine).has_table(check_results.name):
            return []
        t = check_results
        query = select(t)
        if assignment:
            query = query.where(t.c.assignment == assignment)
        if student:
            query = query.where(t.c.student == student)
        with engine.connect() as conn:
            found = conn.execute(query.order_by(t.c.assignment, t.c.student, t.c.notebook, t.c.position)).mappings().all()
    finally:
        engine.dispose()
    return [{"student": r["student"], "assignment": r["assignment"], "notebook": r["notebook"],
             "cell": r["grade_cell"], "check": r["check_name"], "score": r["score"], "max_score": r["max_score"],
             "passed": r["passed"]} for r in found]
