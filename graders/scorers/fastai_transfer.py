"""Scorer of `fastai_transfer`: DataLoaders from file names, vision_learner on the course body, fine_tune.

The fine-tuned model leaves the sandbox as a safetensors state_dict; the grader rebuilds
the architecture vision_learner makes (fastai's create_vision_model on the course body),
loads it strictly and measures the error rate on hidden digits itself.
"""
import numpy as np

from ..checks import accuracy_thresholds, behaviour, GradedCell, hidden_accuracy, RebuildError, Scorer
from ..messages import msg
from .data import hidden_mnist

VOCAB = ["eight", "five", "nine", "seven", "six"]      # fastai sorts the class names
DIGITS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
PRETRAINED_TOLERANCE = 0.05   # fine_tune moves the body's conv weights by well under 1 %


def _hidden_digits(ctx):
    x, y = hidden_mnist(ctx)
    keep = y >= 5
    return x[keep], y[keep]


def _state(ctx, d):
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = ctx._path(str(d.get("weights_file", "fastai_state.safetensors")))
    try:
        return path, load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RebuildError(f"weights file: {exc}") from None


def _accuracy(ctx, artifact, x, y):
    from ..assets_fastai import rebuild_and_predict

    d = ctx.json(artifact)
    path, state = _state(ctx, d)
    matrices = [v for v in state.values() if v.ndim == 2]
    if not matrices:
        raise RebuildError("no linear head in the state_dict")
    vocab = d.get("vocab") or []
    n_out = int(matrices[-1].shape[0])
    try:
        pred = rebuild_and_predict(path, x, n_out=n_out)
    except RuntimeError as exc:   # strict load_state_dict: not the architecture vision_learner builds
        raise RebuildError(str(exc).splitlines()[0][:200]) from None
    # an output with no class name (more outputs than classes) is a wrong answer
    names = np.array([DIGITS.get(v, -1) for v in vocab] + [-1] * max(0, n_out - len(vocab)))
    return float((names[pred] == y).mean())


def _pretrained_distance(ctx, d):
    from safetensors.numpy import load_file

    _, state = _state(ctx, d)
    body = load_file(str(ctx.secrets.public_data_dir / "digit_body.safetensors"))
    dists = [np.linalg.norm(state["0." + k] - w) / np.linalg.norm(w)
             for k, w in body.items() if w.ndim == 4 and state.get("0." + k) is not None
             and state["0." + k].shape == w.shape]
    return max(dists) if dists and len(dists) == sum(w.ndim == 4 for w in body.values()) else None


def _pretrained_ok(d, ctx):
    dist = _pretrained_distance(ctx, d)
    return dist is not None and dist < PRETRAINED_TOLERANCE


def _pretrained_found(d, ctx):
    dist = _pretrained_distance(ctx, d)
    return msg("pretrained_found", ctx.lang, dist="-" if dist is None else f"{dist:.0%}")


def _fine_tuned_ok(d, ctx):
    phases = d.get("phases") or []
    return (len(phases) >= 2 and phases[0]["trainable_body"] == 0
            and any(p["trainable_body"] == p["body_convs"] > 0 for p in phases[1:]))


def _fine_tuned_found(d, ctx):
    phases = d.get("phases") or []
    return msg("phases_found", ctx.lang, phases=[f"{p['epochs']} epoch, {p['trainable_body']}/{p['body_convs']}"
                                                 for p in phases] or "[]")


SCORER = Scorer(
    assignment="fastai_transfer",
    notebook="fastai_transfer",
    thresholds=("accuracy_floor", "accuracy_target"),
    threshold_rule=accuracy_thresholds,
    cells=[
        GradedCell("check_data", answer_id="make_dls", checks=[
            behaviour("vocab", "fastai_data", lambda d, ctx: d.get("vocab") == VOCAB, "vocab_expected",
                      lambda d, ctx: f"{d.get('vocab', [])[:6]} ({len(d.get('vocab', []))})", "vocab_hint", var="dls"),
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
            hidden_accuracy("hidden_accuracy", "fastai_training", data=_hidden_digits, measure=_accuracy,
                            hint_key="fastai_accuracy_hint"),
        ]),
    ],
)
