"""Checks on what a model outputs (shape, logits vs probabilities), as the scoring sandbox measured it."""
from __future__ import annotations

from ..messages import msg
from .base import Check, CheckResult, Context, shown


def logits_output(name: str, model: str, inputs: str, classes: int, hint_key: str) -> Check:
    """Output is (batch, classes) raw scores; rows that are already probabilities fail.

    Log-probabilities (a final log_softmax) pass: cross-entropy on them equals cross-entropy on
    the logits (log_softmax is idempotent) and their argmax is the same.
    """

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.model(model).get(inputs) or {}
        shape = data.get("shape")
        batch = shape[0] if isinstance(shape, list) and shape else None
        expected = msg("logits_expected", ctx.lang, batch="N", classes=classes)
        if not (isinstance(shape, list) and len(shape) == 2 and shape[1] == classes):
            return CheckResult(name, 0.0, points, expected=expected,
                               found=msg("shape_found", ctx.lang, shape=shown(tuple(shape or ()), 60)),
                               hint=msg(hint_key, ctx.lang))
        lo, hi, dev = data.get("min"), data.get("max"), data.get("row_sum_max_dev")
        numbers = all(isinstance(v, (int, float)) for v in (lo, hi, dev))
        if numbers and lo >= 0 and hi <= 1 and dev < 1e-3:
            return CheckResult(name, 0.0, points, expected=expected, found=msg("probabilities_found", ctx.lang),
                               hint=msg(hint_key, ctx.lang))
        return CheckResult(name, points, points)

    return Check(name, run)
