"""One folder per exercise: everything grader-side about it, found by looking at the folders.

    graders/exercises/<assignment>/
        __init__.py   what the exercise is (its docstring), and KIND = "exercise" or "quiz"
        scorer.py     SCORER: the graded cells and their checks (a quiz has none: its bank is its scorer)
        students.py   the simulated class: REFERENCE, MISTAKES, EXPECTED (make demo, the tests)
        messages.py   MESSAGES: its own texts and hints, Korean and English
        assets.py     STAGES: offline assets it builds (optional)

Nothing outside this package names an exercise; the farm, intake, gradebook, feedback and dashboard
ask here.  The student side of an exercise is `public/dlcourse/exercises/<assignment>/`.

This module imports no exercise until asked, and nothing of the course's configuration: the join of
the two (which scorer grades which configured assignment) is `graders.course`.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def names() -> list[str]:
    """Every exercise folder (a package with a valid assignment name), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.ispkg and NAME.match(m.name))


def _part(name: str, part: str) -> ModuleType | None:
    """graders.exercises.<name>.<part>, or None where the exercise has no such file."""
    if name not in names():
        raise KeyError(name)
    if not (HERE / name / f"{part}.py").is_file():
        return None
    return importlib.import_module(f"{__name__}.{name}.{part}")


def package(name: str) -> ModuleType:
    if name not in names():
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")


def kind(name: str) -> str:
    return getattr(package(name), "KIND", "exercise")


def scorer(name: str):
    """The exercise's declared Scorer (None for a quiz, whose scorer is built from its bank)."""
    mod = _part(name, "scorer")
    return getattr(mod, "SCORER", None) if mod else None


def students(name: str) -> ModuleType | None:
    """The simulated class of the exercise (students.py)."""
    return _part(name, "students")


def asset_stages() -> dict:
    """stage name -> Stage, over every exercise that builds offline assets."""
    out = {}
    for name in names():
        mod = _part(name, "assets")
        for stage, spec in (getattr(mod, "STAGES", None) or {}).items():
            if stage in out:
                raise ValueError(f"asset stage {stage!r} is declared by two exercises")
            out[stage] = spec
    return out


def scratch_dirs() -> tuple[str, ...]:
    """Folders inside the public data a framework writes into by itself (assets.py SCRATCH_DIRS)."""
    out: list[str] = []
    for name in names():
        out += [d for d in getattr(_part(name, "assets"), "SCRATCH_DIRS", ()) if d not in out]
    return tuple(out)


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    """Every exercise's MESSAGES, merged; a key declared twice is an error (say which)."""
    out: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}
    for name in names():
        mod = _part(name, "messages")
        for key, entry in (getattr(mod, "MESSAGES", None) or {}).items():
            if key in out:
                raise ValueError(f"message key {key!r} is declared by exercises {owner[key]} and {name}")
            out[key], owner[key] = entry, name
    return out
