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


# ── the loop probe of the scoring sandbox: arrays only, judged against references ──
# The grader runs the student's train_one_epoch here (a "cells" job: the notebook's cells, then
# `loop_probe`) and gets back only the probe model's parameters and gradients after each scenario.
# It compares them with what the course's own loops give on the same scenarios (computed without
# the student's code, on the grader's side: graders/exercises/pytorch_mnist/assets.py), so a loop earns "updates per batch", "resets gradients",
# "trains in train mode" and "learns" only by computing what such a loop computes.
def _loop_model(batch_norm: bool = True):
    """The course's probe model: BatchNorm makes train and eval mode give different gradients (scenario A);
    without it (scenario B), the model of the self-check's probe."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if not batch_norm:
        return _probe_model()
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))


def _flat(tensors):
    import torch

    return torch.cat([t.detach().reshape(-1).double() for t in tensors]).numpy()


def loop_scenarios(train_fn, observe: bool = False) -> tuple[dict, dict]:
    """Run `train_fn` on two fixed scenarios with the probe model; (arrays, facts).

    A: SGD (lr 0.1) over three copies of one batch of 8, the model handed over in eval mode.
    B: Adam (lr 0.01), five calls over four copies of the batch, a model without BatchNorm as made.
    C: as A with lr 0 and every zero_grad made a no-op: the gradients left are the sum of every backward
       pass, so a loop that never calls backward is told apart from one that resets after each step.
    `facts` (hooks: steps, backward passes, gradient growth, forward modes, losses) are recorded
    only when `observe` is set — for the course's own loops; the student's run hands back arrays.
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    criterion = nn.CrossEntropyLoss()
    facts: dict = {"batches": 3}

    model = _loop_model()
    model.eval()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _flat(model.parameters())
    if observe:
        modes, norms, steps = [], [], []
        facts["a_start"] = before
        model.register_forward_pre_hook(lambda m, inp: modes.append(bool(m.training)))
        next(model.parameters()).register_post_accumulate_grad_hook(lambda p: norms.append(float(p.grad.norm())))
        opt.register_step_post_hook(lambda o, a, k: steps.append(1))
    loader = DataLoader(TensorDataset(x.repeat(3, 1, 1, 1), y.repeat(3)), batch_size=8, shuffle=False)
    train_fn(model, loader, criterion, opt, "cpu")
    params = list(model.parameters())
    arrays = {"a_params": _flat(params),
              "a_grads": _flat([p.grad if p.grad is not None else torch.zeros_like(p) for p in params])}
    if observe:
        facts.update({"steps": len(steps), "backwards": len(norms), "forward_modes": modes[:50],
                      "grad_ratio": norms[-1] / norms[0] if len(norms) >= 2 and norms[0] > 0 else None,
                      "params_changed": bool(abs(arrays["a_params"] - before).max() > 0)})

    model = _loop_model(batch_norm=False)
    if observe:
        facts["b_start"] = _flat(model.parameters())
    with torch.no_grad():
        model.eval()
        loss_before = float(criterion(model(x), y))
        model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    fixed = DataLoader(TensorDataset(x.repeat(4, 1, 1, 1), y.repeat(4)), batch_size=8, shuffle=False)
    for _ in range(5):
        train_fn(model, fixed, criterion, opt, "cpu")
    arrays["b_params"] = _flat(model.parameters())
    if observe:
        with torch.no_grad():
            model.eval()
            facts.update({"loss_before": loss_before, "loss_after": float(criterion(model(x), y))})

    model = _loop_model()
    model.eval()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    opt.zero_grad = model.zero_grad = lambda *args, **kwargs: None
    train_fn(model, loader, criterion, opt, "cpu")
    arrays["c_grads"] = _flat([p.grad if p.grad is not None else torch.zeros_like(p) for p in model.parameters()])
    return arrays, facts


def loop_probe(ns: dict, inputs: dict) -> dict:
    """Entry of the scoring sandbox's `cells` job: the student's loop on the scenarios, plus the batch size
    and length of the `train_loader` the notebook made (a claim, like the compile settings)."""
    train_fn = ns.get("train_one_epoch")
    if not callable(train_fn):
        raise NameError("train_one_epoch is not defined")
    arrays, _ = loop_scenarios(train_fn)
    loader = ns.get("train_loader")
    bs = getattr(loader, "batch_size", None)
    try:
        items = int(len(loader.dataset))
    except Exception:
        items = -1
    arrays["loader"] = [bs if isinstance(bs, int) and not isinstance(bs, bool) else -1, items]
    return arrays
