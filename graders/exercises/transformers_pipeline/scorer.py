"""Scorer of `transformers_pipeline`: pipeline('sentiment-analysis') and small functions around it.

The form of what the functions return is read from the kernel (public example reviews).  On the
hidden reviews the student's functions run only in a scoring sandbox of their own (the notebook's
cells re-run there, then `hidden_probe`), which hands back numbers: a label code per review and
which reviews were kept.  The hidden texts never enter the kernel; the true labels and the course
model's own scores stay here.
"""
import numpy as np

from dlcourse.exercises.transformers_pipeline.export import LABEL_CODES, LIST_FORMS, RATIO_CASES, THRESHOLDS

from ...checks import (accuracy_thresholds, behaviour, Check, CheckResult, GradedCell, hidden_accuracy, RebuildError,
                       SavedModel, Scorer, shown)
from ...messages import msg
from .assets import sentiment_reference

LABELS = {"POSITIVE", "NEGATIVE"}
BOUNDARY = 0.002   # reviews this close to a threshold may fall either side


def _is_result_list(desc, n):
    items = desc.get("items") if isinstance(desc, dict) else None
    return (isinstance(items, list) and desc.get("type") == "list" and desc.get("length") == n
            and all(isinstance(i, dict) and i.get("type") == "dict" and i.get("label") in LABELS
                    and isinstance(i.get("score"), float) and 0 <= i["score"] <= 1 for i in items))


def _structure_ok(d, ctx):
    return _is_result_list(d.get("batch", {}), d.get("inputs"))


def _structure_found(d, ctx):
    b = d.get("batch") if isinstance(d.get("batch"), dict) else {}
    if b.get("form") == "iterator":     # a generator/map: read once, no len(), not the list the pipeline gives
        return msg("structure_found_iterator", ctx.lang, type=shown(b.get("type"), 40), value=shown(b.get("value"), 100))
    return msg("structure_found", ctx.lang, type=shown(b.get("class", b.get("type")), 40),
               length=shown(b.get("length", "-"), 20), items=shown(b.get("items", b.get("value")), 150))


def _label(p):
    """A label string as the model means it: 'POSITIVE', 'positive' and ' Positive ' are one label."""
    return p.strip().upper() if isinstance(p, str) else None


def _labels_ok(d, ctx):
    """A list (a tuple or another sequence is one too; a generator or map is not: read once, no len()) of the label
    strings themselves, as the model gives them ('positive' is read for accuracy, not here)."""
    preds = d.get("predictions")
    return (d.get("form") in LIST_FORMS and isinstance(preds, list) and len(preds) == d.get("n_inputs")
            and all(isinstance(p, str) and p in LABELS for p in preds))


def _labels_found(d, ctx):
    preds = d.get("predictions")
    sample = preds[:3] if isinstance(preds, list) else preds
    key = "labels_found_iterator" if d.get("form") == "iterator" else "labels_found"
    return msg(key, ctx.lang, type=shown(d.get("type"), 40), n=len(preds) if isinstance(preds, list) else "-",
               sample=shown(sample, 120))


def _form_check(name, artifact, ok, expected_key, found, hint_key, var, form_of) -> Check:
    """As `behaviour`, with the hint that fits what was found: a generator / map gets its own."""
    def run(ctx, points):
        d = ctx.json(artifact)
        if ok(d, ctx):
            return CheckResult(name, points, points)
        hint = f"{hint_key}_iterator" if form_of(d) == "iterator" else hint_key
        return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang), found=shown(found(d, ctx), 600),
                           hint=msg(hint, ctx.lang))

    return Check(name, run, var=var)


def _batch_form(d):
    b = d.get("batch")
    return b.get("form") if isinstance(b, dict) else None


MODELS = (
    # the notebook's cells re-run in a scoring sandbox with the hidden reviews; only numbers come back
    SavedModel("functions", "cells", "", inputs=("reviews",),
               options=(("cells_from", ("setup", "make_classifier", "predict_labels", "confident_only")),
                        ("probe", "dlcourse.exercises.transformers_pipeline.export:hidden_probe"))),
)


def _inputs(ctx) -> dict:
    """The hidden review texts, in grading order, without labels."""
    return {"reviews": np.array([r["text"] for r in sentiment_reference(ctx)])}


def _hidden(ctx, key: str, n: int) -> np.ndarray:
    """One array the hidden probe handed back, checked for its shape."""
    got = (ctx.model("functions").get("arrays") or {}).get(key)
    if not isinstance(got, np.ndarray) or got.shape != (n,) or got.dtype.kind not in "iu":
        raise RebuildError(msg("labels_unusable", ctx.lang))
    return got


def _accuracy(ctx, labels):
    """Share of hidden reviews labelled right; labels inside result dicts count (batch_labels judges the form)."""
    codes = _hidden(ctx, "labels", len(labels))
    if (codes == -2).all():
        raise RebuildError(msg("labels_unusable", ctx.lang))
    truth = np.array([LABEL_CODES.get(_label(t), -3) for t in labels])
    return float((codes == truth).mean())


def _hidden_labels(ctx):
    return [r["label"] for r in sentiment_reference(ctx)]


def _ratio_ok(d, ctx):
    cases = d.get("cases") or []
    if [c.get("input") for c in cases] != RATIO_CASES:
        return False
    return all(isinstance(c.get("output"), (int, float)) and not isinstance(c.get("output"), bool)
               and abs(c["output"] - c["input"].count("POSITIVE") / len(c["input"])) < 1e-9 for c in cases)


def _ratio_found(d, ctx):
    cases = d.get("cases") if isinstance(d.get("cases"), list) else []
    return ", ".join(f"{shown(c.get('input'), 80)} → {shown(c.get('output', c.get('error')), 80)}"
                     for c in cases[:2] if isinstance(c, dict))


def _expected_kept(ctx, threshold):
    ref = sentiment_reference(ctx)
    sure = {i for i, r in enumerate(ref) if r["score"] >= threshold + BOUNDARY}
    unsure = {i for i, r in enumerate(ref) if abs(r["score"] - threshold) < BOUNDARY}
    return sure, unsure


def _pairs_ok(c) -> bool:
    """Kept items are (review, label) pairs: two items, the second a label string (any case)."""
    seconds = c.get("seconds") or []
    sizes = c.get("sizes") or []
    return (not c.get("kept")) or (sizes == [2] and bool(seconds) and all(_label(s) in LABELS for s in seconds))


def _kept_hidden(ctx, i: int) -> tuple[set | None, int]:
    """Which hidden reviews confident_only kept at THRESHOLDS[i] (None when it failed), and how many
    kept items were not one of the given reviews."""
    n = len(sentiment_reference(ctx))
    mask = _hidden(ctx, f"kept_{i}", n)
    unknown = (ctx.model("functions").get("arrays") or {}).get("unknown")
    extra = int(unknown[i]) if isinstance(unknown, np.ndarray) and unknown.shape == (len(THRESHOLDS),) else 0
    if (mask == -2).all():
        return None, extra
    return {int(j) for j in np.flatnonzero(mask == 1)}, extra


def _boundary_dropped(ctx) -> bool:
    raw = (ctx.model("functions").get("arrays") or {}).get("boundary")
    return isinstance(raw, np.ndarray) and raw.shape == (2,) and int(raw[0]) >= 0 and int(raw[1]) == 0


def _confident_ok(d, ctx):
    cases = d.get("cases") or []
    if not isinstance(cases, list) or [c.get("threshold") for c in cases if isinstance(c, dict)] != THRESHOLDS:
        return False
    if not all(_pairs_ok(c) for c in cases):        # the form, from the public examples in the kernel
        return False
    for i, threshold in enumerate(THRESHOLDS):      # the selection, on the hidden reviews
        sure, unsure = _expected_kept(ctx, threshold)
        kept, unknown = _kept_hidden(ctx, i)
        if kept is None or unknown or not sure <= kept or kept - sure - unsure:
            return False
    return not _boundary_dropped(ctx)   # a review whose score equals the threshold was dropped: `>` for `>=`


def _confident_found(d, ctx):
    parts = []
    for i, threshold in enumerate(THRESHOLDS):
        sure, unsure = _expected_kept(ctx, threshold)
        kept, _ = _kept_hidden(ctx, i)
        # reviews within BOUNDARY of the threshold may fall either side: the expected count is a range then
        want = f"{len(sure)}~{len(sure) + len(unsure)}" if unsure else len(sure)
        parts.append(msg("confident_found", ctx.lang, t=threshold, kept="-" if kept is None else len(kept),
                         want=want))
    cases = d.get("cases") if isinstance(d.get("cases"), list) else []
    for c in cases[:2]:
        if isinstance(c, dict) and not _pairs_ok(c):
            parts.append(msg("confident_pairs_found", ctx.lang, second=shown((c.get("seconds") or ["?"])[0], 40)))
            break
    if _boundary_dropped(ctx):
        parts.append(msg("confident_boundary_found", ctx.lang))
    return "; ".join(parts)


SCORER = Scorer(
    assignment="transformers_pipeline",
    notebook="transformers_pipeline",
    thresholds=("accuracy_floor", "accuracy_target"),
    threshold_rule=accuracy_thresholds,
    models=MODELS,
    inputs=_inputs,
    cells=[
        GradedCell("check_classifier", answer_id="make_classifier", checks=[
            _form_check("structure", "sentiment_structure", _structure_ok, "structure_expected", _structure_found,
                        "structure_hint", "classifier", _batch_form),
        ]),
        GradedCell("check_labels", answer_id="predict_labels", checks=[
            _form_check("batch_labels", "sentiment_predictions", _labels_ok, "labels_expected", _labels_found,
                        "labels_hint", "predict_labels", lambda d: d.get("form")),
            hidden_accuracy("hidden_accuracy", labels=_hidden_labels, measure=_accuracy,
                            hint_key="sentiment_accuracy_hint"),
        ]),
        GradedCell("check_ratio", answer_id="positive_ratio", checks=[
            behaviour("positive_ratio", "sentiment_ratio", _ratio_ok, "ratio_expected", _ratio_found,
                      "ratio_hint", var="positive_ratio"),
        ]),
        GradedCell("check_confident", answer_id="confident_only", checks=[
            behaviour("threshold", "sentiment_confident", _confident_ok, "confident_expected", _confident_found,
                      "confident_hint", var="confident_only"),
        ]),
    ],
)
