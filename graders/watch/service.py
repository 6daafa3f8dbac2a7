"""The grade-on-submit service (`python -m graders watch`): see graders/watch/__init__.py."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import CourseConfig
from ..visibility import phase as feedback_phase, utc_now
from . import notices
from .lock import AlreadyRunning, ServiceLock
from .queue import DONE, GRADING, Job, Queue, WAITING

HEARTBEAT_S = 5.0
STALE_HEARTBEAT_S = 60.0       # a service row older than this (another host) is taken as gone
MAX_START_FAILURES = 3


# ── the grader processes ────────────────────────────────────────────────────
def _grader_main(conn, init_args) -> None:
    """A grader process of the farm (autograde's set-up) that grades each job; feedback is made elsewhere
    (a feedback process per submission, below), so the next student's grading never waits for it."""
    from ..farm.autograde import worker_loop
    worker_loop(conn, init_args, _answer)


def _answer(job) -> dict:
    try:
        return _run_job(*job)
    except Exception as exc:           # a bug here: this job's result, never the process's end
        return {"ok": False, "error": f"grader process failed: {type(exc).__name__}: {str(exc)[:300]}",
                "trace": traceback.format_exc()[-4000:]}


def _run_job(kind: str, assignment: str, student: str, as_of: str) -> dict:
    import warnings

    from ..farm import autograde
    warnings.filterwarnings("ignore")
    cfg, api = autograde._WORKER["cfg"], autograde._WORKER["api"]
    outcome = autograde.grade_one(api, cfg, assignment, student)
    return {"ok": outcome.ok, "seconds": outcome.seconds, "error": outcome.error}


# ── feedback: one process per submission, bounded in time ──────────────────
# Each submission's feedback is made in a process of its own, forked from a server that has the
# feedback code imported (a start in milliseconds), next to the feedback of other students and to the
# gradings, and killed at WATCH['feedback_timeout_s'].  What is rendered is bounded too (feedback.py:
# RenderBudget).  A feedback that cannot be made in bounds leaves a short page for that student only.
FEEDBACK_PRELOAD = ["graders.watch.service", "graders.farm.autograde", "graders.feedback", "nbgrader.apps"]
MAX_FEEDBACK_PROCESSES_EXTRA = 4     # at most 2 × workers + this many feedback processes at once


def _feedback_context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(FEEDBACK_PRELOAD)
    return ctx


def _feedback_main(conn, config_path: str, assignment: str, student: str, as_of: str) -> None:
    import warnings

    from ..course import load_config
    from ..farm.autograde import _die_with_parent, nbgrader_api
    _die_with_parent()
    warnings.filterwarnings("ignore")
    try:
        cfg = load_config(config_path)
        result = make_feedback(nbgrader_api(cfg), cfg, assignment, student, as_of)
    except Exception as exc:             # a bug here: this feedback's result, never the service's end
        result = {"feedback": False, "feedback_error": f"{type(exc).__name__}: {str(exc)[:300]}",
                  "trace": traceback.format_exc()[-4000:]}
    conn.send(("done", result))


class _FeedbackRun:
    """One submission's feedback process and its deadline."""

    def __init__(self, ctx, cfg: CourseConfig, task: "Task", as_of: str, limit_s: float):
        self.task, self.limit_s = task, limit_s
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_feedback_main, args=(child, str(cfg.path), task.assignment, task.student, as_of),
                                daemon=True, name=f"dlcourse-feedback-{task.student}")
        self.proc.start()
        child.close()
        self.deadline = time.monotonic() + limit_s

    def end(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=10)
        try:
            self.conn.close()
        except OSError:
            pass


def make_feedback(api, cfg: CourseConfig, assignment: str, student: str, as_of: str) -> dict:
    """Feedback HTML as the student may see it at `as_of` (VISIBILITY), released to the exchange when
    the submission came through it (nbgrader's release_feedback: the student's Fetch Feedback)."""
    api.config.ApplyVisibility.as_of = as_of
    made = api.generate_feedback(assignment, student, force=True)
    if not made.get("success"):
        return {"feedback": False, "feedback_error": _last_line(made.get("error") or made.get("log"))}
    folder = cfg.root / "feedback" / student / assignment
    if not (folder / "submission_secret.txt").is_file():      # an LMS upload: no exchange slot to release into
        return {"feedback": True, "released": False}
    out = api.release_feedback(assignment, student)
    if not out.get("success"):
        return {"feedback": True, "released": False, "feedback_error": _last_line(out.get("error") or out.get("log"))}
    return {"feedback": True, "released": True}


def _last_line(text: str | None) -> str:
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1][:300] if lines else "unknown error"


def _grader(ctx, slot: int, init_args):
    """One of autograde's grader processes, running `_grader_main`; `task` is what it holds."""
    from ..farm.autograde import _Grader
    g = _Grader(ctx, slot, init_args, target=_grader_main)
    g.task = None
    return g


def _hand(g, task: "Task", message) -> None:
    g.task, g.took_work = task, True
    g.conn.send(message)


def _kill(g) -> None:
    if g.proc.is_alive():
        g.proc.kill()
    g.proc.join(timeout=10)
    try:
        g.conn.close()
    except OSError:
        pass


@dataclass
class Task:
    kind: str                       # "grade" (a grader process) | "feedback" (after a grading) | "refresh" (again)
    assignment: str
    student: str
    phase: str
    job: Job | None = None          # the queue row of a grading (and of the feedback made after it)
    seconds: float | None = None    # how long the grading took
    row_id: int | None = None       # the row whose feedback is made again
    entry: str | None = None        # the submission's inbound entry (its feedback slot) or LMS download
    source: str = "exchange"
    started: float = field(default_factory=time.monotonic)


# ── the service ─────────────────────────────────────────────────────────────
class Service:
    """Watch the exchange (and the LMS drop folder), grade each student's newest submission on the
    farm, release its feedback; durable, fair, one per course.  `clock` gives the time used for
    deadlines and visibility (aware UTC); `drain` ends the run once nothing is left to do."""

    def __init__(self, cfg: CourseConfig, *, workers: int | None = None, scheduler: str | None = None,
                 clock: Callable[[], dt.datetime] = utc_now, log: Callable[[str], None] = print,
                 drain: bool = False, idle_exit_s: float = 0.0):
        self.cfg = cfg
        self.workers = max(1, int(workers or cfg.watch.workers))
        self.scheduler = scheduler if scheduler is not None else cfg.watch.scheduler
        self.clock, self.log, self.drain, self.idle_exit_s = clock, log, drain, idle_exit_s
        self.poll = float(cfg.watch.poll_seconds)
        self.stopping = False
        self.queue: Queue | None = None
        self._known: set = set()
        self._told_refused: set = set()
        self._refreshing: set = set()
        self._feedback_retried: set = set()
        self._feedback_gave_up: set = set()         # rows whose feedback ran past its time: not again this run
        self._last_counts: dict | None = None
        self._feedback_ctx = None
        self._feedbacks: list[_FeedbackRun] = []      # feedback processes running
        self._feedback_waiting: list[Task] = []       # feedback to make once a process may start

    # the time, for deadlines (aware UTC) and for the queue (naive UTC)
    def now(self) -> dt.datetime:
        return self.clock().astimezone(dt.timezone.utc)

    def request_stop(self, *_):
        self.stopping = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    # ── start and stop ────────────────────────────────────────────────────
    def run(self) -> int:
        """Run until SIGTERM (or, with drain, until nothing is left).  The lock is held throughout."""
        cfg = self.cfg
        lock = ServiceLock(cfg.root).acquire()
        self.queue = Queue(cfg.db_url)
        try:
            self._refuse_other_host()
            started = self.now()
            self.queue.heartbeat(cfg.course_id, socket.gethostname(), os.getpid(), started, started)
            for job in self.queue.recover(started):
                self.log(f"✗ {job.assignment}/{job.student}: the grader stopped {job.attempts} times on this "
                         "submission; not tried again (see the machine's logs)")
            self._known = self.queue.known_entries("exchange") | self.queue.known_entries("lms")
            if not self.scheduler:
                from ..nbgrader_settings import sandbox_enabled
                if sandbox_enabled(cfg):
                    from ..farm.sandbox import check_memory_budget
                    check_memory_budget(cfg, self.workers)
            with tempfile.TemporaryDirectory(prefix="dlcourse-watch-") as work_root:
                return self._loop(work_root, started)
        finally:
            try:
                now = self.now()
                self.queue.heartbeat(cfg.course_id, socket.gethostname(), os.getpid(), now, now, stopped=True)
            except Exception:
                pass
            self.queue.close()
            lock.release()

    def _refuse_other_host(self) -> None:
        row = self.queue.service_row(self.cfg.course_id)
        if not row or row.get("stopped_at") is not None:
            return
        if row["host"] == socket.gethostname():
            return              # this machine: the file lock already decided
        age = (self.now().replace(tzinfo=None) - row["heartbeat_at"]).total_seconds()
        if age < STALE_HEARTBEAT_S:
            raise AlreadyRunning({"pid": row["pid"], "host": row["host"], "started": str(row["started_at"])},
                                 Path(self.cfg.db_url.split("@")[-1]))

    def _loop(self, work_root: str, started: dt.datetime) -> int:
        from multiprocessing.connection import wait as wait_any

        ctx = multiprocessing.get_context("spawn")
        from ..farm.autograde import grader_init
        init = grader_init(self.cfg, self.workers, work_root, self.scheduler)
        graders = [_grader(ctx, slot, init(slot)) for slot in range(self.workers)]
        start_failures, last_scan, last_beat, idle_since = 0, -1e9, time.monotonic(), None
        status = 0
        self.log(f"watching {self.cfg.exchange_dir / self.cfg.course_id / 'inbound'}"
                 + (f" and {self.cfg.watch.lms_drop}" if self.cfg.watch.lms_drop else "")
                 + f" with {self.workers} grader process{'es' if self.workers > 1 else ''}"
                 + (f" on {self.scheduler}" if self.scheduler else ""))
        stop_deadline = None
        try:
            while graders:
                mono = time.monotonic()
                if self.stopping and stop_deadline is None:
                    busy = [g for g in graders if g.task]
                    self.log(f"stopping: {len(busy)} grading(s) under way may finish "
                             f"(at most {self.cfg.watch.stop_grace_s:g} s)")
                    stop_deadline = mono + self.cfg.watch.stop_grace_s
                if stop_deadline is not None and (mono >= stop_deadline or not self._busy(graders)):
                    break
                if not self.stopping and mono - last_scan >= self.poll:
                    self._guarded(self._scan)
                    self._guarded(self._tell_rate_limited)
                    last_scan = mono
                self._guarded(self._feedback_step, graders)
                if not self.stopping:
                    self._guarded(self._dispatch, graders)
                if mono - last_beat >= HEARTBEAT_S:
                    now = self.now()
                    self.queue.heartbeat(self.cfg.course_id, socket.gethostname(), os.getpid(), started, now)
                    last_beat = mono
                    self._progress()
                if self.drain and not self.stopping and not self._busy(graders) and self._nothing_left():
                    if idle_since is None:
                        idle_since = mono
                    if mono - idle_since >= self.idle_exit_s:
                        break
                else:
                    idle_since = None
                timeout = min(self.poll, 0.5) if self.drain else self.poll
                if self._feedbacks:
                    timeout = max(0.05, min([timeout] + [f.deadline - time.monotonic() for f in self._feedbacks]))
                ready = wait_any([g.conn for g in graders] + [g.proc.sentinel for g in graders]
                                 + [f.conn for f in self._feedbacks] + [f.proc.sentinel for f in self._feedbacks],
                                 timeout=timeout)
                self._guarded(self._feedback_ready, ready)
                for g in list(graders):
                    if g.conn in ready:
                        try:
                            kind, payload = g.conn.recv()
                        except (EOFError, OSError):
                            kind, payload = None, None
                        if kind == "ready":
                            g.ready = True
                            continue
                        if kind == "done":
                            self._finished(g, payload)
                            continue
                    if g.proc.sentinel in ready or (g.conn in ready and not g.proc.is_alive()):
                        _kill(g)
                        graders.remove(g)
                        if g.task is None and not g.took_work:
                            start_failures += 1
                        self._lost(g)
                        if start_failures >= MAX_START_FAILURES:
                            self.log("✗ grader processes die before they can grade; stopping. "
                                     "Fix: run `python -m graders autograde A --workers 1` to see why")
                            status = 1
                            self.stopping, stop_deadline = True, time.monotonic()
                        elif not self.stopping:
                            graders.append(_grader(ctx, g.slot, init(g.slot)))
        finally:
            for run in self._feedbacks:          # stopped: made again at the next start (feedback_phase unset)
                run.end()
            self._feedbacks, self._feedback_waiting = [], []
            for g in graders:
                if g.task is not None:
                    self._lost(g, stopped=True)
                g.stop()
            deadline = time.monotonic() + 10
            for g in graders:
                g.proc.join(timeout=max(0.1, deadline - time.monotonic()))
                _kill(g)
            self._progress(force=True)
            self.log("stopped")
        return status

    def _guarded(self, step, *args) -> None:
        """One step of the loop: a problem in it (a bug, a database hiccup) is logged and the service
        goes on; what a step had not finished is picked up again at its next turn."""
        try:
            step(*args)
        except Exception as exc:
            self.log(f"✗ service: {step.__name__}: {type(exc).__name__}: {str(exc)[:300]}")
            self.log(traceback.format_exc(limit=6).rstrip())

    # ── what arrives ──────────────────────────────────────────────────────
    def _scan(self) -> None:
        from ..intake.exchange import inbound_entries
        now = self.now()
        for assignment in self.cfg.assignments:
            try:
                entries, refused = inbound_entries(self.cfg, assignment)
            except Exception as exc:            # the exchange is unreadable now: said, and tried again
                self.log(f"✗ exchange inbound for {assignment}: {type(exc).__name__}: {exc}")
                continue
            for what, why in refused:
                if (assignment, what) not in self._told_refused:
                    self._told_refused.add((assignment, what))
                    self.log(f"✗ {assignment}: inbound {what}: {why}")
            for e in entries:
                key = (assignment, e.claimed, e.rel)
                if key in self._known:
                    continue
                if not _plain_name(e.rel):
                    self._known.add(key)
                    from ..intake import safecopy
                    self.log(f"✗ {assignment}/{e.claimed}: inbound {safecopy.shown(e.rel, 120)}: not a name nbgrader "
                             "makes (control characters, bytes that are not UTF-8, or too long); not graded")
                    continue
                state = self.queue.notice(assignment, e.claimed, "exchange", e.rel, e.seen, now)
                self._known.add(key)
                if state:
                    self.log(f"+ {assignment}/{e.claimed}: submission of {e.seen:%H:%M:%S} UTC "
                             + ("queued" if state == WAITING else "already older than one queued (not graded)"))
        if self.cfg.watch.lms_drop:
            self._scan_drop(now)

    def _scan_drop(self, now: dt.datetime) -> None:
        from ..intake.lms import import_lms
        from ..intake import safecopy
        drop = self.cfg.watch.lms_drop
        for assignment in self.cfg.assignments:
            folder = drop / assignment
            if not folder.is_dir() or folder.is_symlink():
                continue
            for name in sorted(os.listdir(folder)):
                if name.startswith("."):
                    continue
                path = folder / name
                fingerprint = _fingerprint(path)
                if fingerprint is None or self.queue.drop_seen(assignment, name, fingerprint):
                    continue
                try:
                    report = import_lms(self.cfg, path, assignment)
                except Exception as exc:
                    self.log(f"✗ LMS drop {assignment}/{safecopy.shown(name, 120)}: {type(exc).__name__}: {exc}")
                    self.queue.drop_done(assignment, name, fingerprint, now)
                    continue
                for line in report.lines(self.cfg.language)[1:]:
                    if line.lstrip().startswith(("✗", "note", "참고")):
                        self.log(f"  LMS {assignment}: {line.strip()}")
                students = {}
                for r in report.results:
                    if r.status in ("new", "updated"):
                        students[r.student] = max(students.get(r.student, r.when), r.when)
                for student, when in sorted(students.items()):
                    entry = f"lms:{safecopy.shown(name, 200)}"
                    state = self.queue.notice(assignment, student, "lms", entry, when, now)
                    self._known.add((assignment, student, entry))
                    if state:
                        self.log(f"+ {assignment}/{student}: LMS upload of {when:%Y-%m-%d %H:%M:%S %z} queued")
                self.queue.drop_done(assignment, name, fingerprint, now)

    def _tell_rate_limited(self) -> None:
        """A submission held by the rate limit: its feedback slot says why and until when."""
        from ..intake.exchange import course_paths, submission_secret
        if self.cfg.watch.max_per_hour is None:
            return
        for row in self.queue.rate_limited():
            released = False
            if row["source"] == "exchange":
                secret = submission_secret(course_paths(self.cfg)["inbound"] / row["entry"])
                if secret:
                    lang = self.cfg.language
                    for nb in self.cfg.assignment(row["assignment"]).notebooks:
                        page = notices.rate_limit_page(
                            lang, row["assignment"], nb, notices.local_time(self.cfg, row["assignment"], row["submitted_at"]),
                            notices.local_time(self.cfg, row["assignment"], row["not_before"]), self.cfg.watch.max_per_hour)
                        notices.place(course_paths(self.cfg)["course"] / "feedback", secret, nb, page)
                    released = True
            self.queue.feedback_released(row["id"], "notice", released, self.now())
            self.log(f"⏸ {row['assignment']}/{row['student']}: {self.cfg.watch.max_per_hour} gradings in the last "
                     f"hour; this submission waits until {row['not_before']:%H:%M:%S} UTC")

    # ── handing out work ──────────────────────────────────────────────────
    def _dispatch(self, graders: list) -> None:
        from ..intake import safecopy
        from ..intake.exchange import collect_entry
        busy = self._busy_students(graders)
        now = self.now()
        while True:                          # feedback to make again (after the due date): feedback processes
            refresh = self._next_refresh(now, busy, mark=True)
            if refresh is None:
                break
            row, ph = refresh
            self._refreshing.add(row["id"])
            self._feedback_waiting.append(Task("refresh", row["assignment"], row["student"], ph, row_id=row["id"],
                                               entry=row["entry"], source=row["source"]))
            busy.add((row["assignment"], row["student"]))
        self._start_feedbacks()
        for g in graders:
            if not g.ready or g.task is not None:
                continue
            now = self.now()
            job = self.queue.next_job(now, self.cfg.watch.max_per_hour, busy)
            if job is not None:
                if job.source == "exchange":
                    try:
                        got = collect_entry(self.cfg, job.assignment, job.entry)
                    except Exception as exc:
                        got = None
                        problem = f"{type(exc).__name__}: {exc}"
                    else:
                        problem = "; ".join(why for _, why in got.refused) if got.refused else None
                    if problem:
                        self.queue.finish(job.id, False, now, error=f"not collected: {problem}")
                        self.log(f"✗ {job.assignment}/{job.student}: not collected: {problem}")
                        continue
                    for student, files in (got.skipped or {}).items():
                        self.log(f"  {job.assignment}/{student}: files not copied: "
                                 + ", ".join(f"{safecopy.shown(p, 80)} ({r})" for p, r in files[:5]))
                try:
                    ph = feedback_phase(self.cfg, job.assignment, job.student, now)
                    task = Task("grade", job.assignment, job.student, ph, job=job, entry=job.entry, source=job.source)
                    _hand(g, task, ("grade", job.assignment, job.student, now.isoformat()))
                except Exception:
                    g.task = None
                    self.queue.release(job.id)          # it waits again; the grader's death is seen below
                    raise
                busy.add((job.assignment, job.student))

    def _next_refresh(self, now, busy, mark: bool = False):
        """A graded submission whose feedback was made before its results opened, now that they have
        (or whose feedback could not be made: tried again once per start of the service)."""
        for row in self.queue.latest_done():
            if row["id"] in self._refreshing or row["id"] in self._feedback_gave_up \
                    or (row["assignment"], row["student"]) in busy:
                continue
            ph = feedback_phase(self.cfg, row["assignment"], row["student"], now)
            if row["feedback_phase"] == "before_due" and ph != "before_due":
                return row, ph
            if row["feedback_phase"] is None and row["id"] not in self._feedback_retried:
                if mark:                                   # its feedback failed: once more per start
                    self._feedback_retried.add(row["id"])
                return row, ph
        return None

    def _busy(self, graders) -> bool:
        return any(g.task for g in graders) or bool(self._feedbacks) or bool(self._feedback_waiting)

    def _busy_students(self, graders) -> set:
        """Whose submission a grader or a feedback process holds: one thing at a time per student."""
        return ({(g.task.assignment, g.task.student) for g in graders if g.task}
                | {(f.task.assignment, f.task.student) for f in self._feedbacks}
                | {(t.assignment, t.student) for t in self._feedback_waiting})

    # ── feedback processes ────────────────────────────────────────────────
    def _start_feedbacks(self) -> None:
        cap = 2 * self.workers + MAX_FEEDBACK_PROCESSES_EXTRA
        while self._feedback_waiting and len(self._feedbacks) < cap:
            task = self._feedback_waiting.pop(0)
            if self._feedback_ctx is None:
                self._feedback_ctx = _feedback_context()
            now = self.now()
            task.phase = feedback_phase(self.cfg, task.assignment, task.student, now)
            as_of = now.isoformat()
            try:
                self._feedbacks.append(_FeedbackRun(self._feedback_ctx, self.cfg, task, as_of,
                                                    self.cfg.watch.feedback_timeout_s))
            except Exception:
                self._feedback_done(task, {"feedback": False, "feedback_error": "the feedback process did not start"})
                raise

    def _feedback_step(self, graders) -> None:
        """Feedback past its deadline: ended, and a short page says so to that student only."""
        self._start_feedbacks()
        mono = time.monotonic()
        for run in [f for f in self._feedbacks if f.deadline <= mono]:
            self._feedbacks.remove(run)
            run.end()
            self._feedback_gave_up.add(run.task.row_id if run.task.kind == "refresh" else run.task.job.id)
            self._no_feedback_page(run.task, run.limit_s)
            self._feedback_done(run.task, {"feedback": False, "timed_out": True,
                                           "feedback_error": f"not made within {run.limit_s:g} s (WATCH['feedback_timeout_s'])"})

    def _feedback_ready(self, ready) -> None:
        for run in list(self._feedbacks):
            if run.conn in ready or run.proc.sentinel in ready:
                result = None
                if run.conn.poll():
                    try:
                        kind, result = run.conn.recv()
                    except (EOFError, OSError, ValueError):
                        result = None
                if result is None and run.proc.is_alive():
                    continue
                self._feedbacks.remove(run)
                run.end()
                if result is None:
                    result = {"feedback": False, "feedback_error": f"the feedback process ended ({run.proc.exitcode})"}
                if result.get("trace"):
                    self.log(result["trace"].rstrip())
                self._feedback_done(run.task, result)

    def _no_feedback_page(self, task: "Task", limit_s: float) -> None:
        from ..intake.exchange import course_paths, submission_secret
        lang = self.cfg.language
        for nb in self.cfg.assignment(task.assignment).notebooks:
            page = notices.no_feedback_page(lang, task.assignment, nb, limit_s)
            if task.source == "exchange" and task.entry:
                secret = submission_secret(course_paths(self.cfg)["inbound"] / task.entry)
                if secret:
                    notices.place(course_paths(self.cfg)["course"] / "feedback", secret, nb, page)
                    continue
            folder = self.cfg.root / "feedback" / task.student / task.assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{nb}.html").write_text(page, encoding="utf-8")

    def _feedback_done(self, task: "Task", result: dict) -> None:
        now = self.now()
        fb = ("feedback released" if result.get("released") else
              "feedback written (no exchange slot)" if result.get("feedback") else
              f"no feedback: {result.get('feedback_error')}")
        if task.kind == "refresh":
            self._refreshing.discard(task.row_id)
            if result.get("feedback"):
                self.queue.feedback_released(task.row_id, task.phase, bool(result.get("released")), now)
            self.log(f"↻ {task.assignment}/{task.student}: results after the due date — {fb}")
            return
        job = task.job
        if result.get("feedback"):
            self.queue.feedback_released(job.id, task.phase, bool(result.get("released")), now)
        waited = (now.replace(tzinfo=None) - job.submitted_at).total_seconds()
        self.log(f"✓ {job.assignment}/{job.student}: graded in {task.seconds or 0:.0f} s, "
                 f"{waited:.0f} s after submission; {fb}")

    def _nothing_left(self) -> bool:
        """Drain: nothing grading and nothing that could start now (rate-limited rows stay queued for the
        next run), and no feedback to make again."""
        now = self.now()
        if self.queue.counts().get(GRADING, 0):
            return False
        if self.queue.next_job(now, self.cfg.watch.max_per_hour, set(), peek=True) is not None:
            return False
        return self._next_refresh(now, set()) is None

    # ── what comes back ───────────────────────────────────────────────────
    def _finished(self, g, result: dict) -> None:
        task, g.task = g.task, None
        if task is None:
            return
        now = self.now()
        job = task.job
        ok = bool(result.get("ok"))
        self.queue.finish(job.id, ok, now, seconds=result.get("seconds"), error=result.get("error"))
        if ok:                        # its feedback next, in a process of its own: this grader is free now
            task.kind, task.seconds = "feedback", result.get("seconds")
            self._feedback_waiting.append(task)
            self._start_feedbacks()
        else:
            self.log(f"✗ {job.assignment}/{job.student}: {result.get('error')}")

    def _lost(self, g, stopped: bool = False) -> None:
        """The grader process ended holding a task: a grading waits again (or fails after 3 tries)."""
        task, g.task = g.task, None
        if task is None:
            return
        if stopped:
            self.queue.release(task.job.id)
            self.log(f"… {task.assignment}/{task.student}: grading stopped with the service; it is graded at the next start")
            return
        attempts = self.queue.back_to_waiting(task.job.id)
        self.log(f"! a grader process died while grading {task.assignment}/{task.student} "
                 f"(attempt {attempts}); " + ("not tried again" if attempts >= 3 else "it is graded again"))

    def _progress(self, force: bool = False) -> None:
        counts = self.queue.counts()
        if counts != self._last_counts or force:
            self._last_counts = counts
            order = ("waiting", "grading", "done", "failed", "superseded")
            self.log("queue: " + " · ".join(f"{k} {counts.get(k, 0)}" for k in order))


def _plain_name(rel: str) -> bool:
    """An inbound entry's shown name as nbgrader writes one: printable UTF-8, not too long."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return len(rel) <= 400 and rel.isprintable()


def _fingerprint(path: Path) -> str | None:
    """Size and change time of a dropped download (a folder: of everything in it), to import it once."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat as _stat
    if _stat.S_ISREG(st.st_mode):
        if time.time_ns() - st.st_mtime_ns < 5e9:     # still being written (a download in progress)
            return None
        return f"f:{st.st_size}:{st.st_mtime_ns}"
    if not _stat.S_ISDIR(st.st_mode):
        return None
    newest, total = st.st_mtime_ns, 0
    for base, dirs, files in os.walk(path, followlinks=False):
        for name in files + dirs:
            try:
                s = os.lstat(os.path.join(base, name))
            except OSError:
                continue
            newest, total = max(newest, s.st_mtime_ns), total + s.st_size
    if time.time_ns() - newest < 5e9:       # still being written
        return None
    return f"d:{total}:{newest}"


def run_service(cfg: CourseConfig, **kw) -> int:
    svc = Service(cfg, **kw)
    svc.install_signals()
    return svc.run()
