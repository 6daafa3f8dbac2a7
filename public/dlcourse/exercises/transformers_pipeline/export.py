"""Artifacts of the transformers_pipeline exercise (used by its graded cells), and its hidden probe.

In the student's kernel the graded cells describe what the functions return on the course's
*public* example reviews (the form of the results: label strings, (review, label) pairs).  The
hidden reviews never enter the kernel: the grader re-runs the notebook's cells in a scoring
sandbox of their own and calls `hidden_probe` there, which hands back only numbers (a label code
per review, which reviews were kept).  Shared helpers come from ``dlcourse.artifacts``.
"""
from __future__ import annotations


from dlcourse.artifacts import _guarded, _missing, _plain

RATIO_CASES = [
    ["POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE"],
    ["NEGATIVE", "NEGATIVE"],
    ["POSITIVE"],
    ["NEGATIVE", "POSITIVE", "NEGATIVE", "NEGATIVE", "POSITIVE"],
]
THRESHOLDS = [0.9, 0.99]


def grading_texts() -> list:
    """The review texts the kernel-side cells use: the course's public examples (never the hidden ones)."""
    from dlcourse.datasets import reviews
    return reviews.texts()


LIST_FORMS = ("list", "tuple", "sequence")   # what "a list" may be: ordered, every item there, len() and [i] work


def form(value) -> str:
    """What kind of collection a function returned, as the notebook's "리스트" means it.

    'list' (a list or a subclass), 'tuple', 'sequence' (len() and indexing, e.g. a numpy array), 'iterator'
    (a generator, map, filter, zip or iter(...): read once, no len(), no [i]) or 'other'."""
    import collections.abc as abc

    if isinstance(value, list):
        return "list"
    if isinstance(value, tuple):
        return "tuple"
    if isinstance(value, (str, bytes, bytearray, dict)) or value is None:
        return "other"
    if isinstance(value, abc.Iterator):
        return "iterator"
    if hasattr(type(value), "__len__") and hasattr(type(value), "__getitem__") and not isinstance(value, abc.Mapping):
        return "sequence"
    return "other"


def _describe(result, limit=5):
    if isinstance(result, dict):
        return {"type": "dict", "keys": sorted(map(str, result))[:10],
                "label": _plain(result.get("label")), "score": _plain(result.get("score"))}
    if isinstance(result, (list, tuple)):
        return {"type": "list", "class": type(result).__name__[:40], "length": len(result),
                "items": [_describe(r, limit) for r in list(result)[:limit]]}
    return {"type": type(result).__name__[:40], "form": form(result), "value": str(result)[:100]}


def _sentiment_structure(classifier):
    from dlcourse.datasets import reviews

    if classifier is None:
        return _missing("classifier")
    texts = reviews.texts()[:3]
    return {"inputs": len(texts), "batch": _describe(classifier(texts)), "single": _describe(classifier(texts[0]))}


def sentiment_structure(classifier) -> None:
    """What the classifier returns for a batch of three reviews and for one review."""
    _guarded("sentiment_structure", _sentiment_structure, classifier)


def _short_item(p):
    """One prediction as small plain data: a string (cut), a number, or a dict's label/score."""
    if isinstance(p, dict):
        return {"label": _plain(p.get("label"))[:100] if isinstance(p.get("label"), str) else _plain(p.get("label")),
                "score": _plain(p.get("score")) if isinstance(p.get("score"), (int, float)) else None}
    if isinstance(p, str):
        return p[:100]
    if isinstance(p, (int, float, bool)) or p is None:
        return _plain(p)
    if isinstance(p, (list, tuple)):
        return [_short_item(q) for q in list(p)[:2]] if len(p) and not isinstance(p[0], (list, tuple)) else str(p)[:100]
    return str(p)[:100]


def _sentiment_predictions(predict_labels):
    """The student's labels for the public examples: the form of the labels (the hidden accuracy is measured
    by `hidden_probe` in the scoring sandbox)."""
    if predict_labels is None:
        return _missing("predict_labels")
    texts = grading_texts()
    preds = predict_labels(texts)
    try:
        items = list(preds) if not isinstance(preds, (str, bytes, dict)) else None
    except Exception:
        items = None
    return {"n_inputs": len(texts), "type": type(preds).__name__[:40], "form": form(preds),
            "predictions": [_short_item(p) for p in items[:10_000]] if items is not None else str(preds)[:200]}


def sentiment_predictions(predict_labels) -> None:
    """The student's labels for the public example reviews (their form; accuracy is measured elsewhere)."""
    _guarded("sentiment_predictions", _sentiment_predictions, predict_labels)


def _ratio_cases(positive_ratio):
    if positive_ratio is None:
        return _missing("positive_ratio")
    out = []
    for case in RATIO_CASES:
        try:
            out.append({"input": case, "output": _plain(positive_ratio(list(case)))})
        except Exception as exc:
            out.append({"input": case, "error": f"{type(exc).__name__}: {exc}"})
    return {"cases": out}


def ratio_cases(positive_ratio) -> None:
    """positive_ratio on fixed label lists."""
    _guarded("sentiment_ratio", _ratio_cases, positive_ratio)


def _kept_item(k):
    """(text, label) as the exercise asks; anything else is described for the grader."""
    if isinstance(k, (list, tuple)) and k:
        text = k[0]
        second = k[1] if len(k) > 1 else None
        return text, (second[:50] if isinstance(second, str) else type(second).__name__), len(k)
    return k, None, None


def _confident_cases(confident_only, classifier=None):
    if confident_only is None:
        return _missing("confident_only")
    texts = grading_texts()
    index = {t: i for i, t in enumerate(texts)}
    out = []
    for threshold in THRESHOLDS:
        kept = list(confident_only(texts, threshold))[:10_000]
        rows = [_kept_item(k) for k in kept]
        out.append({"threshold": threshold,
                    "kept": sorted(index[t] for t, _, _ in rows if isinstance(t, str) and t in index),
                    "unknown": sum(1 for t, _, _ in rows if not (isinstance(t, str) and t in index)),
                    "seconds": sorted({str(second) for _, second, _ in rows})[:5],
                    "sizes": sorted({n for _, _, n in rows if n is not None})[:5]})
    boundary = None
    if classifier is not None:
        # a review whose own score is the threshold must be kept ("이상": score >= threshold)
        try:
            scores = [float(r["score"]) for r in classifier(texts[:16])]
            pick = sorted(range(len(scores)), key=lambda i: abs(scores[i] - 0.95))[0]
            kept = list(confident_only(texts[:16], scores[pick]))
            boundary = {"index": pick, "kept": any(_kept_item(k)[0] == texts[pick] for k in kept)}
        except Exception as exc:
            boundary = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"n_inputs": len(texts), "cases": out, "boundary": boundary}


def confident_cases(confident_only, classifier=None) -> None:
    """What confident_only keeps of the public examples at two thresholds (the form of the pairs)."""
    _guarded("sentiment_confident", _confident_cases, confident_only, classifier)


# ── the hidden probe: runs in the grader's scoring sandbox, never in the kernel ──
LABEL_CODES = {"NEGATIVE": 0, "POSITIVE": 1}


def _label_code(p) -> int:
    """A label as the model means it ('POSITIVE', ' positive ', {'label': 'POSITIVE'}): 1, 0; -1 for anything else."""
    if isinstance(p, dict):
        p = p.get("label")
    return LABEL_CODES.get(p.strip().upper(), -1) if isinstance(p, str) else -1


def hidden_probe(ns: dict, inputs: dict) -> dict:
    """The notebook's functions on the hidden reviews; only numbers leave.

    labels     one code per review (1 POSITIVE, 0 NEGATIVE, -1 unreadable); all -2 when predict_labels
               is missing, raised, or did not give one item per review
    kept_<i>   for THRESHOLDS[i]: which reviews confident_only kept (1), dropped (0); all -2 on failure
    unknown    per threshold: kept items that are not one of the given reviews
    boundary   [index, kept] for a review whose own score is the threshold; [-1, -1] when not measured
    """
    import numpy as np

    texts = [str(t) for t in inputs["reviews"]]
    n = len(texts)
    out = {"labels": np.full(n, -2, np.int8), "unknown": np.zeros(len(THRESHOLDS), np.int32),
           "boundary": np.array([-1, -1], np.int32)}
    for i in range(len(THRESHOLDS)):
        out[f"kept_{i}"] = np.full(n, -2, np.int8)
    predict_labels, confident_only = ns.get("predict_labels"), ns.get("confident_only")
    classifier = ns.get("classifier")
    try:
        preds = list(predict_labels(list(texts)))[: n + 1]
        if len(preds) == n:
            out["labels"] = np.array([_label_code(p) for p in preds], np.int8)
    except Exception:
        pass
    index = {t: i for i, t in enumerate(texts)}
    for i, threshold in enumerate(THRESHOLDS):
        try:
            kept = list(confident_only(list(texts), threshold))[: 10 * n]
        except Exception:
            continue
        mask = np.zeros(n, np.int8)
        for k in kept:
            text = _kept_item(k)[0]
            if isinstance(text, str) and text in index:
                mask[index[text]] = 1
            else:
                out["unknown"][i] += 1
        out[f"kept_{i}"] = mask
    if callable(classifier) and callable(confident_only):
        # a review whose own score is the threshold must be kept ("이상": score >= threshold)
        found = _boundary_own_scores(ns, texts[:16])
        if found is None:
            try:
                scores = [float(r["score"]) for r in classifier(texts[:16])]
                pick = sorted(range(len(scores)), key=lambda j: abs(scores[j] - 0.95))[0]
                kept = list(confident_only(texts[:16], scores[pick]))
                found = [pick, int(any(_kept_item(k)[0] == texts[pick] for k in kept))]
            except Exception:
                found = None
        if found is not None:
            out["boundary"] = np.array(found, np.int32)
    return out


def _first_score(result):
    """The score a pipeline result gives one review: {'label', 'score'}, or the first of a top_k list."""
    if isinstance(result, (list, tuple)) and result:
        result = result[0]
    score = result.get("score") if isinstance(result, dict) else None
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


class _SeenScores:
    """Passes every call on to the notebook's classifier and keeps the scores it gave each of `texts`."""

    def __init__(self, inner, texts):
        self._inner, self._texts, self.scores = inner, set(texts), {}

    def __call__(self, *args, **kwargs):
        out = self._inner(*args, **kwargs)
        try:
            given = args[0] if args else kwargs.get("inputs", kwargs.get("text_inputs"))
            if isinstance(given, str):
                pairs = [(given, out)]
            elif isinstance(given, (list, tuple)) and isinstance(out, (list, tuple)) and len(out) == len(given):
                pairs = list(zip(given, out))
            else:
                pairs = []
            for text, result in pairs[:1000]:
                score = _first_score(result)
                if isinstance(text, str) and text in self._texts and score is not None:
                    self.scores.setdefault(text, []).append(score)
        except Exception:
            pass
        return out

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _boundary_own_scores(ns: dict, texts: list):
    """[index, kept] for the review whose score, as confident_only itself gets it from `classifier`, is nearest
    0.95, with exactly that score as the threshold.  Like with like: a classifier called with batch_size=8
    (padding) gives scores that differ from a one-by-one call in the 7th digit, so the threshold is the score
    the student's own calls give, seen twice the same.  None when confident_only does not call `classifier`
    (or its scores change from call to call): the caller then measures it the plain way."""
    classifier, confident_only = ns.get("classifier"), ns.get("confident_only")
    seen = _SeenScores(classifier, texts)
    ns["classifier"] = seen
    try:
        list(confident_only(list(texts), 0.0))
        own = {t: v[0] for t, v in seen.scores.items() if len(set(v)) == 1}
        if not own:
            return None
        pick = min((i for i, t in enumerate(texts) if t in own), key=lambda i: abs(own[texts[i]] - 0.95))
        threshold = own[texts[pick]]
        seen.scores.clear()
        kept = list(confident_only(list(texts), threshold))
        if set(seen.scores.get(texts[pick], [])) != {threshold}:
            return None
        return [pick, int(any(_kept_item(k)[0] == texts[pick] for k in kept))]
    except Exception:
        return None
    finally:
        ns["classifier"] = classifier
