"""Checks that training happened: a history exists and the loss went down."""
from __future__ import annotations

from ..messages import msg
from .base import Check, CheckResult, Context, finite


def loss_fell(name: str, artifact: str, history_hint: str = "history_hint", loss_hint: str = "loss_hint",
              var: str = "history") -> Check:
    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        history = data.get("history") or {}
        losses = history.get("loss") or []
        if not losses:
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("no_history", ctx.lang), hint=msg(history_hint, ctx.lang))
        if not all(finite(v) for v in losses):
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("loss_not_finite", ctx.lang, values=losses[:5]), hint=msg(loss_hint, ctx.lang))
        first, last = float(losses[0]), float(losses[-1])
        if len(losses) >= 2 and last >= first:
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("loss_not_falling", ctx.lang, first=f"{first:.4f}", last=f"{last:.4f}"),
                               hint=msg(loss_hint, ctx.lang))
        return CheckResult(name, points, points)

    return Check(name, run, var=var)
