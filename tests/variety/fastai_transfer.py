"""fastai_transfer written the ways the fastai docs and fastbook write it (each case costs ~30 s to grade).

Blanks: make_dls (`dls`), make_learner (`learn`), train_model.  Files are named like `seven_0412.png`.
"""
from __future__ import annotations

from .keras_mnist import _cc

FULL = dict(_cc.ASSIGNMENTS["fastai_transfer"]["points"])

BASE = {
    # fastbook ch. 1 / the fastai Pets tutorial regex, adapted from .jpg to .png
    "make_dls": "dls = ImageDataLoaders.from_name_re(path, fnames, pat=r'^(.*)_\\d+.png$', item_tfms=Resize(32),\n"
                "                                   bs=64, num_workers=0, seed=42)",
    "make_learner": "learn = vision_learner(dls, digit_body, metrics=error_rate)",
    "train_model": "learn.fine_tune(3)",
}


def case(name, origin, expected=None, why=None, **answers):
    return {"name": f"vf_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES = [
    case("cnn_learner_pets_regex",
         "fastai v2 docs / course-v4 lesson 1: pat=r'(.+)_\\d+.png$' (no anchor) and the old name cnn_learner",
         make_dls="dls = ImageDataLoaders.from_name_re(\n    path, fnames, pat=r'(.+)_\\d+.png$',\n"
                  "    item_tfms=Resize(32), bs=64, num_workers=0, seed=42)",
         make_learner="learn = cnn_learner(dls, digit_body, metrics=error_rate)"),
    case("name_func_two_metrics",
         "fastai docs quick start: ImageDataLoaders.from_name_func with a label_func on the file name (gist Ben-Karr/b1ec6183: `def label_func(f): return f[0].isupper()`), "
         "metrics=[error_rate, accuracy]",
         why="the notebook names from_name_re, but the labels (vocab) are the same five digit names; a TA gives "
             "the point for the classes, which is what the check is about",
         make_dls="def label_func(fname):\n    return fname.split('_')[0]\n\n"
                  "dls = ImageDataLoaders.from_name_func(path, fnames, label_func, item_tfms=Resize(32),\n"
                  "                                      bs=64, num_workers=0, seed=42)",
         make_learner="learn = vision_learner(dls, digit_body, metrics=[error_rate, accuracy])"),
    case("lr_find_then_fine_tune",
         "fastbook ch. 5: learn.lr_find() first, then fine_tune with base_lr and freeze_epochs",
         why="lr_find runs a short exploratory fit and restores the weights; the fine-tune that follows is frozen "
             "then unfrozen, as asked",
         train_model="learn.lr_find()\nlearn.fine_tune(3, base_lr=2e-3, freeze_epochs=1)"),
    case("w_unfreeze_fit_one_cycle",
         "fastbook ch. 5 'unfreezing': learn.unfreeze(); learn.fit_one_cycle(4) straight away, no frozen phase",
         expected={"fine_tuned": 0},
         why="a pretrained body trained 4 epochs end to end still reaches the target accuracy; only the asked "
             "frozen-then-unfrozen schedule is missing",
         train_model="learn.unfreeze()\nlearn.fit_one_cycle(4)"),
]


# ── issue 23 §3: more public sources (names vf2_*) ─────────────────────────────────────────────────────
def case2(name, origin, expected=None, why=None, **answers):
    return {"name": f"vf2_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES += [
    # ── correct but different: full marks ────────────────────────────────
    case2("learner_recreated_in_train_cell",
          "fastai docs 'Computer vision intro' (docs.fast.ai/tutorial.vision.html): every section builds the "
          "learner and fine-tunes it in the same cell (`learn = vision_learner(dls, resnet34, metrics=error_rate)` "
          "then `learn.fine_tune(1)`): the student re-creates `learn` in the training cell",
          why="the learner trained and exported is a fresh one from the same pretrained body and metric, fine-tuned "
              "as asked",
          train_model="learn = vision_learner(dls, digit_body, metrics=error_rate)\nlearn.fine_tune(3)"),
    case2("datablock_fastbook_ch5",
          "fastbook ch. 5 'Image Classification' pets DataBlock: `DataBlock(blocks=(ImageBlock, CategoryBlock), "
          "get_items=get_image_files, splitter=RandomSplitter(seed=42), get_y=using_attr(RegexLabeller(r'(.+)_\\d+.jpg$'), "
          "'name'), item_tfms=Resize(460))` then `.dataloaders(path)` (adapted to .png, Resize(32), bs=64)",
          why="the notebook names from_name_re; the DataBlock is what from_name_re builds, with the same regex "
              "labels, size and split",
          make_dls="""digits = DataBlock(blocks=(ImageBlock, CategoryBlock),
                   get_items=get_image_files,
                   splitter=RandomSplitter(seed=42),
                   get_y=using_attr(RegexLabeller(r'(.+)_\\d+.png$'), 'name'),
                   item_tfms=Resize(32))
dls = digits.dataloaders(path, bs=64, num_workers=0)"""),
    case2("capitalized_class_names",
          "fastai docs 'Computer vision intro' from_name_func with a label function (`def label_func(f): return "
          "f[0].isupper()`), here giving capitalised class names 'Five' ... 'Nine'",
          why="the five classes are the five digit names, only differently cased; predictions map to the same "
              "digits (class names judged by meaning)",
          make_dls="""def label_func(fname):
    return fname.split('_')[0].capitalize()

dls = ImageDataLoaders.from_name_func(path, fnames, label_func, item_tfms=Resize(32),
                                      bs=64, num_workers=0, seed=42)"""),

    # ── wrong in exactly one way ─────────────────────────────────────────
    case2("w_metric_accuracy",
          "`metrics=accuracy` as in the fastai docs text and tabular tutorials (`text_classifier_learner(dls, "
          "AWD_LSTM, drop_mult=0.5, metrics=accuracy)`) instead of the asked error_rate",
          expected={"metric": 0},
          make_learner="learn = vision_learner(dls, digit_body, metrics=accuracy)"),
    case2("w_not_pretrained",
          "`vision_learner(dls, digit_body, pretrained=False, metrics=error_rate)` (the pretrained argument of "
          "fastai's vision_learner docs): the body starts from random weights",
          expected={"pretrained": 0, "hidden_accuracy": (0, 4)},
          why="(b) asks for the pretrained body; without it the fine-tune starts from scratch. What accuracy a "
              "small CNN reaches from scratch in 4 epochs is measured, hence the range",
          make_learner="learn = vision_learner(dls, digit_body, pretrained=False, metrics=error_rate)"),
]


# ── issue 23 §2: behaviour probes compare like with like (names vf3_*) ──────────────────────────────────
def case3(name, origin, expected=None, why=None, **answers):
    return {"name": f"vf3_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES += [
    # ── correct but unusual: full marks ──────────────────────────────────
    case3("other_name_in_train_cell",
          "a second learner under its own name trained in the training cell, then kept as `learn` (fastai forum "
          "habit of `learner = vision_learner(...)`; the phases must be those of the learner that trained)",
          why="the exported learner is the one that was fine-tuned, frozen then unfrozen",
          train_model="learner = vision_learner(dls, digit_body, metrics=error_rate)\nlearner.fine_tune(3)\n"
                      "learn = learner"),
    case3("freeze_unfreeze_by_hand",
          "fastbook ch. 5 'Transfer learning': what fine_tune does, written out: `learn.freeze()`, "
          "`learn.fit_one_cycle(1)`, `learn.unfreeze()`, `learn.fit_one_cycle(3)`",
          why="a frozen phase then the whole body trained: exactly fine_tune's schedule",
          train_model="learn.freeze()\nlearn.fit_one_cycle(1, 2e-3)\nlearn.unfreeze()\n"
                      "learn.fit_one_cycle(3, slice(1e-5, 1e-3))"),
    case3("fine_tune_keywords_callbacks",
          "fastai docs Learner/callbacks: `cbs=` given to vision_learner and to fine_tune, fine_tune's arguments "
          "as keywords (`epochs=3, base_lr=..., freeze_epochs=1`)",
          make_learner="learn = vision_learner(dls, digit_body, metrics=error_rate, cbs=[GradientClip(1.0)])",
          train_model="learn.fine_tune(epochs=3, base_lr=2e-3, freeze_epochs=1, cbs=[GradientClip(1.0)])"),
    case3("normalize_imagenet_stats",
          "fastbook ch. 7 'Normalization': `batch_tfms=Normalize.from_stats(*imagenet_stats)` added to the "
          "DataLoaders",
          why="not asked, but harmless: the model is judged on the hidden digits fed as its own validation "
              "batches were (normalised), like with like",
          make_dls="dls = ImageDataLoaders.from_name_re(path, fnames, pat=r'^([a-z]+)_\\d+\\.png$', item_tfms=Resize(32),\n"
                   "                                   batch_tfms=Normalize.from_stats(*imagenet_stats),\n"
                   "                                   bs=64, num_workers=0, seed=42)"),

    # ── wrong in exactly this way ────────────────────────────────────────
    case3("w_digit_labels",
          "a label function that turns the names into digits (`{'five': '5', ...}`), as in MNIST tutorials",
          expected={"vocab": 0},
          why="(a) asks for the names in the file names (`seven`) as the classes; the model still tells the digits "
              "apart, and '7' means 7, so the hidden accuracy is kept (debatable)",
          make_dls="DIGIT = {'five': '5', 'six': '6', 'seven': '7', 'eight': '8', 'nine': '9'}\n\n"
                   "def label_func(fname):\n    return DIGIT[fname.split('_')[0]]\n\n"
                   "dls = ImageDataLoaders.from_name_func(path, fnames, label_func, item_tfms=Resize(32),\n"
                   "                                      bs=64, num_workers=0, seed=42)"),
    case3("w_lr_find_then_unfreeze",
          "fastbook ch. 5: `learn.lr_find()` on the frozen learner, then `unfreeze()` + `fit_one_cycle(4)`",
          expected={"fine_tuned": 0},
          why="lr_find is a search that restores the weights, not a frozen training phase; the body is never "
              "trained frozen first",
          train_model="learn.lr_find(show_plot=False)\nlearn.unfreeze()\nlearn.fit_one_cycle(4)"),
    case3("w_trained_then_replaced",
          "the learner fine-tuned, then `learn = vision_learner(...)` again after it (a cell pasted below the "
          "training): the exported `learn` never trained",
          expected={"fine_tuned": 0, "hidden_accuracy": 0},
          why="the phases and the model judged are those of the learner handed in, whose head is untrained",
          train_model="learn.fine_tune(3)\nlearn = vision_learner(dls, digit_body, metrics=error_rate)"),
]
