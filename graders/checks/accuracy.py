"""Accuracy judged in the grader zone, with partial credit.

Predictions made in the student's kernel could be forged, so they are never used:
the scoring sandbox (farm/measure.py) loads the model the notebook saved in its
framework's format and runs it on grader inputs without labels; here its predicted
classes are compared with the labels, which never leave the grader zone.
"""
from __future__ import annotations

from typing import Callable

from ..messages import msg
from .base import Check, CheckResult, Context, ModelProblem, RebuildError, finite, shown


def accuracy_thresholds(values: dict) -> str | None:
    """Rule for configs with accuracy_floor/accuracy_target (and optionally evaluate_tolerance)."""
    if not 0 <= values["accuracy_floor"] < values["accuracy_target"] <= 1:
        return "need 0 <= accuracy_floor < accuracy_target <= 1"
    if "evaluate_tolerance" in values and not 0 < values["evaluate_tolerance"] < 1:
        return "evaluate_tolerance must be between 0 and 1"
    return None


def partial_credit(value: float, floor: float, target: float, points: float) -> float:
    """0 at or below ``floor``, full at or above ``target``, linear in between (2 decimals)."""
    if value >= target:
        return float(points)
    if value <= floor:
        return 0.0
    return round(points * (value - floor) / (target - floor), 2)


def predictions(ctx: Context, model: str, inputs: str, n: int) -> list:
    """Class indices the scoring sandbox got from the saved `model` on the input set `inputs`."""
    result = ctx.model(model)
    if result.get("model_error"):
        raise ModelProblem(shown(result["model_error"], 300))
    got = result.get(inputs)
    if not isinstance(got, dict):
        raise RebuildError(f"no output for {inputs}")
    preds = got.get("predictions")
    shape = got.get("shape")
    if not isinstance(preds, list) or len(preds) != n or not all(isinstance(p, int) for p in preds):
        raise RebuildError(msg("output_shape_found", ctx.lang, shape=shown(shape, 60), n=n))
    if got.get("finite") is False:
        raise RebuildError("output has nan/inf")
    return preds


def model_accuracy(ctx: Context, model: str, inputs: str, y, names: list | None = None) -> float:
    """Share of `y` the saved model gets right.  `names`: output index → label (None: the index is the label)."""
    preds = predictions(ctx, model, inputs, len(y))
    if names is not None:
        preds = [names[p] if 0 <= p < len(names) else None for p in preds]
    return float(sum(int(p == t) for p, t in zip(preds, y)) / max(1, len(y)))


def hidden_accuracy(name: str, labels: Callable[[Context], object], measure: Callable[[Context, object], float],
                    floor_key: str = "accuracy_floor", target_key: str = "accuracy_target",
                    hint_key: str = "accuracy_hint") -> Check:
    """Accuracy on grader-zone data (labels never leave the grader), points between floor and target."""

    def run(ctx: Context, points: float) -> CheckResult:
        floor, target = float(ctx.thresholds[floor_key]), float(ctx.thresholds[target_key])
        expected = msg("accuracy_expected", ctx.lang, floor=floor, target=target)
        y = labels(ctx)
        try:
            acc = measure(ctx, y)
        except ModelProblem as exc:
            key = "model_limit" if exc.limit else "model_unusable"
            return CheckResult(name, 0.0, points, expected=expected, found=msg(key, ctx.lang, why=shown(str(exc))),
                               hint=msg(hint_key, ctx.lang))
        except RebuildError as exc:
            return CheckResult(name, 0.0, points, expected=expected,
                               found=msg("weights_unusable", ctx.lang, why=shown(str(exc))), hint=msg(hint_key, ctx.lang))
        score = partial_credit(acc, floor, target, points)
        found = msg("accuracy_found", ctx.lang, acc=acc, n=len(y))
        return CheckResult(name, score, points, expected=expected, found=found,
                           hint=msg(hint_key, ctx.lang), note=found if score >= points else None)

    return Check(name, run)


SAW_TEST_MARGIN = 0.03      # the test accuracy above the training accuracy by more than this (and 3 sigma): seen


def _training_metric(ctx: Context, artifact: str | None, got: float) -> bool:
    """Whether `got` is one of the training-accuracy values of the recorded fit history (the same float)."""
    if not artifact:
        return False
    try:
        history = ctx.json(artifact).get("history")
    except Exception:                       # no history: nothing to compare with
        return False
    if not isinstance(history, dict):
        return False
    for key, values in list(history.items())[:20]:
        if not isinstance(key, str) or "acc" not in key.lower() or key.lower().startswith("val"):
            continue
        if isinstance(values, list) and any(isinstance(v, (int, float)) and not isinstance(v, bool) and finite(v)
                                            and abs(float(v) - got) <= 1e-7 for v in values[:1000]):
            return True
    return False


def reported_test_accuracy(name: str, artifact: str, model: str, sets: Callable[[Context], dict],
                           tolerance_key: str, expected_key: str, hint_key: str, var: str,
                           history: str | None = None) -> Check:
    """The test accuracy the student reported is the trained model's accuracy on the test set.

    The grader measures the saved model itself on the test and training sets (`sets`: name -> (input set,
    labels)).  The reported number must equal the test accuracy within the tolerance, be nearer to it than
    to the training accuracy (a training accuracy is not a test accuracy, however close), and the model
    must not have been fit on the test set: an honest model does no better on the test set than on the
    data it learned from (measured on this course's data: test - train from -0.01 to +0.02, the +0.02 an
    under-trained model), one fit on the test set +0.06.  The margin is 3 standard deviations of that
    difference (at least 0.03).  A model fit on train + test (+0.025 here) is not told from an honest one.
    """

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        tol = float(ctx.thresholds[tolerance_key])
        labelled = sets(ctx)
        acc = {key: model_accuracy(ctx, model, inputs, y) for key, (inputs, y) in labelled.items()}
        test = acc["test"]
        expected = msg(expected_key, ctx.lang, ref=test, tol=tol)
        got = data.get("value")      # a number: [loss, acc] from an unpacked evaluate() is not the accuracy
        if not (isinstance(got, (int, float)) and not isinstance(got, bool) and finite(got)):
            return CheckResult(name, 0.0, points, expected=expected, found=f"{var} = {shown(got, 80)}",
                               hint=msg(hint_key, ctx.lang))
        got = float(got)
        found = f"{var} = {shown(got, 80)}"
        if abs(got - test) > tol:
            if "train" in acc and abs(got - acc["train"]) <= tol:
                found = msg("reported_train_accuracy", ctx.lang, var=var, got=got, train=acc["train"])
            return CheckResult(name, 0.0, points, expected=expected, found=found, hint=msg(hint_key, ctx.lang))
        copied = _training_metric(ctx, history, got) and abs(got - test) > 1e-6
        if copied or ("train" in acc and abs(got - acc["train"]) < abs(got - test)):
            return CheckResult(name, 0.0, points, expected=expected,
                               found=msg("reported_history_accuracy" if copied else "reported_train_accuracy", ctx.lang,
                                         var=var, got=got, train=acc.get("train", float("nan"))),
                               hint=msg(hint_key, ctx.lang))
        if "train" in acc:
            n_test, n_train = len(labelled["test"][1]), len(labelled["train"][1])
            p = min(max((test + acc["train"]) / 2, 0.01), 0.99)
            sigma = (p * (1 - p) * (1 / max(n_test, 1) + 1 / max(n_train, 1))) ** 0.5
            if test - acc["train"] > max(SAW_TEST_MARGIN, 3 * sigma):
                return CheckResult(name, 0.0, points, expected=expected,
                                   found=msg("model_saw_test", ctx.lang, test=test, train=acc["train"]),
                                   hint=msg("model_saw_test_hint", ctx.lang))
        return CheckResult(name, points, points)

    return Check(name, run, var=var)
