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
import shutil
from dataclasses import replace
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from .. import gradebook
from ..checks import CheckResult, Context
from ..config import load_config
from ..messages import msg
from ..scorers import registry
from . import measure

CHECKS_SUFFIX = ".checks.json"


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

    def _measurer(self, scorer, ctx: Context, artifacts: Path, nb=None):
        settings = measure.Settings(
            sandbox=self.sandbox, memory_gb=self.measure_memory_gb, cpu_seconds=self.measure_seconds,
            wall_seconds=self.measure_seconds, max_model_mb=self.max_artifact_mb, gpu=self.gpu,
            public_code=self.public_code, public_data=self.public_data, language=self.language)

        def run() -> dict:
            data = scorer.inputs(ctx) if scorer.inputs else {}
            jobs = [replace(m, options=tuple(_model_options(ctx, m, nb).items())) for m in scorer.models]
            # saved models in one fresh sandbox; re-run notebook code (a probe) in another, so code that
            # rides along with a probe cannot touch the models' measurements
            result, seconds = {}, 0.0
            for group in ([j for j in jobs if j.file], [j for j in jobs if not j.file]):
                if group:
                    got = measure.run(group, artifacts, data, settings)
                    seconds += got.pop("_seconds", 0) or 0
                    result.update(got)
            ctx.cache["measure_seconds"] = round(seconds, 2)
            return result

        return run

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        run = resources.get("dlcourse") or {}
        cfg = load_config(self.config_path or None)
        notebook_id = info["notebook"]
        scorer = registry.get(info["assignment"])
        assignment = cfg.assignment(info["assignment"])
        if scorer is None or scorer.notebook != notebook_id:
            raise RuntimeError(f"no scorer for {info['assignment']}/{notebook_id}")

        artifacts = Path(run.get("artifacts", "/nonexistent"))
        ctx = Context(artifacts=artifacts, thresholds=assignment.thresholds, lang=self.language,
                      max_artifact_bytes=int(self.max_artifact_mb * 2**20), secrets=cfg,
                      student=info["student"], models=tuple(scorer.models))
        ctx.measurer = self._measurer(scorer, ctx, artifacts, nb)
        try:
            results = scorer.score(ctx, assignment.points)
        finally:
            if run.get("work"):
                shutil.rmtree(run["work"], ignore_errors=True)

        status = run.get("status", {})
        notes = []
        if status.get("notebook_timed_out"):
            notes.append(msg("not_run", self.language, why="timeout"))
        if status.get("memory_exceeded"):
            gb = f"{float(status.get('memory_gb') or 0):g}"
            notes.append(msg("memory_limit", self.language, gb=gb) + " " + msg("memory_limit_hint", self.language))
        elif status.get("kernel_dead"):
            notes.append(msg("not_run", self.language, why="kernel stopped"))
        errors = _student_errors(nb)

        by_answer = {}
        for cell in scorer.cells:
            res = results[cell.grade_id]
            if cell.answer_id in errors:
                for r in res:
                    if not r.passed and r.note is None:
                        r.note = msg("student_error", self.language, error=errors[cell.answer_id])
            by_answer.setdefault(cell.answer_id, []).extend(res)

        seen = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if utils.is_grade(cell) and not utils.is_solution(cell):
                if grade_id not in results:
                    raise RuntimeError(f"graded cell {grade_id} has no checks in the scorer")
                cell.outputs = [_messages_output(results[grade_id], self.language)]
                seen.add(grade_id)
        missing = set(results) - seen
        if missing:
            raise RuntimeError(f"graded cells {sorted(missing)} are not in the notebook")

        comments = {answer: "\n".join(r.text(self.language) for r in res) for answer, res in by_answer.items()}
        gradebook.record(info["db_url"], info["assignment"], notebook_id, info["student"],
                         {gid: sum(r.score for r in res) for gid, res in results.items()}, comments,
                         checks=results)

        summary = {
            "student": info["student"], "assignment": info["assignment"], "notebook": notebook_id,
            "run": {**{k: status.get(k) for k in ("seconds", "sandboxed", "kernel_dead", "notebook_timed_out",
                                                  "skipped_cells", "worker", "prestarted", "memory_exceeded",
                                                  "memory_gb", "memory_caged", "output_truncated", "max_pids",
                                                  "pids_refused")},
                    "measure_seconds": ctx.cache.get("measure_seconds")},
            "notes": notes,
            "cells": {gid: [r.as_dict() for r in res] for gid, res in results.items()},
        }
        resources.setdefault("dlcourse", {})["summary"] = summary
        if run.get("notebook_dir"):
            target = Path(run["notebook_dir"]) / f"{notebook_id}{CHECKS_SUFFIX}"
            target.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
        return nb, resources
