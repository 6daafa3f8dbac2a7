"""Build the offline assets once and cache them (`python -m graders assets`).

public/mnist.npz                 train + public test (what the student zone may read)
public/sentiment-model/          the course's sentiment-analysis model (fine-tuned MiniLM)
public/digit_pets/images/        digits 5-9 named like the Pets images (seven_0412.png)
public/digit_body.safetensors    small CNN body pretrained by the course on digits 0-4
grading/sentiment_texts.json     hidden reviews without labels, lent to the sandbox while grading
secret/mnist_hidden.npz          hidden grading images + labels (grader zone only)
secret/sentiment_reference.json  hidden reviews' labels and the course model's scores (grader zone only)
secret/seed                      the secret transform seed, made on first build (mode 0600)

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
BUILD_VERSION = 2  # bump when a stage's outputs change


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


def _build_mnist(cfg: CourseConfig, log) -> dict:
    t0 = time.perf_counter()
    public_dir, secret_dir = cfg.public_data_dir, cfg.secret_dir
    public_dir.mkdir(parents=True, exist_ok=True)
    seed = _secret_seed(secret_dir)
    public, hidden_x, hidden_y = _mnist_arrays(cfg)
    np.savez(public_dir / "mnist.npz", **public)
    hidden = _hidden_transform(hidden_x, seed)
    target = secret_dir / "mnist_hidden.npz"
    np.savez(target, x=hidden, y=hidden_y)
    os.chmod(target, 0o600)
    counts = {"train": int(len(public["x_train"])), "test": int(len(public["x_test"])), "hidden": int(len(hidden))}
    log(f"assets: MNIST built in {time.perf_counter() - t0:.1f} s {counts}")
    return {"counts": counts}


def _build_sentiment(cfg: CourseConfig, log) -> dict:
    """The course's sentiment model (public), hidden texts for grading, reference labels/scores (secret)."""
    from .assets_sentiment import HIDDEN_FILE, build_sentiment_model, load_sentences, quiet_offline

    model_dir = cfg.public_data_dir / "sentiment-model"
    manifest = build_sentiment_model(model_dir, force=True, log=log)
    texts, labels = load_sentences(HIDDEN_FILE)
    cfg.grading_inputs_dir.mkdir(parents=True, exist_ok=True)
    (cfg.grading_inputs_dir / "sentiment_texts.json").write_text(json.dumps(texts, ensure_ascii=False))
    quiet_offline()
    from transformers import pipeline

    results = pipeline("sentiment-analysis", model=str(model_dir))(texts)
    reference = [{"text": t, "label": y, "pred": r["label"], "score": float(r["score"])}
                 for t, y, r in zip(texts, labels, results)]
    target = cfg.secret_dir / "sentiment_reference.json"
    target.write_text(json.dumps(reference, ensure_ascii=False, indent=1))
    os.chmod(target, 0o600)
    return {"seconds": manifest.get("seconds"), "hidden_accuracy": manifest.get("hidden_accuracy")}


def _build_fastai(cfg: CourseConfig, log) -> dict:
    """Pets-like digit image folder and the course's pretrained CNN body (public)."""
    from .assets_fastai import build_fastai_assets

    return build_fastai_assets(cfg.public_data_dir, force=True, log=log)


def _file_hash(*paths: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# stage -> (what decides its outputs, the files it makes, builder)
def _stages(cfg: CourseConfig):
    return {
        "mnist": ({"version": BUILD_VERSION, "mnist_source": cfg.mnist_source, "split": cfg.split},
                  [cfg.public_data_dir / "mnist.npz", cfg.secret_dir / "mnist_hidden.npz"], _build_mnist),
        "fastai": ({"version": 1, "code": _file_hash(Path(__file__).with_name("assets_fastai.py"))},
                   [cfg.public_data_dir / "digit_body.safetensors", cfg.public_data_dir / "digit_pets" / "images"],
                   _build_fastai),
        "sentiment": ({"version": 1, "data": _file_hash(Path(__file__).with_name("data") / "sentiment_train.json")},
                      [cfg.public_data_dir / "sentiment-model" / "config.json",
                       cfg.grading_inputs_dir / "sentiment_texts.json", cfg.secret_dir / "sentiment_reference.json"],
                      _build_sentiment),
    }


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
# lr_find write `<data path>/models/`).  Public data is read-only in the sandbox; each folder listed
# in `.writable` gets its own small tmpfs there (farm/sandbox.py), so such code runs as it does at home.
SCRATCH_DIRS = ("digit_pets/images/models",)


def _scratch_dirs(public: Path) -> None:
    if not public.is_dir():
        return
    for rel in SCRATCH_DIRS:
        if (public / rel).parent.is_dir():
            (public / rel).mkdir(exist_ok=True)
    listing = "\n".join(SCRATCH_DIRS) + "\n"
    if not (public / ".writable").exists() or (public / ".writable").read_text() != listing:
        (public / ".writable").write_text(listing)


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


def load_sentiment_reference(cfg: CourseConfig) -> list[dict]:
    """Grader zone only: hidden reviews with true labels and the course model's scores."""
    path = cfg.secret_dir / "sentiment_reference.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. Fix: run `python -m graders assets` first.")
    return json.loads(path.read_text())
