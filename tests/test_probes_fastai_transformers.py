"""Unit tests of the like-with-like probes of fastai_transfer and transformers_pipeline (issue 23 §2).

The end-to-end verdicts are the vf3_/vt3_ variety cases; these pin the pieces cheaply: class names by
meaning, the list form of predict_labels, the boundary measured with the student's own scores, the
student's Normalize applied to the hidden digits, and the phases recorded on whichever learner trains.
Each correct-but-unusual input has a wrong-in-exactly-this-way control beside it.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import REPO
from graders.checks import Context
from dlcourse.exercises.fastai_transfer.export import class_key, same_classes
from dlcourse.exercises.transformers_pipeline import export as tp_export
from graders.exercises.fastai_transfer import scorer as fa_scorer
from graders.exercises.transformers_pipeline import scorer as tp_scorer

VOCAB = ["eight", "five", "nine", "seven", "six"]


# ── fastai: class names by meaning ───────────────────────────────────────────
@pytest.mark.parametrize("vocab", [
    VOCAB,
    ["Eight", "Five", "Nine", "Seven", "Six"],                     # capitalised by a label function
    ["eight ", " five", "nine\t", "seven", "six"],                 # spaces around
    ["ｅｉｇｈｔ", "ｆｉｖｅ", "ｎｉｎｅ", "ｓｅｖｅｎ", "ｓｉｘ"],       # full-width letters
    ("SIX", "SEVEN", "EIGHT", "NINE", "FIVE"),                     # any order, a tuple
])
def test_same_classes_by_meaning(vocab):
    assert same_classes(vocab, VOCAB)


@pytest.mark.parametrize("vocab", [
    [f"{n}_{i:04d}.png" for n in VOCAB for i in range(3)],         # the regex took the whole file name
    ["e", "f", "n", "s"],                                          # first letter: six and seven merged
    ["eight", "five", "nine", "seven"],                            # one class missing
    ["eight", "five", "nine", "seven", "Seven"],                   # one class split in two spellings
    ["5", "6", "7", "8", "9"],                                     # digits: (a) asks for the names in the files
    ["eight", "five", "nine", "seven", "sixx"],
    "eightfiveninesevensix",
    None,
])
def test_same_classes_refuses_a_wrong_labelling(vocab):
    assert not same_classes(vocab, VOCAB)


def test_class_key_is_bounded():
    assert class_key("Seven" * 10_000) == ("seven" * 20)        # 100 characters read
    assert class_key(" se \u3000 ven ") == "se ven"


def test_hidden_accuracy_reads_class_names_by_meaning(tmp_path):
    """The hidden accuracy maps the model's outputs to digits by meaning: 'Seven' and '7' are 7; a file name is none."""
    y = [5, 6, 7, 8, 9]

    def accuracy(vocab, order):
        measured = {"trained": {"loaded": True, "vocab": vocab, "n_out": 5, "hidden": {"predictions": order}}}
        ctx = Context(artifacts=tmp_path, thresholds={}, measurer=lambda: measured)
        return fa_scorer._accuracy(ctx, y)

    order = [1, 4, 3, 0, 2]            # the true digit of each hidden image as an index into sorted VOCAB
    assert accuracy(VOCAB, order) == 1.0
    assert accuracy(["Eight", "Five", "Nine", "Seven", "Six"], order) == 1.0
    assert accuracy(["8", "5", "9", "7", "6"], order) == 1.0
    assert accuracy([f"{v}_0001.png" for v in VOCAB], order) == 0.0        # control: names that are no digit


def test_vocab_message_is_korean_and_bounded(tmp_path):
    check = fa_scorer.SCORER.cells[0].checks[0]
    (tmp_path / "fastai_data.json").write_text(json.dumps({"vocab": ["x" * 500] * 3000, "batch_x": [64, 3, 32, 32]}))
    result = check.run(Context(artifacts=tmp_path, thresholds={}), 1)
    assert result.score == 0 and "3000개" in result.found and len(result.found) < 700
    (tmp_path / "fastai_data.json").write_text(json.dumps({"vocab": ["Eight", "Five", "Nine", "Seven ", "Six"]}))
    assert check.run(Context(artifacts=tmp_path, thresholds={}), 1).score == 1


def test_normalize_steps_are_applied_only_when_sane(tmp_path):
    def steps(payload):
        (tmp_path / "fastai_training.json").write_text(json.dumps(payload))
        return fa_scorer._normalize_steps(Context(artifacts=tmp_path, thresholds={}))

    imagenet = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    assert steps({"normalize": [imagenet]}) == [(imagenet["mean"], imagenet["std"])]
    assert steps({"normalize": []}) == []
    assert steps({}) == []
    assert steps({"normalize": [{"mean": [0.5], "std": [0.0]}]}) == []           # division by zero refused
    assert steps({"normalize": [{"mean": [0.5] * 1000, "std": [1.0] * 1000}]}) == []
    assert steps({"normalize": [{"mean": ["a"], "std": [1.0]}]}) == []
    assert steps({"normalize": {"error": "x"}}) == []
    assert steps({"error": "ValueError: x"}) == []


def test_fine_tuned_reads_only_well_formed_phases():
    frozen, unfrozen = ({"epochs": 1, "trainable_body": 0, "body_convs": 5},
                        {"epochs": 3, "trainable_body": 5, "body_convs": 5})
    assert fa_scorer._fine_tuned_ok({"phases": [frozen, unfrozen]}, None)
    assert fa_scorer._fine_tuned_ok({"phases": [frozen, frozen, unfrozen]}, None)
    assert not fa_scorer._fine_tuned_ok({"phases": [unfrozen]}, None)                 # no frozen phase
    assert not fa_scorer._fine_tuned_ok({"phases": [unfrozen, frozen]}, None)         # the wrong order
    assert not fa_scorer._fine_tuned_ok({"phases": [frozen]}, None)
    assert not fa_scorer._fine_tuned_ok({"phases": [{"epochs": "1"}, unfrozen]}, None)
    assert not fa_scorer._fine_tuned_ok({"phases": "frozen, unfrozen"}, None)
    assert not fa_scorer._fine_tuned_ok({"phases": None}, None)


@pytest.fixture(scope="module")
def small_digits():
    """Sixty of the course's digit files (the kernel's assets) as DataLoaders; skipped where they are not built."""
    data = REPO / ".cache" / "course" / "public"
    if not (data / "digit_body.safetensors").exists():
        pytest.skip("course assets not built")
    os.environ.setdefault("DLCOURSE_DATA", str(data))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from fastai.vision.all import get_image_files, ImageDataLoaders, Resize
    from dlcourse.exercises.fastai_transfer.models import digit_pets_path

    path = digit_pets_path()
    names = sorted(get_image_files(path))[::25][:60]
    return ImageDataLoaders.from_name_re(path, names, pat=r"^([a-z]+)_\d+\.png$", item_tfms=Resize(32), bs=16,
                                         num_workers=0, seed=42)


def test_phases_recorded_on_whichever_learner_trains(small_digits):
    """Every learner that trains records its own phases (made again, under another name, fit_one_cycle by hand);
    an lr_find is no phase; a learner that never trained has none."""
    from fastai.vision.all import error_rate, vision_learner
    from dlcourse.exercises.fastai_transfer import export
    from dlcourse.exercises.fastai_transfer.models import digit_body

    export.watch_training()
    export.watch_training()                          # idempotent: one wrapper

    def phases(learn):
        rec = next((cb for cb in learn.cbs if type(cb).__name__ == "CoursePhaseRecorder"), None)
        return rec.phases if rec else None

    def trained(steps):
        learner = vision_learner(small_digits, digit_body, metrics=error_rate)
        with learner.no_bar(), learner.no_logging():
            steps(learner)
        return learner

    untouched = vision_learner(small_digits, digit_body, metrics=error_rate)
    by_hand = trained(lambda l: (l.freeze(), l.fit_one_cycle(1), l.unfreeze(), l.fit_one_cycle(1)))
    searched = trained(lambda l: (l.lr_find(show_plot=False), l.unfreeze(), l.fit_one_cycle(1)))
    assert phases(untouched) is None
    assert fa_scorer._fine_tuned_ok({"phases": phases(by_hand)}, None), phases(by_hand)
    assert phases(searched) == [{"epochs": 1, "trainable_body": 5, "body_convs": 5}]     # lr_find not counted
    assert not fa_scorer._fine_tuned_ok({"phases": phases(searched)}, None)
    assert export._normalize_stats(small_digits) == []


# ── transformers: a list of labels ───────────────────────────────────────────
class Labels(list):
    pass


@pytest.mark.parametrize("value,want", [
    (["POSITIVE"], "list"), (Labels(["POSITIVE"]), "list"), (("POSITIVE",), "tuple"),
    (np.array(["POSITIVE"]), "sequence"),
    ((x for x in ["POSITIVE"]), "iterator"), (map(str, ["POSITIVE"]), "iterator"), (iter(["POSITIVE"]), "iterator"),
    (filter(None, ["POSITIVE"]), "iterator"), (zip(["POSITIVE"]), "iterator"),
    ("POSITIVE", "other"), ({"label": "POSITIVE"}, "other"), ({"POSITIVE"}, "other"), ({}.values(), "other"),
    (None, "other"),
])
def test_form_of_what_predict_labels_returns(value, want):
    assert tp_export.form(value) == want


def test_batch_labels_takes_a_tuple_and_refuses_a_generator(tmp_path, monkeypatch):
    monkeypatch.setattr(tp_export, "grading_texts", lambda: ["good", "bad", "fine"])
    check = tp_scorer.SCORER.cells[1].checks[0]
    answers = {"list": lambda t: ["POSITIVE", "NEGATIVE", "POSITIVE"],
               "tuple": lambda t: ("POSITIVE", "NEGATIVE", "POSITIVE"),
               "subclass": lambda t: Labels(["POSITIVE", "NEGATIVE", "POSITIVE"]),
               "generator": lambda t: (x for x in ["POSITIVE", "NEGATIVE", "POSITIVE"]),
               "map": lambda t: map(str.upper, ["positive", "negative", "positive"])}
    got = {}
    for name, fn in answers.items():
        data = tp_export._sentiment_predictions(fn)
        (tmp_path / "sentiment_predictions.json").write_text(json.dumps(data))
        got[name] = check.run(Context(artifacts=tmp_path, thresholds={}), 1)
    assert {k: r.score for k, r in got.items()} == {"list": 1, "tuple": 1, "subclass": 1, "generator": 0, "map": 0}
    gen = got["generator"]
    assert "리스트" in gen.expected and "반복자" in gen.found and "generator" in gen.found
    assert "['POSITIVE', 'NEGATIVE', 'POSITIVE']" in gen.found and "list(...)" in gen.hint and "[r['label']" in gen.hint
    en = check.run(Context(artifacts=tmp_path, thresholds={}, lang="en"), 1)
    assert "iterator" in en.found and "list(...)" in en.hint


def test_structure_message_for_an_iterator_is_korean():
    d = {"inputs": 3, "batch": tp_export._describe((r for r in [{"label": "POSITIVE", "score": 0.9}]))}
    assert not tp_scorer._structure_ok(d, None)
    ctx = Context(artifacts=REPO, thresholds={})
    assert "반복자" in tp_scorer._structure_found(d, ctx)
    d = {"inputs": 1, "batch": tp_export._describe([{"label": "POSITIVE", "score": 0.9}])}
    assert tp_scorer._structure_ok(d, None)


def test_structure_check_hint_for_an_iterator(tmp_path):
    check = tp_scorer.SCORER.cells[0].checks[0]
    result = {"label": "POSITIVE", "score": 0.9}
    for batch, score, word in [((r for r in [result] * 3), 0, "yield"), ([result] * 3, 1, None),
                               ("not a list", 0, "철자")]:
        d = {"inputs": 3, "batch": tp_export._describe(batch)}
        (tmp_path / "sentiment_structure.json").write_text(json.dumps(d))
        got = check.run(Context(artifacts=tmp_path, thresholds={}), 1)
        assert got.score == score and (word is None or word in got.hint), (batch, got)


# ── transformers: the boundary review judged with the student's own scores ───
class FakePipeline:
    """Scores like the course model's: a call with batch_size pads, which moves the scores in the 7th digit."""

    def __init__(self, texts):
        self.base = {t: 0.90 + 0.01 * i for i, t in enumerate(texts)}

    def __call__(self, inputs, **kwargs):
        shift = -1.2e-7 if kwargs.get("batch_size") else 0.0
        one = lambda t: {"label": "POSITIVE", "score": self.base[t] + shift}
        return [one(inputs)] if isinstance(inputs, str) else [one(t) for t in inputs]


CONFIDENT = {
    "ge": "def confident_only(texts, threshold=0.9):\n    results = classifier(texts)\n"
          "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] >= threshold]",
    "ge_batched": "def confident_only(texts, threshold=0.9):\n    results = classifier(texts, batch_size=8)\n"
                  "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] >= threshold]",
    "ge_one_by_one": "def confident_only(texts, threshold=0.9):\n"
                     "    return [(t, classifier(t)[0]['label']) for t in texts if classifier(t)[0]['score'] >= threshold]",
    "gt": "def confident_only(texts, threshold=0.9):\n    results = classifier(texts)\n"
          "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] > threshold]",
    "gt_batched": "def confident_only(texts, threshold=0.9):\n    results = classifier(texts, batch_size=8)\n"
                  "    return [(t, r['label']) for t, r in zip(texts, results) if r['score'] > threshold]",
    # another pipeline of its own (not `classifier`): measured the plain way
    "ge_own_pipe": "clf = classifier\n\ndef confident_only(texts, threshold=0.9):\n"
                   "    return [(t, r['label']) for t, r in zip(texts, clf(texts)) if r['score'] >= threshold]",
    "gt_own_pipe": "clf = classifier\n\ndef confident_only(texts, threshold=0.9):\n"
                   "    return [(t, r['label']) for t, r in zip(texts, clf(texts)) if r['score'] > threshold]",
}


@pytest.mark.parametrize("name,kept", [("ge", 1), ("ge_batched", 1), ("ge_one_by_one", 1), ("ge_own_pipe", 1),
                                       ("gt", 0), ("gt_batched", 0), ("gt_own_pipe", 0)])
def test_boundary_uses_the_students_own_scores(name, kept):
    texts = [f"review {i}" for i in range(20)]
    pipe = FakePipeline(texts)
    ns = {"classifier": pipe}
    exec(CONFIDENT[name], ns)
    out = tp_export.hidden_probe(ns, {"reviews": np.array(texts)})
    index, got = (int(v) for v in out["boundary"])
    assert index == 5 and got == kept, (name, out["boundary"])       # 0.95 is review 5's score
    assert ns["classifier"] is pipe                                   # the namespace is given back as it was


def test_boundary_plain_way_misjudges_a_batched_call():
    """The control of the like-with-like fix: measured with one-by-one scores, the batched `>=` looks like `>`."""
    texts = [f"review {i}" for i in range(20)]
    pipe = FakePipeline(texts)
    ns = {"classifier": pipe}
    exec(CONFIDENT["ge_batched"], ns)
    threshold = pipe(texts[:16])[5]["score"]
    assert texts[5] not in [t for t, _ in ns["confident_only"](texts[:16], threshold)]
