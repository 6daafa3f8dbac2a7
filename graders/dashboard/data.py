"""Read the gradebook into plain dataclasses: a handful of SELECTs, nothing written.

The roster is nbgrader's student table; assignments come from course_config.py (in its
order, with titles and due dates) plus any the gradebook has that the config lacks.
Times are naive UTC, as nbgrader stores them.  Fine-grained checks come from our
`dlcourse_check_result` table when it holds rows for an assignment, otherwise from
nbgrader's graded cells (older gradebooks).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from . import DashboardError


@dataclass(frozen=True)
class AssignmentInfo:
    name: str
    title: str
    kind: str                       # "exercise", "quiz", or "" for an assignment only the gradebook knows
    max_score: float
    due: dt.datetime | None         # naive UTC


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    timestamp: dt.datetime | None   # naive UTC
    score: float                    # sum of the graded cells' scores (nbgrader's rule: manual over auto, + extra credit)
    graded: bool                    # at least one graded cell has a score
    seconds_late: float             # nbgrader's total_seconds_late (due date + extension)
    penalty: float                  # nbgrader's late_submission_penalty summed over notebooks

    @property
    def late(self) -> bool:
        return self.seconds_late > 0 or self.penalty > 0


@dataclass(frozen=True)
class CheckRow:
    """One fine-grained check of one submission (or a graded cell, for older gradebooks)."""
    student: str
    assignment: str
    notebook: str
    grade_cell: str
    check: str
    position: int
    score: float
    max_score: float
    passed: bool


@dataclass
class GradebookData:
    course_id: str
    students: list[str]
    assignments: list[AssignmentInfo]
    submissions: dict[tuple[str, str], Submission]      # (student, assignment) -> submission
    checks: dict[str, list[CheckRow]]                   # assignment -> rows
    check_level: dict[str, str]                         # assignment -> "check" (our table) or "cell" (fallback)
    display_tz: dt.tzinfo = dt.timezone.utc             # the course's time zone, from its due dates
    source: str = ""                                    # the database, for the page footer (no password)
    extra: dict = field(default_factory=dict)

    def assignment(self, name: str) -> AssignmentInfo:
        return next(a for a in self.assignments if a.name == name)


def _require_database(db_url: str) -> None:
    from sqlalchemy.engine import make_url
    try:
        url = make_url(db_url)
    except Exception as exc:
        raise DashboardError(f"DB_URL {db_url!r} is not a database URL ({exc}). "
                             "Fix: set DB_URL in course_config.py, e.g. 'sqlite:///gradebook.db'") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).is_file():
            raise DashboardError(f"no gradebook at {url.database}. Fix: release and autograde first "
                                 "(`python -m graders release`, `... autograde A`), or point DB_URL in "
                                 "course_config.py at the gradebook")


def safe_url(db_url: str) -> str:
    from sqlalchemy.engine import make_url
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "?"


def open_engine(db_url: str):
    """An engine on the gradebook; a missing SQLite file is an error, not a new empty gradebook."""
    from sqlalchemy import create_engine
    _require_database(db_url)
    return create_engine(db_url, future=True)


def load(cfg, engine=None) -> GradebookData:
    """Everything the dashboard shows, from the gradebook at cfg.db_url (or the given engine)."""
    from sqlalchemy.exc import SQLAlchemyError
    own = engine is None
    engine = engine or open_engine(cfg.db_url)
    try:
        with engine.connect() as conn:
            return _read(cfg, conn)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0][:300]
        raise DashboardError(f"cannot read the gradebook at {safe_url(cfg.db_url)}: {first}. "
                             "Fix: check DB_URL in course_config.py and that the database is reachable") from None
    finally:
        if own:
            engine.dispose()


def _read(cfg, conn) -> GradebookData:
    """The whole gradebook in a few queries: assignments, submissions with their scores, checks."""
    from sqlalchemy import inspect

    tables = set(inspect(conn).get_table_names())
    if "student" not in tables or "assignment" not in tables:     # a database nbgrader never wrote to
        raise DashboardError(f"{safe_url(cfg.db_url)} is not an nbgrader gradebook (no student/assignment "
                             "tables). Fix: point DB_URL in course_config.py at the gradebook")
    assignments, aid_to_name, cells = _assignments(cfg, conn)
    submissions, cell_rows = _submissions(conn, assignments, aid_to_name, cells)
    checks, level = _checks(conn, tables, assignments, submissions, cell_rows)
    students = sorted(set(_students(conn)) | {student for student, _ in submissions})  # nbgrader keeps both
    zone = next((a.due_zone for a in cfg.assignments.values() if a.due_zone is not None), dt.timezone.utc)
    return GradebookData(course_id=cfg.course_id, students=students, assignments=assignments,
                         submissions=submissions, checks=checks, check_level=level, display_tz=zone,
                         source=safe_url(cfg.db_url), extra={"watch": _watch(conn, tables)})


def _watch(conn, tables) -> dict | None:
    """The grade-on-submit service's queue and service row (graders/watch/queue.py), if it ever ran."""
    from sqlalchemy import select

    from ..watch.queue import queue, service
    if queue.name not in tables:
        return None
    rows = [dict(r) for r in conn.execute(select(queue).order_by(queue.c.id)).mappings().all()]
    svc = conn.execute(select(service)).mappings().first() if service.name in tables else None
    return {"rows": rows, "service": dict(svc) if svc else None}


def _students(conn) -> list[str]:
    from nbgrader.api import Student
    from sqlalchemy import select

    return sorted(r[0] for r in conn.execute(select(Student.__table__.c.id)))


def _assignments(cfg, conn):
    """(assignments: the configured ones, then any other the gradebook has; gradebook id -> name;
    (assignment, notebook, cell) -> most points)."""
    from nbgrader.api import Assignment, BaseCell, GradeCell, Notebook, TaskCell
    from sqlalchemy import select

    a_t, nb_t, base_t = Assignment.__table__, Notebook.__table__, BaseCell.__table__
    gb_assignments = {name: (aid, due) for aid, name, due in
                      conn.execute(select(a_t.c.id, a_t.c.name, a_t.c.duedate))}
    aid_to_name = {aid: name for name, (aid, _) in gb_assignments.items()}

    # the most points of each assignment: its grade cells and task cells (nbgrader's Assignment.max_score)
    max_by_assignment: dict[str, float] = {}
    cells: dict[tuple[str, str, str], float] = {}          # (assignment, notebook, cell) -> max
    for cell_cls in (GradeCell, TaskCell):
        ct = cell_cls.__table__
        q = (select(nb_t.c.assignment_id, nb_t.c.name, base_t.c.name, ct.c.max_score)
             .select_from(ct.join(base_t, ct.c.id == base_t.c.id).join(nb_t, base_t.c.notebook_id == nb_t.c.id)))
        for aid, nb_name, cell_name, max_score in conn.execute(q):
            name = aid_to_name.get(aid)
            if name is None:
                continue
            cells[(name, nb_name, cell_name)] = float(max_score or 0)
            max_by_assignment[name] = max_by_assignment.get(name, 0.0) + float(max_score or 0)

    assignments = []
    for name, a in cfg.assignments.items():
        gb_due = gb_assignments.get(name, (None, None))[1]
        assignments.append(AssignmentInfo(
            name=name, title=a.title, kind=a.kind,
            max_score=max_by_assignment.get(name) or a.total_points,
            due=gb_due or a.due_utc))
    for name in sorted(set(gb_assignments) - set(cfg.assignments)):
        assignments.append(AssignmentInfo(name=name, title=name, kind="",
                                          max_score=max_by_assignment.get(name, 0.0),
                                          due=gb_assignments[name][1]))
    return assignments, aid_to_name, cells


def _submissions(conn, assignments, aid_to_name, cells):
    """((student, assignment) -> Submission with score, lateness and penalty; assignment -> per-cell rows)."""
    from nbgrader.api import BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import func, select

    due_of = {a.name: a.due for a in assignments}
    sa_t, sn_t, g_t = SubmittedAssignment.__table__, SubmittedNotebook.__table__, Grade.__table__
    nb_t, base_t = Notebook.__table__, BaseCell.__table__
    subs = {}
    for sid, aid, student, ts, extension in conn.execute(
            select(sa_t.c.id, sa_t.c.assignment_id, sa_t.c.student_id, sa_t.c.timestamp, sa_t.c.extension)):
        name = aid_to_name.get(aid)
        if name in due_of:
            subs[sid] = [student, name, ts, extension]
    penalty = {sid: float(p or 0) for sid, p in conn.execute(
        select(sn_t.c.assignment_id, func.sum(func.coalesce(sn_t.c.late_submission_penalty, 0.0)))
        .group_by(sn_t.c.assignment_id))}
    totals: dict[str, float] = {}
    graded: set[str] = set()
    cell_rows: dict[str, list[CheckRow]] = {}
    q = (select(sn_t.c.assignment_id, nb_t.c.name, base_t.c.name, g_t.c.auto_score, g_t.c.manual_score,
                g_t.c.extra_credit)
         .select_from(g_t.join(sn_t, g_t.c.notebook_id == sn_t.c.id)
                      .join(nb_t, sn_t.c.notebook_id == nb_t.c.id)
                      .join(base_t, g_t.c.cell_id == base_t.c.id)))
    for sid, nb_name, cell_name, auto, manual, extra in conn.execute(q):
        if sid not in subs:
            continue
        # nbgrader's Grade.score: the manual score wins over the auto score; extra credit adds
        base = manual if manual is not None else auto
        score = 0.0 if base is None else float(base) + float(extra or 0)
        totals[sid] = totals.get(sid, 0.0) + score
        if base is not None:
            graded.add(sid)
            student, name = subs[sid][0], subs[sid][1]
            max_score = cells.get((name, nb_name, cell_name), 0.0)
            cell_rows.setdefault(name, []).append(CheckRow(
                student, name, nb_name, cell_name, cell_name, 0, score, max_score, score >= max_score - 1e-9))

    submissions = {}
    for sid, (student, name, ts, extension) in subs.items():
        due = due_of.get(name)
        if due is not None and extension is not None:
            due = due + extension
        late_s = max(0.0, (ts - due).total_seconds()) if ts is not None and due is not None else 0.0
        submissions[(student, name)] = Submission(
            student=student, assignment=name, timestamp=ts, score=totals.get(sid, 0.0),
            graded=sid in graded, seconds_late=late_s, penalty=penalty.get(sid, 0.0))
    return submissions, cell_rows


def _checks(conn, tables, assignments, submissions, cell_rows):
    """Fine-grained results: our check table where it has rows, else the graded cells; and which level."""
    from sqlalchemy import select

    from ..gradebook import check_results

    checks: dict[str, list[CheckRow]] = {}
    level: dict[str, str] = {}
    if check_results.name in tables:
        t = check_results.c
        q = select(t.student, t.assignment, t.notebook, t.grade_cell, t.check_name, t.position, t.score,
                   t.max_score, t.passed)
        for row in conn.execute(q):
            if (row[0], row[1]) not in submissions:          # a removed submission's leftovers
                continue
            checks.setdefault(row[1], []).append(CheckRow(row[0], row[1], row[2], row[3], row[4], int(row[5]),
                                                          float(row[6]), float(row[7]), bool(row[8])))
    for a in assignments:
        if a.name in checks:
            level[a.name] = "check"
        elif a.name in cell_rows:
            checks[a.name] = cell_rows[a.name]
            level[a.name] = "cell"
        else:
            level[a.name] = "none"
    return checks, level
