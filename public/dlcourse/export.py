"""Write plain-data artifacts for the grader (used by graded cells).

Everything written here is data — JSON and .npz arrays, never pickles — into
``$DLCOURSE_ARTIFACTS`` (default ``./.artifacts``).  The grader reads these files
outside the student's kernel and decides the grade there; a failure here is
recorded as an ``error`` entry instead of raising, so a broken answer shows up as
a clear message rather than a traceback from a hidden cell.
"""
from __future__ import annotations

import json
import math
import os
import traceback
from pathlib import Path

import numpy as np


def artifacts_dir() -> Path:
    d = Path(os.environ.get("DLCOURSE_ARTIFACTS", ".artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _plain(value):
    """Convert to JSON-safe plain data (numbers, strings, lists, dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else str(f)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return _plain(value.item())
    return str(value)


def write_json(name: str, payload) -> Path:
    path = artifacts_dir() / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_plain(payload), ensure_ascii=False))
    tmp.replace(path)
    return path


def _guarded(name: str, fn, *args):
    try:
        payload = fn(*args)
    except Exception as exc:  # recorded for the grader, not raised in the notebook
        payload = {"error": f"{type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc(limit=3)[-2000:]}
    write_json(name, payload)
    return None


def _missing(what: str):
    return {"missing": what}


# ── Keras ───────────────────────────────────────────────────────────────────
def _keras_loss_name(loss) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _keras_layers(model):
    layers = []
    for layer in model.layers:
        cfg = layer.get_config()
        try:
            out_shape = list(layer.output.shape)
        except Exception:
            out_shape = None
        act = cfg.get("activation")
        if isinstance(act, dict):
            act = act.get("config", {}).get("name") or act.get("class_name")
        layers.append({
            "class_name": type(layer).__name__,
            "name": layer.name,
            "output_shape": out_shape,
            "params": int(layer.count_params()) if layer.built else None,
            "activation": act,
            "units": cfg.get("units"),
            "rate": cfg.get("rate"),
            "weight_shapes": [list(w.shape) for w in layer.get_weights()],
        })
    try:
        input_shape = list(model.inputs[0].shape)
    except Exception:
        input_shape = None
    return {"framework": "keras", "input_shape": input_shape, "layers": layers}


def keras_model(model) -> None:
    """Layer summary of a Keras model: type, output shape, parameters, activation, rate."""
    _guarded("keras_model", lambda m: _missing("model") if m is None else _keras_layers(m), model)


def _keras_compile(model):
    if getattr(model, "optimizer", None) is None:
        return {"compiled": False}
    try:
        cc = model.get_compile_config() or {}
    except Exception:
        cc = {}
    metrics = []
    for m in cc.get("metrics") or []:
        if isinstance(m, dict):
            m = m.get("config", {}).get("name") or m.get("class_name")
        metrics.append(str(m))
    return {
        "compiled": True,
        "optimizer": type(model.optimizer).__name__,
        "learning_rate": _plain(getattr(model.optimizer, "learning_rate", None).numpy()
                                if hasattr(getattr(model.optimizer, "learning_rate", None), "numpy") else None),
        "loss": _keras_loss_name(getattr(model, "loss", None)),
        "metrics": metrics,
    }


def keras_compile(model) -> None:
    """Optimizer, loss and metrics the model was compiled with."""
    _guarded("keras_compile", lambda m: _missing("model") if m is None else _keras_compile(m), model)


def _keras_training(model, history):
    if model is None:
        return _missing("model")
    out = {"history": None, "epochs": 0}
    if history is not None and hasattr(history, "history"):
        out["history"] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        out["epochs"] = len(out["history"].get("loss", []))
    weights = {}
    for i, layer in enumerate(model.layers):
        for j, w in enumerate(layer.get_weights()):
            weights[f"layer{i}_w{j}"] = np.asarray(w, dtype=np.float32)
    np.savez(artifacts_dir() / "keras_weights.npz", **weights)
    out["weights_file"] = "keras_weights.npz"
    out["layers"] = _keras_layers(model)["layers"]
    return out


def keras_training(model, history) -> None:
    """Training history and the trained weights (as plain arrays in an .npz)."""
    _guarded("keras_training", _keras_training, model, history)


def value(name: str, obj) -> None:
    """A single reported value (e.g. the student's test accuracy)."""
    _guarded(f"value_{name}", lambda v: _missing(name) if v is None else {"value": _plain(v)}, obj)
