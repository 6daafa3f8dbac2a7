"""The course as the commands use it: course_config.py joined to the exercises that grade it.

`graders.config` reads and checks the file on its own; `graders.exercises` finds the exercise
folders on their own; neither imports the other.  This module joins them: each configured
assignment gets its scorer (an exercise's declared SCORER, or a quiz's scorer built from its bank),
and the points and thresholds the staff wrote are checked against that scorer's checks.  A broken
join stops every command with the same kind of message as a broken config: the setting, what is
wrong, and the fix.
"""
from __future__ import annotations

import dataclasses
import os

from .config import EVERY_CHECK, Assignment, ConfigError, CourseConfig, read_config


def load_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read course_config.py and join every assignment to its scorer (see the module's docstring)."""
    cfg = read_config(path)
    scorers, assignments = {}, {}
    for name, a in cfg.assignments.items():
        scorer, default_points = _scorer(cfg, a)
        assignments[name] = _checked(cfg, a, scorer, default_points)
        scorers[name] = scorer
    _check_course_visibility(cfg, scorers)
    return dataclasses.replace(cfg, assignments=assignments, scorers=scorers)


def _check_course_visibility(cfg: CourseConfig, scorers: dict) -> None:
    """A course-wide VISIBILITY entry must name a check of some assignment (a typo would show a result)."""
    known = {check for scorer in scorers.values() for check in scorer.check_names()}
    for check in cfg.visibility:
        if check not in known:
            _fail(cfg, f"VISIBILITY['{check}']", "no assignment has a check of this name",
                  f"use a check name from the points of an assignment, e.g. {', '.join(sorted(known)[:6])}")


def _fail(cfg: CourseConfig, setting: str, problem: str, fix: str) -> None:
    raise ConfigError(f"{cfg.path}: setting {setting}: {problem}. Fix: {fix}")


def _scorer(cfg: CourseConfig, a: Assignment):
    """(the assignment's Scorer, the points it brings itself: a quiz's come from its bank)."""
    from . import exercises

    where = f"ASSIGNMENTS['{a.name}']"
    if a.kind == "quiz":
        from .quiz import bank_path, load_bank, quiz_scorer
        bank = load_bank(bank_path(cfg.root, a.name))
        if bank.quiz != a.name:
            _fail(cfg, where, f"the bank {bank.path.name} is for quiz {bank.quiz!r}",
                  f"set 'quiz: {a.name}' in the bank or rename the assignment")
        return quiz_scorer(bank), bank.points
    known = [n for n in exercises.names() if exercises.kind(n) == "exercise"]
    scorer = exercises.scorer(a.name) if a.name in known else None
    if scorer is None:
        _fail(cfg, where, "no scorer exists for this assignment",
              f"use one of {', '.join(known)} or add graders/exercises/{a.name}/ "
              f"(python -m graders new-exercise {a.name}; see docs/adding-an-exercise.md)")
    return scorer, {}


def _checked(cfg: CourseConfig, a: Assignment, scorer, default_points: dict) -> Assignment:
    """The assignment with its points completed, after checking points and thresholds against the scorer."""
    where = f"ASSIGNMENTS['{a.name}']"
    points = {**default_points, **a.points}      # a quiz's config may override single questions
    expected = set(scorer.check_names())
    for check in points:
        if check not in expected:
            _fail(cfg, f"{where}['points']['{check}']", "no such check",
                  f"the checks of {a.name} are: {', '.join(sorted(expected))}")
    for check in sorted(expected):
        if points.get(check) is None:
            _fail(cfg, f"{where}['points']", f"check '{check}' has no points", "give every check its points")
    names = scorer.threshold_names()
    for key in names:
        if key not in a.thresholds:
            _fail(cfg, f"{where}['thresholds']['{key}']", "got None", "a number")
    for key in a.thresholds:
        if key not in names:
            _fail(cfg, f"{where}['thresholds']['{key}']", "unknown threshold", f"use one of {', '.join(names)}")
    problem = scorer.check_thresholds(a.thresholds)
    if problem:
        _fail(cfg, f"{where}['thresholds']", problem, "correct the numbers")
    for check in a.visibility:
        if check not in expected and check != EVERY_CHECK:
            _fail(cfg, f"{where}['visibility']['{check}']", "no such check",
                  f"the checks of {a.name} are: {', '.join(sorted(expected))} (or '*' for every check not named)")
    # every check's policy: the assignment's own (by name, then "*"), else the course-wide VISIBILITY, else
    # the check's own default ("answer_after_due" where its message gives the answer away: quiz questions)
    defaults = {c.name: getattr(c, "visibility", "visible") for cell in scorer.cells for c in cell.checks}
    visibility = {check: a.visibility.get(check) or a.visibility.get(EVERY_CHECK) or cfg.visibility.get(check)
                  or defaults.get(check) or "visible" for check in sorted(expected)}
    return a.model_copy(update={"points": points, "visibility": visibility})
