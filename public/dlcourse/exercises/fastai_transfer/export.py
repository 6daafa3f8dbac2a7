"""Artifacts of the fastai_transfer exercise (used by its graded cells).

The fine-tuned model leaves the kernel as a safetensors state_dict; the grader's scoring
sandbox rebuilds vision_learner's model, checks every tensor's shape and runs it.  Shared
helpers come from ``dlcourse.artifacts``.
"""
from __future__ import annotations

import json
import re
import unicodedata

from dlcourse.artifacts import _guarded, _missing, artifacts_dir

DIGIT_NAMES = ("five", "six", "seven", "eight", "nine")      # the labels in the file names (seven_0412.png)


def class_key(name, limit: int = 100) -> str:
    """A class name by its meaning: 'Seven', ' seven ', 'ｓｅｖｅｎ' (full width) are the class 'seven'.

    Unicode compatibility form (NFKC: widths), case folded, spaces at the ends dropped and runs of spaces
    made one.  At most `limit` characters are read (names come from the student)."""
    text = unicodedata.normalize("NFKC", str(name)[:limit]).casefold()
    return re.sub(r"\s+", " ", text).strip()


def same_classes(vocab, expected=DIGIT_NAMES) -> bool:
    """The classes are the expected ones by meaning: as many, none merged, none split, none extra."""
    if not isinstance(vocab, (list, tuple)) or len(vocab) != len(expected):
        return False
    keys = [class_key(v) for v in vocab]
    return len(set(keys)) == len(keys) and set(keys) == {class_key(e) for e in expected}


def _fastai_data(dls):
    if dls is None:
        return _missing("dls")
    xb, yb = dls.one_batch()
    return {"vocab": [str(v) for v in dls.vocab], "n_train": len(dls.train_ds), "n_valid": len(dls.valid_ds),
            "batch_x": list(xb.shape), "batch_y": list(yb.shape)}


def fastai_data(dls) -> None:
    """Classes, split sizes and the shape of one batch of the DataLoaders; starts watching training."""
    watch_training()
    _guarded("fastai_data", _fastai_data, dls)


def _body_conv_weights(model):
    body = model[0] if hasattr(model, "__getitem__") else model
    return [p for p in body.parameters() if p.ndim == 4]


_RECORDER = []      # the one recorder class, made once fastai is imported


def _recorder_class():
    if _RECORDER:
        return _RECORDER[0]
    from fastai.callback.core import Callback

    class CoursePhaseRecorder(Callback):
        """Records, for each training run (fit) of its learner, how many body conv weights were trainable.

        A learning-rate search (`lr_find`) is not a training phase: it restores the weights afterwards."""
        order = 99

        def __init__(self):
            self.phases, self._pending = [], False

        def before_fit(self):
            self._pending = not any(type(cb).__name__ == "LRFinder" for cb in self.learn.cbs)

        def before_train(self):   # only real training reaches here (validate/get_preds do not)
            if self._pending:
                convs = _body_conv_weights(self.learn.model)
                if len(self.phases) < 1000:
                    self.phases.append({"epochs": int(self.learn.n_epoch),
                                        "trainable_body": int(sum(p.requires_grad for p in convs)),
                                        "body_convs": len(convs)})
                self._pending = False

    _RECORDER.append(CoursePhaseRecorder)
    return CoursePhaseRecorder


def _phase_recorder():
    return _recorder_class()()


def _has_recorder(learn) -> bool:
    return any(type(cb).__name__ == "CoursePhaseRecorder" for cb in getattr(learn, "cbs", None) or [])


def watch_training() -> None:
    """Every Learner that trains from now on records its own phases (a learner made again in the training
    cell, or under another name, too): `Learner.fit`, which fine_tune and fit_one_cycle call, adds the
    recorder to the learner it runs on.  Never raises."""
    try:
        import functools

        from fastai.learner import Learner

        fit = Learner.fit
        if getattr(fit, "_course_watched", False):
            return

        @functools.wraps(fit)
        def fit_watched(self, *args, **kwargs):
            try:
                if not _has_recorder(self):
                    self.add_cb(_phase_recorder())
            except Exception:
                pass
            return fit(self, *args, **kwargs)

        fit_watched._course_watched = True
        Learner.fit = fit_watched
    except Exception:
        pass


def _fastai_learner(learn):
    import torch

    if learn is None:
        return _missing("learn")
    metrics = [getattr(m, "name", type(m).__name__) for m in learn.metrics]
    xb, _ = learn.dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb)
    if not _has_recorder(learn):
        learn.add_cb(_phase_recorder())   # watches the training that follows
    return {"metrics": metrics, "output_shape": list(out.shape), "n_vocab": len(learn.dls.vocab)}


def fastai_learner(learn) -> None:
    """Metrics, output shape on one batch; starts recording the training phases."""
    watch_training()
    _guarded("fastai_learner", _fastai_learner, learn)


def _fastai_training(learn):
    from safetensors.torch import save_file

    if learn is None:
        return _missing("learn")
    state = {k: v.detach().cpu().contiguous() for k, v in learn.model.state_dict().items()}
    vocab = [str(v) for v in learn.dls.vocab]
    save_file(state, str(artifacts_dir() / "fastai_state.safetensors"), metadata={"vocab": json.dumps(vocab)})
    recorder = next((cb for cb in learn.cbs if type(cb).__name__ == "CoursePhaseRecorder"), None)
    losses = [float(v) for v in getattr(learn.recorder, "losses", [])]
    return {"vocab": vocab, "phases": recorder.phases if recorder else None,
            "history": {"loss": losses[:1] + losses[-1:] if losses else []},
            "normalize": _normalize_stats(learn.dls),
            "weights_file": "fastai_state.safetensors"}


def _normalize_stats(dls):
    """The Normalize steps of the DataLoaders' batch pipeline as [{"mean": [...], "std": [...]}], so the grader
    feeds the hidden digits exactly as this model saw its validation batches (none in the asked pipeline)."""
    try:
        from fastai.data.transforms import Normalize

        steps = [t for t in getattr(getattr(dls, "after_batch", None), "fs", []) if isinstance(t, Normalize)]
        out = []
        for t in steps[:4]:
            if t.mean is None or t.std is None:
                continue
            mean = [float(v) for v in t.mean.detach().cpu().flatten()[:4]]
            std = [float(v) for v in t.std.detach().cpu().flatten()[:4]]
            out.append({"mean": mean, "std": std})
        return out
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def fastai_training(learn) -> None:
    """The fine-tuned model (state_dict in safetensors), its classes and the recorded phases."""
    _guarded("fastai_training", _fastai_training, learn)
