"""Which submissions are already graded, and graded from what: makes batches resumable.

After a submission's grades are in the gradebook, the farm writes
``autograded/<student>/<assignment>/.graded.json`` holding a fingerprint of
everything the grade depends on: the submitted files, the instructor notebook,
the assignment's points and thresholds, and its deadline terms (due date, this
student's extension, LATE_POLICY).  A re-run skips a submission whose
fingerprint is unchanged *and* whose grades are all in the gradebook; anything
else (new upload, changed source or points, a run killed half-way) is graded again.
nbgrader keeps one submission per student and assignment, so a regrade replaces,
never duplicates.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from ..config import CourseConfig

LEDGER = ".graded.json"


def fingerprint(cfg: CourseConfig, assignment: str, student: str) -> str:
    a = cfg.assignment(assignment)
    h = hashlib.sha256()
    folder = cfg.root / "submitted" / student / assignment
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    for nb in a.notebooks:
        source = cfg.root / "source" / assignment / f"{nb}.ipynb"
        h.update(hashlib.sha256(source.read_bytes()).digest() if source.exists() else b"-")
    h.update(json.dumps({"points": a.points, "thresholds": a.thresholds, "language": cfg.language},
                        sort_keys=True).encode())
    # what the late penalty depends on: the due date (with this student's extension) and LATE_POLICY
    late = cfg.late_policy
    h.update(json.dumps({"due": a.due, "extension": cfg.extensions.get(student, {}).get(assignment),
                         "late_policy": None if late is None else vars(late)}, sort_keys=True).encode())
    return h.hexdigest()


def _path(cfg: CourseConfig, assignment: str, student: str) -> Path:
    return cfg.root / "autograded" / student / assignment / LEDGER


def record(cfg: CourseConfig, assignment: str, student: str, print_: str, seconds: float) -> None:
    path = _path(cfg, assignment, student)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"fingerprint": print_, "graded_at": time.time(), "seconds": round(seconds, 2)}))
    os.replace(tmp, path)      # atomic: a killed run leaves the old ledger or none


def forget(cfg: CourseConfig, assignment: str, student: str) -> None:
    _path(cfg, assignment, student).unlink(missing_ok=True)


def is_current(cfg: CourseConfig, assignment: str, student: str, graded_cells: set[tuple[str, str]],
               scored: dict[str, set] | None = None) -> bool:
    """True when this exact submission was graded and every graded cell has its score.

    `scored` (from `scored_cells`) saves one gradebook read per student in a batch.
    """
    path = _path(cfg, assignment, student)
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if saved.get("fingerprint") != fingerprint(cfg, assignment, student):
        return False
    if scored is None:
        scored = scored_cells(cfg, assignment)
    return graded_cells <= scored.get(student, set())


def scored_cells(cfg: CourseConfig, assignment: str) -> dict[str, set[tuple[str, str]]]:
    """student -> (notebook, graded cell) pairs that have an auto score, in one gradebook read."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, set] = {}
    try:
        with Gradebook(cfg.db_url) as gb:
            for sub in gb.assignment_submissions(assignment):
                out[sub.student_id] = {(nb.name, g.name) for nb in sub.notebooks for g in nb.grades
                                       if g.auto_score is not None}
    except MissingEntry:
        pass
    return out


def last_seconds(cfg: CourseConfig, assignment: str, student: str) -> float:
    """How long this submission took last time (0 if never graded): to start long ones first."""
    try:
        return float(json.loads(_path(cfg, assignment, student).read_text()).get("seconds", 0))
    except (OSError, ValueError):
        return 0.0
