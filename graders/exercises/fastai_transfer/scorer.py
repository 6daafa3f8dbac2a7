"""Scorer of `fastai_transfer`: DataLoaders from file names, vision_learner on the course body, fine_tune.

The fine-tuned model leaves the kernel as a safetensors state_dict; the scoring sandbox
builds the architecture vision_learner makes (fastai's create_vision_model on the course
body), checks every tensor's shape before loading, loads it strictly, and runs it on the
hidden digits; the labels and the comparison stay here.
"""

import math

from dlcourse.exercises.fastai_transfer.export import class_key, same_classes

from ...checks import (accuracy_thresholds, behaviour, GradedCell, hidden_accuracy, model_accuracy, SavedModel, Scorer,
                       shown)
from ...messages import msg
from ...datasets.mnist import hidden_mnist

VOCAB = ["eight", "five", "nine", "seven", "six"]      # fastai sorts the class names
DIGITS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
# what a class name means for the hidden accuracy (by meaning: 'Seven', ' seven ', full width, or the digit
# itself); the vocab check alone asks for the names the notebook's regex takes from the file names
MEANING = {**{class_key(k): v for k, v in DIGITS.items()}, **{str(v): v for v in DIGITS.values()}}
# How far the body's conv weights may be from the course's pretrained ones: fine_tune moves them by well
# under 1 %, training the unfrozen body end to end for a few epochs by about 20 %; a body trained from
# random weights ends about 100 % or more away.  Half-way tells "started pretrained" from "did not".
PRETRAINED_TOLERANCE = 0.5


def _hidden_digits(ctx):
    x, y = hidden_mnist(ctx)
    keep = y >= 5
    return x[keep], y[keep]


def _normalize_steps(ctx) -> list:
    """The student's DataLoaders' Normalize steps (kernel data, bounded): [(mean, std)], each 1 or 3 finite
    floats, std well away from 0.  Anything else is ignored (the asked pipeline has none)."""
    try:
        steps = ctx.json("fastai_training").get("normalize")
    except Exception:
        return []
    out = []
    for step in steps[:4] if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            return []
        mean, std = step.get("mean"), step.get("std")
        ok = (isinstance(mean, list) and isinstance(std, list) and len(mean) in (1, 3) and len(std) in (1, 3)
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e3
                      for v in mean + std)
              and all(v > 1e-4 for v in std))
        if not ok:
            return []
        out.append((mean, std))
    return out


def _inputs(ctx):
    import numpy as np

    from .assets import to_model_input

    x, _ = _hidden_digits(ctx)
    x = to_model_input(x).numpy()     # exactly what the validation DataLoader feeds the model
    for mean, std in _normalize_steps(ctx):   # plus the student's own Normalize, if they added one
        m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
        s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
        x = (x - m) / s
    return {"hidden": x.astype(np.float32)}


def _accuracy(ctx, y):
    result = ctx.model("trained")
    vocab = result.get("vocab") if isinstance(result.get("vocab"), list) else []
    n_out = result.get("n_out") if isinstance(result.get("n_out"), int) else len(vocab)
    n_out = max(0, min(n_out, 100_000))
    # an output with no class name (more outputs than classes) is a wrong answer
    names = ([MEANING.get(class_key(v), -1) if isinstance(v, str) else -1 for v in vocab[:n_out]]
             + [-1] * max(0, n_out - len(vocab)))
    return model_accuracy(ctx, "trained", "hidden", list(y), names=names)


def _vocab_found(d, ctx):
    vocab = d.get("vocab")
    if not isinstance(vocab, list):
        return shown(vocab, 100)
    return msg("vocab_found", ctx.lang, sample=shown(vocab[:6], 200), n=len(vocab))


def _pretrained_distance(ctx):
    dist = ctx.model("trained").get("body_distance")
    return float(dist) if isinstance(dist, (int, float)) and not isinstance(dist, bool) else None


def _pretrained_ok(d, ctx):
    dist = _pretrained_distance(ctx)
    return dist is not None and dist < PRETRAINED_TOLERANCE


def _pretrained_found(d, ctx):
    dist = _pretrained_distance(ctx)
    return msg("pretrained_found", ctx.lang, dist="-" if dist is None else f"{dist:.0%}")


def _phases(d) -> list:
    """The recorded training phases of the exported learner (kernel data: only well-formed entries count)."""
    phases = d.get("phases")
    keys = ("epochs", "trainable_body", "body_convs")
    return [p for p in (phases[:1000] if isinstance(phases, list) else [])
            if isinstance(p, dict) and all(isinstance(p.get(k), int) and not isinstance(p.get(k), bool) for k in keys)]


def _fine_tuned_ok(d, ctx):
    """A frozen-body phase first, then a phase with the whole body trainable (fine_tune, or freeze() +
    fit_one_cycle then unfreeze() + fit_one_cycle by hand), on the learner whose model is exported."""
    phases = _phases(d)
    return (len(phases) >= 2 and phases[0]["trainable_body"] == 0 and phases[0]["epochs"] > 0
            and any(p["trainable_body"] == p["body_convs"] > 0 for p in phases[1:]))


def _fine_tuned_found(d, ctx):
    phases = _phases(d)
    return msg("phases_found", ctx.lang, phases=[f"{p['epochs']} epoch, {p['trainable_body']}/{p['body_convs']}"
                                                 for p in phases[:6]] or "[]")


SCORER = Scorer(
    assignment="fastai_transfer",
    notebook="fastai_transfer",
    thresholds=("accuracy_floor", "accuracy_target"),
    threshold_rule=accuracy_thresholds,
    models=(SavedModel("trained", "fastai_state", "fastai_state.safetensors", artifact="fastai_training",
                       inputs=("hidden",), options=(("body", "@public/digit_body.safetensors"),
                                ("body_factory", "dlcourse.exercises.fastai_transfer.models:digit_body"))),),
    inputs=_inputs,
    cells=[
        GradedCell("check_data", answer_id="make_dls", checks=[
            behaviour("vocab", "fastai_data", lambda d, ctx: same_classes(d.get("vocab"), VOCAB), "vocab_expected",
                      _vocab_found, "vocab_hint", var="dls"),
            behaviour("item_size", "fastai_data", lambda d, ctx: d.get("batch_x", [])[1:] == [3, 32, 32],
                      "item_size_expected", lambda d, ctx: str(d.get("batch_x")), "item_size_hint", var="dls"),
        ]),
        GradedCell("check_learner", answer_id="make_learner", checks=[
            behaviour("metric", "fastai_learner", lambda d, ctx: "error_rate" in (d.get("metrics") or []),
                      "metric_expected", lambda d, ctx: str(d.get("metrics")), "metric_hint", var="learn"),
            behaviour("output_shape", "fastai_learner",
                      lambda d, ctx: (d.get("output_shape") or [0, 0])[1:] == [len(VOCAB)],
                      "n_classes_expected", lambda d, ctx: str(d.get("output_shape")), "n_classes_hint", var="learn"),
        ]),
        GradedCell("check_training", answer_id="train_model", checks=[
            behaviour("pretrained", "fastai_training", _pretrained_ok, "pretrained_expected", _pretrained_found,
                      "pretrained_hint", var="learn"),
            behaviour("fine_tuned", "fastai_training", _fine_tuned_ok, "fine_tuned_expected", _fine_tuned_found,
                      "fine_tuned_hint", var="learn"),
            hidden_accuracy("hidden_accuracy", labels=lambda ctx: _hidden_digits(ctx)[1], measure=_accuracy,
                            hint_key="fastai_accuracy_hint"),
        ]),
    ],
)
