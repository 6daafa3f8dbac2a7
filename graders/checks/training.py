"""Checks that training happened: a history exists and the loss went down."""
from __future__ import annotations

from typing import Callable

from ..messages import msg
from .base import Check, CheckResult, Context, finite


def loss_fell(name: str, artifact: str, history_hint: str = "history_hint", loss_hint: str = "loss_hint",
              var: str = "history", min_drop: float = 0.01) -> Check:
    """A training record exists and its loss fell by at least ``min_drop`` (relative)."""
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
        if len(losses) >= 2 and last > first * (1 - min_drop):
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("loss_not_falling", ctx.lang, first=f"{first:.4f}", last=f"{last:.4f}"),
                               hint=msg(loss_hint, ctx.lang))
        return CheckResult(name, points, points)

    return Check(name, run, var=var)


def behaviour(name: str, artifact: str, passes: Callable[[dict, Context], bool], expected_key: str,
              found: Callable[[dict, Context], str], hint_key: str, var: str = "train_one_epoch") -> Check:
    """A behaviour recorded as data (by a probe or a call on fixed inputs) meets ``passes``.

    ``passes`` and ``found`` get the artifact and the context (language, grader-zone data).
    """

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        if passes(data, ctx):
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang),
                           found=found(data, ctx), hint=msg(hint_key, ctx.lang))

    return Check(name, run, var=var)
