"""Artifacts of the pytorch_mnist exercise (used by its graded cells).

The model leaves the kernel saved with ``torch.export``; the grader loads and runs it in a
fresh scoring sandbox.  Shared helpers come from ``dlcourse.artifacts`` (``value`` is
re-exported: the notebook calls ``_export.value(...)``).
"""
from __future__ import annotations

from dlcourse.artifacts import _guarded, _missing, _numbers, _plain, artifacts_dir, value  # noqa: F401

TORCH_DEF = "torch_def.pt2"
TORCH_TRAINED = "torch_trained.pt2"
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

    from dlcourse.datasets import mnist

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
    """The self-check's view of train_one_epoch: the same trace the grader judges (`loop_trace`,
    `loop_facts`), plus the batch size of the notebook's loader."""
    if train_fn is None:
        return _missing("train_one_epoch")
    arrays = loop_trace(train_fn)
    info = loop_facts(arrays, probe_data())
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


# ── the loop probe: one trace of what the loop does, judged like with like ──
# The grader runs the student's train_one_epoch in a scoring sandbox of its own (a "cells" job: the
# notebook's cells, then `loop_probe`), and only arrays come back; `loop_facts` (numpy only) reads them
# in the grader.  Each property is judged by comparing two things that differ only in what it tests:
#   gradients reset   the gradient an optimizer.step() uses, against the sum of the gradients of the
#                     backward passes since the previous step (same batch every time, lr 0: every
#                     backward adds the same thing, whatever else the loop does);
#   steps per batch   the steps of one call against the batches it was given, each step using the
#                     gradient of the batch(es) just back-propagated;
#   train mode        the mode of the forward passes whose output a backward pass went through (a
#                     validation forward under no_grad is not one of them);
#   learns            the probe's loss on the fixed batch before and after five calls with Adam,
#                     computed in the grader from the returned parameters.
TRACE_BATCHES = 60      # batches per call (copies of one batch): as many as an epoch of the notebook's loader
                        # (3,500 / 64 = 55), so what a loop does "every 20 batches" happens in the probe too
TRACE_CALLS = 2         # calls on the same model and optimizer: a gradient left from call 1 shows in call 2
MAX_EVENTS = 600        # backward / step / end-of-call records kept


def _loop_model():
    """The probe's model: BatchNorm makes train and eval mode compute different things."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))


def probe_data():
    """The probe's fixed batch (8 images, 8 labels) and the starting parameters of the learning run, as numpy."""
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    start = _probe_model()
    return {"x": x.reshape(8, -1).double().numpy(), "y": y.numpy().astype("int64"),
            "b_start": [p.detach().double().numpy() for p in start.parameters()]}


def loop_trace(train_fn) -> dict:
    """Run `train_fn` on the probe's scenarios; arrays only.

    Trace (SGD, lr 0, the model handed over in eval mode, TRACE_CALLS calls of TRACE_BATCHES copies of one
    batch of 8): for the last Linear layer, every backward pass's own gradient (the incoming one, before it is
    added to .grad), the .grad an optimizer step found, and .grad at the end of each call; the mode of each
    forward a backward pass went through.  Learning run (Adam, lr 0.01, a model without BatchNorm): the
    parameters after five calls of four copies of the batch.
    """
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    criterion = nn.CrossEntropyLoss()

    model = _loop_model()
    model.eval()
    last = model[-1]
    kinds, vectors, bp_modes, all_modes, pending = [], [], [], [], {}

    def grad_now():
        parts = [p.grad if p.grad is not None else torch.zeros_like(p) for p in (last.weight, last.bias)]
        return torch.cat([t.detach().reshape(-1).double() for t in parts]).numpy()

    def record(kind, vec):
        if len(kinds) < MAX_EVENTS:
            kinds.append(kind)
            vectors.append(vec)

    def incoming(name):
        def hook(grad):
            pending[name] = grad.detach().reshape(-1).double().clone()
            if len(pending) == 2:           # weight and bias of this backward pass both arrived
                record(0, torch.cat([pending.pop("weight"), pending.pop("bias")]).numpy())
            return grad
        return hook

    last.weight.register_hook(incoming("weight"))
    last.bias.register_hook(incoming("bias"))

    def on_forward(module, inputs, output):
        mode = bool(module.training)
        if len(all_modes) < MAX_EVENTS:
            all_modes.append(mode)
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(lambda grad: bp_modes.append(mode) if len(bp_modes) < MAX_EVENTS else None)

    model.register_forward_hook(on_forward)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: record(1, grad_now()))
    loader = DataLoader(TensorDataset(x.repeat(TRACE_BATCHES, 1, 1, 1), y.repeat(TRACE_BATCHES)),
                        batch_size=8, shuffle=False)
    for _ in range(TRACE_CALLS):
        train_fn(model, loader, criterion, opt, "cpu")
        record(2, grad_now())
    dim = int(last.weight.numel() + last.bias.numel())
    arrays = {"t_kinds": np.asarray(kinds, dtype=np.int64),
              "t_vectors": np.asarray(vectors, dtype=np.float64).reshape(len(vectors), dim),
              "t_bp_modes": np.asarray(bp_modes, dtype=np.int64),
              "t_modes": np.asarray(all_modes, dtype=np.int64)}

    model = _probe_model()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    fixed = DataLoader(TensorDataset(x.repeat(4, 1, 1, 1), y.repeat(4)), batch_size=8, shuffle=False)
    for _ in range(5):
        train_fn(model, fixed, criterion, opt, "cpu")
    for i, p in enumerate(model.parameters()):
        arrays[f"b_param{i}"] = p.detach().double().numpy()
    return arrays


def _loss(params: list, x, y) -> float:
    """Cross-entropy of the probe's learning model (Linear-ReLU-Linear) on the fixed batch, in numpy."""
    import numpy as np

    w1, b1, w2, b2 = params
    h = np.maximum(x @ w1.T + b1, 0.0)
    z = h @ w2.T + b2
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def loop_facts(arrays: dict, data: dict, rel: float = 1e-3) -> dict:
    """What the loop did, from `loop_trace`'s arrays (numpy only: the grader's side of the probe).

    steps_per_call, batches: optimizer steps of each call and batches per call; fresh_steps: every step used
    the gradients back-propagated since the previous step and nothing older; carried: some step also used
    a gradient from before the previous step (gradients were not reset); stale_steps: some step found no
    gradient of the batches since the previous one (a step before backward, or zero_grad between backward
    and step); backwards, bp_modes, forward_modes; loss_before / loss_after of the learning run.
    """
    import numpy as np

    kinds = np.asarray(arrays["t_kinds"]).reshape(-1)
    vecs = np.asarray(arrays["t_vectors"], dtype=np.float64)
    if vecs.ndim != 2 or len(vecs) != len(kinds) or not np.isfinite(vecs).all():
        raise ValueError("t_vectors")
    contribs = [vecs[i] for i in range(len(kinds)) if kinds[i] == 0]
    scale = max([float(np.linalg.norm(c)) for c in contribs] + [1e-12])
    tol = rel * scale
    steps_per_call, steps, fresh, carried, stale = [], 0, True, False, False
    since = np.zeros(vecs.shape[1])          # gradients back-propagated since the previous step
    everything = np.zeros(vecs.shape[1])     # ... since the start
    ends, per_call = [], 0
    for kind, vec in zip(kinds, vecs):
        if kind == 0:
            since = since + vec
            everything = everything + vec
        elif kind == 1:
            steps += 1
            per_call += 1
            n_since, n_vec = float(np.linalg.norm(since)), float(np.linalg.norm(vec))
            if n_since <= tol or n_vec <= tol:
                stale, fresh = True, False                  # nothing of the current batches (or nothing at all)
            else:
                alpha = float(vec @ since) / n_since ** 2
                if np.linalg.norm(vec - alpha * since) <= rel * n_vec and alpha <= 1 + rel:
                    pass        # what was back-propagated since the last step (scaled down: gradient clipping)
                elif n_vec > n_since + tol:
                    carried, fresh = True, False            # also older gradients: never reset
                else:
                    stale, fresh = True, False
            since = np.zeros(vecs.shape[1])
        elif kind == 2:
            steps_per_call.append(per_call)
            per_call = 0
            ends.append(vec)
    backwards = len(contribs)
    if steps < 2 and backwards:
        # too few steps to compare: does .grad at the end of the last call still hold the first call's gradients?
        last_call = np.zeros(vecs.shape[1])
        seen_end = 0
        for kind, vec in zip(kinds, vecs):
            if kind == 2:
                seen_end += 1
                if seen_end == len(ends) - 1:
                    last_call = np.zeros(vecs.shape[1])
            elif kind == 0 and seen_end >= len(ends) - 1:
                last_call = last_call + vec
        if ends and np.linalg.norm(ends[-1]) > tol and np.linalg.norm(ends[-1] - last_call) > tol \
                and np.linalg.norm(ends[-1] - everything) <= tol:
            carried = True
    bp = [bool(m) for m in np.asarray(arrays["t_bp_modes"]).reshape(-1)[:MAX_EVENTS]]
    modes = [bool(m) for m in np.asarray(arrays["t_modes"]).reshape(-1)[:MAX_EVENTS]]
    params = [np.asarray(arrays[f"b_param{i}"], dtype=np.float64) for i in range(4)]
    start = [np.asarray(p, dtype=np.float64) for p in data["b_start"]]
    if any(p.shape != s.shape or not np.isfinite(p).all() for p, s in zip(params, start)):
        raise ValueError("b_params")
    x, y = np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.int64)
    return {
        "batches": TRACE_BATCHES, "calls": TRACE_CALLS, "steps": steps, "steps_per_call": steps_per_call,
        "backwards": backwards, "fresh_steps": bool(steps and fresh), "carried": bool(carried),
        "stale_steps": bool(stale), "bp_modes": bp[:50], "forward_modes": modes[:50],
        "params_changed": bool(any(np.abs(p - s).max() > 0 for p, s in zip(params, start))),
        "loss_before": _loss(start, x, y), "loss_after": _loss(params, x, y),
    }


def loop_verdicts(d: dict) -> dict:
    """The four loop properties the grader and the self-check give points / messages for."""
    return {
        "loop_updates": bool(d["steps_per_call"] and all(n == d["batches"] for n in d["steps_per_call"])
                             and not d["stale_steps"]),
        "zero_grad": bool(d["backwards"]) and not d["carried"],
        "train_mode": bool(d["bp_modes"]) and all(d["bp_modes"]),
        "loop_learns": d["loss_after"] < 0.5 * d["loss_before"],
    }


def criterion_logits():
    """Fixed raw scores (8 x 10) and targets on which a loss function is compared with cross-entropy."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((8, 10)) * 2.0, rng.integers(0, 10, 8)


def criterion_value(criterion) -> float:
    """What the notebook's `criterion` computes on the fixed scores (nan when it is not a loss function)."""
    import torch

    if not callable(criterion):
        return float("nan")
    z, t = criterion_logits()
    try:
        out = criterion(torch.tensor(z, dtype=torch.float32), torch.tensor(t, dtype=torch.int64))
        return float(out.detach().reshape(-1)[0]) if isinstance(out, torch.Tensor) and out.numel() == 1 else float("nan")
    except Exception:
        return float("nan")


def cross_entropy(z, t) -> float:
    """Mean cross-entropy of raw scores `z` for targets `t` (numpy): what nn.CrossEntropyLoss() computes."""
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(t)), t].mean())


def loop_probe(ns: dict, inputs: dict) -> dict:
    """Entry of the scoring sandbox's `cells` job: the student's loop on the probe's scenarios, plus the batch
    size and length of the `train_loader` the notebook made (a claim, like the compile settings)."""
    train_fn = ns.get("train_one_epoch")
    if not callable(train_fn):
        raise NameError("train_one_epoch is not defined")
    arrays = loop_trace(train_fn)
    arrays["criterion_value"] = [criterion_value(ns.get("criterion"))]
    loader = ns.get("train_loader")
    bs = getattr(loader, "batch_size", None)
    try:
        items = int(len(loader.dataset))
    except Exception:
        items = -1
    arrays["loader"] = [bs if isinstance(bs, int) and not isinstance(bs, bool) else -1, items]
    return arrays
