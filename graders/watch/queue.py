"""The service's durable queue: one row per submission seen, in the gradebook's database.

Tables of our own (own MetaData, nbgrader's schema untouched), written only by the one running
service (see lock.py) and read by the dashboard:

  dlcourse_watch_queue    every submission the service saw, and what became of it
  dlcourse_watch_service  the running service: host, pid, start, heartbeat (for the dashboard)
  dlcourse_watch_drop     LMS downloads already imported from the drop folder

A row's life:  waiting → grading → done | failed, or waiting → superseded (a newer submission of
the same student and assignment arrived first; never graded after it).  A kill -9 leaves rows in
`grading`: the next start puts them back to `waiting` (`recover`), so each is graded to the end
exactly once; `graded` counts completed gradings of a row (the benchmark checks it is never 2).
Times are naive UTC, like nbgrader's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, create_engine, func, inspect, insert, select, update)

METADATA = MetaData()
queue = Table(
    "dlcourse_watch_queue", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False),
    Column("student", String(128), nullable=False),
    Column("source", String(16), nullable=False),          # "exchange" | "lms"
    Column("entry", String(512), nullable=False),          # inbound entry as shown, or "lms:<download>"
    Column("submitted_at", DateTime, nullable=False),      # the exchange's (or the LMS's) time of the submission
    Column("noticed_at", DateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("graded", Integer, nullable=False, default=0),
    Column("seconds", Float),                              # grading time of the last attempt
    Column("error", Text),                                 # for staff
    Column("waiting_for", String(32)),                     # why a waiting row waits: "rate_limit"
    Column("not_before", DateTime),                        # rate limit: not started before this
    Column("feedback_phase", String(16)),                  # what the released feedback shows: before_due | final
    Column("feedback_at", DateTime),
    Column("released", Boolean, nullable=False, default=False),
    UniqueConstraint("assignment", "student", "entry", name="uq_dlcourse_watch_entry"),
    Index("ix_dlcourse_watch_state", "state"),
)
service = Table(
    "dlcourse_watch_service", METADATA,
    Column("course", String(128), primary_key=True),
    Column("host", String(256), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
    Column("stopped_at", DateTime),
)
drops = Table(
    "dlcourse_watch_drop", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False),
    Column("name", String(512), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("assignment", "name", "fingerprint", name="uq_dlcourse_watch_drop"),
)

WAITING, GRADING, DONE, FAILED, SUPERSEDED = "waiting", "grading", "done", "failed", "superseded"
OPEN = (WAITING, GRADING)
MAX_ATTEMPTS = 3          # a submission whose grader process dies this often is failed, not retried


def naive(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when


@dataclass
class Job:
    id: int
    assignment: str
    student: str
    source: str
    entry: str
    submitted_at: dt.datetime
    attempts: int


class Queue:
    def __init__(self, db_url: str):
        self.engine = create_engine(db_url, future=True)
        if db_url.startswith("sqlite"):
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _busy(conn, _):          # the grader processes write the gradebook in the same file
                conn.execute("PRAGMA busy_timeout = 30000")
        try:
            METADATA.create_all(self.engine)
        except Exception:
            if not inspect(self.engine).has_table(queue.name):
                raise

    def close(self) -> None:
        self.engine.dispose()

    # ── what arrives ─────────────────────────────────────────────────────────
    def notice(self, assignment: str, student: str, source: str, entry: str, submitted_at: dt.datetime,
               now: dt.datetime) -> str | None:
        """Record a submission once.  Returns its state ("waiting", or "superseded" when a newer one of
        the same student and assignment is known already), None when it was recorded before."""
        submitted_at, now = naive(submitted_at), naive(now)
        with self.engine.begin() as conn:
            known = conn.execute(select(queue.c.id).where(queue.c.assignment == assignment, queue.c.student == student,
                                                          queue.c.entry == entry)).first()
            if known:
                return None
            newest = conn.execute(select(func.max(queue.c.submitted_at)).where(
                queue.c.assignment == assignment, queue.c.student == student)).scalar()
            state = SUPERSEDED if newest is not None and newest > submitted_at else WAITING
            conn.execute(insert(queue).values(assignment=assignment, student=student, source=source, entry=entry,
                                              submitted_at=submitted_at, noticed_at=now, state=state, attempts=0,
                                              graded=0, released=False))
            if state == WAITING:     # newest wins: older ones still waiting are never graded now
                conn.execute(update(queue).where(queue.c.assignment == assignment, queue.c.student == student,
                                                 queue.c.state == WAITING, queue.c.submitted_at < submitted_at,
                                                 queue.c.entry != entry)
                             .values(state=SUPERSEDED, finished_at=now, waiting_for=None))
            return state

    def known_entries(self, source: str) -> set[tuple[str, str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue.c.assignment, queue.c.student, queue.c.entry)
                                .where(queue.c.source == source)).all()
        return {tuple(r) for r in rows}

    # ── what is graded next ─────────────────────────────────────────────────
    def recover(self, now: dt.datetime) -> list[Job]:
        """After a crash: rows left `grading` wait again (or fail after MAX_ATTEMPTS); returns the failed."""
        now = naive(now)
        failed = []
        with self.engine.begin() as conn:
            rows = conn.execute(select(queue).where(queue.c.state == GRADING)).mappings().all()
            for r in rows:
                if r["attempts"] >= MAX_ATTEMPTS:
                    conn.execute(update(queue).where(queue.c.id == r["id"]).values(
                        state=FAILED, finished_at=now,
                        error=f"the grader stopped {r['attempts']} times while grading this submission"))
                    failed.append(_job(r))
                else:
                    conn.execute(update(queue).where(queue.c.id == r["id"]).values(state=WAITING))
        return failed

    def next_job(self, now: dt.datetime, max_per_hour: int | None, busy: set[tuple[str, str]],
                 peek: bool = False) -> Job | None:
        """The next submission to grade, or None.

        Eligible: waiting, its student and assignment not being graded now (never two gradings of one
        student's assignment at once, so an older one never finishes after a newer one), not held by
        the rate limit.  Among those, round robin: the student served longest ago first (never served:
        first of all), then the oldest submission."""
        now = naive(now)
        with self.engine.begin() as conn:
            waiting = conn.execute(select(queue).where(queue.c.state == WAITING)
                                   .order_by(queue.c.submitted_at, queue.c.id)).mappings().all()
            if not waiting:
                return None
            served = dict(conn.execute(select(queue.c.student, func.max(queue.c.started_at))
                                       .where(queue.c.started_at.is_not(None)).group_by(queue.c.student)).all())
            candidates = []
            for r in waiting:
                if (r["assignment"], r["student"]) in busy:
                    continue
                if max_per_hour is not None:
                    until = self._rate_limited_until(conn, r["assignment"], r["student"], now, max_per_hour)
                    if until is not None:
                        if r["waiting_for"] != "rate_limit" or r["not_before"] != until:
                            conn.execute(update(queue).where(queue.c.id == r["id"]).values(
                                waiting_for="rate_limit", not_before=until))
                        continue
                candidates.append(r)
            if not candidates:
                return None
            epoch = dt.datetime(1970, 1, 1)
            pick = min(candidates, key=lambda r: (served.get(r["student"]) or epoch, r["submitted_at"], r["id"]))
            if peek:
                return _job(pick)
            conn.execute(update(queue).where(queue.c.id == pick["id"]).values(
                state=GRADING, started_at=now, attempts=pick["attempts"] + 1, waiting_for=None, not_before=None))
            return _job(pick, attempts=pick["attempts"] + 1)

    @staticmethod
    def _rate_limited_until(conn, assignment, student, now, max_per_hour) -> dt.datetime | None:
        """When the student may be graded again for this assignment, or None if now."""
        hour_ago = now - dt.timedelta(hours=1)
        starts = conn.execute(select(queue.c.started_at).where(
            queue.c.assignment == assignment, queue.c.student == student, queue.c.graded > 0,
            queue.c.started_at > hour_ago).order_by(queue.c.started_at)).scalars().all()
        if len(starts) < max_per_hour:
            return None
        return starts[len(starts) - max_per_hour] + dt.timedelta(hours=1)

    def rate_limited(self) -> list[dict]:
        """Rows waiting for the rate limit whose student has not been told yet (feedback_phase is None)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(queue).where(
                queue.c.state == WAITING, queue.c.waiting_for == "rate_limit",
                queue.c.feedback_phase.is_(None))).mappings().all()]

    # ── what happened ───────────────────────────────────────────────────────
    def finish(self, job_id: int, ok: bool, now: dt.datetime, seconds: float | None = None,
               error: str | None = None) -> None:
        now = naive(now)
        with self.engine.begin() as conn:
            values = dict(state=DONE if ok else FAILED, finished_at=now, seconds=seconds, error=error)
            if ok:
                values["graded"] = queue.c.graded + 1
            conn.execute(update(queue).where(queue.c.id == job_id, queue.c.state == GRADING).values(**values))

    def back_to_waiting(self, job_id: int, error: str | None = None) -> int:
        """A grading that did not end (its grader process died, or the service stops): it waits again,
        or fails after MAX_ATTEMPTS.  Returns the attempts so far."""
        with self.engine.begin() as conn:
            r = conn.execute(select(queue.c.attempts).where(queue.c.id == job_id)).first()
            attempts = r[0] if r else 0
            if attempts >= MAX_ATTEMPTS:
                conn.execute(update(queue).where(queue.c.id == job_id).values(
                    state=FAILED, finished_at=naive(dt.datetime.now(dt.timezone.utc)),
                    error=error or f"the grader stopped {attempts} times while grading this submission"))
            else:
                conn.execute(update(queue).where(queue.c.id == job_id, queue.c.state == GRADING).values(state=WAITING))
            return attempts

    def release(self, job_id: int) -> None:
        """A grading stopped with the service (SIGTERM): it waits again, the attempt not counted."""
        with self.engine.begin() as conn:
            conn.execute(update(queue).where(queue.c.id == job_id, queue.c.state == GRADING).values(
                state=WAITING, attempts=func.max(queue.c.attempts - 1, 0) if self.engine.dialect.name == "sqlite"
                else func.greatest(queue.c.attempts - 1, 0)))

    def feedback_released(self, job_id: int, phase: str | None, released: bool, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(queue).where(queue.c.id == job_id).values(
                feedback_phase=phase, released=released, feedback_at=naive(now)))

    def latest_done(self) -> list[dict]:
        """Per student and assignment, the newest row graded to the end (its feedback may need remaking)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue).where(queue.c.state == DONE)
                                .order_by(queue.c.submitted_at, queue.c.id)).mappings().all()
        newest = {}
        for r in rows:
            newest[(r["assignment"], r["student"])] = dict(r)
        return list(newest.values())

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(queue.c.state, func.count()).group_by(queue.c.state)).all())

    def rows(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(queue).order_by(queue.c.id)).mappings().all()]

    # ── the LMS drop folder ─────────────────────────────────────────────────
    def drop_seen(self, assignment: str, name: str, fingerprint: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(drops.c.id).where(drops.c.assignment == assignment, drops.c.name == name,
                                                         drops.c.fingerprint == fingerprint)).first() is not None

    def drop_done(self, assignment: str, name: str, fingerprint: str, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(drops).values(assignment=assignment, name=name, fingerprint=fingerprint,
                                              imported_at=naive(now)))

    # ── the service row ─────────────────────────────────────────────────────
    def heartbeat(self, course: str, host: str, pid: int, started: dt.datetime, now: dt.datetime,
                  stopped: bool = False) -> None:
        values = dict(host=host, pid=pid, started_at=naive(started), heartbeat_at=naive(now),
                      stopped_at=naive(now) if stopped else None)
        with self.engine.begin() as conn:
            done = conn.execute(update(service).where(service.c.course == course).values(**values)).rowcount
            if not done:
                conn.execute(insert(service).values(course=course, **values))

    def service_row(self, course: str) -> dict | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(service).where(service.c.course == course)).mappings().first()
        return dict(r) if r else None


def _job(r, attempts: int | None = None) -> Job:
    return Job(id=r["id"], assignment=r["assignment"], student=r["student"], source=r["source"], entry=r["entry"],
               submitted_at=r["submitted_at"], attempts=r["attempts"] if attempts is None else attempts)


def read_rows(db_url: str) -> tuple[list[dict], dict | None]:
    """(every queue row, the service row) for the dashboard; nothing when the service never ran."""
    engine = create_engine(db_url, future=True)
    try:
        names = inspect(engine).get_table_names()
        if queue.name not in names:
            return [], None
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(queue).order_by(queue.c.id)).mappings().all()]
            svc = conn.execute(select(service)).mappings().first() if service.name in names else None
        return rows, (dict(svc) if svc else None)
    finally:
        engine.dispose()


def latency_stats(rows: list[dict], now: dt.datetime, window: dt.timedelta = dt.timedelta(hours=1)) -> dict:
    """Submit → feedback over the rows finished within `window`: count, median and 95th percentile (s)."""
    now = naive(now)
    waits = sorted((r["feedback_at"] - r["submitted_at"]).total_seconds() for r in rows
                   if r["state"] == DONE and r.get("feedback_at") and r.get("finished_at")
                   and r["finished_at"] >= now - window)
    if not waits:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {"n": len(waits), "p50": percentile(waits, 50), "p95": percentile(waits, 95), "max": waits[-1]}


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on a sorted list."""
    if not sorted_values:
        raise ValueError("no values")
    k = (len(sorted_values) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)
