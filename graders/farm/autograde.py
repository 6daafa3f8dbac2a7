"""The farm's batch runner: grade every submission of an assignment through nbgrader.

For each student: check the submitted notebooks are valid notebooks (a broken one
is reported for that student and the batch goes on), then run nbgrader's
autograde (sanitize → SandboxedExecute → ScoreArtifacts → gradebook).  Progress
is shown with rich; each submission's nbgrader log is kept under
`autograded/<student>/<assignment>/.autograde.log`.

With ``workers > 1`` submissions are graded concurrently by a pool of grader
processes, each running its own sandboxed kernels (a fresh one per submission).
With a Dask scheduler address the kernels run on the Dask workers instead
(see remote.py) while scoring and gradebook writes stay in these processes.
A grader process that dies takes no grade with it: the pool is rebuilt and the
submissions it had not finished are graded again.  Submissions already graded
and unchanged are skipped (ledger.py) unless ``force``.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.reader import NotJSONError
from rich.markup import escape
from traitlets.config import Config

from ..config import CourseConfig
from ..nbgrader_settings import apply_settings, sandbox_enabled
from . import ledger
from .sanitize import MAX_JSON_DEPTH, notebook_shape_problem
from .score import CHECKS_SUFFIX

MAX_NOTEBOOK_MB = 50  # a submitted notebook larger than this is not opened (outputs are cleared before grading anyway)
MAX_ATTEMPTS = 3      # a submission whose grader process dies this often is reported, not retried


@dataclass
class Outcome:
    student: str
    ok: bool
    seconds: float
    error: str | None = None
    skipped: bool = False       # graded before and unchanged


@dataclass
class BatchResult:
    assignment: str
    outcomes: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        return [o for o in self.outcomes if not o.ok]

    @property
    def skipped(self) -> list:
        return [o for o in self.outcomes if o.skipped]


def nbgrader_api(cfg: CourseConfig, work_root: str | None = None, scheduler: str | None = None,
                 prestart: bool | None = None):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    c = Config()
    apply_settings(c, cfg, remote=bool(scheduler))
    if work_root:
        c.SandboxedExecute.work_root = work_root
        c.ScoreArtifacts.work_root = work_root      # scoring jobs' folders (and a warm parent's) beside the kernels'
    if scheduler:
        c.SandboxedExecute.scheduler = scheduler
    if prestart is not None:
        c.SandboxedExecute.prestart = prestart
    coursedir = CourseDirectory(config=c)
    return NbGraderAPI(coursedir=coursedir, config=c)


def submitted_students(cfg: CourseConfig, assignment: str) -> list[str]:
    root = cfg.root / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


def validate_submission(cfg: CourseConfig, assignment: str, student: str) -> str | None:
    """A clear message when a submitted notebook cannot be read, else None."""
    folder = cfg.root / "submitted" / student / assignment
    for name in cfg.assignment(assignment).notebooks:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            present = ", ".join(sorted(p.name for p in folder.glob("*.ipynb"))) or "none"
            return (f"{path.relative_to(cfg.root)} is missing (notebooks present: {present}). "
                    f"Fix: the file must be named {name}.ipynb")
        rel = path.relative_to(cfg.root)
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_MB * 2**20:
            return (f"{rel} is {size / 2**20:.0f} MB, more than {MAX_NOTEBOOK_MB} MB. "
                    "Fix: ask the student to clear the outputs (Edit → Clear Outputs of All Cells), save and resubmit")
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            return (f"{rel} is not UTF-8 text (byte {exc.start}: {exc.reason}). "
                    "Fix: ask the student to download the .ipynb again from JupyterLab and resubmit")
        # json and nbformat recurse: a deep nesting would stop the grader (RecursionError), so the
        # depth is measured first, without parsing
        shape = notebook_shape_problem(raw, MAX_JSON_DEPTH)
        if shape:
            return (f"{rel} is not a notebook JupyterLab saves: {shape}. "
                    "Fix: ask the student to resubmit the notebook as saved by JupyterLab")
        try:
            version = json.loads(raw).get("nbformat")
        except (ValueError, AttributeError, RecursionError):
            version = 4                          # reported as not JSON / not a notebook below
        if version != 4:
            return (f"{rel} is in notebook format {version!r}, not 4. "
                    "Fix: ask the student to open it in JupyterLab, save it and resubmit")
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except (json.JSONDecodeError, UnicodeDecodeError, NotJSONError) as exc:
            reason = str(exc).splitlines()[0][:120]
            return (f"{path.relative_to(cfg.root)} is not a valid notebook (not JSON: {reason}). "
                    "Fix: ask the student to download the .ipynb again from JupyterLab and resubmit")
        except nbformat.ValidationError as exc:
            return (f"{path.relative_to(cfg.root)} does not follow the notebook format "
                    f"({str(exc).splitlines()[0]}). Fix: resubmit the notebook saved by JupyterLab")
        except Exception as exc:
            return f"{path.relative_to(cfg.root)} cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def _last_error(log: str) -> str:
    lines = [l for l in (log or "").splitlines() if l.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line.strip()[:300]
    return (lines[-1].strip()[:300] if lines else "unknown error")


def grade_one(api, cfg: CourseConfig, assignment: str, student: str) -> Outcome:
    """One submission, whatever it holds: an error of any kind is this student's outcome (with the
    traceback in autograded/<student>/<assignment>/.autograde.log), never the end of the batch."""
    start = time.perf_counter()
    try:
        return _grade_one(api, cfg, assignment, student, start)
    except BaseException as exc:            # noqa: BLE001 — KeyboardInterrupt/SystemExit still end the batch
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        log = _staff_log(cfg, assignment, student, traceback.format_exc())
        try:
            ledger.forget(cfg, assignment, student)
        except Exception:
            pass
        where = f" (traceback: {log})" if log else ""
        return Outcome(student, False, time.perf_counter() - start,
                       f"grading failed: {type(exc).__name__}: {str(exc)[:200]}{where}")


def _staff_log(cfg: CourseConfig, assignment: str, student: str, text: str) -> str | None:
    """Keep a traceback for staff next to the graded notebook; the path relative to the course root."""
    try:
        out_dir = cfg.root / "autograded" / student / assignment
        if out_dir.is_symlink():
            return None
        out_dir.mkdir(parents=True, exist_ok=True)
        log = out_dir / ".autograde.log"
        if log.is_symlink():
            log.unlink()
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} grading failed ---\n{text}")
        return str(log.relative_to(cfg.root))
    except Exception:
        return None


def _grade_one(api, cfg: CourseConfig, assignment: str, student: str, start: float) -> Outcome:
    problem = validate_submission(cfg, assignment, student)
    if problem:
        ledger.forget(cfg, assignment, student)
        return Outcome(student, False, time.perf_counter() - start, problem)
    print_ = ledger.fingerprint(cfg, assignment, student)     # what is graded, taken before grading
    try:
        result = api.autograde(assignment, student, force=True, create=True)
    except Exception as exc:  # nbgrader itself failed: report, keep going (traceback in the staff log)
        result = {"success": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                  "log": traceback.format_exc()}
    out_dir = cfg.root / "autograded" / student / assignment
    if out_dir.is_dir():
        (out_dir / ".autograde.log").write_text(result.get("log") or "")
    seconds = time.perf_counter() - start
    if not result.get("success"):
        ledger.forget(cfg, assignment, student)
        log = out_dir / ".autograde.log"
        if not log.is_file():
            _staff_log(cfg, assignment, student, result.get("log") or result.get("error") or "")
        where = f" (log: {log.relative_to(cfg.root)})" if log.is_file() else ""
        return Outcome(student, False, seconds, _last_error(result.get("error") or result.get("log")) + where)
    missing = [n for n in cfg.assignment(assignment).notebooks if not (out_dir / f"{n}{CHECKS_SUFFIX}").exists()]
    if missing:
        ledger.forget(cfg, assignment, student)
        return Outcome(student, False, seconds, f"no check results for {missing} (see {out_dir}/.autograde.log)")
    ledger.record(cfg, assignment, student, print_, seconds)
    return Outcome(student, True, seconds)


def graded_cells(cfg: CourseConfig, assignment: str) -> set[tuple[str, str]]:
    scorer = cfg.scorer(assignment)
    return {(scorer.notebook, cell.grade_id) for cell in scorer.cells}


def autograde(cfg: CourseConfig, assignment: str, students: list[str] | None = None, progress: bool = True,
              workers: int = 1, scheduler: str | None = None, force: bool = False) -> BatchResult:
    return autograde_many(cfg, [assignment], students, progress, workers, scheduler, force)[assignment]


def autograde_many(cfg: CourseConfig, assignments: list[str], students: list[str] | None = None,
                   progress: bool = True, workers: int = 1, scheduler: str | None = None,
                   force: bool = False) -> dict[str, BatchResult]:
    """Grade several assignments as one batch: with workers, no process idles at an assignment's end."""
    if not scheduler and sandbox_enabled(cfg):
        # every local grader process runs one kernel capped at SANDBOX['memory_gb']: they must fit together
        from .sandbox import check_memory_budget
        check_memory_budget(cfg, max(1, workers))
    batches, jobs, total = {}, [], 0
    for assignment in assignments:
        cfg.assignment(assignment)  # clear error for an unknown assignment
        batch = batches[assignment] = BatchResult(assignment)
        cells = graded_cells(cfg, assignment)
        scored = {} if force else ledger.scored_cells(cfg, assignment)
        for student in (students or submitted_students(cfg, assignment)):
            total += 1
            if not force and ledger.is_current(cfg, assignment, student, cells, scored):
                batch.outcomes.append(Outcome(student, True, 0.0, skipped=True))
            else:
                jobs.append((assignment, student))
    # slowest assignment first (seconds of the last grading), so the batch does not end on one slow
    # notebook; an assignment's submissions stay together, so a kernel started ahead of need (for
    # the same assignment) is used rather than thrown away
    seconds = {j: ledger.last_seconds(cfg, *j) for j in jobs}
    slowest = {}
    for (assignment, _), sec in seconds.items():
        slowest[assignment] = max(slowest.get(assignment, 0.0), sec)
    jobs.sort(key=lambda j: (-slowest[j[0]], j[0], -seconds[j]))
    title = assignments[0] if len(assignments) == 1 else f"{len(assignments)} assignments"
    if scheduler and jobs:       # the cluster can run them (grading slots, a GPU for 'cuda'): else say so now
        from .remote import resources_for
        resources_for(scheduler, cfg.device, cfg.gpu.kernels_per_gpu)
    # per-notebook work folders live under one batch folder, removed at the end whatever happens
    with tempfile.TemporaryDirectory(prefix="dlcourse-batch-") as work_root:
        with _progress(title, total, progress) as (bar, task):
            bar.advance(task, total - len(jobs))
            if scheduler and workers <= 1:       # one grader process per kernel slot of the cluster
                from .remote import cluster_slots
                workers = int(cluster_slots(scheduler).get("grading", 1))
            if workers <= 1 and not scheduler:
                _grade_serial(cfg, jobs, batches, bar, task, nbgrader_api(cfg, work_root))
            else:
                _grade_pool(cfg, jobs, batches, bar, task, max(1, workers), scheduler, work_root)
    for assignment, batch in batches.items():
        order = {s: i for i, s in enumerate(students or submitted_students(cfg, assignment))}
        batch.outcomes.sort(key=lambda o: order.get(o.student, 0))
    return batches


class _progress:
    """A rich progress bar with ETA (a no-op display when progress is off)."""

    def __init__(self, assignment, total, show):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        from rich.console import Console
        # a log that is not a terminal keeps each message on one line (staff grep it; paths are long)
        self.bar = Progress(*columns, disable=not show, transient=False,
                            console=Console(soft_wrap=not sys.stdout.isatty()))
        self.assignment, self.total = assignment, total

    def __enter__(self):
        self.bar.__enter__()
        return self.bar, self.bar.add_task(f"autograde {self.assignment}", total=self.total)

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)


def _done(bar, task, batch, outcome) -> None:
    batch.outcomes.append(outcome)
    if not outcome.ok:
        bar.console.print(f"[red]✗ {escape(batch.assignment)}/{escape(outcome.student)}[/red]: {escape(str(outcome.error))}")
    bar.advance(task)


def _grade_serial(cfg, jobs, batches, bar, task, api) -> None:
    from .execute import expect_next
    for i, (assignment, student) in enumerate(jobs):
        bar.update(task, description=f"autograde {assignment}: {student}")
        expect_next(jobs[i + 1][0] if i + 1 < len(jobs) else None)
        _done(bar, task, batches[assignment], grade_one(api, cfg, assignment, student))
    bar.update(task, description="autograde")


# ── the pool of grader processes ────────────────────────────────────────────
# Each grader process is fed one submission at a time over its own pipe, so the runner always
# knows which submission each process holds.  When one dies (kill -9, the machine's OOM killer),
# only the submission it held is charged an attempt and queued again; the other processes go on
# with theirs undisturbed, and a fresh process takes the dead one's place.
_WORKER: dict = {}
MAX_START_FAILURES = 3   # grader processes that die before taking any work: the set-up is broken


def _die_with_parent() -> None:
    """A grader process (and so its kernels) never outlives the batch runner."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def _worker_init(config_path: str, work_root: str, scheduler: str | None, gpu_id, prestart: bool) -> None:
    from ..course import load_config

    _die_with_parent()
    if gpu_id is not None:       # this process's GPU ('' = the CPU): its kernels and scoring sandboxes use it
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu_id)
    cfg = load_config(config_path)
    _WORKER.update(cfg=cfg, api=nbgrader_api(cfg, work_root, scheduler, prestart=prestart))


def _worker_grade(assignment: str, student: str) -> Outcome:
    import warnings
    warnings.filterwarnings("ignore")
    return grade_one(_WORKER["api"], _WORKER["cfg"], assignment, student)


def worker_loop(conn, init_args, handle) -> None:
    """A grader process: set up once, then answer each job the runner sends with `handle(job)`,
    until it sends None (the batch runner here, the grade-on-submit service in graders/watch/)."""
    _worker_init(*init_args)
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(("done", handle(job)))


def _batch_job(message) -> Outcome:
    job, upcoming = message
    from .execute import expect_next
    expect_next(upcoming)          # what the runner still has queued: a kernel ahead only if it is wanted
    try:
        return _worker_grade(*job)
    except Exception as exc:          # a bug in the grader process: report this one, go on
        return Outcome(job[1], False, 0.0, f"grader process failed: {type(exc).__name__}: {exc}")


def _worker_main(conn, init_args) -> None:
    worker_loop(conn, init_args, _batch_job)


def _gpu_ids(cfg, n_workers):
    """CUDA_VISIBLE_DEVICES of each grader process slot: one GPU each, round robin, at most
    GPU['kernels_per_gpu'] processes per GPU (farm/devices.py).  A process that dies is replaced in its slot."""
    from ..nbgrader_settings import gpu_wanted
    from .devices import slot_devices, visible_gpus
    if not gpu_wanted(cfg):
        return [None] * n_workers
    return slot_devices(cfg.device, n_workers, visible_gpus(), cfg.gpu.kernels_per_gpu, path=cfg.path,
                        language=cfg.language)


def grader_init(cfg, n: int, work_root: str, scheduler: str | None):
    """slot -> the set-up arguments of that grader process (_worker_init): its GPU, and whether its
    kernels start ahead of need."""
    gpu_ids = [None] * n if scheduler else _gpu_ids(cfg, n)
    # kernels started ahead of need only pay off with idle cores: with one grader process per
    # core they compete with the kernels that run now (measured: 5–7 % slower on 2 of 2 cores)
    prestart = cfg.sandbox.prestart and n < (os.cpu_count() or 1)
    return lambda slot: (str(cfg.path), work_root, scheduler, gpu_ids[slot], prestart)


class _Grader:
    """One grader process and the submission it holds (None while idle)."""

    def __init__(self, ctx, slot: int, init_args, target=None):
        self.slot = slot
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=target or _worker_main, args=(child, init_args), daemon=True,
                                name=f"dlcourse-grader-{slot}")
        self.proc.start()
        child.close()
        self.job = None
        self.ready = False
        self.took_work = False

    def send(self, job, upcoming: str | None) -> None:
        self.job = job
        self.took_work = True
        self.conn.send((job, upcoming))

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass

    def reap(self) -> None:
        self.proc.join(timeout=30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=10)
        self.conn.close()


def _grade_pool(cfg, jobs, batches, bar, task, workers, scheduler, work_root) -> None:
    from multiprocessing.connection import wait as wait_any

    ctx = multiprocessing.get_context("spawn")
    attempts = {job: 0 for job in jobs}
    queue = list(jobs)
    n = min(workers, len(queue))
    if n == 0:
        return
    init = grader_init(cfg, n, work_root, scheduler)
    graders = [_Grader(ctx, slot, init(slot)) for slot in range(n)]
    start_failures = 0
    try:
        while graders:
            # hand out work to every idle grader that is ready
            for g in graders:
                if g.ready and g.job is None and queue:
                    job = queue.pop(0)
                    g.send(job, queue[0][0] if queue else None)
            if not queue and all(g.job is None for g in graders):
                break
            ready = wait_any([g.conn for g in graders] + [g.proc.sentinel for g in graders])
            for g in list(graders):
                message = None
                if g.conn in ready:
                    try:
                        message = g.conn.recv()
                    except (EOFError, OSError):
                        message = None
                if message is not None:
                    kind, payload = message
                    if kind == "ready":
                        g.ready = True
                    elif kind == "done" and g.job is not None:
                        job, g.job = g.job, None
                        _done(bar, task, batches[job[0]], payload)
                    continue
                if g.conn in ready or g.proc.sentinel in ready:
                    if g.proc.is_alive() and g.conn not in ready:
                        continue
                    # the grader process is gone: only what it held is charged and graded again
                    if g.proc.is_alive():
                        g.proc.kill()
                    g.proc.join(timeout=5)
                    code = g.proc.exitcode
                    graders.remove(g)
                    g.conn.close()
                    held = g.job
                    if held is None and not g.took_work:
                        start_failures += 1
                    if held is not None:
                        attempts[held] += 1
                        where = escape(f"{held[0]}/{held[1]}")      # a student id is never rich markup
                        if attempts[held] >= MAX_ATTEMPTS:
                            _done(bar, task, batches[held[0]], Outcome(held[1], False, 0.0,
                                  f"the grader process died {MAX_ATTEMPTS} times while grading this submission; "
                                  "see the machine's logs (memory?)"))
                            bar.console.print(f"[red]a grader process died (exit {code}) while grading {where}: "
                                              f"attempt {attempts[held]} of {MAX_ATTEMPTS}, not tried again[/]", soft_wrap=True)
                        else:
                            queue.insert(0, held)
                            bar.console.print(f"[yellow]a grader process died (exit {code}) while grading {where}; "
                                              f"it is graded again (attempt {attempts[held] + 1} of {MAX_ATTEMPTS})[/]", soft_wrap=True)
                    else:
                        bar.console.print(f"[yellow]a grader process died (exit {code}) holding no submission[/]", soft_wrap=True)
                    if start_failures >= MAX_START_FAILURES:
                        for job in queue:
                            _done(bar, task, batches[job[0]], Outcome(job[1], False, 0.0,
                                  f"grader processes die before they can grade (exit {code}); "
                                  "run the batch with --workers 1 to see why"))
                        queue.clear()
                    elif queue and len(graders) < n:
                        graders.append(_Grader(ctx, g.slot, init(g.slot)))
    finally:
        for g in graders:
            g.stop()
        for g in graders:
            g.reap()
