"""Scorer of `transformers_pipeline`: pipeline('sentiment-analysis') and small functions around it.

The student's functions run in the sandbox on hidden reviews; the true labels and the
course model's own scores stay here.
"""
from dlcourse.export import RATIO_CASES, THRESHOLDS

from ..checks import accuracy_thresholds, behaviour, GradedCell, hidden_accuracy, Scorer
from ..messages import msg
from .data import sentiment_reference

LABELS = {"POSITIVE", "NEGATIVE"}
BOUNDARY = 0.002   # reviews this close to a threshold may fall either side


def _is_result_list(desc, n):
    return (desc.get("type") == "list" and desc.get("length") == n
            and all(i.get("type") == "dict" and i.get("label") in LABELS and isinstance(i.get("score"), float)
                    and 0 <= i["score"] <= 1 for i in desc.get("items", [])))


def _structure_ok(d, ctx):
    return _is_result_list(d.get("batch", {}), d.get("inputs"))


def _structure_found(d, ctx):
    b = d.get("batch", {})
    return f"type={b.get('type')}, length={b.get('length')}, items={str(b.get('items', b.get('value')))[:150]}"


def _labels_ok(d, ctx):
    preds = d.get("predictions")
    return isinstance(preds, list) and len(preds) == d.get("n_inputs") and all(p in LABELS for p in preds)


def _labels_found(d, ctx):
    preds = d.get("predictions")
    shown = preds[:3] if isinstance(preds, list) else preds
    return msg("labels_found", ctx.lang, type=d.get("type"), n=len(preds) if isinstance(preds, list) else "-",
               sample=str(shown)[:120])


def _accuracy(ctx, artifact, texts, labels):
    from ..checks import RebuildError

    d = ctx.json(artifact)
    preds = d.get("predictions")
    if not isinstance(preds, list) or len(preds) != len(labels):
        raise RebuildError(msg("labels_unusable", ctx.lang))
    return sum(p == t for p, t in zip(preds, labels)) / len(labels)


def _hidden(ctx):
    ref = sentiment_reference(ctx)
    return [r["text"] for r in ref], [r["label"] for r in ref]


def _ratio_ok(d, ctx):
    cases = d.get("cases") or []
    if [c.get("input") for c in cases] != RATIO_CASES:
        return False
    return all(isinstance(c.get("output"), (int, float)) and not isinstance(c.get("output"), bool)
               and abs(c["output"] - c["input"].count("POSITIVE") / len(c["input"])) < 1e-9 for c in cases)


def _ratio_found(d, ctx):
    return ", ".join(f"{c.get('input')} → {c.get('output', c.get('error'))}" for c in (d.get("cases") or [])[:2])


def _expected_kept(ctx, threshold):
    ref = sentiment_reference(ctx)
    sure = {i for i, r in enumerate(ref) if r["score"] >= threshold + BOUNDARY}
    unsure = {i for i, r in enumerate(ref) if abs(r["score"] - threshold) < BOUNDARY}
    return sure, unsure


def _confident_ok(d, ctx):
    cases = d.get("cases") or []
    if [c.get("threshold") for c in cases] != THRESHOLDS:
        return False
    for c in cases:
        sure, unsure = _expected_kept(ctx, c["threshold"])
        kept = set(c.get("kept") or [])
        if c.get("unknown") or not sure <= kept or kept - sure - unsure:
            return False
    return True


def _confident_found(d, ctx):
    parts = []
    for c in d.get("cases") or []:
        sure, _ = _expected_kept(ctx, c["threshold"])
        parts.append(msg("confident_found", ctx.lang, t=c["threshold"], kept=len(c.get("kept") or []), want=len(sure)))
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
            hidden_accuracy("hidden_accuracy", "sentiment_predictions", data=_hidden, measure=_accuracy,
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
