"""Scorer of `transformers_pipeline`: pipeline('sentiment-analysis') and small functions around it.

The student's functions run in the sandbox on hidden reviews; the true labels and the
course model's own scores stay here.
"""
from dlcourse.exercises.transformers_pipeline.export import RATIO_CASES, THRESHOLDS

from ...checks import accuracy_thresholds, behaviour, GradedCell, hidden_accuracy, RebuildError, Scorer, shown
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
    b = d.get("batch", {})
    return f"type={shown(b.get('type'), 40)}, length={shown(b.get('length'), 20)}, items={shown(b.get('items', b.get('value')), 150)}"


def _label(p):
    """A label string as the model means it: 'POSITIVE', 'positive' and ' Positive ' are one label."""
    return p.strip().upper() if isinstance(p, str) else None


def _labels_ok(d, ctx):
    """The label strings themselves, as the model gives them ('positive' is read for accuracy, not here)."""
    preds = d.get("predictions")
    return (isinstance(preds, list) and len(preds) == d.get("n_inputs")
            and all(isinstance(p, str) and p in LABELS for p in preds))


def _labels_found(d, ctx):
    preds = d.get("predictions")
    sample = preds[:3] if isinstance(preds, list) else preds
    return msg("labels_found", ctx.lang, type=shown(d.get("type"), 40), n=len(preds) if isinstance(preds, list) else "-",
               sample=shown(sample, 120))


def _accuracy(ctx, labels):
    """Share of hidden reviews labelled right; labels inside result dicts count (batch_labels judges the form)."""
    d = ctx.json("sentiment_predictions")
    preds = d.get("predictions")
    if not isinstance(preds, list) or len(preds) != len(labels):
        raise RebuildError(msg("labels_unusable", ctx.lang))
    got = [_label(p.get("label")) if isinstance(p, dict) else _label(p) for p in preds]
    return sum(p == t for p, t in zip(got, labels)) / len(labels)


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


def _confident_ok(d, ctx):
    cases = d.get("cases") or []
    if not isinstance(cases, list) or [c.get("threshold") for c in cases if isinstance(c, dict)] != THRESHOLDS:
        return False
    for c in cases:
        sure, unsure = _expected_kept(ctx, c["threshold"])
        kept = set(k for k in (c.get("kept") or []) if isinstance(k, int))
        if c.get("unknown") or not sure <= kept or kept - sure - unsure or not _pairs_ok(c):
            return False
    boundary = d.get("boundary")
    if isinstance(boundary, dict) and boundary.get("kept") is False:
        return False            # a review whose score equals the threshold was dropped: `>` instead of `>=`
    return True


def _confident_found(d, ctx):
    parts = []
    cases = d.get("cases") if isinstance(d.get("cases"), list) else []
    for c in cases[:2]:
        if not isinstance(c, dict) or c.get("threshold") not in THRESHOLDS:
            continue
        sure, _ = _expected_kept(ctx, c["threshold"])
        parts.append(msg("confident_found", ctx.lang, t=c["threshold"], kept=len(c.get("kept") or []), want=len(sure)))
        if not _pairs_ok(c):
            parts.append(msg("confident_pairs_found", ctx.lang, second=shown((c.get("seconds") or ["?"])[0], 40)))
    boundary = d.get("boundary")
    if isinstance(boundary, dict) and boundary.get("kept") is False:
        parts.append(msg("confident_boundary_found", ctx.lang))
    return "; ".join(parts)


SCORER = Scorer(
    assignment="transformers_pipeline",
    notebook="transformers_pipeline",
    thresholds=("accuracy_floor", "accuracy_target"),
    threshold_rule=accuracy_thresholds,
    cells=[
        GradedCell("check_classifier", answer_id="make_classifier", checks=[
            behaviour("structure", "sentiment_structure", _structure_ok, "structure_expected", _structure_found,
                      "structure_hint", var="classifier"),
        ]),
        GradedCell("check_labels", answer_id="predict_labels", checks=[
            behaviour("batch_labels", "sentiment_predictions", _labels_ok, "labels_expected", _labels_found,
                      "labels_hint", var="predict_labels"),
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
