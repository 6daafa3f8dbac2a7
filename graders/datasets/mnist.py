"""MNIST for the course: built once from a registry package, split into public and secret parts.

public/mnist.npz          train + public test (what the student zone may read)
secret/mnist_hidden.npz   hidden grading images + labels (grader zone only)
secret/seed               the secret transform seed, made on first build (mode 0600)

The hidden images come from the digits the public split leaves out, each rescaled and noised
with the secret seed, so no file a student can rebuild from a public package holds them byte
for byte.  The scorers read them through the cached views at the end (`hidden_mnist`, …).
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import numpy as np

BUILD_VERSION = 2  # bump when the outputs change


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


def secret_seed(secret_dir: Path) -> int:
    seed_file = secret_dir / "seed"
    if not seed_file.exists():
        secret_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secret_dir, 0o700)
        fd = os.open(seed_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(secrets.randbits(63)))
    return int(seed_file.read_text().strip())


def _arrays(cfg) -> tuple[dict, np.ndarray, np.ndarray]:
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


def build(cfg, log) -> dict:
    t0 = time.perf_counter()
    public_dir, secret_dir = cfg.public_data_dir, cfg.secret_dir
    public_dir.mkdir(parents=True, exist_ok=True)
    seed = secret_seed(secret_dir)
    public, hidden_x, hidden_y = _arrays(cfg)
    np.savez(public_dir / "mnist.npz", **public)
    hidden = _hidden_transform(hidden_x, seed)
    target = secret_dir / "mnist_hidden.npz"
    np.savez(target, x=hidden, y=hidden_y)
    os.chmod(target, 0o600)
    counts = {"train": int(len(public["x_train"])), "test": int(len(public["x_test"])), "hidden": int(len(hidden))}
    log(f"assets: MNIST built in {time.perf_counter() - t0:.1f} s {counts}")
    return {"counts": counts}


def stage(cfg):
    """(what decides the outputs, the files it makes, builder): one stage of `graders.assets`."""
    return ({"version": BUILD_VERSION, "mnist_source": cfg.mnist_source, "split": cfg.split},
            [cfg.public_data_dir / "mnist.npz", cfg.secret_dir / "mnist_hidden.npz"], build)


def load_hidden(cfg) -> tuple[np.ndarray, np.ndarray]:
    """Grader zone only: hidden images (uint8) and labels."""
    path = cfg.secret_dir / "mnist_hidden.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. Fix: run `python -m graders assets` first.")
    with np.load(path, allow_pickle=False) as d:
        return d["x"], d["y"]


def load_public(cfg) -> dict:
    with np.load(cfg.public_data_dir / "mnist.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


# ── what the scorers measure on, cached per grading context ────────────────
def hidden_mnist(ctx):
    if "hidden_mnist" not in ctx.cache:
        ctx.cache["hidden_mnist"] = load_hidden(ctx.secrets)
    return ctx.cache["hidden_mnist"]


def public_test_mnist(ctx):
    if "public_mnist" not in ctx.cache:
        d = load_public(ctx.secrets)
        ctx.cache["public_mnist"] = (d["x_test"], d["y_test"])
    return ctx.cache["public_mnist"]


def public_train_mnist(ctx):
    if "public_mnist_train" not in ctx.cache:
        d = load_public(ctx.secrets)
        ctx.cache["public_mnist_train"] = (d["x_train"], d["y_train"])
    return ctx.cache["public_mnist_train"]


def mnist_inputs(ctx) -> dict:
    """Grader inputs of an MNIST exercise: hidden images, the public test images and the public training
    images (no labels: they stay here)."""
    return {"hidden": hidden_mnist(ctx)[0], "public": public_test_mnist(ctx)[0], "train": public_train_mnist(ctx)[0]}


def mnist_sets(ctx) -> dict:
    """Labels of the sets a reported test accuracy is judged on: test (public) and train."""
    return {"test": ("public", public_test_mnist(ctx)[1]), "train": ("train", public_train_mnist(ctx)[1])}


def public_accuracy(ctx, model: str = "trained") -> float:
    """Accuracy of a saved model on the public test set, measured by the grader."""
    from ..checks import model_accuracy
    return model_accuracy(ctx, model, "public", public_test_mnist(ctx)[1])
