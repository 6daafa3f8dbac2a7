"""Runs inside a scoring sandbox: one process, one job, one of three modes.

measure.py starts this file in a fresh bubblewrap sandbox per job and mode, so what one
job's bytes do can never reach another job's result:

``describe``  reads a saved model **as data** and writes ``facts.json``: the layers from a
              `.keras` archive's `config.json` (or, for a subclassed model, the shapes in its
              weights file), the graph a `.pt2` archive stores as JSON, a fastai state's tensor
              shapes checked against the course's own model.  Nothing in the student's file is
              executed: no `keras.saving.load_model`, no `torch.export.load`, no pickle.  So the
              grader may take these facts as they are.
``predict``   loads the model with its framework (which may run code that rides along in the
              file) and writes one raw output array per grader input set, ``<input>.npy``, and
              nothing else the grader reads as a fact.  measure.py checks each array's header,
              shape and size before reading it and computes every statistic itself.
``cells``     runs notebook cells (the student's own code) and then a probe of the course's
              public package on them; the probe's arrays are written the same way.  Whatever
              the cells do, they can only change those arrays; the grader compares them with
              references it made without the student's code.

A failure is reported as a short text in ``error.txt`` (shown to the student as the reason,
never taken as a fact).  Standard library, numpy, h5py and, in ``predict``/``cells``, the
framework; no course code is trusted here except the public `dlcourse` package.
"""
from __future__ import annotations

import json
import os
import sys
import zipfile

import numpy as np

BATCH = 250
MAX_TEXT = 300
MAX_JSON = 8 * 2**20            # config.json / model.json of a saved model


def _short(text) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _public_helper(job: dict, option: str):
    """A function of the course's public helper package named by the job ("dlcourse.<module>:<name>"):
    an exercise's scorer says which one (its model factory, its probe); nothing here names one."""
    import importlib

    ref = str(job.get(option) or "")
    module, _, name = ref.partition(":")
    if not (module == "dlcourse" or module.startswith("dlcourse.")) or not name.isidentifier():
        raise ValueError(f"{option}: {ref!r} is not a dlcourse.<module>:<function> reference")
    return getattr(importlib.import_module(module), name)


def _zip_ok(path: str, limit: int) -> None:
    """A model archive whose members would unpack beyond `limit` bytes is refused before loading."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > 10_000 or sum(i.file_size for i in infos) > limit:
                raise ValueError(f"the saved model unpacks to more than {limit // 2**20} MiB")


def _zip_json(z: zipfile.ZipFile, info: zipfile.ZipInfo):
    if info.file_size > MAX_JSON:
        raise ValueError(f"{info.filename}: larger than {MAX_JSON // 2**20} MiB")
    with z.open(info) as f:
        raw = f.read(MAX_JSON + 1)
    if len(raw) > MAX_JSON:
        raise ValueError(f"{info.filename}: larger than {MAX_JSON // 2**20} MiB")
    return json.loads(raw, parse_constant=lambda c: None)


# ── Keras, described from the archive's config (data) ──────────────────────
_ACTIVATION_LAYERS = {"Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU"}
_FOLDED = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "PReLU": "prelu"}
_CONTAINERS = {"Sequential", "Functional", "Model"}
_SAME_SHAPE = {"Dropout", "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "BatchNormalization",
               "LayerNormalization", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D"}


def _int_shape(shape):
    if not isinstance(shape, list) or not 1 <= len(shape) <= 8:
        return None
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 10**7) for d in shape):
        return None
    return list(shape)


def _flat_layers(config: dict, depth: int = 0) -> list:
    """The layer configs of a Sequential/Functional config, nested models opened in place."""
    if depth > 8 or not isinstance(config, dict):
        return []
    out = []
    for layer in (config.get("layers") or [])[:500]:
        if not isinstance(layer, dict):
            continue
        if layer.get("class_name") in _CONTAINERS and isinstance(layer.get("config"), dict):
            out.extend(_flat_layers(layer["config"], depth + 1))
        else:
            out.append(layer)
    return out


def _keras_layers_from_config(top: dict) -> dict:
    from dlcourse.frameworks import keras_activation_name as _act_name    # one reading of activation names

    raw = _flat_layers(top.get("config") or {})
    build = top.get("build_config") if isinstance(top.get("build_config"), dict) else {}
    shape = _int_shape(build.get("input_shape"))
    layers, input_shape = [], None
    for entry in raw:
        kind = str(entry.get("class_name"))[:60]
        cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        if kind == "InputLayer":
            shape = _int_shape(cfg.get("batch_shape") or cfg.get("batch_input_shape")) or shape
            input_shape = shape
            continue
        built = entry.get("build_config") if isinstance(entry.get("build_config"), dict) else {}
        if shape is None:
            shape = _int_shape(built.get("input_shape"))
        if input_shape is None:
            input_shape = shape
        inner = shape[1:] if shape else None
        units = cfg.get("units") if isinstance(cfg.get("units"), int) and not isinstance(cfg.get("units"), bool) else None
        params = 0
        if kind == "Flatten":
            out = [None, int(np.prod(inner))] if inner and all(isinstance(d, int) for d in inner) else None
        elif kind == "Reshape":
            target = _int_shape(cfg.get("target_shape"))
            out = [None, *target] if target else None
            if out is not None and len(out) == 2:
                kind = "Flatten"
        elif kind == "Dense" and units is not None:
            fan_in = inner[-1] if inner and isinstance(inner[-1], int) else None
            out = [None, *(inner[:-1] if inner else []), units]
            params = None if fan_in is None else fan_in * units + (units if cfg.get("use_bias", True) else 0)
        elif kind in _SAME_SHAPE:
            out = shape
        else:
            out, params = None, None
        shape = out
        act = _act_name(cfg.get("activation"))
        if kind in _ACTIVATION_LAYERS:
            folded = _FOLDED.get(kind, act)
            if layers and layers[-1]["activation"] in (None, "linear"):
                layers[-1]["activation"] = folded
                continue
            layers.append({"class_name": "Activation", "output_shape": out, "params": 0, "activation": folded})
            continue
        rate = cfg.get("rate") if isinstance(cfg.get("rate"), (int, float)) and not isinstance(cfg.get("rate"), bool) else None
        layers.append({"class_name": kind, "output_shape": out, "params": params,
                       "activation": act if "activation" in cfg else None, "units": units, "rate": rate})
    return {"layers": layers, "input_shape": input_shape, "source": "config"}


def _keras_layers_from_weights(z: zipfile.ZipFile) -> dict:
    """A subclassed model stores no layer list; its weights file still says which Dense kernels it has.
    The kernels are chained by shape (784→128, 128→10) into the order data flows through them."""
    import h5py

    name = next((i for i in z.infolist() if i.filename == "model.weights.h5"), None)
    if name is None:
        raise ValueError("the .keras archive has no model.weights.h5")
    kernels = []
    with z.open(name) as raw, h5py.File(raw, "r") as f:
        def visit(path, obj):
            if len(kernels) < 200 and isinstance(obj, h5py.Dataset) and path.endswith("vars/0") and len(obj.shape) == 2:
                bias = path[:-1] + "1"
                has_bias = bias in f and len(f[bias].shape) == 1
                kernels.append((int(obj.shape[0]), int(obj.shape[1]), has_bias))
        f.visititems(visit)
    chain, left = [], list(kernels)
    fan_ins = {k[0] for k in kernels}
    fan_outs = {k[1] for k in kernels}
    start = next((k for k in left if k[0] not in fan_outs), left[0] if left else None)
    while start is not None:
        chain.append(start)
        left.remove(start)
        start = next((k for k in left if k[0] == chain[-1][1]), None)
    chain += left                              # kernels that do not chain stay, in file order
    del fan_ins
    layers = [{"class_name": "Dense", "output_shape": [None, n_out], "in_features": n_in,
               "params": n_in * n_out + (n_out if bias else 0), "activation": None, "units": n_out, "rate": None}
              for n_in, n_out, bias in chain]
    return {"layers": layers, "input_shape": None, "source": "weights"}


def keras_describe(job: dict) -> dict:
    with zipfile.ZipFile(job["model"]) as z:
        info = next((i for i in z.infolist() if i.filename == "config.json"), None)
        if info is None:
            raise ValueError("the .keras archive has no config.json")
        top = _zip_json(z, info)
        if not isinstance(top, dict):
            raise ValueError("config.json is not an object")
        if top.get("class_name") in ("Sequential", "Functional"):
            return {"describe": _keras_layers_from_config(top)}
        return {"describe": _keras_layers_from_weights(z)}


# ── PyTorch: the graph a .pt2 archive stores as JSON (data) ─────────────────
_TORCH_OPS = {
    "relu": "ReLU", "relu_": "ReLU", "sigmoid": "Sigmoid", "sigmoid_": "Sigmoid", "tanh": "Tanh", "tanh_": "Tanh",
    "gelu": "GELU", "leaky_relu": "LeakyReLU", "leaky_relu_": "LeakyReLU", "elu": "ELU", "elu_": "ELU",
    "silu": "SiLU", "silu_": "SiLU", "hardtanh": "Hardtanh", "hardtanh_": "Hardtanh", "selu": "SELU",
    "softplus": "Softplus", "mish": "Mish",
    "softmax": "Softmax", "_softmax": "Softmax", "log_softmax": "LogSoftmax", "_log_softmax": "LogSoftmax",
    "conv2d": "Conv2d", "convolution": "Conv2d",
}


def _sizes(tensor_values: dict, arg) -> list | None:
    """The shape of a tensor argument of a serialized node, symbolic sizes as None."""
    if not isinstance(arg, dict):
        return None
    ref = arg.get("as_tensor")
    meta = tensor_values.get(ref.get("name")) if isinstance(ref, dict) else None
    sizes = meta.get("sizes") if isinstance(meta, dict) else None
    if not isinstance(sizes, list) or len(sizes) > 8:
        return None
    out = []
    for s in sizes:
        v = s.get("as_int") if isinstance(s, dict) else None
        out.append(v if isinstance(v, int) and not isinstance(v, bool) else None)
    return out


def torch_describe(job: dict) -> dict:
    """Linear layers and activations in the order the traced graph runs them, read from model.json."""
    with zipfile.ZipFile(job["model"]) as z:
        info = next((i for i in z.infolist() if i.filename.endswith("models/model.json")), None)
        if info is None:
            raise ValueError("not a torch.export archive (no models/model.json)")
        program = _zip_json(z, info)
    graph = ((program or {}).get("graph_module") or {}).get("graph") if isinstance(program, dict) else None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise ValueError("the archive's model.json has no graph")
    values = graph.get("tensor_values") if isinstance(graph.get("tensor_values"), dict) else {}
    layers = []
    for node in graph["nodes"][:5000]:
        if not isinstance(node, dict):
            continue
        parts = str(node.get("target", "")).split(".")
        name = parts[3] if len(parts) >= 4 and parts[:2] == ["torch", "ops"] else parts[-1]    # torch.ops.aten.<op>.<overload>
        args = [a.get("arg") for a in (node.get("inputs") or []) if isinstance(a, dict)]
        outs = node.get("outputs") or []
        out_shape = _sizes(values, outs[0]) if outs else None
        if name == "linear":
            w = _sizes(values, args[1]) if len(args) > 1 else None
            has_bias = len(args) > 2 and isinstance(args[2], dict) and "as_tensor" in args[2]
            if w and len(w) == 2 and all(isinstance(d, int) for d in w):
                layers.append({"class_name": "Linear", "in_features": w[1], "output_shape": [None, w[0]],
                               "params": w[0] * w[1] + (w[0] if has_bias else 0)})
            continue
        if name in ("addmm", "mm", "matmul"):
            layers.append({"class_name": "Linear", "output_shape": [None, out_shape[-1]] if out_shape else None})
            continue
        kind = _TORCH_OPS.get(name)
        if kind:
            layers.append({"class_name": kind, "output_shape": out_shape})
    return {"describe": {"layers": layers, "source": "graph"}}


# ── fastai: a safetensors state (data) on the course body (course code) ─────
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
        try:
            vocab = json.loads((f.metadata() or {}).get("vocab", "[]")[:100_000])
        except ValueError:
            vocab = []
    model.load_state_dict(state, strict=True)
    return model.eval(), n_out, [str(v)[:50] for v in vocab][:1000] if isinstance(vocab, list) else []


def fastai_describe(job: dict, inputs: dict, out_dir: str) -> dict:
    """Everything here is data (safetensors) run through the course's own model: facts and outputs alike."""
    import torch

    torch.set_num_threads(1)
    facts = {}
    if job.get("body"):
        facts["body_distance"] = _body_distance(job["model"], job["body"])
    try:
        model, n_out, vocab = _fastai_state(job["model"], _public_helper(job, "body_factory"))
    except Exception as exc:        # the body can still be judged; predictions cannot
        facts["model_error"] = _short(f"{type(exc).__name__}: {exc}")
        return facts
    facts.update({"n_out": n_out, "vocab": vocab})
    for name, x in inputs.items():     # already as the validation DataLoader gives them: (N, 3, 32, 32) in [0, 1]
        t = torch.tensor(x.astype(np.float32))
        outs = []
        with torch.no_grad():
            for i in range(0, len(t), BATCH):
                outs.append(model(t[i:i + BATCH]).float().reshape(len(t[i:i + BATCH]), -1).numpy())
        _save(out_dir, name, np.concatenate(outs) if outs else np.zeros((0, 0), np.float32))
    return facts


# ── predict: the model as its framework loads and runs it (may run the student's code) ──
def _keras_functions() -> dict:
    """TensorFlow's own activation functions (``tf.nn.softmax`` saves as 'softmax_v2') mapped to Keras's."""
    import keras

    acts = keras.activations
    names = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax", "relu": "relu", "relu6": "relu6",
             "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu", "selu": "selu", "gelu": "gelu", "silu": "silu",
             "swish": "silu", "leaky_relu": "leaky_relu", "softplus": "softplus", "softsign": "softsign",
             "softmax": "softmax", "log_softmax": "log_softmax", "exponential": "exponential", "linear": "linear"}
    return {tf_name: getattr(acts, k_name) for tf_name, k_name in names.items() if hasattr(acts, k_name)}


def _cell_code(src: str) -> str:
    """A notebook cell as Python: IPython magics and shell lines are dropped."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in str(src).splitlines())


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


def _keras_input(model, x: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) shaped as the model takes them: (N, 784) or (N, 28, 28, 1) also work."""
    try:
        want = list(model.inputs[0].shape)[1:]
    except Exception:
        return x
    if want and all(d is not None for d in want) and int(np.prod(want)) == int(np.prod(x.shape[1:])):
        return x.reshape((len(x), *[int(d) for d in want]))
    return x


def keras_predict(job: dict, inputs: dict, out_dir: str) -> None:
    import keras

    try:
        model = keras.saving.load_model(job["model"], compile=False, safe_mode=True, custom_objects=_keras_functions())
    except Exception as exc:
        model = _keras_from_code(job["model"], job.get("cells"), exc)
    for name, x in inputs.items():
        x = _keras_input(model, x.astype(np.float32) * np.float32(job.get("scale", 1.0)))
        outs = []
        for i in range(0, len(x), BATCH):
            y = model(x[i:i + BATCH], training=False)
            outs.append(np.asarray(y, dtype=np.float32).reshape(len(x[i:i + BATCH]), -1))
        _save(out_dir, name, np.concatenate(outs) if outs else np.zeros((0, 0), np.float32))


def _pt2_plain(path: str) -> None:
    """A .pt2 whose weights or constants are pickles (``use_pickle``) or that carries custom objects would
    run code of its own when loaded: refused, read as data, before torch sees it."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = info.filename
            if name.endswith(("_weights_config.json", "_constants_config.json")):
                config = (_zip_json(z, info) or {}).get("config") or {}
                if any(isinstance(m, dict) and m.get("use_pickle") for m in config.values()):
                    raise ValueError(f"{name.split('/')[-1]}: the archive stores pickled objects; save a plain "
                                     "nn.Module with torch.export.save")
            elif name.endswith("models/model.json"):
                graph = ((_zip_json(z, info) or {}).get("graph_module") or {}).get("graph") or {}
                if graph.get("custom_obj_values"):
                    raise ValueError("the archive carries custom objects; save a plain nn.Module with torch.export.save")
            elif name.endswith(".pt") and "/sample_inputs/" not in name:
                raise ValueError(f"{name.split('/')[-1]}: a pickled file in the archive")


def _weights_only(torch) -> None:
    """Every torch.load in this process unpickles tensors only (torch.export.load falls back to a full
    unpickler for an archive's sample inputs; a crafted pickle there would run code)."""
    plain = torch.load

    def load(*args, **kwargs):
        kwargs["weights_only"] = True
        return plain(*args, **kwargs)

    torch.load = load


def torch_predict(job: dict, inputs: dict, out_dir: str) -> None:
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    import torch

    torch.set_num_threads(1)
    _pt2_plain(job["model"])
    _weights_only(torch)
    module = torch.export.load(job["model"]).module()
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
        _save(out_dir, name, np.concatenate(outs) if outs else np.zeros((0, 0), np.float32))


def cells_probe(job: dict, inputs: dict, out_dir: str) -> None:
    """The notebook's cells in a fresh namespace, then the course's probe (named by the scorer) on what
    they defined; the probe returns arrays, and only arrays leave."""
    import contextlib
    import io

    probe = _public_helper(job, "probe")
    ns = {"__name__": "__main__"}
    errors = _quiet_exec(job.get("cells"), ns)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            arrays = probe(ns, inputs)
    except Exception as exc:            # the student's function raised: their error, shown as such
        raise RuntimeError(_short(f"{type(exc).__name__}: {exc}")
                           + (f" (cell error: {errors[0]})" if errors else "")) from None
    for key, value in dict(arrays).items():
        _save(out_dir, str(key), np.asarray(value))


DESCRIBE = {"keras": keras_describe, "torch_export": torch_describe}
PREDICT = {"keras": keras_predict, "torch_export": torch_predict}


def _save(out_dir: str, name: str, array: np.ndarray) -> None:
    if not name.isidentifier():
        raise ValueError(f"bad output name {name!r}")
    np.save(os.path.join(out_dir, f"{name}.npy"), np.ascontiguousarray(array), allow_pickle=False)


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
    out_dir, mode, job = spec["out"], spec["mode"], spec["job"]
    inputs = {name: np.load(path, allow_pickle=False) for name, path in spec["inputs"].items()}
    try:
        if job.get("model"):
            _zip_ok(job["model"], int(spec.get("max_unpacked", 512 * 2**20)))
        if mode == "describe":
            facts = fastai_describe(job, inputs, out_dir) if job["kind"] == "fastai_state" else DESCRIBE[job["kind"]](job)
            with open(os.path.join(out_dir, "facts.json"), "w") as f:
                json.dump(facts, f)
        elif mode == "predict":
            PREDICT[job["kind"]](job, inputs, out_dir)
            with open(os.path.join(out_dir, "device.json"), "w") as f:
                json.dump(_device(), f)
        elif mode == "cells":
            cells_probe(job, inputs, out_dir)
        else:
            raise ValueError(f"unknown mode {mode!r}")
    except Exception as exc:
        with open(os.path.join(out_dir, "error.txt"), "w") as f:
            f.write(_short(f"{type(exc).__name__}: {exc}"))
        sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1])
