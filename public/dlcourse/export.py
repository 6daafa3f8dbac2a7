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


# ── PyTorch ─────────────────────────────────────────────────────────────────
_TORCH_ACTIVATIONS = ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax")


def _torch_modules(model):
    """Leaf modules in registration order: parametrised layers and activation modules."""
    layers = []
    for name, module in model.named_modules():
        if any(True for _ in module.children()):
            continue
        kind = type(module).__name__
        n_params = sum(p.numel() for p in module.parameters(recurse=False))
        if n_params == 0 and kind not in _TORCH_ACTIVATIONS:
            continue
        entry = {"class_name": kind, "name": name, "params": int(n_params)}
        if hasattr(module, "out_features"):
            entry["output_shape"] = [None, int(module.out_features)]
            entry["in_features"] = int(module.in_features)
        layers.append(entry)
    return {"framework": "torch", "layers": layers,
            "total_params": int(sum(p.numel() for p in model.parameters()))}


def torch_model(model) -> None:
    """Parametrised layers (type, in/out features, parameters) and activation modules of an nn.Module."""
    _guarded("torch_model", lambda m: _missing("model") if m is None else _torch_modules(m), model)


def _torch_forward(model, batch: int = 16):
    import torch

    from .datasets import mnist

    (_, _), (x_test, _) = mnist.load_data()
    x = torch.tensor(x_test[:batch] / 255.0, dtype=torch.float32).unsqueeze(1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(x.to(device))
    model.train(was_training)
    out = out.detach().float().cpu()
    sums = out.sum(dim=1) if out.ndim == 2 else out.reshape(len(out), -1).sum(dim=1)
    return {"shape": list(out.shape), "min": float(out.min()), "max": float(out.max()),
            "row_sum_max_dev": float((sums - 1).abs().max()), "batch": batch}


def torch_forward(model) -> None:
    """Shape and value range of the model's output on a batch of public test images."""
    _guarded("torch_forward", lambda m: _missing("model") if m is None else _torch_forward(m), model)


def _torch_setup(model, criterion, optimizer):
    if criterion is None:
        return _missing("criterion")
    if optimizer is None:
        return _missing("optimizer")
    model_params = {id(p) for p in model.parameters()} if model is not None else set()
    opt_params = [p for g in optimizer.param_groups for p in g["params"]]
    return {
        "criterion": type(criterion).__name__,
        "optimizer": type(optimizer).__name__,
        "lr": _plain(optimizer.param_groups[0].get("lr")),
        "bound_to_model": bool(opt_params) and all(id(p) in model_params for p in opt_params)
        and len(model_params) == len({id(p) for p in opt_params}),
    }


def torch_setup(model, criterion, optimizer) -> None:
    """Loss function and optimizer: their types, learning rate, and whether the optimizer holds the model's parameters."""
    _guarded("torch_setup", _torch_setup, model, criterion, optimizer)


def _probe_model():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def _torch_loop_probe(train_fn, loader):
    """Run the student's train_one_epoch on fixed tiny data with the course's own model.

    Probe 1 (SGD with lr=0, the same batch three times): a hook records the gradient
    after each backward — equal norms mean gradients were reset between batches,
    growing norms mean they accumulate; the optimizer counts steps; a forward hook
    records train/eval mode.
    Probe 2 (Adam): the loss on the fixed batch before and after five epochs.
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    if train_fn is None:
        return _missing("train_one_epoch")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    criterion = nn.CrossEntropyLoss()

    class Recorder(torch.optim.SGD):
        def __init__(self, params):
            super().__init__(params, lr=0.0)
            self.steps = 0

        def step(self, closure=None):
            self.steps += 1
            return super().step(closure)

    model = _probe_model()
    model.eval()
    modes, norms = [], []
    model.register_forward_pre_hook(lambda m, inp: modes.append(bool(m.training)))
    first = next(model.parameters())
    # after each backward: the gradient now stored (grows if earlier ones were not reset)
    first.register_post_accumulate_grad_hook(lambda p: norms.append(float(p.grad.norm())))
    rec = Recorder(model.parameters())
    same_batch = DataLoader(TensorDataset(x.repeat(3, 1, 1, 1), y.repeat(3)), batch_size=8, shuffle=False)
    train_fn(model, same_batch, criterion, rec, "cpu")
    ratio = norms[-1] / norms[0] if len(norms) >= 2 and norms[0] > 0 else None

    model = _probe_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        loss_before = float(criterion(model(x), y))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    fixed = DataLoader(TensorDataset(x.repeat(4, 1, 1, 1), y.repeat(4)), batch_size=8, shuffle=False)
    for _ in range(5):
        train_fn(model, fixed, criterion, opt, "cpu")
    with torch.no_grad():
        loss_after = float(criterion(model(x), y))
    changed = any(not torch.equal(before[k], v) for k, v in model.state_dict().items())

    info = {"steps": rec.steps, "batches": 3, "backwards": len(norms), "grad_ratio": ratio, "forward_modes": modes,
            "params_changed": changed, "loss_before": loss_before, "loss_after": loss_after}
    if loader is not None:
        info["loader_batch_size"] = getattr(loader, "batch_size", None)
        try:
            info["loader_items"] = len(loader.dataset)
        except Exception:
            info["loader_items"] = None
    return info


def torch_loop_probe(train_fn, loader=None) -> None:
    """Behaviour of the student's training function on fixed data (see _torch_loop_probe)."""
    _guarded("torch_loop", _torch_loop_probe, train_fn, loader)


def _torch_training(model, losses):
    from safetensors.torch import save_file

    if model is None:
        return _missing("model")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(artifacts_dir() / "torch_state.safetensors"))
    out = _torch_modules(model)
    out["losses"] = [float(v) for v in losses] if losses is not None else None
    out["history"] = {"loss": out["losses"] or []}
    out["weights_file"] = "torch_state.safetensors"
    return out


def torch_training(model, losses) -> None:
    """Per-epoch losses and the trained state_dict (safetensors, not a pickle)."""
    _guarded("torch_training", _torch_training, model, losses)


# ── Transformers pipeline ───────────────────────────────────────────────────
RATIO_CASES = [
    ["POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE"],
    ["NEGATIVE", "NEGATIVE"],
    ["POSITIVE"],
    ["NEGATIVE", "POSITIVE", "NEGATIVE", "NEGATIVE", "POSITIVE"],
]
THRESHOLDS = [0.9, 0.99]


def grading_texts() -> list:
    """The hidden review texts (no labels) the grader lends the sandbox while grading."""
    path = Path(os.environ.get("DLCOURSE_GRADING", "/nonexistent")) / "sentiment_texts.json"
    if not path.exists():  # outside grading (e.g. a student running the cell): public examples
        from .datasets import reviews
        return reviews.texts()
    return json.loads(path.read_text())


def _describe(result, limit=5):
    if isinstance(result, dict):
        return {"type": "dict", "keys": sorted(map(str, result))[:10],
                "label": _plain(result.get("label")), "score": _plain(result.get("score"))}
    if isinstance(result, (list, tuple)):
        return {"type": "list", "length": len(result), "items": [_describe(r, limit) for r in list(result)[:limit]]}
    return {"type": type(result).__name__, "value": str(result)[:100]}


def _sentiment_structure(classifier):
    from .datasets import reviews

    if classifier is None:
        return _missing("classifier")
    texts = reviews.texts()[:3]
    return {"inputs": len(texts), "batch": _describe(classifier(texts)), "single": _describe(classifier(texts[0]))}


def sentiment_structure(classifier) -> None:
    """What the classifier returns for a batch of three reviews and for one review."""
    _guarded("sentiment_structure", _sentiment_structure, classifier)


def _sentiment_predictions(predict_labels):
    if predict_labels is None:
        return _missing("predict_labels")
    texts = grading_texts()
    preds = predict_labels(texts)
    items = list(preds) if isinstance(preds, (list, tuple)) else None
    return {"n_inputs": len(texts), "type": type(preds).__name__,
            "predictions": [_plain(p) for p in items] if items is not None else _plain(preds)}


def sentiment_predictions(predict_labels) -> None:
    """The student's labels for the hidden reviews (the labels themselves stay with the grader)."""
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


def _confident_cases(confident_only):
    if confident_only is None:
        return _missing("confident_only")
    texts = grading_texts()
    index = {t: i for i, t in enumerate(texts)}
    out = []
    for threshold in THRESHOLDS:
        kept = confident_only(texts, threshold)
        kept_texts = [k[0] if isinstance(k, (list, tuple)) and k else k for k in kept]
        out.append({"threshold": threshold, "kept": sorted(index[t] for t in kept_texts if t in index),
                    "unknown": sum(1 for t in kept_texts if t not in index)})
    return {"n_inputs": len(texts), "cases": out}


def confident_cases(confident_only) -> None:
    """Which hidden reviews confident_only keeps at two thresholds (as indices)."""
    _guarded("sentiment_confident", _confident_cases, confident_only)


# ── fastai ──────────────────────────────────────────────────────────────────
def _fastai_data(dls):
    if dls is None:
        return _missing("dls")
    xb, yb = dls.one_batch()
    return {"vocab": [str(v) for v in dls.vocab], "n_train": len(dls.train_ds), "n_valid": len(dls.valid_ds),
            "batch_x": list(xb.shape), "batch_y": list(yb.shape)}


def fastai_data(dls) -> None:
    """Classes, split sizes and the shape of one batch of the DataLoaders."""
    _guarded("fastai_data", _fastai_data, dls)


def _body_conv_weights(model):
    body = model[0] if hasattr(model, "__getitem__") else model
    return [p for p in body.parameters() if p.ndim == 4]


def _phase_recorder():
    from fastai.callback.core import Callback

    class CoursePhaseRecorder(Callback):
        """Records, for each training run (fit), how many body conv weights were trainable."""
        order = 99

        def __init__(self):
            self.phases, self._pending = [], False

        def before_fit(self):
            self._pending = True

        def before_train(self):   # only real training reaches here (validate/get_preds do not)
            if self._pending:
                convs = _body_conv_weights(self.learn.model)
                self.phases.append({"epochs": int(self.learn.n_epoch),
                                    "trainable_body": int(sum(p.requires_grad for p in convs)),
                                    "body_convs": len(convs)})
                self._pending = False

    return CoursePhaseRecorder()


def _fastai_learner(learn):
    import torch

    if learn is None:
        return _missing("learn")
    metrics = [getattr(m, "name", type(m).__name__) for m in learn.metrics]
    xb, _ = learn.dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb)
    if not any(type(cb).__name__ == "CoursePhaseRecorder" for cb in learn.cbs):
        learn.add_cb(_phase_recorder())   # watches the training that follows
    return {"metrics": metrics, "output_shape": list(out.shape), "n_vocab": len(learn.dls.vocab)}


def fastai_learner(learn) -> None:
    """Metrics, output shape on one batch; starts recording the training phases."""
    _guarded("fastai_learner", _fastai_learner, learn)


def _fastai_training(learn):
    from safetensors.torch import save_file

    if learn is None:
        return _missing("learn")
    state = {k: v.detach().cpu().contiguous() for k, v in learn.model.state_dict().items()}
    vocab = [str(v) for v in learn.dls.vocab]
    save_file(state, str(artifacts_dir() / "fastai_state.safetensors"), metadata={"vocab": json.dumps(vocab)})
    recorder = next((cb for cb in learn.cbs if type(cb).__name__ == "CoursePhaseRecorder"), None)
    losses = [float(v) for v in getattr(learn.recorder, "losses", [])]
    return {"vocab": vocab, "phases": recorder.phases if recorder else None,
            "history": {"loss": losses[:1] + losses[-1:] if losses else []},
            "weights_file": "fastai_state.safetensors"}


def fastai_training(learn) -> None:
    """The fine-tuned model (state_dict in safetensors), its classes and the recorded phases."""
    _guarded("fastai_training", _fastai_training, learn)


# ── Quizzes ─────────────────────────────────────────────────────────────────
def _quiz_answer(quiz, qid: str):
    if quiz is None or not hasattr(quiz, "answers"):
        return _missing("quiz")
    answers = quiz.answers if isinstance(quiz.answers, dict) else {}
    return {"qid": qid, "answered": qid in answers, "raw": answers.get(qid),
            "student_seen": str(getattr(quiz, "student", ""))}


def quiz_answer(quiz, qid: str) -> None:
    """The answer as typed (letters as the student saw them); the grader maps and scores it."""
    _guarded(f"quiz_{qid}", _quiz_answer, quiz, qid)
