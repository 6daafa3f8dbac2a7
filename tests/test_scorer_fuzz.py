"""Fuzz: every scorer, fed random, truncated, wrong-typed and oversized artifacts and measurements,
gives every graded cell a score and never raises (a scorer exception would make nbgrader drop
the whole notebook).  Unit level: the scorers read a folder and a measurement dict; the farm's
end-to-end tests prove the rest of the path."""
import json
import os
import random

import pytest

from conftest import REPO
from graders.checks import CheckResult, Context
from graders.course import load_config

NAMES = ["keras_model", "keras_compile", "keras_training", "value_test_acc", "torch_model", "torch_setup",
         "torch_loop", "torch_training", "sentiment_structure", "sentiment_predictions", "sentiment_ratio",
         "sentiment_confident", "fastai_data", "fastai_learner", "fastai_training"]
FILES = ["keras_def.keras", "keras_trained.keras", "torch_def.pt2", "torch_trained.pt2", "fastai_state.safetensors"]
KEYS = ["layers", "history", "loss", "predictions", "cases", "kept", "threshold", "value", "compiled", "optimizer",
        "metrics", "steps", "batches", "grad_ratio", "forward_modes", "loss_before", "loss_after", "vocab", "phases",
        "batch_x", "output_shape", "batch", "inputs", "n_inputs", "type", "raw", "qid", "answered", "describe",
        "shape", "min", "max", "row_sum_max_dev", "finite", "loaded", "error", "missing", "saved", "layout",
        "fixed_batch", "boundary", "seconds", "sizes", "n_out", "body_distance", "hidden", "public", "class_name",
        "activation", "params", "rate", "in_features", "label", "score", "epochs", "trainable_body", "body_convs"]


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(14 if depth < 4 else 9)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 3, 10, 64, 784, 3500, 2**63, -(2**70)])
    if kind == 3:
        return rng.choice([0.0, -1e308, 1e308, 0.5, 0.99, float("nan"), float("inf")])
    if kind == 4:
        return rng.choice(["", "POSITIVE", "negative", "A", "relu", "adam", "=HYPERLINK(\"x\")", "<script>x</script>",
                           "가" * rng.choice([1, 50, 5000])])
    if kind == 5:
        return "x" * rng.choice([10, 100_000])
    if kind == 6:
        return [rng.randrange(-5, 1000) for _ in range(rng.choice([0, 3, 500, 1000, 5000]))]
    if kind == 7:
        return rng.choice([[], {}, [None], [[]], {"": None}])
    if kind == 8:
        return rng.choice(["1" * 400, "1e400", "-0", "NaN"])
    if kind < 12:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(8))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(6))]


def _text(rng: random.Random) -> str:
    payload = {rng.choice(KEYS): _value(rng) for _ in range(rng.randrange(1, 12))}
    text = json.dumps(payload, allow_nan=True)
    choice = rng.randrange(10)
    if choice == 0:
        return text[: rng.randrange(len(text) + 1)]                   # truncated
    if choice == 1:
        return "[" * 100_000 + "]" * 100_000                          # deep
    if choice == 2:
        return '{"value": ' + "9" * 5000 + "}"                        # huge integer
    if choice == 3:
        return json.dumps([1, 2, 3])                                  # not an object
    return text


def _write(folder, rng: random.Random, quiz_names):
    for name in NAMES + quiz_names:
        pick = rng.randrange(12)
        path = folder / f"{name}.json"
        if pick == 0:
            continue                                                  # missing
        if pick == 1:
            path.write_bytes(os.urandom(rng.randrange(1, 300)))      # not text
        elif pick == 2:
            path.symlink_to(path)                                     # a link loop
        elif pick == 3:
            path.mkdir()
        else:
            path.write_text(_text(rng))
    for name in FILES:
        if rng.random() < 0.5:
            (folder / name).write_bytes(os.urandom(rng.randrange(0, 2000)))


def _measurer(rng: random.Random):
    def run():
        if rng.random() < 0.1:
            raise RuntimeError("the scoring sandbox could not start")
        out = {}
        for model in ("defined", "trained"):
            if rng.random() < 0.2:
                continue
            value = _value(rng)
            out[model] = value if rng.random() < 0.3 else {
                "loaded": rng.choice([True, True, False, None]), "error": _value(rng),
                "describe": {"layers": [_value(rng) for _ in range(rng.randrange(5))]},
                "hidden": {"predictions": _value(rng), "shape": _value(rng), "finite": _value(rng)},
                "public": {"predictions": [rng.randrange(-3, 12) for _ in range(rng.choice([0, 500, 10]))],
                           "shape": [500, 10], "min": _value(rng), "max": _value(rng), "row_sum_max_dev": _value(rng)},
                "vocab": _value(rng), "n_out": _value(rng), "body_distance": _value(rng)}
        return out
    return run


@pytest.fixture(scope="module")
def cfg():
    return load_config(REPO / "course_config.py")


@pytest.mark.parametrize("assignment", ["keras_mnist", "pytorch_mnist", "fastai_transfer", "transformers_pipeline",
                                        "concepts_quiz"])
def test_every_scorer_scores_every_cell_whatever_the_artifacts(cfg, tmp_path, assignment):
    scorer = cfg.scorer(assignment)
    points = cfg.assignment(assignment).points
    quiz_names = [f"quiz_{c.name}" for cell in scorer.cells for c in cell.checks] if assignment == "concepts_quiz" else []
    for seed in range(12):
        rng = random.Random(f"{assignment}-{seed}")
        folder = tmp_path / f"a{seed}"
        folder.mkdir()
        _write(folder, rng, quiz_names)
        ctx = Context(artifacts=folder, thresholds=cfg.assignment(assignment).thresholds, lang=rng.choice(["ko", "en"]),
                      max_artifact_bytes=2**20, secrets=cfg, student="fuzz", models=tuple(scorer.models),
                      measurer=_measurer(rng))
        results = scorer.score(ctx, points)          # must not raise
        assert set(results) == {cell.grade_id for cell in scorer.cells}
        for cell in scorer.cells:
            got = results[cell.grade_id]
            assert [r.name for r in got] == [c.name for c in cell.checks]
            for r in got:
                assert isinstance(r, CheckResult)
                assert 0 <= r.score <= r.max_score == float(points[r.name])
                text = r.text(ctx.lang)
                assert len(text) < 4000, (r.name, seed, len(text))     # student strings are cut
                json.dumps(r.as_dict())


def test_negative_control_a_raising_check_is_caught_and_says_the_grader_could_not_judge(tmp_path):
    """The probe can fail: a check function that raises becomes 0 with the grader's note, not an exception."""
    from graders.checks.base import Check
    boom = Check("boom", lambda ctx, points: 1 / 0)
    r = boom.run(Context(artifacts=tmp_path, thresholds={}, lang="ko"), 2.0)
    assert r.score == 0 and "채점기" in r.note and "ZeroDivisionError" in r.staff
    assert "ZeroDivisionError" not in r.text("ko")        # the traceback is for staff only
