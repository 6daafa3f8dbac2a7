"""Offline asset of pytorch_mnist: the loop probe's references.

The scoring sandbox runs the student's `train_one_epoch` on two fixed scenarios and hands back
only the probe model's parameters and gradients (dlcourse.exercises.pytorch_mnist.export.loop_probe).
The grader compares them with what the course's own loops — right, and each common mistake —
give on the same scenarios.  Those references are computed here, once, by course code only, and
kept in the secret folder with the facts the course's hooks saw (steps, gradient growth, modes,
losses), which the check messages quote.
"""
from __future__ import annotations

import json
import os

import numpy as np

REFERENCE = "torch_loop_reference"
LOOP_VARIANTS = tuple((z, s, m) for z in ("before", "after", "none") for s in ("batch", "end", "none")
                      for m in ("train", "eval")) + (("none", "none", "none"),)     # the last: does nothing


def course_loop(zero_grad: str, step: str, mode: str):
    """One of the loops students write, right or wrong: where gradients are reset ("before" the forward
    pass, "after" the step, "none"), when the optimizer steps ("batch", once at the "end", "none"), and
    whether the model is put in train mode ("train") or left as it came ("eval"); ("none", "none", "none")
    does nothing at all."""
    def train_one_epoch(model, loader, criterion, optimizer, device):
        if mode == "none":
            return None
        if mode == "train":
            model.train()
        for xb, yb in loader:
            if zero_grad == "before":
                optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            if step == "batch":
                optimizer.step()
            if zero_grad == "after":
                optimizer.zero_grad()
        if step == "end":
            optimizer.step()
            if zero_grad == "after":
                optimizer.zero_grad()
    return train_one_epoch


def reference_loops() -> dict:
    """(zero_grad, step, mode) -> (arrays, facts) of the course's own loops: the grader's references.
    (Kept on the grader's side: a right loop is not something the public package should hand out.)"""
    from dlcourse.exercises.pytorch_mnist.export import loop_scenarios

    return {variant: loop_scenarios(course_loop(*variant), observe=True) for variant in LOOP_VARIANTS}




def _build(cfg, log) -> dict:
    import torch

    prev = torch.get_num_threads()
    try:
        refs = reference_loops()
    finally:
        torch.set_num_threads(prev)
    arrays, facts = {}, {}
    for i, (variant, (arr, fact)) in enumerate(refs.items()):
        fact = dict(fact)
        for key in ("a_start", "b_start"):          # arrays of the hooks' run, kept with the arrays
            arr = {**arr, key: fact.pop(key)}
        for key, value in arr.items():
            arrays[f"v{i}_{key}"] = np.asarray(value)
        facts[f"v{i}"] = {"variant": list(variant), **fact}
    cfg.secret_dir.mkdir(parents=True, exist_ok=True)
    target = cfg.secret_dir / f"{REFERENCE}.npz"
    np.savez(target, **arrays)
    (cfg.secret_dir / f"{REFERENCE}.json").write_text(json.dumps(facts, indent=1))
    for path in (target, cfg.secret_dir / f"{REFERENCE}.json"):
        os.chmod(path, 0o600)
    log(f"torch loop references: {len(refs)} course loops on the probe scenarios")
    return {"variants": len(refs), "torch": torch.__version__}


def _stage(cfg):
    import importlib.metadata

    from ...assets import file_hash
    from dlcourse.exercises.pytorch_mnist import export

    return ({"version": 1, "probe": file_hash(export.__file__, __file__), "torch": importlib.metadata.version("torch")},
            [cfg.secret_dir / f"{REFERENCE}.npz", cfg.secret_dir / f"{REFERENCE}.json"], _build)


STAGES = {"torch_loop_reference": _stage}


def load_references(cfg) -> list[tuple[dict, dict]]:
    """Grader zone: [(arrays, facts)] of the course's loops; built on first use if the cache lacks them."""
    path = cfg.secret_dir / f"{REFERENCE}.npz"
    if not path.exists() or not (cfg.secret_dir / f"{REFERENCE}.json").exists():
        _build(cfg, log=lambda *a: None)
    facts = json.loads((cfg.secret_dir / f"{REFERENCE}.json").read_text())
    out = []
    with np.load(path, allow_pickle=False) as data:
        for key, fact in facts.items():
            arrays = {name[len(key) + 1:]: data[name] for name in data.files if name.startswith(key + "_")}
            out.append((arrays, fact))
    return out
