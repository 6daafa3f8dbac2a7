"""Build the offline assets once and cache them (`python -m graders assets`).

public/mnist.npz         train + public test (what the student zone may read)
secret/mnist_hidden.npz  hidden grading images + labels (grader zone only)
secret/seed              the secret transform seed, made on first build (mode 0600)

The hidden images come from the digits the public split leaves out, each rescaled
and noised with the secret seed, so no file a student can rebuild from a
public package holds them byte for byte.  A second run skips what is up to date.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import numpy as np

from .config import CourseConfig

MANIFEST = "manifest.json"
BUILD_VERSION = 2


def _hidden_transform(images: np.ndarray, seed: int) -> np.ndarray:
    """Rescale contrast and add noise, per image, with the secret seed.

    Shifting or rotating would make the grading set harder than the training data for a
    dense network (a 1-pixel shift cost the reference 10 points of accuracy), so the
    transform only changes the pixel values.
    """
    rng = np.random.default_rng(seed)
    x = images.astype(np.float32)
    contrast = rng.uniform(0.8, 1.0, size=(len(x), 1, 1))
    noisy = x * contrast + rng.normal(0, 12.0, size=x.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _secret_seed(secret_dir: Path) -> int:
    seed_file = secret_dir / "seed"
    if not seed_file.exists():
        secret_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secret_dir, 0o700)
        fd = os.open(seed_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(secrets.randbits(63)))
    return int(seed_file.read_text().strip())


def _mnist_arrays(cfg: CourseConfig) -> tuple[dict, np.ndarray, np.ndarray]:
    """Public arrays plus the untransformed hidden images and labels."""
    from dlcourse.datasets import mnist

    if cfg.mnist_source == "online":  # full MNIST from the internet (config switch)
        import keras

        (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
        half = len(xte) // 2
        public = {"x_train": xtr, "y_train": ytr, "x_test": xte[:half], "y_test": yte[:half]}
        return public, xte[half:], yte[half:]
    x, y = mnist.raw_digits()
    idx = mnist.split_indices(len(x), cfg.split)
    public = {"x_train": x[idx["train"]], "y_train": y[idx["train"]],
              "x_test": x[idx["test"]], "y_test": y[idx["test"]]}
    return public, x[idx["hidden"]], y[idx["hidden"]]


def build(cfg: CourseConfig, force: bool = False, log=print) -> dict:
    """Build what is missing or out of date; return the manifest."""
    public_dir, secret_dir = cfg.public_data_dir, cfg.secret_dir
    manifest_file = cfg.cache_dir / MANIFEST
    wanted = {"version": BUILD_VERSION, "mnist_source": cfg.mnist_source, "split": cfg.split}
    if not force and manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        files_ok = (public_dir / "mnist.npz").exists() and (secret_dir / "mnist_hidden.npz").exists()
        if files_ok and all(manifest.get(k) == v for k, v in wanted.items()):
            log(f"assets: up to date in {cfg.cache_dir}")
            return manifest

    t0 = time.perf_counter()
    public_dir.mkdir(parents=True, exist_ok=True)
    seed = _secret_seed(secret_dir)
    public, hidden_x, hidden_y = _mnist_arrays(cfg)
    np.savez(public_dir / "mnist.npz", **public)
    hidden = _hidden_transform(hidden_x, seed)
    target = secret_dir / "mnist_hidden.npz"
    np.savez(target, x=hidden, y=hidden_y)
    os.chmod(target, 0o600)
    manifest = {**wanted, "built_s": round(time.perf_counter() - t0, 2),
                "counts": {"train": int(len(public["x_train"])), "test": int(len(public["x_test"])),
                           "hidden": int(len(hidden))}}
    manifest_file.write_text(json.dumps(manifest, indent=2))
    log(f"assets: MNIST built in {manifest['built_s']} s → {cfg.cache_dir} {manifest['counts']}")
    return manifest


def load_hidden_mnist(cfg: CourseConfig) -> tuple[np.ndarray, np.ndarray]:
    """Grader zone only: hidden images (uint8) and labels."""
    path = cfg.secret_dir / "mnist_hidden.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. Fix: run `python -m graders assets` first.")
    with np.load(path, allow_pickle=False) as d:
        return d["x"], d["y"]


def load_public_mnist(cfg: CourseConfig) -> dict:
    with np.load(cfg.public_data_dir / "mnist.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}
