"""Unit tests of the check library (the end-to-end tests prove the grades)."""
import json
import os

import numpy as np
import pytest

from graders.checks import Context, Layer, compare_layers, partial_credit
from conftest import REPO
from graders.exercises.keras_mnist.scorer import EXPECTED_LAYERS


def test_partial_credit_is_linear_between_floor_and_target():
    assert partial_credit(0.95, 0.5, 0.85, 3) == 3
    assert partial_credit(0.50, 0.5, 0.85, 3) == 0
    assert partial_credit(0.675, 0.5, 0.85, 3) == 1.5
    assert partial_credit(0.1, 0.5, 0.85, 3) == 0


def test_comparator_catches_a_truncated_model():
    """Zipping the lists would pass this model; aligning them reports the missing layers."""
    truncated = EXPECTED_LAYERS[:2]
    diffs = compare_layers(truncated, EXPECTED_LAYERS, "en")
    assert diffs and "missing layers" in diffs[0][1] and "Dropout" in diffs[0][1]


def test_comparator_reports_extra_and_changed_layers():
    extra = EXPECTED_LAYERS[:3] + [Layer("Dense", output=(64,), params=8256, activation="relu")] + EXPECTED_LAYERS[3:]
    assert any("extra layers" in d[2] for d in compare_layers(extra, EXPECTED_LAYERS, "en"))
    changed = [EXPECTED_LAYERS[0], Layer("Dense", output=(64,), params=50240, activation="relu"), *EXPECTED_LAYERS[2:]]
    fields = {d[0] for d in compare_layers(changed, EXPECTED_LAYERS, "en")}
    assert any("output shape" in f for f in fields) and any("parameter count" in f for f in fields)
    assert compare_layers(list(EXPECTED_LAYERS), EXPECTED_LAYERS) == []


def test_artifacts_are_read_as_data_only(tmp_path):
    (tmp_path / "big.json").write_text(json.dumps({"x": "y" * 2000}))
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "deep.json").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    (tmp_path / "huge_int.json").write_text('{"value": ' + "9" * 5000 + "}")
    ctx = Context(artifacts=tmp_path, thresholds={}, max_artifact_bytes=100_000)
    from graders.checks import ArtifactProblem
    for name in ("bad", "deep", "loop", "missing"):
        with pytest.raises(ArtifactProblem):
            ctx.json(name)
    assert ctx.json("huge_int")["value"] == float("inf")       # not a 5000-digit int() in the grader
    small = Context(artifacts=tmp_path, thresholds={}, max_artifact_bytes=1000)
    with pytest.raises(ArtifactProblem):
        small.json("big")
    with pytest.raises(ArtifactProblem):
        ctx.json("../outside")


def test_student_strings_are_cut_before_messages():
    from graders.checks import shown
    assert len(shown("x" * 20_000_000)) <= 301
    assert shown("short") == "short"


_KERAS_MODELS = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import importlib.util
import tensorflow as tf

spec = importlib.util.spec_from_file_location("runner", sys.argv[1])
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)


def seq(act=tf.nn.relu):
    m = tf.keras.models.Sequential()
    m.add(tf.keras.layers.Flatten())
    m.add(tf.keras.layers.Dense(128, activation=act))
    m.add(tf.keras.layers.Dropout(0.2))
    m.add(tf.keras.layers.Dense(10, activation=tf.nn.softmax))
    m.build((None, 28, 28))
    return m


def functional():
    inp = tf.keras.Input(shape=(28, 28))
    h = tf.keras.layers.Dense(128)(tf.keras.layers.Flatten()(inp))
    h = tf.keras.layers.Dropout(0.2)(tf.keras.layers.ReLU()(h))
    out = tf.keras.layers.Softmax()(tf.keras.layers.Dense(10)(h))
    return tf.keras.Model(inp, out)


out = {}
for name, build in (("seq", seq), ("functional", functional), ("sigmoid", lambda: seq(tf.nn.sigmoid))):
    path = os.path.join(sys.argv[2], name + ".keras")
    build().save(path)
    out[name] = runner.keras_describe({"model": path})["describe"]["layers"]      # the archive read as data
print(json.dumps(out))
"""


def test_keras_structure_is_compared_by_meaning(tmp_path):
    """Sequential with tf.nn functions, functional API with Input + Activation layers: the same model.

    Saved and described (as the scoring sandbox does) in a child process: TensorFlow stays out of
    the test process, where torch.export also runs."""
    import subprocess
    import sys
    from graders.checks.layers import _found_layer

    env = {**os.environ, "PYTHONPATH": f"{REPO}/public:{REPO}"}
    proc = subprocess.run([sys.executable, "-c", _KERAS_MODELS, str(REPO / "graders/farm/measure_runner.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    described = json.loads(proc.stdout.strip().splitlines()[-1])
    want = [l for l in EXPECTED_LAYERS if l.kind != "Flatten"]
    for name in ("seq", "functional"):
        found = [_found_layer(l) for l in described[name] if l["class_name"] != "Flatten"]
        assert compare_layers(found, want) == [], (name, found)
    # negative control: the comparator still sees a different activation
    found = [_found_layer(l) for l in described["sigmoid"] if l["class_name"] != "Flatten"]
    assert compare_layers(found, want) != []


# ── a reported test accuracy is the trained model's accuracy on the test set (issue 23 §2) ──
def _evaluated_ctx(tmp_path, reported, acc: dict, tol=0.005, history=None):
    """A context whose saved model scores exactly `acc[set]` on each set (labels all 0, predictions 0 or 1)."""
    from graders.checks import reported_test_accuracy
    n = {"test": 500, "train": 3500, "hidden": 1000}
    inputs = {"test": "public", "train": "train", "hidden": "hidden"}
    measured = {"trained": {"loaded": True, **{inputs[k]: {"predictions": [0] * round(acc[k] * n[k]) + [1] * (n[k] - round(acc[k] * n[k])),
                                                           "shape": [n[k], 10], "finite": True} for k in n}}}
    (tmp_path / "value_test_acc.json").write_text(json.dumps({"value": reported}))
    sets = lambda ctx: {k: (inputs[k], [0] * n[k]) for k in n}
    if history is not None:
        (tmp_path / "keras_training.json").write_text(json.dumps({"history": history}))
    check = reported_test_accuracy("evaluated", "value_test_acc", "trained", sets, "evaluate_tolerance",
                                   "evaluate_expected", "evaluate_hint", var="test_acc", history="keras_training")
    ctx = Context(artifacts=tmp_path, thresholds={"evaluate_tolerance": tol}, lang="en", measurer=lambda: measured)
    return check.run(ctx, 2.0)


@pytest.mark.parametrize("reported,acc,points,why", [
    (0.926, {"test": 0.926, "train": 0.936, "hidden": 0.932}, 2.0, "honest: the test accuracy as measured"),
    (0.9259999871, {"test": 0.926, "train": 0.936, "hidden": 0.932}, 2.0, "float32 from evaluate()"),
    (0.928, {"test": 0.926, "train": 0.936, "hidden": 0.919}, 2.0, "one borderline image flipped on another device"),
    (0.936, {"test": 0.926, "train": 0.936, "hidden": 0.932}, 0.0, "the training accuracy"),
    (0.93, {"test": 0.928, "train": 0.931, "hidden": 0.92}, 0.0, "closer to the training accuracy, within tolerance"),
    (0.878, {"test": 0.878, "train": 0.817, "hidden": 0.813}, 0.0, "fit on the test set alone (measured here)"),
    (0.954, {"test": 0.954, "train": 0.86, "hidden": 0.84}, 0.0, "Keras fit(x_test, y_test) (variety vk2_w_fit_on_test)"),
    (0.778, {"test": 0.778, "train": 0.759, "hidden": 0.71}, 1.0 * 2, "under-trained honest model (vp2_w_zero_grad_before_loop)"),
    (0.104, {"test": 0.104, "train": 0.098, "hidden": 0.1}, 2.0, "untrained model, reported as it is"),
])
def test_evaluated_is_the_trained_models_test_accuracy(tmp_path, reported, acc, points, why):
    result = _evaluated_ctx(tmp_path, reported, acc)
    assert result.score == points, (why, result.found)


@pytest.mark.parametrize("reported,history,points,why", [
    (0.9431, {"loss": [0.9, 0.2], "accuracy": [0.7437, 0.9431]}, 0.0,
     "history['accuracy'][-1], one test image from the test accuracy (variety vk2_w_train_acc_as_test)"),
    (0.942, {"loss": [0.9, 0.2], "accuracy": [0.7437, 0.9431], "val_accuracy": [0.9, 0.942]}, 2.0,
     "val_accuracy[-1] with validation_data=(x_test, y_test): the final model on the test set"),
    (0.942, {"loss": [0.9, 0.2], "accuracy": [0.7437, 0.942]}, 2.0, "a training value that IS the test accuracy"),
    (0.942, None, 2.0, "no history recorded: judged by the measurements"),
])
def test_a_training_accuracy_from_the_history_is_not_a_test_accuracy(tmp_path, reported, history, points, why):
    result = _evaluated_ctx(tmp_path, reported, {"test": 0.942, "train": 0.958, "hidden": 0.93}, history=history)
    assert result.score == points, (why, result.found)
