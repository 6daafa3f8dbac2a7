"""Offline assets for the fastai transfer-learning exercise (a "Pets" lesson on digits).

public_dir/digit_pets/images/<name>_<index>.png   digits 5-9 from the public train+test split,
                                                  28x28 grey PNG, label only in the file name
public_dir/digit_body.safetensors                 state_dict of ``dlcourse.exercises.fastai_transfer.models.DigitBody``
                                                  trained once on digits 0-4 (train split only)

The student notebook does, as in the fastai Pets lesson::

    dls = ImageDataLoaders.from_name_re(path, get_image_files(path), pat=FILE_PAT,
                                        item_tfms=Resize(IMAGE_SIZE), num_workers=0)
    learn = vision_learner(dls, digit_body, metrics=error_rate)
    learn.fine_tune(3)

``rebuild_and_predict`` rebuilds the fine-tuned model from a plain safetensors state_dict
(nothing unpickled) and predicts on new 28x28 uint8 digits with the DataLoaders' preprocessing.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

import graders  # noqa: F401  (puts ../public on sys.path for `dlcourse`)

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PRETRAIN_DIGITS = (0, 1, 2, 3, 4)      # the body learns strokes on these ("other classes")
TARGET_DIGITS = (5, 6, 7, 8, 9)        # the fine-tuning task, 5 classes
TARGET_VOCAB = sorted(DIGIT_NAMES[d] for d in TARGET_DIGITS)  # fastai's class order (sorted)
FILE_PAT = r'^([a-z]+)_\d+\.png$'
IMAGE_SIZE = 32                        # item_tfms=Resize(IMAGE_SIZE); the body was trained at 32
PER_CLASS = 300                        # images per target class in the folder (1,500 in all)
PRETRAIN_SEED = 20240601
PRETRAIN_EPOCHS = 6
PRETRAIN_BS = 64
PRETRAIN_LR = 3e-3
PRETRAIN_NOISE = 0.06                  # max std of the added pixel noise (0: none)
PRETRAIN_ROTATE = 0.0                  # augmentation: max rotation in degrees,
PRETRAIN_SCALE = 0.0                   # max relative zoom,
PRETRAIN_SHIFT = 3.0                   # max shift in pixels
PRETRAIN_DROPOUT = 0.5                 # dropout before the pretraining classifier


# ---------------------------------------------------------------- preprocessing
def to_model_input(images_uint8: np.ndarray, size: int = IMAGE_SIZE):
    """The exact tensor fastai feeds the model for these digits (validation mode).

    For a 28x28 PNG read by ``ImageDataLoaders`` with ``item_tfms=Resize(size)``:
    ``PILImage.create`` opens it as RGB (grey copied to 3 channels); ``Resize`` (method
    Crop) on a square image crops nothing and resizes with PIL ``BILINEAR`` to
    ``size x size``; ``ToTensor`` gives uint8 CHW; ``IntToFloatTensor`` divides by 255.
    ``vision_learner`` adds no ``Normalize`` for ``digit_body`` (no stats in its meta),
    so that is the whole pipeline.  Returns float32 ``[N, 3, size, size]``.
    """
    import torch
    from PIL import Image

    images_uint8 = np.asarray(images_uint8, dtype=np.uint8)
    out = np.empty((len(images_uint8), size, size, 3), dtype=np.uint8)
    for i, im in enumerate(images_uint8):
        pil = Image.fromarray(im).convert("RGB")
        out[i] = np.asarray(pil.resize((size, size), Image.BILINEAR))
    return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0)


# ---------------------------------------------------------------- the image folder
def _target_indices(y: np.ndarray, split: dict) -> np.ndarray:
    """First PER_CLASS images of each target digit from the public train+test parts."""
    pool = np.concatenate([split["train"], split["test"]])
    return np.concatenate([pool[y[pool] == d][:PER_CLASS] for d in TARGET_DIGITS])


def _file_name(label: int, index: int) -> str:
    return f"{DIGIT_NAMES[label]}_{index:04d}.png"


def _write_images(folder: Path, x: np.ndarray, y: np.ndarray, indices: np.ndarray) -> int:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    wanted = {_file_name(int(y[i]), int(i)): int(i) for i in indices}
    for old in folder.glob("*.png"):
        if old.name not in wanted:
            old.unlink()
    for name, i in wanted.items():
        tmp = folder / f".{name}.tmp"
        Image.fromarray(x[i]).save(tmp, format="PNG")
        os.chmod(tmp, 0o644)
        tmp.replace(folder / name)
    return len(wanted)


# ---------------------------------------------------------------- pretraining the body
def _augment(xb, rng):
    """Random rotation, scale and shift (one affine warp per image), contrast and noise."""
    import torch
    from torch.nn import functional as F

    n, s = len(xb), xb.shape[-1]
    ang = np.deg2rad(rng.uniform(-PRETRAIN_ROTATE, PRETRAIN_ROTATE, n))
    scale = rng.uniform(1 - PRETRAIN_SCALE, 1 + PRETRAIN_SCALE, n)
    shift = rng.uniform(-PRETRAIN_SHIFT, PRETRAIN_SHIFT, (n, 2)) * 2 / s
    cos, sin = np.cos(ang) / scale, np.sin(ang) / scale
    theta = np.stack([np.stack([cos, -sin, shift[:, 0]], 1), np.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(torch.from_numpy(theta).float(), list(xb.shape), align_corners=False)
    xb = F.grid_sample(xb, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if PRETRAIN_NOISE:
        contrast = torch.from_numpy(rng.uniform(0.7, 1.0, (n, 1, 1, 1))).float()
        sigma = torch.from_numpy(rng.uniform(0, PRETRAIN_NOISE, (n, 1, 1, 1))).float()
        noise = torch.from_numpy(rng.standard_normal((n, 1, s, s))).float()
        xb = (xb * contrast + noise * sigma).clamp_(0, 1)
    return xb


def _pretrain_body(x: np.ndarray, y: np.ndarray, log=print) -> tuple[dict, dict]:
    """Train DigitBody + a linear layer on digits 0-4; return (body state_dict, stats).

    Runs on one CPU thread: the result then does not depend on the thread count.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _pretrain_body_1thread(x, y, log)
    finally:
        torch.set_num_threads(threads)


def _pretrain_body_1thread(x: np.ndarray, y: np.ndarray, log=print) -> tuple[dict, dict]:
    import torch
    from torch import nn
    from dlcourse.exercises.fastai_transfer.models import DigitBody

    torch.manual_seed(PRETRAIN_SEED)
    rng = np.random.default_rng(PRETRAIN_SEED)
    xb_all = to_model_input(x)                       # same inputs fastai will give the body
    yb_all = torch.from_numpy(y.astype(np.int64))
    body = DigitBody()
    model = nn.Sequential(body, nn.Dropout(PRETRAIN_DROPOUT),
                          nn.Linear(body[-3][0].out_channels, len(PRETRAIN_DIGITS)))
    steps = PRETRAIN_EPOCHS * int(np.ceil(len(x) / PRETRAIN_BS))
    opt = torch.optim.AdamW(model.parameters(), lr=PRETRAIN_LR, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=PRETRAIN_LR, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(PRETRAIN_EPOCHS):
        order = rng.permutation(len(x))
        total, correct, loss_sum = 0, 0, 0.0
        for a in range(0, len(x), PRETRAIN_BS):
            idx = order[a:a + PRETRAIN_BS]
            xb = _augment(xb_all[idx], rng)
            yb = yb_all[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            total += len(idx)
        log(f"  pretrain epoch {epoch + 1}/{PRETRAIN_EPOCHS}: loss {loss_sum / total:.4f}, "
            f"train acc {correct / total:.4f}")
    model.eval()
    state = {k: v.detach().cpu().contiguous() for k, v in body.state_dict().items()}
    return state, {"train_acc_last_epoch": round(correct / total, 4), "n_images": int(len(x))}


# ---------------------------------------------------------------- build
def build_fastai_assets(public_dir: Path, force: bool = False, log=print) -> dict:
    """Write the digit image folder and the pretrained body (skip what exists unless force)."""
    from safetensors.torch import save_file
    from dlcourse.datasets import mnist
    from dlcourse.exercises.fastai_transfer.models import IMAGES_DIR, WEIGHTS_FILE

    public_dir = Path(public_dir)
    folder = public_dir.joinpath(*IMAGES_DIR)
    weights = public_dir / WEIGHTS_FILE
    x, y = mnist.raw_digits()
    split = mnist.split_indices(len(x), {"train": 3500, "test": 500, "hidden": 1000})
    manifest: dict = {"image_size": IMAGE_SIZE, "file_pat": FILE_PAT, "vocab": TARGET_VOCAB}

    t0 = time.perf_counter()
    indices = _target_indices(y, split)
    expected = {_file_name(int(y[i]), int(i)) for i in indices}
    present = {p.name for p in folder.glob("*.png")} if folder.exists() else set()
    if force or present != expected:
        n = _write_images(folder, x, y, indices)
        log(f"fastai assets: wrote {n} images → {folder}")
        manifest["images_written"] = True
    else:
        manifest["images_written"] = False
    manifest["images_s"] = round(time.perf_counter() - t0, 2)
    manifest["images"] = {DIGIT_NAMES[d]: int((y[indices] == d).sum()) for d in TARGET_DIGITS}
    manifest["n_images"] = len(expected)

    t0 = time.perf_counter()
    if force or not weights.exists():
        train = split["train"]
        pre = train[np.isin(y[train], PRETRAIN_DIGITS)]     # train split, digits 0-4 only
        state, stats = _pretrain_body(x[pre], y[pre], log=log)
        tmp = weights.with_name(f".{weights.name}.tmp")
        save_file(state, str(tmp), metadata={"digits": json.dumps(list(PRETRAIN_DIGITS)),
                                             "seed": str(PRETRAIN_SEED),
                                             "epochs": str(PRETRAIN_EPOCHS)})
        os.chmod(tmp, 0o644)
        tmp.replace(weights)
        manifest["pretrain"] = stats
        manifest["body_trained"] = True
        log(f"fastai assets: body trained in {time.perf_counter() - t0:.1f} s → {weights}")
    else:
        manifest["body_trained"] = False
    manifest["body_s"] = round(time.perf_counter() - t0, 2)
    manifest["body_bytes"] = weights.stat().st_size
    return manifest


# ---------------------------------------------------------------- export / rebuild
def export_learner_state(learn, path: str | os.PathLike) -> None:
    """Save ``learn.model``'s state_dict as safetensors, with the class names as metadata."""
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in learn.model.state_dict().items()}
    save_file(state, str(path), metadata={"vocab": json.dumps([str(v) for v in learn.dls.vocab])})


def rebuild_model(n_out: int):
    """The architecture ``vision_learner(dls, digit_body)`` builds, with random weights.

    ``vision_learner`` calls ``create_vision_model(digit_body, n_out, pretrained=...)`` with
    default head arguments; ``pretrained`` only decides whether the body file is loaded,
    so ``pretrained=False`` gives the same modules and parameter names.
    """
    from fastai.vision.learner import create_vision_model
    from dlcourse.exercises.fastai_transfer.models import digit_body

    return create_vision_model(digit_body, n_out=n_out, pretrained=False)


def rebuild_and_predict(state_dict_path, images_uint8: np.ndarray, n_out: int,
                        batch_size: int = 256) -> np.ndarray:
    """Class indices predicted by the exported model for 28x28 uint8 digits.

    Preprocessing, identical to the validation DataLoader (see ``to_model_input``):
    grey -> RGB, PIL bilinear resize to 32x32, /255, no Normalize.  The model runs in
    eval mode (BatchNorm running stats, no dropout).  Index i means ``vocab[i]``, the
    sorted class names (stored in the file's metadata by ``export_learner_state``;
    for the digits 5-9 task: ``TARGET_VOCAB``).
    """
    import torch
    from safetensors.torch import load_file

    model = rebuild_model(n_out)
    model.load_state_dict(load_file(str(state_dict_path)), strict=True)
    model.eval()
    xb = to_model_input(images_uint8)
    preds = []
    with torch.no_grad():
        for a in range(0, len(xb), batch_size):
            preds.append(model(xb[a:a + batch_size]).argmax(1))
    return torch.cat(preds).numpy() if preds else np.zeros(0, dtype=np.int64)


def vocab_of(state_dict_path) -> list[str]:
    """The class names stored by ``export_learner_state``."""
    from safetensors import safe_open

    with safe_open(str(state_dict_path), framework="pt") as f:
        return json.loads((f.metadata() or {})["vocab"])


# ── the stage of `python -m graders assets` ────────────────────────────────
def _stage(cfg):
    from ...assets import file_hash
    return ({"version": 1, "code": file_hash(Path(__file__))},
            [cfg.public_data_dir / "digit_body.safetensors", cfg.public_data_dir / "digit_pets" / "images"],
            lambda cfg, log: build_fastai_assets(cfg.public_data_dir, force=True, log=log))


STAGES = {"fastai": _stage}
# fastai's learn.save and lr_find write `<data path>/models/`: a small writable folder in the sandbox
SCRATCH_DIRS = ("digit_pets/images/models",)
