"""Simulated class for transformers_pipeline: the reference and one student per typical mistake."""

REFERENCE = {
    "make_classifier": "classifier = pipeline('sentiment-analysis', model=MODEL_DIR)",
    "predict_labels": "def predict_labels(texts):\n    results = classifier(texts)\n    return [r['label'] for r in results]",
    "positive_ratio": "def positive_ratio(labels):\n"
                      "    return sum(1 for label in labels if label == 'POSITIVE') / len(labels)",
    "confident_only": "def confident_only(texts, threshold=0.9):\n    results = classifier(texts)\n"
                      "    return [(text, r['label']) for text, r in zip(texts, results) if r['score'] >= threshold]",
}

MISTAKES = {
    # a task name the pipeline does not know: nothing that needs the classifier works
    "wrong_task": {"make_classifier": "classifier = pipeline('sentiment', model=MODEL_DIR)"},
    # indexing the result as if it were one dict per batch
    "wrong_index": {"predict_labels": "def predict_labels(texts):\n    results = classifier(texts)\n"
                                      "    return results[0]['label']"},
    # the scores instead of the labels
    "returns_scores": {"predict_labels": "def predict_labels(texts):\n    results = classifier(texts)\n"
                                         "    return [r['score'] for r in results]"},
    # keeps the unsure reviews instead of the sure ones
    "threshold_reversed": {"confident_only": REFERENCE["confident_only"].replace(">= threshold", "< threshold")},
}

_FULL = {"structure": 2, "batch_labels": 1, "hidden_accuracy": 3, "positive_ratio": 1, "threshold": 2}

EXPECTED = {
    "ref": _FULL,
    "wrong_task": {**_FULL, "structure": 0, "batch_labels": 0, "hidden_accuracy": 0, "threshold": 0},
    "wrong_index": {**_FULL, "batch_labels": 0, "hidden_accuracy": 0},
    "returns_scores": {**_FULL, "batch_labels": 0, "hidden_accuracy": 0},
    "threshold_reversed": {**_FULL, "threshold": 0},
}
