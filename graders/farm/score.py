"""Steps 4–5 of autograde: score the artifacts outside the sandbox and record the grades.

`ScoreArtifacts` replaces nbgrader's `SaveAutoGrades` (which gives 0 to any cell
with stderr output and trusts asserts run in the student's kernel).  It runs the
exercise's scorer on the artifacts folder left by `SandboxedExecute`, writes
points and comments into nbgrader's gradebook, replaces each graded cell's outputs
by its check messages (no traceback of hidden code survives), and leaves a
`<notebook>.checks.json` with every check for the summaries.
"""
from __future__ import annotations

import json
import logging
import shutil
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from .. import gradebook
from ..checks import CheckResult, Context
from ..course import load_config
from ..messages import msg
from . import measure

log = logging.getLogger("graders.score")

CHECKS_SUFFIX = ".checks.json"
# what checks.json keeps of the run's status (farm/execute.py)
_RUN_KEYS = ("seconds", "sandboxed", "kernel_dead", "notebook_timed_out", "skipped_cells", "worker", "prestarted",
             "memory_exceeded", "memory_gb", "memory_caged", "memory_peak_mb", "output_truncated", "max_pids",
             "pids_refused", "gpu", "cuda_visible_devices", "warm")


def _messages_output(results: list[CheckResult], lang: str) -> NotebookNode:
    text = "\n".join(r.text(lang) for r in results)
    return NotebookNode(output_type="stream", name="stdout", text=text + "\n")


def _student_errors(nb) -> dict[str, str]:
    """Errors raised in the student's own cells, by answer cell id (used in messages only)."""
    found = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found[grade_id] = f"{out.get('ename')}: {str(out.get('evalue'))[:200]}"
    return found


MAX_CELL_CHARS = 100_000


def _cell_sources(nb, grade_ids) -> list[str]:
    """Sources of the notebook's cells with these nbgrader ids, in notebook order (for the loop probe)."""
    wanted = set(grade_ids)
    return [str(cell.source)[:MAX_CELL_CHARS] for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") in wanted]


def _model_options(ctx: Context, saved, nb=None) -> dict:
    """Options the export recorded with a model (input layout, fixed batch), checked as data."""
    options = dict(saved.options)
    if "cells_from" in options:
        options["cells"] = _cell_sources(nb, options.pop("cells_from")) if nb is not None else []
    if not saved.artifact:
        return options
    try:
        data = ctx.json(saved.artifact)
    except Exception:
        return options
    layout = data.get("layout")
    if (isinstance(layout, list) and 1 <= len(layout) <= 3 and all(isinstance(d, int) and 0 < d <= 784 for d in layout)
            and _prod(layout) == 784):
        options["layout"] = layout
    fixed = data.get("fixed_batch")
    if isinstance(fixed, int) and not isinstance(fixed, bool) and 1 <= fixed <= 4096:
        options["fixed_batch"] = fixed
    return options


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


# ── the grader's own CPU time, bounded per check and per submission ──────────
# Scorers parse student text (quiz answers) and student-made data in the grader process.  A parse that
# runs away (a regular expression that backtracks, a structure that explodes) must cost that check
# only: each check runs under a CPU-time timer (ITIMER_PROF: this process's own CPU, so waiting for
# the scoring sandbox costs nothing, and the measurement itself is not timed here); past it the check
# says it could not judge, with 0 points and a note for staff, and the next check runs.
CPU_LIMIT = {
    "ko": "채점기가 이 항목을 정해진 시간(CPU {seconds:g}초) 안에 판정하지 못해 0점으로 두었습니다 (학생 코드의 "
          "잘못이 아닙니다). 다른 항목은 그대로 채점했고, 조교가 확인합니다.",
    "en": "the grader could not judge this item within its time limit ({seconds:g} CPU seconds) and left it at 0 "
          "(not your code's fault); the other items were graded as usual, and staff will look at it.",
}


class ScoringOverrun(BaseException):
    """The CPU timer of one check ran out (a BaseException: no check's own `except Exception` keeps it)."""


class CpuBudget:
    """Runs each check of one submission under a CPU-time limit: `per_check` seconds, and `per_submission`
    in all (after that each further check still gets `floor` seconds, so the rest is judged, boundedly).

    Only the main thread can take the signal; elsewhere checks run unbounded (said once in the log)."""

    def __init__(self, per_check: float, per_submission: float, floor: float = 1.0, lang: str = "ko"):
        self.per_check, self.left, self.floor, self.lang = per_check, per_submission, floor, lang
        self.armed = False
        self.usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def _expired(self, signum, frame):
        if self.armed:
            self.armed = False
            raise ScoringOverrun()

    def run(self, check, ctx: Context, points: float) -> CheckResult:
        if not self.usable or self.per_check <= 0:
            return check.run(ctx, points)
        limit = min(self.per_check, max(self.floor, self.left))
        start = time.process_time()
        previous = signal.signal(signal.SIGPROF, self._expired)
        try:
            try:
                self.armed = True
                signal.setitimer(signal.ITIMER_PROF, limit)
                return check.run(ctx, points)
            finally:
                self.armed = False
                signal.setitimer(signal.ITIMER_PROF, 0)
        except ScoringOverrun:
            log.error("check %s of %s: over its CPU limit of %gs, not judged", check.name, ctx.student, limit)
            note = CPU_LIMIT.get(self.lang, CPU_LIMIT["ko"]).format(seconds=limit)
            return CheckResult(check.name, 0.0, points, note=note,
                               staff=f"ScoringOverrun: the check used more than {limit:g} s of the grader's CPU")
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
            self.left -= time.process_time() - start

    def paused(self, fn):
        """`fn` run with the timer stopped (the scoring sandbox has limits of its own; waiting is not scoring)."""
        def run(*args, **kwargs):
            if not self.usable:
                return fn(*args, **kwargs)
            left, _ = signal.setitimer(signal.ITIMER_PROF, 0)
            try:
                return fn(*args, **kwargs)
            finally:
                if left > 0 and self.armed:
                    signal.setitimer(signal.ITIMER_PROF, left)
        return run


class ScoreArtifacts(NbGraderPreprocessor):
    language = Unicode("ko").tag(config=True)
    max_artifact_mb = Float(64).tag(config=True)
    config_path = Unicode("", help="course_config.py to read (default: the course root)").tag(config=True)
    sandbox = Bool(True, help="Run the scoring sandbox in bubblewrap (False only with --no-sandbox)").tag(config=True)
    gpu = Bool(False, help="Give the scoring sandbox the GPU").tag(config=True)
    public_code = Unicode("", help="Folder holding the dlcourse package").tag(config=True)
    public_data = Unicode("", help="Folder of public data files").tag(config=True)
    measure_memory_gb = Float(8.0, help="Address-space limit of the scoring sandbox (GiB)").tag(config=True)
    measure_seconds = Integer(240, help="Wall-time limit of the scoring sandbox (s)").tag(config=True)
    check_cpu_seconds = Float(20.0, help="CPU seconds the grader may spend on one check (0: no limit)").tag(config=True)
    scoring_cpu_seconds = Float(120.0, help="CPU seconds the grader may spend scoring one submission").tag(config=True)
    warm_parents = Bool(True, help="Scoring jobs run in fresh children of a warm parent (farm/warm)").tag(config=True)
    work_root = Unicode("", help="Where scoring jobs' folders are made (default: system temp)").tag(config=True)

    def _measurer(self, scorer, ctx: Context, artifacts: Path, nb=None):
        settings = measure.Settings(
            sandbox=self.sandbox, memory_gb=self.measure_memory_gb, cpu_seconds=self.measure_seconds,
            wall_seconds=self.measure_seconds, max_model_mb=self.max_artifact_mb, gpu=self.gpu,
            public_code=self.public_code, public_data=self.public_data, language=self.language,
            warm=self.warm_parents and self.sandbox, work_root=self.work_root or None)

        def run() -> dict:
            data = scorer.inputs(ctx) if scorer.inputs else {}
            jobs = [replace(m, options=tuple(_model_options(ctx, m, nb).items())) for m in scorer.models]
            # saved models in one fresh sandbox; re-run notebook code (a probe) in another, so code that
            # rides along with a probe cannot touch the models' measurements
            result, seconds, device, paths = {}, 0.0, {}, set()
            for group in ([j for j in jobs if j.file], [j for j in jobs if not j.file]):
                if group:
                    got = measure.run(group, artifacts, data, settings)
                    seconds += got.pop("_seconds", 0) or 0
                    paths.update(got.pop("_paths", None) or ())
                    device.update(got.pop("_device", None) or {})
                    result.update(got)
            ctx.cache["measure_seconds"] = round(seconds, 2)
            ctx.cache["measure_paths"] = sorted(paths)
            ctx.cache["measure_device"] = {"gpu": self.gpu, **device}
            return result

        return run

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        run = resources.get("dlcourse") or {}
        cfg = load_config(self.config_path or None)
        scorer, assignment = self._scorer(cfg, info)
        results, ctx = self._score(cfg, scorer, assignment, info, run, nb)
        status = run.get("status", {})
        by_answer = self._by_answer(scorer, results, _student_errors(nb))
        self._show_in_notebook(nb, results)
        comments = {answer: "\n".join(r.text(self.language) for r in res) for answer, res in by_answer.items()}
        gradebook.record(info["db_url"], info["assignment"], scorer.notebook, info["student"],
                         {gid: sum(r.score for r in res) for gid, res in results.items()}, comments,
                         checks=results)
        summary = self._summary(info, scorer, status, ctx, results)
        resources.setdefault("dlcourse", {})["summary"] = summary
        if run.get("notebook_dir"):
            target = Path(run["notebook_dir"]) / f"{scorer.notebook}{CHECKS_SUFFIX}"
            target.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
        return nb, resources

    @staticmethod
    def _scorer(cfg, info):
        """The scorer and configured assignment of the notebook being graded."""
        assignment = cfg.assignment(info["assignment"])
        scorer = cfg.scorers.get(info["assignment"])
        if scorer is None or scorer.notebook != info["notebook"]:
            raise RuntimeError(f"no scorer for {info['assignment']}/{info['notebook']}")
        return scorer, assignment

    def _score(self, cfg, scorer, assignment, info, run, nb):
        """Every check of the scorer on the run's artifacts (the run's folder is removed afterwards)."""
        artifacts = Path(run.get("artifacts", "/nonexistent"))
        ctx = Context(artifacts=artifacts, thresholds=assignment.thresholds, lang=self.language,
                      max_artifact_bytes=int(self.max_artifact_mb * 2**20), secrets=cfg,
                      student=info["student"], models=tuple(scorer.models))
        budget = CpuBudget(self.check_cpu_seconds, self.scoring_cpu_seconds, lang=self.language)
        if not budget.usable:
            log.warning("scoring %s of %s outside the main thread: checks run without a CPU limit",
                        info["assignment"], info["student"])
        ctx.measurer = budget.paused(self._measurer(scorer, ctx, artifacts, nb))
        try:
            return scorer.score(ctx, assignment.points, run=budget.run), ctx
        finally:
            if run.get("work"):
                shutil.rmtree(run["work"], ignore_errors=True)

    def _notes(self, status: dict) -> list[str]:
        """What stopped the notebook, said once for the whole notebook."""
        notes = []
        if status.get("notebook_timed_out"):
            notes.append(msg("not_run", self.language, why="timeout"))
        if status.get("memory_exceeded"):
            gb = f"{float(status.get('memory_gb') or 0):g}"
            notes.append(msg("memory_limit", self.language, gb=gb) + " " + msg("memory_limit_hint", self.language))
        elif status.get("kernel_dead"):
            notes.append(msg("not_run", self.language, why="kernel stopped"))
        return notes

    def _by_answer(self, scorer, results, errors: dict) -> dict:
        """Check results per answer cell; a failed check of an answer whose cell raised names the error."""
        by_answer = {}
        for cell in scorer.cells:
            res = results[cell.grade_id]
            if cell.answer_id in errors:
                for r in res:
                    if not r.passed and r.note is None:
                        r.note = msg("student_error", self.language, error=errors[cell.answer_id])
            by_answer.setdefault(cell.answer_id, []).extend(res)
        return by_answer

    def _show_in_notebook(self, nb, results) -> None:
        """Each graded cell's output becomes its checks' messages; every graded cell must be scored."""
        seen = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if utils.is_grade(cell) and not utils.is_solution(cell):
                if grade_id not in results:
                    raise RuntimeError(f"graded cell {grade_id} has no checks in the scorer")
                cell.outputs = [_messages_output(results[grade_id], self.language)]
                seen.add(grade_id)
        missing = set(results) - seen
        if missing:
            raise RuntimeError(f"graded cells {sorted(missing)} are not in the notebook")

    def _summary(self, info, scorer, status, ctx, results) -> dict:
        """The checks.json next to the graded notebook: how it ran, notes, every check's result."""
        return {
            "student": info["student"], "assignment": info["assignment"], "notebook": scorer.notebook,
            "run": {**{k: status.get(k) for k in _RUN_KEYS}, "measure_seconds": ctx.cache.get("measure_seconds"),
                    "measure_device": ctx.cache.get("measure_device"), "measure_paths": ctx.cache.get("measure_paths")},
            "notes": self._notes(status),
            "cells": {gid: [r.as_dict() for r in res] for gid, res in results.items()},
        }
