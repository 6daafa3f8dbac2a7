"""Checks that training happened: a history exists and the loss went down."""
from __future__ import annotations

from typing import Callable

from ..messages import msg
from .base import Check, CheckResult, Context, finite, shown


def loss_fell(name: str, artifact: str, history_hint: str = "history_hint", loss_hint: str = "loss_hint",
              var: str = "history", min_drop: float = 0.01) -> Check:
    """A training record exists and its loss fell by at least ``min_drop`` (relative)."""
    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        history = data.get("history") if isinstance(data.get("history"), dict) else {}
        losses = history.get("loss") if isinstance(history.get("loss"), list) else []
        if not losses:
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("no_history", ctx.lang), hint=msg(history_hint, ctx.lang))
        if any(v is None for v in losses):
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("loss_none", ctx.lang, values=shown(losses[:5], 120)),
                               hint=msg(history_hint, ctx.lang))
        if not all(finite(v) for v in losses):
            return CheckResult(name, 0.0, points, expected=msg("history_expected", ctx.lang),
                               found=msg("loss_not_finite", ctx.lang, values=shown(losses[:5], 120)), hint=msg(loss_hint, ctx.lang))
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
                           found=shown(found(data, ctx), 600), hint=msg(hint_key, ctx.lang))

    return Check(name, run, var=var)


def trained_model(name: str, artifact: str, accuracy: Callable[[Context], float], better_than: float,
                  found_key: str, hint_key: str, history_hint: str = "history_hint", loss_hint: str = "loss_hint",
                  var: str = "history") -> Check:
    """The recorded loss fell *and* the model the grader measured does better than chance.

    A training record is written in the student's kernel and can be typed by hand; `accuracy`
    is the grader's own measurement of the saved model, so a record without training gets nothing.
    A model the grader cannot load or run gets 0 here too, with the reason.
    """
    base = loss_fell(name, artifact, history_hint=history_hint, loss_hint=loss_hint, var=var)

    def run(ctx: Context, points: float) -> CheckResult:
        result = base.fn(ctx, points)
        if result.score <= 0:
            return result
        acc = accuracy(ctx)        # a model the grader cannot measure is not shown to be trained (Check.run says why)
        if acc > better_than:
            return result
        return CheckResult(name, 0.0, points, expected=result.expected or msg("history_expected", ctx.lang),
                           found=msg(found_key, ctx.lang, acc=acc), hint=msg(hint_key, ctx.lang))

    return Check(name, run, var=var)
