"""Core types of the check library: results, the grading context, cells and scorers.

A scorer is a declaration: which graded cell holds which checks, and which answer
cell their comments belong to.  Checks are functions ``(ctx, points) -> CheckResult``
built by the factories in this package; they read artifacts as data only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from ..messages import msg


class RebuildError(Exception):
    """The grader cannot rebuild the student's model from the exported data."""


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
                "hint": self.hint, "note": self.note}


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
    cache: dict = field(default_factory=dict)

    def _path(self, name: str) -> Path:
        path = (self.artifacts / name).resolve()
        if self.artifacts.resolve() not in path.parents:
            raise ArtifactProblem("bad", f"{name}: outside the artifacts folder")
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ArtifactProblem("bad", f"{name}: not a plain file")
        if not path.exists():
            raise ArtifactProblem("missing", name)
        if path.stat().st_size > self.max_artifact_bytes:
            raise ArtifactProblem("bad", f"{name}: larger than {self.max_artifact_bytes // 2**20} MiB")
        return path

    def json(self, name: str, need: str | None = None) -> dict:
        """Read ``name.json``; raise ArtifactProblem for missing/error payloads."""
        key = ("json", name)
        if key not in self.cache:
            try:
                data = json.loads(self._path(f"{name}.json").read_text())
            except (ValueError, UnicodeDecodeError) as exc:
                raise ArtifactProblem("bad", f"{name}.json: {exc}") from None
            if not isinstance(data, dict):
                raise ArtifactProblem("bad", f"{name}.json: not an object")
            self.cache[key] = data
        data = self.cache[key]
        if "error" in data:
            raise ArtifactProblem("error", str(data["error"])[:500])
        if "missing" in data:
            raise ArtifactProblem("missing_var", str(data["missing"])[:100])
        return data

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Read an .npz of plain arrays (no pickles)."""
        key = ("npz", name)
        if key not in self.cache:
            try:
                with np.load(self._path(name), allow_pickle=False) as data:
                    self.cache[key] = {k: np.asarray(data[k]) for k in data.files}
            except ArtifactProblem:
                raise
            except Exception as exc:
                raise ArtifactProblem("bad", f"{name}: {type(exc).__name__}: {exc}") from None
        return self.cache[key]


CheckFn = Callable[[Context, float], CheckResult]


@dataclass
class Check:
    name: str
    fn: CheckFn
    var: str = "model"   # the student's variable the check is about (for messages)

    def run(self, ctx: Context, points: float) -> CheckResult:
        try:
            return self.fn(ctx, points)
        except ArtifactProblem as problem:
            return problem_result(self.name, points, problem, ctx.lang, self.var)
        except RebuildError as exc:
            return CheckResult(self.name, 0.0, points, found=msg("weights_unusable", ctx.lang, why=exc),
                               hint=msg("weights_hint", ctx.lang))


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

    def check_names(self) -> list[str]:
        return [c.name for cell in self.cells for c in cell.checks]

    def threshold_names(self) -> tuple:
        return self.thresholds

    def check_thresholds(self, values: dict) -> str | None:
        return self.threshold_rule(values) if self.threshold_rule else None

    def cell_points(self, points: dict) -> dict[str, float]:
        return {cell.grade_id: float(sum(points[c.name] for c in cell.checks)) for cell in self.cells}

    def score(self, ctx: Context, points: dict) -> dict[str, list[CheckResult]]:
        return {cell.grade_id: [c.run(ctx, float(points[c.name])) for c in cell.checks] for cell in self.cells}


def finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
