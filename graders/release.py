"""Release: source/<assignment> → release/<assignment> (nbgrader generate_assignment).

Before nbgrader runs, each graded cell of the source notebook gets the points that
course_config.py gives its checks, so the config stays the one place to change points.
After it runs, the release is checked for anything that must not reach students.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .config import ConfigError, CourseConfig

FORBIDDEN_IN_RELEASE = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "_export.", "secret")


def sync_points(cfg: CourseConfig, assignment: str) -> bool:
    """Write the configured points into the source notebook; True when it changed."""
    a = cfg.assignment(assignment)
    scorer = cfg.scorer(assignment)
    want = scorer.cell_points(a.points)
    path = cfg.root / "source" / assignment / f"{scorer.notebook}.ipynb"
    if not path.exists():
        raise ConfigError(f"{path} not found. Fix: put the instructor notebook there")
    nb = nbformat.read(path, as_version=4)
    changed, seen = False, set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("grade") and not meta.get("solution"):
            if gid not in want:
                raise ConfigError(f"{path.name}: graded cell '{gid}' has no checks in graders/scorers/{assignment}.py")
            seen.add(gid)
            if meta.get("points") != want[gid]:
                meta["points"] = want[gid]
                changed = True
    if set(want) - seen:
        raise ConfigError(f"{path.name}: the scorer grades cells {sorted(set(want) - seen)} that the notebook lacks")
    if changed:
        nbformat.write(nb, path)
    return changed


def release(cfg: CourseConfig, assignment: str, api=None) -> Path:
    from .farm.autograde import nbgrader_api
    from nbgrader.api import Gradebook

    bank = None
    if cfg.assignment(assignment).kind == "quiz":
        from .quiz import bank_path, load_bank
        from .quiz.render import render
        bank = load_bank(bank_path(cfg.root, assignment))
        render(bank, cfg.root / "source" / assignment, cfg.language)
    sync_points(cfg, assignment)
    api = api or nbgrader_api(cfg)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.get('error') or result.get('log')}")
    due = cfg.assignment(assignment).due
    if due:
        with Gradebook(cfg.db_url) as gb:
            gb.update_or_create_assignment(assignment, duedate=due)
    out = cfg.root / "release" / assignment
    leaks = check_release(out)
    if bank is not None:
        from .quiz.render import QUIZ_DATA_DIR, leaks as quiz_leaks
        leaks += quiz_leaks(bank, out) + quiz_leaks(bank, QUIZ_DATA_DIR)
    if leaks:
        raise RuntimeError("release holds grader-zone text: " + "; ".join(leaks))
    return out


def check_release(folder: Path) -> list[str]:
    """Places in released files where hidden or solution text would reach students."""
    leaks = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for word in FORBIDDEN_IN_RELEASE:
            if re.search(re.escape(word), text):
                leaks.append(f"{path.name}: '{word}'")
    return leaks
