"""Simulated class for fastai_transfer: the reference and one student per typical mistake."""

_DLS = ("dls = ImageDataLoaders.from_name_re(path, fnames, pat=r'^([a-z]+)_\\d+\\.png$',\n"
        "                                   item_tfms=Resize(32), bs=64, num_workers=0, seed=42)")

REFERENCE = {
    "make_dls": _DLS,
    "make_learner": "learn = vision_learner(dls, digit_body, metrics=error_rate)",
    "train_model": "learn.fine_tune(3)",
}

MISTAKES = {
    # the group takes the whole file name: every image is its own class
    "wrong_regex": {"make_dls": _DLS.replace(r"pat=r'^([a-z]+)_\d+\.png$'", r"pat=r'^(.+)\.png$'")},
    # no metric: training runs, but the error rate is never reported
    "no_metric": {"make_learner": "learn = vision_learner(dls, digit_body)"},
    # from scratch, one short cycle: no pretrained body, no frozen phase
    "from_scratch": {"make_learner": "learn = vision_learner(dls, digit_body, metrics=error_rate, pretrained=False)",
                     "train_model": "learn.fit_one_cycle(1)"},
    # ten outputs for five classes
    "wrong_classes": {"make_learner": "learn = vision_learner(dls, digit_body, n_out=10, metrics=error_rate)"},
}

_FULL = {"vocab": 1, "item_size": 1, "metric": 1, "output_shape": 1, "pretrained": 1, "fine_tuned": 1,
         "hidden_accuracy": 4}

EXPECTED = {
    "ref": _FULL,
    # DataLoaders build, training stops at the first validation label it never saw
    "wrong_regex": {**_FULL, "vocab": 0, "output_shape": 0, "fine_tuned": 0, "hidden_accuracy": 0},
    "no_metric": {**_FULL, "metric": 0},
    "from_scratch": {**_FULL, "pretrained": 0, "fine_tuned": 0, "hidden_accuracy": 0},
    # the five real classes still train well: only the output shape is wrong
    "wrong_classes": {**_FULL, "output_shape": 0},
}
