"""Checks on single reported values (compile settings, reported metrics)."""
from __future__ import annotations

import re
from typing import Callable

from ..messages import msg
from .base import Check, CheckResult, Context, finite, shown


def snake(name) -> str:
    """'SparseCategoricalCrossentropy' / 'sparse_categorical_crossentropy' -> same key."""
    s = re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
    return s.replace("__", "_")


def field_equals(name: str, artifact: str, field: str, expected: str, hint_key: str,
                 normalize: Callable = snake, require: str | None = "compiled") -> Check:
    """The artifact's ``field`` equals ``expected`` after normalising both."""

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        if require and not data.get(require, False):
            return CheckResult(name, 0.0, points, expected=expected, found=msg("not_compiled", ctx.lang),
                               hint=msg(hint_key, ctx.lang))
        got = data.get(field)
        if isinstance(got, str) and len(got) < 200 and normalize(got) == normalize(expected):
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=expected, found=shown(got, 120), hint=msg(hint_key, ctx.lang))

    return Check(name, run)


def field_contains(name: str, artifact: str, field: str, expected: str, hint_key: str,
                   aliases: tuple = (), require: str | None = "compiled") -> Check:
    """The artifact's list ``field`` contains ``expected`` (or one of its aliases)."""
    accepted = {snake(expected), *map(snake, aliases)}

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        if require and not data.get(require, False):
            return CheckResult(name, 0.0, points, expected=expected, found=msg("not_compiled", ctx.lang),
                               hint=msg(hint_key, ctx.lang))
        got = data.get(field) or []
        if not isinstance(got, list):
            got = [got]
        if any(snake(v) in accepted for v in got[:50]):
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=f"[{expected!r}]", found=shown(got, 120),
                           hint=msg(hint_key, ctx.lang))

    return Check(name, run)


def reported_matches(name: str, artifact: str, measure: Callable[[Context], float], tolerance_key: str,
                     expected_key: str, hint_key: str, var: str) -> Check:
    """A number the student reported agrees with what the grader measured itself."""

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        tol = float(ctx.thresholds[tolerance_key])
        reference = measure(ctx)
        got = data.get("value")      # a number: [loss, acc] from an unpacked evaluate() is not the accuracy
        if isinstance(got, (int, float)) and not isinstance(got, bool) and finite(got) and abs(float(got) - reference) <= tol:
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang, ref=reference, tol=tol),
                           found=f"{var} = {shown(got, 80)}", hint=msg(hint_key, ctx.lang))

    return Check(name, run, var=var)
