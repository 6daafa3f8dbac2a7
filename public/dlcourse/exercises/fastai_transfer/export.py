"""Artifacts of the fastai_transfer exercise (used by its graded cells).

The fine-tuned model leaves the kernel as a safetensors state_dict; the grader's scoring
sandbox rebuilds vision_learner's model, checks every tensor's shape and runs it.  Shared
helpers come from ``dlcourse.artifacts``.
"""
from __future__ import annotations

import json

from dlcourse.artifacts import _guarded, _missing, artifacts_dir


def _fastai_data(dls):
    if dls is None:
        return _missing("dls")
    xb, yb = dls.one_batch()
    return {"vocab": [str(v) for v in dls.vocab], "n_train": len(dls.train_ds), "n_valid": len(dls.valid_ds),
            "batch_x": list(xb.shape), "batch_y": list(yb.shape)}


def fastai_data(dls) -> None:
    """Classes, split sizes and the shape of one batch of the DataLoaders."""
    _guarded("fastai_data", _fastai_data, dls)


def _body_conv_weights(model):
    body = model[0] if hasattr(model, "__getitem__") else model
    return [p for p in body.parameters() if p.ndim == 4]


def _phase_recorder():
    from fastai.callback.core import Callback

    class CoursePhaseRecorder(Callback):
        """Records, for each training run (fit), how many body conv weights were trainable."""
        order = 99

        def __init__(self):
            self.phases, self._pending = [], False

        def before_fit(self):
            self._pending = True

        def before_train(self):   # only real training reaches here (validate/get_preds do not)
            if self._pending:
                convs = _body_conv_weights(self.learn.model)
                self.phases.append({"epochs": int(self.learn.n_epoch),
                                    "trainable_body": int(sum(p.requires_grad for p in convs)),
                                    "body_convs": len(convs)})
                self._pending = False

    return CoursePhaseRecorder()


def _fastai_learner(learn):
    import torch

    if learn is None:
        return _missing("learn")
    metrics = [getattr(m, "name", type(m).__name__) for m in learn.metrics]
    xb, _ = learn.dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb)
    if not any(type(cb).__name__ == "CoursePhaseRecorder" for cb in learn.cbs):
        learn.add_cb(_phase_recorder())   # watches the training that follows
    return {"metrics": metrics, "output_shape": list(out.shape), "n_vocab": len(learn.dls.vocab)}


def fastai_learner(learn) -> None:
    """Metrics, output shape on one batch; starts recording the training phases."""
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
            "weights_file": "fastai_state.safetensors"}


def fastai_training(learn) -> None:
    """The fine-tuned model (state_dict in safetensors), its classes and the recorded phases."""
    _guarded("fastai_training", _fastai_training, learn)
