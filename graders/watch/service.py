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
    """A grader process of the farm (autograde's set-up) that grades and makes feedback for each job."""
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
    result: dict = {"ok": True}
    if kind == "grade":
        outcome = autograde.grade_one(api, cfg, assignment, student)
        result.update(ok=outcome.ok, seconds=outcome.seconds, error=outcome.error)
        if not outcome.ok:
            return result
    result.update(make_feedback(api, cfg, assignment, student, as_of))
    return result


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
    kind: str                       # "grade" | "feedback"
    assignment: str
    student: str
    phase: str
    job: Job | None = None          # the queue row of a grading
    row_id: int | None = None       # the row whose feedback is made again
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
        self._last_counts: dict | None = None

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
                if stop_deadline is not None and (mono >= stop_deadline or not any(g.task for g in graders)):
                    break
                if not self.stopping and mono - last_scan >= self.poll:
                    self._guarded(self._scan)
                    self._guarded(self._tell_rate_limited)
                    last_scan = mono
                if not self.stopping:
                    self._guarded(self._dispatch, graders)
                if mono - last_beat >= HEARTBEAT_S:
                    now = self.now()
                    self.queue.heartbeat(self.cfg.course_id, socket.gethostname(), os.getpid(), started, now)
                    last_beat = mono
                    self._progress()
                if self.drain and not self.stopping and not any(g.task for g in graders) and self._nothing_left():
                    if idle_since is None:
                        idle_since = mono
                    if mono - idle_since >= self.idle_exit_s:
                        break
                else:
                    idle_since = None
                timeout = min(self.poll, 0.5) if self.drain else self.poll
                ready = wait_any([g.conn for g in graders] + [g.proc.sentinel for g in graders], timeout=timeout)
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
        busy = {(g.task.assignment, g.task.student) for g in graders if g.task}
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
                    task = Task("grade", job.assignment, job.student, ph, job=job)
                    _hand(g, task, ("grade", job.assignment, job.student, now.isoformat()))
                except Exception:
                    g.task = None
                    self.queue.release(job.id)          # it waits again; the grader's death is seen below
                    raise
                busy.add((job.assignment, job.student))
                continue
            refresh = self._next_refresh(now, busy, mark=True)
            if refresh is not None:
                row, ph = refresh
                task = Task("feedback", row["assignment"], row["student"], ph, row_id=row["id"])
                self._refreshing.add(row["id"])
                _hand(g, task, ("feedback", row["assignment"], row["student"], now.isoformat()))
                busy.add((row["assignment"], row["student"]))

    def _next_refresh(self, now, busy, mark: bool = False):
        """A graded submission whose feedback was made before its results opened, now that they have
        (or whose feedback could not be made: tried again once per start of the service)."""
        for row in self.queue.latest_done():
            if row["id"] in self._refreshing or (row["assignment"], row["student"]) in busy:
                continue
            ph = feedback_phase(self.cfg, row["assignment"], row["student"], now)
            if row["feedback_phase"] == "before_due" and ph != "before_due":
                return row, ph
            if row["feedback_phase"] is None and row["id"] not in self._feedback_retried:
                if mark:                                   # its feedback failed: once more per start
                    self._feedback_retried.add(row["id"])
                return row, ph
        return None

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
        fb = ("feedback released" if result.get("released") else
              "feedback written (no exchange slot)" if result.get("feedback") else
              f"no feedback: {result.get('feedback_error')}")
        if task.kind == "feedback":
            self._refreshing.discard(task.row_id)
            if result.get("feedback"):
                self.queue.feedback_released(task.row_id, task.phase, bool(result.get("released")), now)
            self.log(f"↻ {task.assignment}/{task.student}: results after the due date — {fb}")
            return
        job = task.job
        ok = bool(result.get("ok"))
        self.queue.finish(job.id, ok, now, seconds=result.get("seconds"), error=result.get("error"))
        if ok and result.get("feedback"):
            self.queue.feedback_released(job.id, task.phase, bool(result.get("released")), now)
        waited = (now.replace(tzinfo=None) - job.submitted_at).total_seconds()
        if ok:
            self.log(f"✓ {job.assignment}/{job.student}: graded in {result.get('seconds', 0):.0f} s, "
                     f"{waited:.0f} s after submission; {fb}")
        else:
            self.log(f"✗ {job.assignment}/{job.student}: {result.get('error')}")

    def _lost(self, g, stopped: bool = False) -> None:
        """The grader process ended holding a task: a grading waits again (or fails after 3 tries)."""
        task, g.task = g.task, None
        if task is None:
            return
        if task.kind == "feedback":
            self._refreshing.discard(task.row_id)
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
