"""Readings of framework objects that more than one place needs, the same way everywhere.

The Keras export in the student's kernel and the scoring sandbox (graders/farm/measure_runner.py)
both name a layer's activation with `keras_activation_name`, so a model is described alike on both
sides of the sandbox.  Nothing here is about one exercise.
"""
from __future__ import annotations


def keras_activation_name(act):
    """An activation as a plain name however it was given: 'relu', tf.nn.relu, keras's {'config': 'softmax_v2'}."""
    if act is None:
        return None
    if isinstance(act, dict):
        cfg = act.get("config")
        act = (cfg.get("name") if isinstance(cfg, dict) else cfg) or act.get("class_name")
    if callable(act):
        act = getattr(act, "__name__", type(act).__name__)
    name = str(act).split(".")[-1].lower()
    for suffix in ("_v2", "_v1"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name
