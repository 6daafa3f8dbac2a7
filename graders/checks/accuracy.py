"""Accuracy measured in the grader zone, with partial credit.

Predictions made inside the sandbox could be forged, so the grader rebuilds the
network from the exported layer list and plain weight arrays and runs the hidden
split itself.  Rebuilding supports the layers the course's dense models use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..messages import msg
from .base import Check, CheckResult, Context, RebuildError


def accuracy_thresholds(values: dict) -> str | None:
    """Rule for configs with accuracy_floor/accuracy_target (and optionally evaluate_tolerance)."""
    if not 0 <= values["accuracy_floor"] < values["accuracy_target"] <= 1:
        return "need 0 <= accuracy_floor < accuracy_target <= 1"
    if "evaluate_tolerance" in values and not 0 < values["evaluate_tolerance"] < 1:
        return "evaluate_tolerance must be between 0 and 1"
    return None


def partial_credit(value: float, floor: float, target: float, points: float) -> float:
    """0 at or below ``floor``, full at or above ``target``, linear in between (2 decimals)."""
    if value >= target:
        return float(points)
    if value <= floor:
        return 0.0
    return round(points * (value - floor) / (target - floor), 2)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    None: lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": lambda z: np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True),
}


def dense_forward(layers: list[dict], weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Inference of a Keras Sequential made of Flatten/Dense/Dropout/Activation layers."""
    h = x.astype(np.float32)
    for i, layer in enumerate(layers):
        kind = layer.get("class_name")
        act = layer.get("activation")
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind == "Flatten":
            h = h.reshape(len(h), -1)
        elif kind == "Dense":
            kernel, bias = weights.get(f"layer{i}_w0"), weights.get(f"layer{i}_w1")
            if kernel is None or kernel.ndim != 2 or h.ndim != 2 or kernel.shape[0] != h.shape[1]:
                raise RebuildError(f"Dense #{i + 1}: kernel {None if kernel is None else kernel.shape} "
                                   f"vs input {h.shape[1:]}")
            h = h @ kernel
            if bias is not None:
                if bias.shape != (kernel.shape[1],):
                    raise RebuildError(f"Dense #{i + 1}: bias {bias.shape}")
                h = h + bias
            if act not in _ACTIVATIONS:
                raise RebuildError(f"Dense #{i + 1}: activation {act!r} not supported")
            h = _ACTIVATIONS[act](h)
        elif kind == "Activation":
            if act not in _ACTIVATIONS:
                raise RebuildError(f"Activation #{i + 1}: {act!r} not supported")
            h = _ACTIVATIONS[act](h)
        else:
            raise RebuildError(f"layer #{i + 1} {kind} not supported")
    return h


def keras_dense_accuracy(ctx: Context, artifact: str, x: np.ndarray, y: np.ndarray, scale: float = 1 / 255) -> float:
    data = ctx.json(artifact)
    layers = data.get("layers") or []
    weights = ctx.arrays(str(data.get("weights_file", "keras_weights.npz")))
    out = dense_forward(layers, weights, x * scale)
    if out.ndim != 2 or out.shape[1] != int(y.max()) + 1:
        raise RebuildError(f"output shape {out.shape[1:]} instead of ({int(y.max()) + 1},)")
    if not np.isfinite(out).all():
        raise RebuildError("output has nan/inf")
    return float((out.argmax(axis=1) == y).mean())


_TORCH_ACT = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


def torch_mlp_accuracy(ctx: Context, artifact: str, x: np.ndarray, y: np.ndarray, scale: float = 1 / 255) -> float:
    """Rebuild an MLP (Flatten → Linear → act → … → Linear) from a safetensors state_dict."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    data = ctx.json(artifact)
    layers = data.get("layers") or []
    linears = [l for l in layers if l.get("class_name") == "Linear"]
    acts = [l["class_name"] for l in layers if l.get("class_name") in _TORCH_ACT]
    act = _ACTIVATIONS[_TORCH_ACT[acts[0]]] if acts else _ACTIVATIONS["relu"]
    if len(layers) != len(linears) + len(acts) or not linears:
        raise RebuildError("only Linear layers and activations can be rebuilt")
    path = ctx._path(str(data.get("weights_file", "torch_state.safetensors")))
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RebuildError(f"weights file: {exc}") from None
    h = x.reshape(len(x), -1).astype(np.float32) * scale
    for i, layer in enumerate(linears):
        w, b = state.get(f"{layer['name']}.weight"), state.get(f"{layer['name']}.bias")
        if w is None or w.ndim != 2 or w.shape[1] != h.shape[1]:
            raise RebuildError(f"Linear #{i + 1}: weight {None if w is None else w.shape} vs input {h.shape[1:]}")
        h = h @ w.T.astype(np.float32) + (b if b is not None else 0)
        if i < len(linears) - 1:
            h = act(h)
    if h.shape[1] != int(y.max()) + 1 or not np.isfinite(h).all():
        raise RebuildError(f"output {h.shape[1:]} is not usable")
    return float((h.argmax(axis=1) == y).mean())


def hidden_accuracy(name: str, artifact: str, data: Callable[[Context], tuple], measure=keras_dense_accuracy,
                    floor_key: str = "accuracy_floor", target_key: str = "accuracy_target",
                    hint_key: str = "accuracy_hint") -> Check:
    """Accuracy on grader-zone data, points between floor and target."""

    def run(ctx: Context, points: float) -> CheckResult:
        floor, target = float(ctx.thresholds[floor_key]), float(ctx.thresholds[target_key])
        expected = msg("accuracy_expected", ctx.lang, floor=floor, target=target)
        x, y = data(ctx)
        try:
            acc = measure(ctx, artifact, x, y)
        except RebuildError as exc:
            return CheckResult(name, 0.0, points, expected=expected,
                               found=msg("weights_unusable", ctx.lang, why=exc), hint=msg("weights_hint", ctx.lang))
        score = partial_credit(acc, floor, target, points)
        found = msg("accuracy_found", ctx.lang, acc=acc, n=len(y))
        return CheckResult(name, score, points, expected=expected, found=found,
                           hint=msg(hint_key, ctx.lang), note=found if score >= points else None)

    return Check(name, run)
