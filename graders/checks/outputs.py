"""Checks on what a model outputs (shape, logits vs probabilities)."""
from __future__ import annotations

from ..messages import msg
from .base import Check, CheckResult, Context


def logits_output(name: str, artifact: str, classes: int, hint_key: str) -> Check:
    """Output is (batch, classes) raw scores; rows that are already probabilities fail."""

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        shape = data.get("shape")
        batch = data.get("batch")
        expected = msg("logits_expected", ctx.lang, batch=batch, classes=classes)
        if shape != [batch, classes]:
            return CheckResult(name, 0.0, points, expected=expected,
                               found=msg("shape_found", ctx.lang, shape=tuple(shape or ())), hint=msg(hint_key, ctx.lang))
        probabilities = data.get("min", -1) >= 0 and data.get("max", 2) <= 1 and data.get("row_sum_max_dev", 1) < 1e-3
        if probabilities:
            return CheckResult(name, 0.0, points, expected=expected, found=msg("probabilities_found", ctx.lang),
                               hint=msg(hint_key, ctx.lang))
        return CheckResult(name, points, points)

    return Check(name, run)
