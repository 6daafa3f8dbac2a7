"""Build the offline assets once and cache them (`python -m graders assets`).

Each stage is declared next to what uses it:
    mnist        graders/datasets/mnist.py: public/mnist.npz, secret/mnist_hidden.npz, secret/seed
    <stage>      graders/exercises/<name>/assets.py, STAGES (e.g. a pretrained model an exercise ships)

A stage is (what decides its outputs, the files it makes, builder).  A second run skips every
stage whose key and outputs are unchanged; the manifest in the cache folder records them.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from .config import CourseConfig

MANIFEST = "manifest.json"


def file_hash(*paths: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def _stages(cfg: CourseConfig) -> dict:
    """stage -> (key, outputs, builder): the shared datasets first, then each exercise's."""
    from . import exercises
    from .datasets import mnist

    stages = {"mnist": mnist.stage(cfg)}
    for name, make in exercises.asset_stages().items():
        stages[name] = make(cfg)
    return stages


def build(cfg: CourseConfig, force: bool = False, log=print, only: tuple = ()) -> dict:
    """Build each stage that is missing or out of date; return the manifest."""
    manifest_file = cfg.cache_dir / MANIFEST
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    for name, (key, outputs, builder) in _stages(cfg).items():
        if only and name not in only:
            continue
        done = manifest.get(name, {}).get("key") == key and all(p.exists() for p in outputs)
        if done and not force:
            continue
        t0 = time.perf_counter()
        info = builder(cfg, log)
        manifest[name] = {"key": key, "built_s": round(time.perf_counter() - t0, 1), **info}
        cfg.cache_dir.mkdir(parents=True, exist_ok=True)
        manifest_file.write_text(json.dumps(manifest, indent=2))
    _scratch_dirs(cfg.public_data_dir)
    log(f"assets: up to date in {cfg.cache_dir}")
    return manifest


# Folders inside the public data that a framework writes into on its own (fastai's learn.save and
# lr_find write `<data path>/models/`), declared by an exercise's assets.py as SCRATCH_DIRS.  Public
# data is read-only in the sandbox; each folder listed in `.writable` gets its own small tmpfs there
# (farm/sandbox.py), so such code runs as it does at home.
def _scratch_dirs(public: Path) -> None:
    from . import exercises

    if not public.is_dir():
        return
    dirs = exercises.scratch_dirs()
    for rel in dirs:
        if (public / rel).parent.is_dir():
            (public / rel).mkdir(exist_ok=True)
    listing = "".join(f"{rel}\n" for rel in dirs)
    if not (public / ".writable").exists() or (public / ".writable").read_text() != listing:
        (public / ".writable").write_text(listing)
