"""Offline asset of pytorch_mnist: the loop probe's fixed data.

The scoring sandbox runs the student's `train_one_epoch` on the probe's scenarios and hands back only
arrays (dlcourse.exercises.pytorch_mnist.export.loop_probe); the grader reads them with `loop_facts`,
which needs the probe's fixed batch and the learning run's starting parameters.  They are made here
once, by course code only (torch is imported at build time, never to grade), and kept in the secret
folder.
"""
from __future__ import annotations

import json
import os

import numpy as np

REFERENCE = "torch_loop_reference"


def _build(cfg, log) -> dict:
    import torch

    from dlcourse.exercises.pytorch_mnist.export import probe_data

    prev = torch.get_num_threads()
    try:
        data = probe_data()
    finally:
        torch.set_num_threads(prev)
    cfg.secret_dir.mkdir(parents=True, exist_ok=True)
    target = cfg.secret_dir / f"{REFERENCE}.npz"
    arrays = {"x": data["x"], "y": data["y"], **{f"b_start{i}": p for i, p in enumerate(data["b_start"])}}
    np.savez(target, **arrays)
    (cfg.secret_dir / f"{REFERENCE}.json").write_text(json.dumps({"params": len(data["b_start"])}))
    for path in (target, cfg.secret_dir / f"{REFERENCE}.json"):
        os.chmod(path, 0o600)
    log("torch loop probe: fixed batch and starting parameters")
    return {"torch": torch.__version__}


def _stage(cfg):
    import importlib.metadata

    from ...assets import file_hash
    from dlcourse.exercises.pytorch_mnist import export

    return ({"version": 2, "probe": file_hash(export.__file__, __file__), "torch": importlib.metadata.version("torch")},
            [cfg.secret_dir / f"{REFERENCE}.npz", cfg.secret_dir / f"{REFERENCE}.json"], _build)


STAGES = {"torch_loop_reference": _stage}


def load_probe_data(cfg) -> dict:
    """Grader zone: the probe's fixed batch and starting parameters; built on first use if the cache lacks them."""
    path = cfg.secret_dir / f"{REFERENCE}.npz"
    if not path.exists() or not (cfg.secret_dir / f"{REFERENCE}.json").exists():
        _build(cfg, log=lambda *a: None)
    n = json.loads((cfg.secret_dir / f"{REFERENCE}.json").read_text())["params"]
    with np.load(path, allow_pickle=False) as data:
        return {"x": data["x"], "y": data["y"], "b_start": [data[f"b_start{i}"] for i in range(n)]}
