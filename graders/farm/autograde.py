"""The farm's batch runner: grade every submission of an assignment through nbgrader.

For each student: check the submitted notebooks are valid notebooks (a broken one
is reported for that student and the batch goes on), then run nbgrader's
autograde (sanitize → SandboxedExecute → ScoreArtifacts → gradebook).  Progress
is shown with rich; each submission's nbgrader log is kept under
`autograded/<student>/<assignment>/.autograde.log`.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.reader import NotJSONError
from traitlets.config import Config

from ..config import CourseConfig
from ..nbgrader_settings import apply_settings
from .score import CHECKS_SUFFIX


@dataclass
class Outcome:
    student: str
    ok: bool
    seconds: float
    error: str | None = None


@dataclass
class BatchResult:
    assignment: str
    outcomes: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        return [o for o in self.outcomes if not o.ok]


def nbgrader_api(cfg: CourseConfig, work_root: str | None = None):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    c = Config()
    apply_settings(c, cfg)
    if work_root:
        c.SandboxedExecute.work_root = work_root
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
            return f"{path.relative_to(cfg.root)} cannot be read ({type(exc).__name__}: {exc})"
    return None


def _last_error(log: str) -> str:
    lines = [l for l in (log or "").splitlines() if l.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line.strip()[:300]
    return (lines[-1].strip()[:300] if lines else "unknown error")


def grade_one(api, cfg: CourseConfig, assignment: str, student: str) -> Outcome:
    start = time.perf_counter()
    problem = validate_submission(cfg, assignment, student)
    if problem:
        return Outcome(student, False, time.perf_counter() - start, problem)
    try:
        result = api.autograde(assignment, student, force=True, create=True)
    except Exception as exc:  # nbgrader itself failed: report, keep going
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}
    out_dir = cfg.root / "autograded" / student / assignment
    if out_dir.is_dir():
        (out_dir / ".autograde.log").write_text(result.get("log") or "")
    seconds = time.perf_counter() - start
    if not result.get("success"):
        return Outcome(student, False, seconds, _last_error(result.get("error") or result.get("log")))
    missing = [n for n in cfg.assignment(assignment).notebooks if not (out_dir / f"{n}{CHECKS_SUFFIX}").exists()]
    if missing:
        return Outcome(student, False, seconds, f"no check results for {missing} (see {out_dir}/.autograde.log)")
    return Outcome(student, True, seconds)


def autograde(cfg: CourseConfig, assignment: str, students: list[str] | None = None,
              progress: bool = True) -> BatchResult:
    cfg.assignment(assignment)  # clear error for an unknown assignment
    students = students or submitted_students(cfg, assignment)
    batch = BatchResult(assignment)
    # per-notebook work folders live under one batch folder, removed at the end whatever happens
    with tempfile.TemporaryDirectory(prefix="dlcourse-batch-") as work_root:
        _grade_all(cfg, assignment, students, batch, progress, nbgrader_api(cfg, work_root))
    return batch


def _grade_all(cfg, assignment, students, batch, progress, api) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task(f"autograde {assignment}", total=len(students))
        for student in students:
            bar.update(task, description=f"autograde {assignment}: {student}")
            outcome = grade_one(api, cfg, assignment, student)
            batch.outcomes.append(outcome)
            if not outcome.ok:
                bar.console.print(f"[red]✗ {student}[/red]: {outcome.error}")
            bar.advance(task)
        bar.update(task, description=f"autograde {assignment}")
