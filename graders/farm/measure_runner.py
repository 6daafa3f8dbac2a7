"""Runs inside the scoring sandbox: load saved models, run them on grader inputs, write plain data.

This file is copied into a fresh bubblewrap sandbox that the student's code never ran
in (see measure.py).  It gets a job list and unlabeled input arrays, loads each model in
its framework's own format and writes, per model and input set, the predicted classes
and a few facts about the raw outputs (shape, range, whether rows look like
probabilities), plus a description of the model as the framework sees it.  It has no
labels: whatever code rides along in a model can only change predictions.

Standard library, numpy and the framework only; no course code is trusted here except
the public `dlcourse` package (for the fastai body).
"""
from __future__ import annotations

import json
import os
import sys
import traceback
import zipfile

import numpy as np

BATCH = 250
MAX_TEXT = 300


def _short(text) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _stats(outs: list) -> dict:
    out = np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)
    info = {"shape": [int(d) for d in out.shape], "finite": bool(np.isfinite(out).all())}
    if out.ndim == 2 and out.size:
        sums = out.sum(axis=1)
        info.update({"min": float(np.nanmin(out)), "max": float(np.nanmax(out)),
                     "row_sum_max_dev": float(np.nanmax(np.abs(sums - 1))),
                     "predictions": [int(i) for i in out.argmax(axis=1)]})
    return info


def _public_helper(job: dict, option: str):
    """A function of the course's public helper package named by the job ("dlcourse.<module>:<name>"):
    an exercise's scorer says which one (its model factory, its loop probe); nothing here names one."""
    import importlib

    ref = str(job.get(option) or "")
    module, _, name = ref.partition(":")
    if not (module == "dlcourse" or module.startswith("dlcourse.")) or not name.isidentifier():
        raise ValueError(f"{option}: {ref!r} is not a dlcourse.<module>:<function> reference")
    return getattr(importlib.import_module(module), name)


# ── Keras ───────────────────────────────────────────────────────────────────
_ACTIVATION_LAYERS = {"Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU"}


def _keras_describe(model) -> dict:
    from dlcourse.frameworks import keras_activation_name as _act_name    # one reading of activation names

    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        cfg = layer.get_config()
        try:
            out_shape = [None if d is None else int(d) for d in layer.output.shape]
        except Exception:
            out_shape = None
        if out_shape is None and isinstance(cfg.get("units"), int):      # a subclassed model's layers have no graph
            out_shape = [None, int(cfg["units"])]
        elif out_shape is None and kind in ("Dropout", *_ACTIVATION_LAYERS) and layers:
            out_shape = layers[-1]["output_shape"]
        act = _act_name(cfg.get("activation"))
        if kind in _ACTIVATION_LAYERS:
            folded = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu",
                      "PReLU": "prelu"}.get(kind, act)
            if layers and layers[-1]["activation"] in (None, "linear"):
                layers[-1]["activation"] = folded
                continue
            layers.append({"class_name": "Activation", "output_shape": out_shape, "params": 0,
                           "activation": folded})
            continue
        if kind == "Reshape" and out_shape is not None and len(out_shape) == 2:
            kind = "Flatten"
        layers.append({"class_name": kind, "output_shape": out_shape,
                       "params": int(layer.count_params()) if layer.built else None,
                       "activation": act if "activation" in cfg else None,
                       "units": cfg.get("units"), "rate": cfg.get("rate")})
    try:
        input_shape = [None if d is None else int(d) for d in model.inputs[0].shape]
    except Exception:
        input_shape = None
    return {"layers": layers, "input_shape": input_shape}


def _keras_input(model, x: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) shaped as the model takes them: (N, 784) or (N, 28, 28, 1) also work."""
    try:
        want = list(model.inputs[0].shape)[1:]
    except Exception:
        return x
    if want and all(d is not None for d in want) and int(np.prod(want)) == int(np.prod(x.shape[1:])):
        return x.reshape((len(x), *[int(d) for d in want]))
    return x


def _keras_functions() -> dict:
    """TensorFlow's own activation functions (``tf.nn.softmax`` saves as 'softmax_v2') mapped to Keras's."""
    import keras

    acts = keras.activations
    names = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax", "relu": "relu", "relu6": "relu6",
             "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu", "selu": "selu", "gelu": "gelu", "silu": "silu",
             "swish": "silu", "leaky_relu": "leaky_relu", "softplus": "softplus", "softsign": "softsign",
             "softmax": "softmax", "log_softmax": "log_softmax", "exponential": "exponential", "linear": "linear"}
    return {tf_name: getattr(acts, k_name) for tf_name, k_name in names.items() if hasattr(acts, k_name)}


def _quiet_exec(cells, ns: dict) -> list:
    """Run notebook cells in `ns` with their output dropped; the errors, cut short."""
    import contextlib
    import io

    errors, sink = [], io.StringIO()
    for i, src in enumerate(cells or []):
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(compile(_cell_code(src), f"<cell {i}>", "exec"), ns)
        except Exception as exc:
            errors.append(_short(f"{type(exc).__name__}: {exc}"))
        sink.seek(0)
        sink.truncate()
    return errors


def _keras_from_code(path: str, cells, first_error: Exception):
    """A model Keras cannot rebuild from its config alone (a subclassed tf.keras.Model): run the
    notebook's setup and model cells here, take the `model` they make, and load the saved weights into it."""
    import keras

    if not cells:
        raise first_error
    ns = {"__name__": "__main__"}
    errors = _quiet_exec(cells, ns)
    model = ns.get("model")
    if not isinstance(model, keras.Model):
        raise ValueError(f"{_short(first_error)}; the notebook's cells made no Keras model"
                         + (f" ({errors[0]})" if errors else ""))
    for shape in ((1, 28, 28), (1, 784), (1, 28, 28, 1)):     # build every layer (`built` can be True before)
        try:
            model(np.zeros(shape, np.float32))
            break
        except Exception:
            continue
    model.load_weights(path)
    return model


def keras_job(job: dict, inputs: dict) -> dict:
    import keras

    try:
        model = keras.saving.load_model(job["model"], compile=False, safe_mode=True, custom_objects=_keras_functions())
    except Exception as exc:
        model = _keras_from_code(job["model"], job.get("cells"), exc)
    result = {"loaded": True}
    if job.get("describe"):
        result["describe"] = _keras_describe(model)
    for name, x in inputs.items():
        x = _keras_input(model, x.astype(np.float32) * np.float32(job.get("scale", 1.0)))
        outs = []
        for i in range(0, len(x), BATCH):
            y = model(x[i:i + BATCH], training=False)
            outs.append(np.asarray(y, dtype=np.float32).reshape(len(x[i:i + BATCH]), -1))
        result[name] = _stats(outs)
    return result


# ── PyTorch (torch.export) ──────────────────────────────────────────────────
_TORCH_OPS = {
    "relu": "ReLU", "relu_": "ReLU", "sigmoid": "Sigmoid", "sigmoid_": "Sigmoid", "tanh": "Tanh", "tanh_": "Tanh",
    "gelu": "GELU", "leaky_relu": "LeakyReLU", "leaky_relu_": "LeakyReLU", "elu": "ELU", "elu_": "ELU",
    "silu": "SiLU", "silu_": "SiLU", "hardtanh": "Hardtanh", "hardtanh_": "Hardtanh", "selu": "SELU",
    "softplus": "Softplus", "mish": "Mish",
    "softmax": "Softmax", "_softmax": "Softmax", "log_softmax": "LogSoftmax", "_log_softmax": "LogSoftmax",
    "conv2d": "Conv2d", "convolution": "Conv2d",
}


def _shape(node):
    val = node.meta.get("val") if hasattr(node, "meta") else None
    return [int(d) for d in getattr(val, "shape", [])] if val is not None else None


def _torch_describe(ep) -> dict:
    """The computation as torch.export traced it: Linear layers and activations in the order they run."""
    layers = []
    for node in ep.graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        name = getattr(node.target, "__name__", str(node.target)).split(".")[0]
        if name == "linear":
            w = _shape(node.args[1]) if len(node.args) > 1 else None
            has_bias = len(node.args) > 2 and node.args[2] is not None
            if w and len(w) == 2:
                layers.append({"class_name": "Linear", "in_features": w[1], "output_shape": [None, w[0]],
                               "params": w[0] * w[1] + (w[0] if has_bias else 0)})
            continue
        if name in ("addmm", "mm", "matmul"):
            out = _shape(node)
            layers.append({"class_name": "Linear", "output_shape": [None, out[-1]] if out else None})
            continue
        kind = _TORCH_OPS.get(name)
        if kind:
            layers.append({"class_name": kind, "output_shape": _shape(node)})
    return {"layers": layers}


def torch_job(job: dict, inputs: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    ep = torch.export.load(job["model"])
    module = ep.module()
    result = {"loaded": True}
    if job.get("describe"):
        result["describe"] = _torch_describe(ep)
    layout = job.get("layout") or [1, 28, 28]
    fixed = job.get("fixed_batch")
    for name, x in inputs.items():
        x = torch.tensor(x.astype(np.float32) * np.float32(job.get("scale", 1.0))).reshape(len(x), *layout)
        outs = []
        step = int(fixed) if fixed else BATCH
        with torch.no_grad():
            for i in range(0, len(x), step):
                xb = x[i:i + step]
                n = len(xb)
                want = step if fixed else max(n, 2)   # one fixed batch size, or at least 2 (export's dynamic batch)
                if n < want:
                    xb = torch.cat([xb, xb[:1].expand(want - n, *xb.shape[1:])])
                y = module(xb)
                if isinstance(y, (tuple, list)):
                    y = y[0]
                outs.append(y.detach().float().cpu().reshape(len(xb), -1)[:n].numpy())
        result[name] = _stats(outs)
    return result


# ── fastai (safetensors state of vision_learner's model on the course body) ─
def _body_distance(path: str, body_file: str):
    """Largest relative change of a body conv weight against the course's pretrained body.

    Read from the student's file tensor by tensor, each shape checked against the body's first,
    so this works even when the rest of the model (e.g. its head) is not what the exercise asks.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    body = load_file(body_file)
    dists = []
    with safe_open(path, framework="pt") as f:
        keys = set(f.keys())
        for k, w in body.items():
            if w.ndim != 4:
                continue
            name = "0." + k
            if name not in keys or tuple(f.get_slice(name).get_shape()) != tuple(w.shape):
                return None
            mine = f.get_tensor(name)
            dists.append(float((mine - w).norm() / w.norm()))
    return max(dists) if dists else None


def _fastai_state(path: str, body):
    """Check every tensor's declared shape against the model vision_learner builds on `body` (the course's
    model factory the scorer names) before loading any."""
    from safetensors import safe_open
    from fastai.vision.learner import create_vision_model


    with safe_open(path, framework="pt") as f:
        keys = list(f.keys())
        if len(keys) > 1000:
            raise ValueError(f"{len(keys)} tensors: not a vision_learner model")
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in keys}
        heads = [s for k, s in shapes.items() if len(s) == 2]
        if not heads or not 1 <= heads[-1][0] <= 100_000:
            raise ValueError("no linear head in the state")
        n_out = int(heads[-1][0])
        model = create_vision_model(body, n_out, pretrained=False)
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        if set(keys) != set(expected):
            missing, extra = sorted(set(expected) - set(keys))[:3], sorted(set(keys) - set(expected))[:3]
            raise ValueError(f"not the model vision_learner builds on the course body (missing {missing}, extra {extra})")
        bad = [k for k in keys if shapes[k] != expected[k]]
        if bad:
            raise ValueError(f"{bad[0]}: shape {shapes[bad[0]]}, expected {expected[bad[0]]}")
        state = {k: f.get_tensor(k) for k in keys}
        vocab = json.loads((f.metadata() or {}).get("vocab", "[]"))
    model.load_state_dict(state, strict=True)
    return model.eval(), n_out, [str(v)[:50] for v in vocab][:1000] if isinstance(vocab, list) else []


def fastai_job(job: dict, inputs: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    result = {"loaded": True}
    if job.get("body"):
        result["body_distance"] = _body_distance(job["model"], job["body"])
    try:
        model, n_out, vocab = _fastai_state(job["model"], _public_helper(job, "body_factory"))
    except Exception as exc:        # the body can still be judged; predictions cannot
        result["model_error"] = _short(f"{type(exc).__name__}: {exc}")
        return result
    result.update({"n_out": n_out, "vocab": vocab})
    for name, x in inputs.items():     # already as the validation DataLoader gives them: (N, 3, 32, 32) in [0, 1]
        t = torch.tensor(x.astype(np.float32))
        outs = []
        with torch.no_grad():
            for i in range(0, len(t), BATCH):
                outs.append(model(t[i:i + BATCH]).float().reshape(len(t[i:i + BATCH]), -1).numpy())
        result[name] = _stats(outs)
    return result


# ── the PyTorch training loop, probed here and not in the student's kernel ───
def _cell_code(src: str) -> str:
    """A notebook cell as Python: IPython magics and shell lines are dropped."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in str(src).splitlines())


def torch_loop_job(job: dict, inputs: dict) -> dict:
    """Run the notebook's cells up to the loop in a fresh namespace, then probe train_one_epoch.

    The probe (public course code the scorer names in the job's `probe`) drives the student's
    function with the course's own small model on fixed data; because it runs here, the
    student's kernel cannot rewrite what it recorded.
    """
    import io
    import contextlib

    import torch

    torch.set_num_threads(1)
    _torch_loop_probe = _public_helper(job, "probe")

    ns = {"__name__": "__main__"}
    errors = _quiet_exec(job.get("cells"), ns)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            probe = _torch_loop_probe(ns.get("train_one_epoch"), ns.get("train_loader"))
    except Exception as exc:            # the student's function raised: their error, shown as such
        probe = {"error": _short(f"{type(exc).__name__}: {exc}")}
    return {"loaded": True, "probe": probe, "cell_errors": errors[:5]}


KINDS = {"keras": keras_job, "torch_export": torch_job, "fastai_state": fastai_job, "torch_loop": torch_loop_job}


def _zip_ok(path: str, limit: int) -> None:
    """A model archive whose members would unpack beyond `limit` bytes is refused before loading."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > 10_000 or sum(i.file_size for i in infos) > limit:
                raise ValueError(f"the saved model unpacks to more than {limit // 2**20} MiB")


def _device() -> dict:
    """The device the frameworks this run loaded would use: a GPU's name, or 'cpu'."""
    out = {}
    try:
        if "torch" in sys.modules:
            import torch
            out["torch"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        if "tensorflow" in sys.modules:
            import tensorflow as tf
            gpus = tf.config.list_logical_devices("GPU")
            out["tensorflow"] = ",".join(d.name for d in gpus) if gpus else "cpu"
    except Exception as exc:
        out["error"] = _short(f"{type(exc).__name__}: {exc}")
    return out


def main(job_file: str) -> None:
    with open(job_file) as f:
        spec = json.load(f)
    out_dir = spec["out"]
    inputs = {name: np.load(path, allow_pickle=False) for name, path in spec["inputs"].items()}
    results = {}
    for job in spec["jobs"]:
        try:
            if job.get("model"):
                _zip_ok(job["model"], int(spec.get("max_unpacked", 512 * 2**20)))
            wanted = {n: inputs[n] for n in job.get("inputs", [])}
            results[job["name"]] = KINDS[job["kind"]](job, wanted)
        except Exception as exc:
            results[job["name"]] = {"loaded": False, "error": _short(f"{type(exc).__name__}: {exc}"),
                                    "trace": traceback.format_exc(limit=4)[-1500:]}
        _write(out_dir, results)
    results["_device"] = _device()
    _write(out_dir, results)


def _write(out_dir: str, results: dict) -> None:
    with open(os.path.join(out_dir, "result.json.tmp"), "w") as f:
        json.dump(results, f)
    os.replace(os.path.join(out_dir, "result.json.tmp"), os.path.join(out_dir, "result.json"))


if __name__ == "__main__":
    main(sys.argv[1])
