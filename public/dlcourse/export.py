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
    try:
        write_json(name, payload)
    except Exception as exc:  # a value the export could not write as JSON (a huge int, a cycle)
        write_json(name, {"error": f"could not record the result: {type(exc).__name__}: {str(exc)[:200]}"})
    return None


def _missing(what: str):
    return {"missing": what}


# ── Keras ───────────────────────────────────────────────────────────────────
# The model leaves the kernel in Keras's own format (.keras); the grader loads and runs it in a
# fresh scoring sandbox.  What is described here (layers, compile settings, history) only
# explains; the grade is measured there.
KERAS_DEF = "keras_def.keras"
KERAS_TRAINED = "keras_trained.keras"
TORCH_DEF = "torch_def.pt2"
TORCH_TRAINED = "torch_trained.pt2"
MNIST_SHAPE = (28, 28)


def _keras_loss_name(loss) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _act_name(act):
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


def _numbers(values, limit: int = 10_000):
    """Losses as plain floats: tensors, numpy scalars, None (→ None); anything else → None."""
    out = []
    try:
        items = list(values)[:limit]
    except TypeError:
        return None
    for v in items:
        try:
            if hasattr(v, "item"):
                v = v.item()
            out.append(float(v) if v is not None else None)
        except Exception:
            out.append(None)
    return out


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


def value(name: str, obj) -> None:
    """A single reported value (e.g. the student's test accuracy)."""
    _guarded(f"value_{name}", lambda v: _missing(name) if v is None else {"value": _plain(v)}, obj)


# ── PyTorch ─────────────────────────────────────────────────────────────────
_TORCH_ACTIVATIONS = ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax")
_TORCH_LAYOUTS = ((1, 28, 28), (784,), (28, 28))   # what the notebook gives first; also flattened or 2-D


def _torch_modules(model):
    """Leaf modules in registration order (kernel side: for messages only)."""
    layers = []
    try:
        named = list(model.named_modules())[:2000]
    except Exception:
        return {"framework": "torch", "layers": []}
    for name, module in named:
        if any(True for _ in module.children()):
            continue
        kind = type(module).__name__
        n_params = sum(p.numel() for p in module.parameters(recurse=False))
        if n_params == 0 and kind not in _TORCH_ACTIVATIONS:
            continue
        entry = {"class_name": kind, "name": name[:100], "params": int(n_params)}
        if isinstance(getattr(module, "out_features", None), int):
            entry["output_shape"] = [None, int(module.out_features)]
            entry["in_features"] = int(getattr(module, "in_features", 0))
        layers.append(entry)
    return {"framework": "torch", "layers": layers}


def _torch_export(model, name: str) -> dict:
    """Save the model with torch.export (its real computation, no Python class needed to run it).

    The model is copied to the CPU in eval mode; the first input layout it accepts
    (the notebook's (N, 1, 28, 28), else flattened) is recorded for the grader.
    """
    import copy

    import torch

    from .datasets import mnist

    (_, _), (x_test, _) = mnist.load_data()
    sample = torch.tensor(x_test[:8] / 255.0, dtype=torch.float32)
    try:
        m = copy.deepcopy(model)
    except Exception:
        m = model
    device = None
    try:
        device = next(model.parameters()).device
    except Exception:
        pass
    was_training = getattr(model, "training", False)
    errors = []
    try:
        m = m.cpu().eval()
        for layout in _TORCH_LAYOUTS:
            x = sample.reshape(8, *layout)
            try:
                with torch.no_grad():
                    m(x)
            except Exception as exc:
                errors.append(f"{list(x.shape)}: {type(exc).__name__}: {str(exc)[:150]}")
                continue
            fixed = None
            try:
                batch = torch.export.Dim("batch", min=2, max=4096)
                ep = torch.export.export(m, (x,), dynamic_shapes=({0: batch},))
            except Exception:
                ep = torch.export.export(m, (x,))     # a model written for one batch size
                fixed = 8
            torch.export.save(ep, str(artifacts_dir() / name))
            return {"saved": name, "layout": list(layout), "fixed_batch": fixed}
        return {"saved": None, "save_error": "; ".join(errors)[:500]}
    except Exception as exc:
        return {"saved": None, "save_error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        if m is model:      # no copy could be made: put the student's model back as it was
            try:
                model.to(device) if device is not None else None
                model.train(was_training)
            except Exception:
                pass


def _torch_model(model):
    if model is None:
        return _missing("model")
    return {**_torch_modules(model), **_torch_export(model, TORCH_DEF)}


def torch_model(model) -> None:
    """The defined model, saved with torch.export for the grader, and its modules (for messages)."""
    _guarded("torch_model", _torch_model, model)


def torch_forward(model) -> None:
    """Kept for notebooks released before the grader measured outputs itself (does nothing now)."""
    return None


def _torch_setup(model, criterion, optimizer):
    if criterion is None:
        return _missing("criterion")
    if optimizer is None:
        return _missing("optimizer")
    try:
        model_params = {id(p) for p in model.parameters()} if model is not None else set()
    except Exception:
        model_params = set()
    try:
        opt_params = [p for g in optimizer.param_groups for p in g["params"]]
        lr = _plain(optimizer.param_groups[0].get("lr"))
    except Exception:
        opt_params, lr = [], None
    return {
        "criterion": type(criterion).__name__,
        "optimizer": type(optimizer).__name__,
        "lr": lr,
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

    info = {"steps": rec.steps, "batches": 3, "backwards": len(norms), "grad_ratio": ratio, "forward_modes": modes[:50],
            "params_changed": changed, "loss_before": loss_before, "loss_after": loss_after}
    if loader is not None:
        bs = getattr(loader, "batch_size", None)
        info["loader_batch_size"] = bs if isinstance(bs, int) else None
        try:
            info["loader_items"] = int(len(loader.dataset))
        except Exception:
            info["loader_items"] = None
    return info


def torch_loop_probe(train_fn, loader=None) -> None:
    """Behaviour of the student's training function on fixed data (see _torch_loop_probe)."""
    _guarded("torch_loop", _torch_loop_probe, train_fn, loader)


def _torch_training(model, losses):
    if model is None:
        return _missing("model")
    out = _torch_modules(model)
    numbers = _numbers(losses) if losses is not None else None
    out["losses"] = numbers
    out["history"] = {"loss": numbers or []}
    out.update(_torch_export(model, TORCH_TRAINED))
    return out


def torch_training(model, losses) -> None:
    """Per-epoch losses and the trained model (torch.export, measured by the grader)."""
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


def _short_item(p):
    """One prediction as small plain data: a string (cut), a number, or a dict's label/score."""
    if isinstance(p, dict):
        return {"label": _plain(p.get("label"))[:100] if isinstance(p.get("label"), str) else _plain(p.get("label")),
                "score": _plain(p.get("score")) if isinstance(p.get("score"), (int, float)) else None}
    if isinstance(p, str):
        return p[:100]
    if isinstance(p, (int, float, bool)) or p is None:
        return _plain(p)
    if isinstance(p, (list, tuple)):
        return [_short_item(q) for q in list(p)[:2]] if len(p) and not isinstance(p[0], (list, tuple)) else str(p)[:100]
    return str(p)[:100]


def _sentiment_predictions(predict_labels):
    if predict_labels is None:
        return _missing("predict_labels")
    texts = grading_texts()
    preds = predict_labels(texts)
    try:
        items = list(preds) if not isinstance(preds, (str, bytes, dict)) else None
    except Exception:
        items = None
    return {"n_inputs": len(texts), "type": type(preds).__name__,
            "predictions": [_short_item(p) for p in items[:10_000]] if items is not None else str(preds)[:200]}


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


def _kept_item(k):
    """(text, label) as the exercise asks; anything else is described for the grader."""
    if isinstance(k, (list, tuple)) and k:
        text = k[0]
        second = k[1] if len(k) > 1 else None
        return text, (second[:50] if isinstance(second, str) else type(second).__name__), len(k)
    return k, None, None


def _confident_cases(confident_only, classifier=None):
    if confident_only is None:
        return _missing("confident_only")
    texts = grading_texts()
    index = {t: i for i, t in enumerate(texts)}
    out = []
    for threshold in THRESHOLDS:
        kept = list(confident_only(texts, threshold))[:10_000]
        rows = [_kept_item(k) for k in kept]
        out.append({"threshold": threshold,
                    "kept": sorted(index[t] for t, _, _ in rows if isinstance(t, str) and t in index),
                    "unknown": sum(1 for t, _, _ in rows if not (isinstance(t, str) and t in index)),
                    "seconds": sorted({str(second) for _, second, _ in rows})[:5],
                    "sizes": sorted({n for _, _, n in rows if n is not None})[:5]})
    boundary = None
    if classifier is not None:
        # a review whose own score is the threshold must be kept ("이상": score >= threshold)
        try:
            scores = [float(r["score"]) for r in classifier(texts[:16])]
            pick = sorted(range(len(scores)), key=lambda i: abs(scores[i] - 0.95))[0]
            kept = list(confident_only(texts[:16], scores[pick]))
            boundary = {"index": pick, "kept": any(_kept_item(k)[0] == texts[pick] for k in kept)}
        except Exception as exc:
            boundary = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"n_inputs": len(texts), "cases": out, "boundary": boundary}


def confident_cases(confident_only, classifier=None) -> None:
    """Which hidden reviews confident_only keeps at two thresholds (as indices), and at a review's own score."""
    _guarded("sentiment_confident", _confident_cases, confident_only, classifier)


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
