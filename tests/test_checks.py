"""Unit tests of the check library (the end-to-end tests prove the grades)."""
import json

import numpy as np
import pytest

from graders.checks import Context, Layer, compare_layers, partial_credit
from graders.checks.accuracy import dense_forward
from graders.checks.base import RebuildError
from graders.scorers.keras_mnist import EXPECTED_LAYERS


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


def test_rebuilt_dense_network_matches_numpy_reference():
    rng = np.random.default_rng(0)
    w0, b0, w1, b1 = rng.normal(size=(784, 8)), rng.normal(size=8), rng.normal(size=(8, 10)), rng.normal(size=10)
    layers = [{"class_name": "Flatten"}, {"class_name": "Dense", "activation": "relu"},
              {"class_name": "Dropout"}, {"class_name": "Dense", "activation": "softmax"}]
    weights = {"layer1_w0": w0, "layer1_w1": b0, "layer3_w0": w1, "layer3_w1": b1}
    x = rng.random((5, 28, 28))
    out = dense_forward(layers, weights, x)
    h = np.maximum(x.reshape(5, -1) @ w0 + b0, 0) @ w1 + b1
    ref = np.exp(h - h.max(1, keepdims=True))
    assert np.allclose(out, ref / ref.sum(1, keepdims=True), atol=1e-5)
    with pytest.raises(RebuildError):
        dense_forward([{"class_name": "Conv2D"}], {}, x)


def test_artifacts_are_read_as_data_only(tmp_path):
    (tmp_path / "big.json").write_text(json.dumps({"x": "y" * 2000}))
    (tmp_path / "bad.json").write_text("{not json")
    np.save(tmp_path / "obj.npy", np.array([object()], dtype=object), allow_pickle=True)
    (tmp_path / "obj.npz").write_bytes(b"PK not really")
    ctx = Context(artifacts=tmp_path, thresholds={}, max_artifact_bytes=1000)
    from graders.checks import ArtifactProblem
    for name in ("big", "bad", "missing"):
        with pytest.raises(ArtifactProblem):
            ctx.json(name)
    with pytest.raises(ArtifactProblem):
        ctx.arrays("obj.npz")
    np.savez(tmp_path / "pickled.npz", a=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ArtifactProblem):   # object arrays would need unpickling: refused
        ctx.arrays("pickled.npz")
    with pytest.raises(ArtifactProblem):
        ctx.json("../outside")
