"""Core types of the check library: results, the grading context, cells and scorers.

A scorer is a declaration: which graded cell holds which checks, and which answer
cell their comments belong to.  Checks are functions ``(ctx, points) -> CheckResult``
built by the factories in this package; they read artifacts as data only.
"""
from __future__ import annotations

import json
import logging
import math
import re
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from ..messages import msg


log = logging.getLogger("dlcourse.grader")

MAX_SHOWN = 300          # characters of any student-made string that may reach a message
MAX_JSON_DEPTH = 32      # nesting an artifact may have (deeper: refused before json.loads)
MAX_JSON_BYTES = 8 * 2**20


def shown(value, limit: int = MAX_SHOWN) -> str:
    """A student-made value as text fit for a message: cut to `limit` characters."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"


class RebuildError(Exception):
    """The grader cannot use the student's model (it could not be loaded or run, or gives unusable output)."""


class ModelProblem(RebuildError):
    """The scoring sandbox could not load or run the saved model; `limit` when a resource limit stopped it."""

    def __init__(self, why: str, limit: bool = False):
        super().__init__(why)
        self.limit = limit


@dataclass(frozen=True)
class SavedModel:
    """A model the notebook saved in its framework's format, measured in the scoring sandbox."""
    name: str                  # key the checks ask for, e.g. "trained"
    kind: str                  # "keras" | "torch_export" | "fastai_state"
    file: str                  # file name in the artifacts folder
    artifact: str = ""         # the JSON artifact written with it (save errors, layout)
    inputs: tuple = ()         # grader input sets to run it on (names from Scorer.inputs)
    describe: bool = False     # also describe its layers as the framework sees them
    options: tuple = ()        # extra (key, value) pairs for the runner: scale, classes …


class ArtifactProblem(Exception):
    """An artifact is missing, carries the student's error, or is malformed."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    expected: str | None = None
    found: str | None = None
    hint: str | None = None
    note: str | None = None
    staff: str | None = None        # for staff only (the grader's own traceback); never shown to the student

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score - 1e-9

    def text(self, lang: str = "ko") -> str:
        mark = "✅" if self.passed else ("🟡" if self.score > 0 else "❌")
        head = f"{mark} {self.name} ({_fmt(self.score)}/{_fmt(self.max_score)}{msg('points', lang)})"
        if self.passed and not self.note:
            return f"{head}: {msg('pass', lang)}"
        lines = [head]
        if self.note:
            lines.append(f"   {self.note}")
        if self.expected is not None:
            lines.append(f"   {msg('expected', lang)}: {self.expected}")
        if self.found is not None:
            lines.append(f"   {msg('found', lang)}: {self.found}")
        if self.hint and not self.passed:
            lines.append(f"   {msg('hint', lang)}: {self.hint}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"check": self.name, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "expected": self.expected, "found": self.found,
                "hint": self.hint, "note": self.note, **({"staff": self.staff} if self.staff else {})}


def _fmt(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


@dataclass
class Context:
    """What a check may use: artifacts from the sandbox (data) and grader-zone settings."""
    artifacts: Path
    thresholds: dict
    lang: str = "ko"
    max_artifact_bytes: int = 64 * 2**20
    secrets: object = None          # grader-zone loaders (CourseConfig), given by the farm
    student: str = ""               # the student id nbgrader graded (never one the kernel reports)
    measurer: Callable[[], dict] | None = None   # runs the scoring sandbox (farm/measure.py) once, on demand
    models: tuple = ()              # the SavedModels of the scorer
    cache: dict = field(default_factory=dict)

    def _path(self, name: str) -> Path:
        """A plain file directly in the artifacts folder (no links, no sub-paths), size-capped."""
        import os
        import stat as st

        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ArtifactProblem("bad", f"{shown(name, 60)}: outside the artifacts folder")
        path = self.artifacts / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            raise ArtifactProblem("missing", name) from None
        except OSError as exc:
            raise ArtifactProblem("bad", f"{name}: {exc.strerror}") from None
        if not st.S_ISREG(info.st_mode):
            raise ArtifactProblem("bad", f"{name}: not a plain file")
        if info.st_size > self.max_artifact_bytes:
            raise ArtifactProblem("bad", f"{name}: larger than {self.max_artifact_bytes // 2**20} MiB")
        return path

    def json(self, name: str, need: str | None = None) -> dict:
        """Read ``name.json`` (size and depth bounded); raise ArtifactProblem for missing/error payloads."""
        key = ("json", name)
        if key not in self.cache:
            self.cache[key] = self._read_json(name)
        data = self.cache[key]
        if isinstance(data, ArtifactProblem):
            raise data
        if "error" in data:
            raise ArtifactProblem("error", shown(data["error"], 500))
        if "missing" in data:
            raise ArtifactProblem("missing_var", shown(data["missing"], 100))
        return data

    def _read_json(self, name: str):
        try:
            path = self._path(f"{name}.json")
            if path.stat().st_size > MAX_JSON_BYTES:
                return ArtifactProblem("bad", f"{name}.json: larger than {MAX_JSON_BYTES // 2**20} MiB")
            text = path.read_text()
        except UnicodeDecodeError as exc:
            return ArtifactProblem("bad", f"{name}.json: {exc}")
        except ArtifactProblem as problem:
            if problem.kind == "missing":
                raise
            return problem
        if json_depth(text) > MAX_JSON_DEPTH:
            return ArtifactProblem("bad", f"{name}.json: nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            data = json.loads(text, parse_constant=lambda c: None, parse_int=_bounded_int)
        except (ValueError, RecursionError) as exc:
            return ArtifactProblem("bad", f"{name}.json: {shown(exc, 200)}")
        if not isinstance(data, dict):
            return ArtifactProblem("bad", f"{name}.json: not an object")
        return data

    def model(self, name: str) -> dict:
        """What the scoring sandbox measured for the saved model `name` (ModelProblem when it could not)."""
        if "_measured" not in self.cache:
            try:
                self.cache["_measured"] = self.measurer() if self.measurer else {}
            except Exception as exc:          # the grader's failure: every check that needs it says so
                self.cache["_measured"] = exc
        if isinstance(self.cache["_measured"], Exception):
            raise self.cache["_measured"]
        result = self.cache["_measured"].get(name)
        saved = next((m for m in self.models if m.name == name), None)
        if result is None or result.get("missing"):
            why = None
            if saved is not None and saved.artifact:
                data = self.json(saved.artifact)           # the student's own error / missing variable first
                why = data.get("save_error")
            if why:
                raise ModelProblem(msg("model_not_saved", self.lang, why=shown(why, 300)))
            raise ArtifactProblem("missing", saved.file if saved else name)
        if not result.get("loaded"):
            raise ModelProblem(shown(result.get("error") or "?", 300), limit=bool(result.get("limit")))
        return result


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings (counted before parsing, so no RecursionError)."""
    depth = best = 0
    for m in _BRACKET.finditer(_STRING.sub("", text)):
        if m.group() in "[{":
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


def _bounded_int(text: str):
    """JSON integers of more than 30 digits are not numbers a grader needs (and int() of a huge one is slow)."""
    return int(text) if len(text) <= 30 else float("inf")


CheckFn = Callable[[Context, float], CheckResult]


@dataclass
class Check:
    name: str
    fn: CheckFn
    var: str = "model"   # the student's variable the check is about (for messages)
    visibility: str = "visible"   # default policy when the config names none (graders/visibility.py):
    #                               "answer_after_due" where the message gives the answer away (quiz questions)

    def run(self, ctx: Context, points: float) -> CheckResult:
        """Never raises: a check that cannot judge says so, and the notebook's other checks still count."""
        try:
            result = self.fn(ctx, points)
            if not isinstance(result, CheckResult):
                raise TypeError(f"check returned {type(result).__name__}")
            return result
        except ArtifactProblem as problem:
            return problem_result(self.name, points, problem, ctx.lang, self.var)
        except ModelProblem as exc:
            key = "model_limit" if exc.limit else "model_unusable"
            return CheckResult(self.name, 0.0, points, found=msg(key, ctx.lang, why=shown(str(exc))),
                               hint=msg("model_hint", ctx.lang))
        except RebuildError as exc:
            return CheckResult(self.name, 0.0, points, found=msg("weights_unusable", ctx.lang, why=shown(str(exc))),
                               hint=msg("weights_hint", ctx.lang))
        except Exception as exc:       # the grader's own failure: not the student's loss to explain
            trace = traceback.format_exc(limit=8)
            log.error("check %s of %s could not judge: %s\n%s", self.name, ctx.student, exc, trace)
            return CheckResult(self.name, 0.0, points, note=msg("grader_error", ctx.lang),
                               staff=f"{type(exc).__name__}: {shown(str(exc), 500)}\n{trace[-3000:]}")


def problem_result(name: str, points: float, problem: ArtifactProblem, lang: str, var: str) -> CheckResult:
    if problem.kind == "error":
        return CheckResult(name, 0.0, points, found=msg("student_error", lang, error=problem.detail),
                           hint=msg("student_error_hint", lang))
    if problem.kind in ("missing", "missing_var"):
        what = problem.detail if problem.kind == "missing_var" else var
        return CheckResult(name, 0.0, points, found=msg("artifact_missing", lang, what=what),
                           hint=msg("artifact_missing_hint", lang, var=what))
    return CheckResult(name, 0.0, points, found=msg("artifact_bad", lang, why=problem.detail),
                       hint=msg("artifact_bad_hint", lang))


@dataclass
class GradedCell:
    """A graded (autograder) cell: its checks, and the answer cell its comment goes to."""
    grade_id: str
    answer_id: str
    checks: list


@dataclass
class Scorer:
    assignment: str
    notebook: str
    cells: list
    thresholds: tuple = ()
    threshold_rule: Callable[[dict], str | None] | None = None
    models: tuple = ()              # SavedModels the scoring sandbox loads and runs
    inputs: Callable[[Context], dict] | None = None   # grader input sets (no labels) by name

    def check_names(self) -> list[str]:
        return [c.name for cell in self.cells for c in cell.checks]

    def threshold_names(self) -> tuple:
        return self.thresholds

    def check_thresholds(self, values: dict) -> str | None:
        return self.threshold_rule(values) if self.threshold_rule else None

    def cell_points(self, points: dict) -> dict[str, float]:
        return {cell.grade_id: float(sum(points[c.name] for c in cell.checks)) for cell in self.cells}

    def score(self, ctx: Context, points: dict, run: Callable | None = None) -> dict[str, list[CheckResult]]:
        """Every check's result by graded cell; `run(check, ctx, points)` may wrap each check (farm/score.py
        bounds the grader's CPU time per check with it)."""
        run = run or (lambda check, ctx_, pts: check.run(ctx_, pts))
        return {cell.grade_id: [run(c, ctx, float(points[c.name])) for c in cell.checks] for cell in self.cells}


def finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
