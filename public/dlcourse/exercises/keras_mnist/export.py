"""Artifacts of the keras_mnist exercise (used by its graded cells).

The model leaves the kernel in Keras's own format (.keras); the grader loads and runs it in a
fresh scoring sandbox.  What is described here (layers, compile settings, history) only
explains; the grade is measured there.  Shared helpers come from ``dlcourse.artifacts``
(``value`` is re-exported: the notebook calls ``_export.value(...)``).
"""
from __future__ import annotations

from dlcourse.artifacts import _guarded, _missing, _numbers, _plain, artifacts_dir, value  # noqa: F401
from dlcourse.frameworks import keras_activation_name as _act_name   # read the same way by the grader

KERAS_DEF = "keras_def.keras"
KERAS_TRAINED = "keras_trained.keras"
MNIST_SHAPE = (28, 28)


def _keras_loss_name(loss) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _keras_layers(model):
    """A readable layer list (kernel side: for messages only; the grader describes the saved model itself)."""
    layers = []
    for layer in getattr(model, "layers", []) or []:
        entry = {"class_name": type(layer).__name__, "name": str(getattr(layer, "name", ""))[:100]}
        try:
            cfg = layer.get_config()
        except Exception:
            cfg = {}
        try:
            entry["output_shape"] = [None if d is None else int(d) for d in layer.output.shape]
        except Exception:
            entry["output_shape"] = None
        try:
            entry["params"] = int(layer.count_params()) if layer.built else None
        except Exception:
            entry["params"] = None
        entry["activation"] = _act_name(cfg.get("activation"))
        entry["units"] = cfg.get("units") if isinstance(cfg.get("units"), int) else None
        entry["rate"] = cfg.get("rate") if isinstance(cfg.get("rate"), (int, float)) else None
        layers.append(entry)
    return {"framework": "keras", "layers": layers}


def _keras_ready(model) -> None:
    """A model made without input_shape is built for MNIST images before it is described or saved.

    Calling it once on zeros builds every layer (a subclassed model may say `built` while its
    layers are not); it changes no weight.
    """
    layers = getattr(model, "layers", None) or []
    if getattr(model, "built", True) and all(getattr(l, "built", True) for l in layers):
        return
    import numpy as np

    for shape in ((1, *MNIST_SHAPE), (1, 784), (1, *MNIST_SHAPE, 1)):
        try:
            model(np.zeros(shape, dtype="float32"))
            return
        except Exception:
            continue
    try:
        model.build((None, *MNIST_SHAPE))
    except Exception:
        pass


def _keras_save(model, name: str) -> dict:
    _keras_ready(model)
    path = artifacts_dir() / name
    try:
        model.save(str(path))
    except Exception as exc:
        return {"saved": None, "save_error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"saved": name}


def _keras_model(model):
    if model is None:
        return _missing("model")
    _keras_ready(model)
    return {**_keras_layers(model), **_keras_save(model, KERAS_DEF)}


def keras_model(model) -> None:
    """The defined model, saved as .keras for the grader, and a readable layer list."""
    _guarded("keras_model", _keras_model, model)


def _keras_compile(model):
    if getattr(model, "optimizer", None) is None:
        return {"compiled": False}
    try:
        cc = model.get_compile_config() or {}
    except Exception:
        cc = {}
    metrics = []
    raw = cc.get("metrics") or []
    for m in (raw if isinstance(raw, (list, tuple)) else [raw]):
        if isinstance(m, dict):
            cfg = m.get("config")
            m = (cfg.get("name") if isinstance(cfg, dict) else cfg) or m.get("class_name")
        elif not isinstance(m, str):
            m = getattr(m, "name", None) or getattr(m, "__name__", None) or type(m).__name__
        metrics.append(str(m)[:100])
    loss = getattr(model, "loss", None)
    if loss is None and isinstance(cc.get("loss"), (str, dict)):
        loss = cc["loss"] if isinstance(cc["loss"], str) else (cc["loss"].get("config") or {}).get("name")
    try:
        lr = _plain(model.optimizer.learning_rate.numpy())
    except Exception:
        lr = None
    return {"compiled": True, "optimizer": type(model.optimizer).__name__, "learning_rate": lr,
            "loss": _keras_loss_name(loss), "metrics": metrics}


def keras_compile(model) -> None:
    """Optimizer, loss and metrics the model was compiled with."""
    _guarded("keras_compile", lambda m: _missing("model") if m is None else _keras_compile(m), model)


def _history_dict(history, model):
    """history = model.fit(...), its .history dict, or (when the student kept nothing) model.history."""
    for h in (history, getattr(model, "history", None)):
        if h is None:
            continue
        d = h if isinstance(h, dict) else getattr(h, "history", None)
        if isinstance(d, dict) and d:
            return {str(k)[:50]: _numbers(v) for k, v in list(d.items())[:20]}
    return None


def _keras_training(model, history):
    if model is None:
        return _missing("model")
    hist = _history_dict(history, model)
    out = {"history": hist, "epochs": len((hist or {}).get("loss") or [])}
    out.update(_keras_save(model, KERAS_TRAINED))
    return out


def keras_training(model, history) -> None:
    """Training history and the trained model (.keras, measured by the grader)."""
    _guarded("keras_training", _keras_training, model, history)
