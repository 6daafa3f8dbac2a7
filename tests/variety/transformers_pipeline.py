"""transformers_pipeline written the ways the Hugging Face docs and tutorials write it.

Blanks: make_classifier (`classifier`), predict_labels(texts), positive_ratio(labels),
confident_only(texts, threshold) -> [(review, label)] for score >= threshold.
"""
from __future__ import annotations

from .keras_mnist import _cc

FULL = dict(_cc.ASSIGNMENTS["transformers_pipeline"]["points"])

BASE = {
    # HF quicktour: `classifier = pipeline("sentiment-analysis")`, then a loop over the results
    "make_classifier": 'classifier = pipeline("sentiment-analysis", model=MODEL_DIR)',
    "predict_labels": "def predict_labels(texts):\n    results = classifier(texts)\n    labels = []\n"
                      "    for result in results:\n        labels.append(result['label'])\n    return labels",
    "positive_ratio": "def positive_ratio(labels):\n    return labels.count('POSITIVE') / len(labels)",
    "confident_only": "def confident_only(texts, threshold=0.9):\n    kept = []\n"
                      "    for text, result in zip(texts, classifier(texts)):\n"
                      "        if result['score'] >= threshold:\n            kept.append((text, result['label']))\n"
                      "    return kept",
}


def case(name, origin, expected=None, why=None, **answers):
    return {"name": f"vt_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES = [
    # ── correct but different: full marks ────────────────────────────────────
    case("task_keyword_comprehension",
         "pipeline(task=..., model=...) keywords and a list comprehension (HF pipelines docs)",
         make_classifier="classifier = pipeline(task='sentiment-analysis', model=MODEL_DIR)",
         predict_labels="def predict_labels(texts):\n    return [r['label'] for r in classifier(texts)]"),
    case("text_classification_alias",
         "the task's canonical name 'text-classification' (HF task docs; sentiment-analysis is its alias)",
         make_classifier="classifier = pipeline('text-classification', model=MODEL_DIR)"),
    case("per_text_calls",
         "one call per review `classifier(t)[0]['label']` in a comprehension (HF quicktour single-input example)",
         why="the notebook prefers one batch call, but the labels are the same and the check is about the "
             "labels; a TA would mention it, not take the point",
         predict_labels="def predict_labels(texts):\n    return [classifier(text)[0]['label'] for text in texts]"),
    case("truncation_batch_size",
         "`truncation=True` and `batch_size=8` call arguments (HF pipeline batching docs)",
         make_classifier="classifier = pipeline('sentiment-analysis', model=MODEL_DIR, truncation=True)",
         predict_labels="def predict_labels(texts):\n    outputs = classifier(texts, batch_size=8, truncation=True)\n"
                        "    return [o['label'] for o in outputs]"),
    case("top_k_1_nested",
         "`classifier(texts, top_k=1)` returns one list per review (TextClassificationPipeline docs: top_k)",
         predict_labels="def predict_labels(texts):\n    outputs = classifier(texts, top_k=1)\n"
                        "    return [out[0]['label'] for out in outputs]"),
    case("auto_classes",
         "AutoTokenizer + AutoModelForSequenceClassification passed to pipeline (HF quicktour 'Use another "
         "model and tokenizer in the pipeline')",
         make_classifier="from transformers import AutoModelForSequenceClassification, AutoTokenizer\n\n"
                         "tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)\n"
                         "model = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR)\n"
                         "classifier = pipeline('sentiment-analysis', model=model, tokenizer=tokenizer)"),
    case("numpy_ratio_lower_compare",
         "positive_ratio with numpy mean of a boolean list and a case-insensitive compare (common student style)",
         positive_ratio="import numpy as np\n\n\ndef positive_ratio(labels):\n"
                        "    return float(np.mean([label.lower() == 'positive' for label in labels]))"),
    case("sum_generator_ratio_str_input",
         "predict_labels that also accepts one string (`if isinstance(texts, str)`), sum(...)/len ratio",
         predict_labels="def predict_labels(texts):\n    if isinstance(texts, str):\n        texts = [texts]\n"
                        "    return [pred['label'] for pred in classifier(list(texts))]",
         positive_ratio="def positive_ratio(labels):\n    if not labels:\n        return 0.0\n"
                        "    return sum(label == 'POSITIVE' for label in labels) / len(labels)"),
    case("confident_comprehension_device",
         "device=-1 (CPU) in the pipeline, confident_only as one comprehension over zip (HF docs pipeline device)",
         make_classifier="classifier = pipeline('sentiment-analysis', model=MODEL_DIR, device=-1)",
         confident_only="def confident_only(texts, threshold=0.9):\n    results = classifier(texts)\n"
                        "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] >= threshold]"),
    case("confident_enumerate_index",
         "confident_only with enumerate and indexing (typical Korean bootcamp notebook style)",
         confident_only="def confident_only(texts, threshold=0.9):\n    preds = classifier(texts)\n    answer = []\n"
                        "    for i in range(len(texts)):\n        if not preds[i]['score'] < threshold:\n"
                        "            answer.append((texts[i], preds[i]['label']))\n    return answer"),

    # ── subtly wrong ─────────────────────────────────────────────────────────
    case("w_strictly_greater",
         "`>` instead of the asked `>=` (이상) in confident_only (issue 12 example)",
         expected={"threshold": 0},
         why="'이상' means >=; a review whose score equals the threshold must be kept",
         confident_only=BASE["confident_only"].replace(">= threshold", "> threshold")),
    case("w_text_score_pairs",
         "returns (text, score) pairs instead of (text, label) (issue 12 example)",
         expected={"threshold": 0},
         confident_only=BASE["confident_only"].replace("(text, result['label'])", "(text, result['score'])")),
    case("w_texts_only",
         "returns only the kept texts, not (review, label) tuples",
         expected={"threshold": 0},
         confident_only="def confident_only(texts, threshold=0.9):\n"
                        "    return [t for t, r in zip(texts, classifier(texts)) if r['score'] >= threshold]"),
    case("w_threshold_ignored",
         "the threshold argument is ignored: 0.9 hard-coded in the comparison",
         expected={"threshold": 0},
         confident_only=BASE["confident_only"].replace(">= threshold", ">= 0.9")),
    case("w_ratio_percent",
         "positive_ratio returns a percentage (x 100) instead of a 0~1 ratio",
         expected={"positive_ratio": 0},
         positive_ratio="def positive_ratio(labels):\n    return labels.count('POSITIVE') / len(labels) * 100"),
    case("w_ratio_floor_division",
         "`//` instead of `/` in positive_ratio (0 for every mixed list)",
         expected={"positive_ratio": 0},
         positive_ratio="def positive_ratio(labels):\n    return labels.count('POSITIVE') // len(labels)"),
    case("w_lowercase_labels",
         "labels lower-cased in predict_labels (`r['label'].lower()`), issue 12 example",
         expected={"batch_labels": 0},
         why="the notebook asks for the pipeline's 'POSITIVE'/'NEGATIVE' strings, so batch_labels is lost; the "
             "predictions themselves are right, so the hidden accuracy is kept (debatable: a strict TA may take both)",
         predict_labels="def predict_labels(texts):\n    return [r['label'].lower() for r in classifier(texts)]"),
    case("w_returns_result_dicts",
         "predict_labels returns classifier(texts) itself: the result dicts, not label strings (issue 12 example; "
         "nbgrader used to drop the notebook)",
         expected={"batch_labels": 0},
         why="first written as two checks lost (batch_labels, hidden_accuracy); reviewed: the label of every review "
             "is inside its dict, so the predictions are right and the form is judged once, by batch_labels, as for "
             "lower-case labels (the demo's returns_scores differs: its scores hold no labels at all)",
         predict_labels="def predict_labels(texts):\n    return classifier(texts)"),
]


# ── issue 23 §3: more public sources (names vt2_*) ─────────────────────────────────────────────────────
def case2(name, origin, expected=None, why=None, **answers):
    return {"name": f"vt2_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES += [
    # ── correct but different: full marks ────────────────────────────────
    case2("generator_input",
          "Hugging Face pipelines docs 'Pipelines on a dataset' (`def data(): ... yield ...` then "
          "`for out in pipe(data()):`): the reviews are fed as a generator expression instead of a list",
          why="the pipeline streams the generator and yields one result per review, in order; the labels "
              "collected are exactly the batch call's",
          predict_labels="def predict_labels(texts):\n    return [out['label'] for out in classifier(t for t in texts)]"),
    case2("itemgetter_map",
          "`list(map(operator.itemgetter('label'), results))` (Python docs operator.itemgetter idiom, common on "
          "Stack Overflow 'get values of a key from a list of dicts')",
          predict_labels="from operator import itemgetter\n\n\ndef predict_labels(texts):\n"
                         "    return list(map(itemgetter('label'), classifier(texts)))"),
    case2("pandas_dataframe_counter",
          "L. Tunstall et al., 'Natural Language Processing with Transformers' ch. 1 (`outputs = classifier(text); "
          "pd.DataFrame(outputs)`): confident_only filters a DataFrame of the results; positive_ratio with "
          "collections.Counter",
          positive_ratio="from collections import Counter\n\n\ndef positive_ratio(labels):\n"
                         "    return Counter(labels)['POSITIVE'] / len(labels)",
          confident_only="""import pandas as pd


def confident_only(texts, threshold=0.9):
    df = pd.DataFrame(classifier(texts))
    df['text'] = list(texts)
    kept = df[df['score'] >= threshold]
    return list(zip(kept['text'], kept['label']))"""),

    # ── wrong in exactly one way ─────────────────────────────────────────
    case2("w_label_text_order",
          "confident_only returns (label, review) tuples, label first as the pipeline's result dict lists it, "
          "instead of the asked (리뷰, 레이블)",
          expected={"threshold": 0},
          confident_only="def confident_only(texts, threshold=0.9):\n    results = classifier(texts)\n"
                         "    return [(r['label'], t) for t, r in zip(texts, results) if r['score'] >= threshold]"),
    case2("w_positive_only",
          "confident_only that keeps only confident POSITIVE reviews (the HF course ch. 1 sentiment example read as "
          "'find the happy reviews')",
          expected={"threshold": 0},
          why="(d) asks for every review whose score is at least the threshold, whatever its label",
          confident_only="def confident_only(texts, threshold=0.9):\n    kept = []\n"
                         "    for text, result in zip(texts, classifier(texts)):\n"
                         "        if result['label'] == 'POSITIVE' and result['score'] >= threshold:\n"
                         "            kept.append((text, result['label']))\n    return kept"),
]


# ── issue 23 §2: behaviour probes compare like with like (names vt3_*) ──────────────────────────────────
def case3(name, origin, expected=None, why=None, **answers):
    return {"name": f"vt3_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES += [
    # ── correct but unusual: full marks ──────────────────────────────────
    case3("labels_tuple",
          "`return tuple(r['label'] for r in classifier(texts))` (a tuple: ordered, len() and indexing work)",
          why="(b) asks for a list of labels; a tuple holds every label in order and works wherever the list is "
              "used (positive_ratio, indexing)",
          predict_labels="def predict_labels(texts):\n    return tuple(r['label'] for r in classifier(texts))"),
    case3("labels_list_subclass",
          "a list subclass (`class Labels(list)`) holding the labels",
          predict_labels="class Labels(list):\n    pass\n\n\ndef predict_labels(texts):\n"
                         "    return Labels(r['label'] for r in classifier(texts))"),
    case3("confident_batch_size",
          "confident_only calls the pipeline with `batch_size=8` (HF pipeline batching docs): padded batches give "
          "scores that differ from one-by-one calls in the 7th digit",
          why="`>=` as asked; the boundary review must be judged with the scores the student's own call gives",
          confident_only="def confident_only(texts, threshold=0.9):\n    results = classifier(texts, batch_size=8)\n"
                         "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] >= threshold]"),

    # ── wrong in exactly this way ────────────────────────────────────────
    case3("w_labels_generator",
          "a generator expression instead of the list comprehension (`(r['label'] for r in ...)`)",
          expected={"batch_labels": 0},
          why="(b) asks for a list; a generator is read once and has no len(). The labels inside are right, so "
              "the hidden accuracy is kept (the form is judged once, by batch_labels)",
          predict_labels="def predict_labels(texts):\n    return (r['label'] for r in classifier(texts))"),
    case3("w_labels_map",
          "`map(lambda r: r['label'], classifier(texts))` without list(...)",
          expected={"batch_labels": 0},
          why="a map object is not a list (read once, no len()); the labels inside are right",
          predict_labels="def predict_labels(texts):\n    return map(lambda r: r['label'], classifier(texts))"),
    case3("w_confident_batch_size_strict",
          "as vt3_confident_batch_size, but with `>` instead of the asked `>=`",
          expected={"threshold": 0},
          why="'이상' means >=: the review whose own score is the threshold must be kept",
          confident_only="def confident_only(texts, threshold=0.9):\n    results = classifier(texts, batch_size=8)\n"
                         "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] > threshold]"),
    case3("w_classifier_generator",
          "the pipeline wrapped in a function that yields the results one by one",
          expected={"structure": 0},
          why="(a) asks for the pipeline itself, which gives a list of result dicts; the functions built on it "
              "still work",
          make_classifier="_pipe = pipeline('sentiment-analysis', model=MODEL_DIR)\n\n\n"
                          "def classifier(texts, **kwargs):\n    yield from _pipe(texts, **kwargs)"),
]
