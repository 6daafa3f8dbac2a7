"""Self-checks of the keras_mnist exercise (model structure, compile settings, training, accuracy).

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.  The report helpers and ``accuracy`` come from ``dlcourse.selfcheck``.
"""
from __future__ import annotations

import math

from dlcourse._lang import pick
from dlcourse.selfcheck import _defined, _problem, _report, accuracy  # noqa: F401  (notebook: check.accuracy)

_EXPECTED_KERAS = [
    ("Flatten", 784, None),
    ("Dense", 128, "relu"),
    ("Dropout", 128, None),
    ("Dense", 10, "softmax"),
]


def keras_model(model) -> bool:
    """Check the Keras model of the keras_mnist exercise (layers and output shape)."""
    title = pick("모델 구조 확인", "Model structure")
    if not _defined(model, "model", title):
        return False
    problems = []
    layers = list(getattr(model, "layers", []))
    found = [type(l).__name__ for l in layers]
    expected = [e[0] for e in _EXPECTED_KERAS]
    if found != expected:
        problems.append(_problem(" → ".join(expected), " → ".join(found) or pick("층 없음", "no layers"),
                                 pick("Flatten, Dense(128, relu), Dropout(0.2), Dense(10, softmax) 순서로 쌓으세요.",
                                      "stack Flatten, Dense(128, relu), Dropout(0.2), Dense(10, softmax) in that order.")))
    else:
        for layer, (kind, units, act) in zip(layers, _EXPECTED_KERAS):
            try:
                width = int(layer.output.shape[-1])
            except Exception:
                width = None
            if width != units:
                problems.append(_problem(f"{kind} {pick('출력 크기', 'output size')} {units}", str(width),
                                         pick("층의 units(뉴런 수)나 입력 모양(28, 28)을 확인하세요.",
                                              "check the layer's units or the input shape (28, 28).")))
            if act is not None:
                got = getattr(getattr(layer, "activation", None), "__name__", None)
                if got != act:
                    problems.append(_problem(f"{kind} activation='{act}'", f"'{got}'",
                                             pick("activation 인자를 확인하세요.", "check the activation argument.")))
    return _report(not problems, title, problems)


def keras_compile(model) -> bool:
    """Check that the model was compiled with an optimizer, a loss and the accuracy metric."""
    title = pick("compile 확인", "compile settings")
    if not _defined(model, "model", title):
        return False
    problems = []
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        problems.append(_problem("model.compile(...)", pick("compile 되지 않음", "not compiled"),
                                 pick("model.compile(optimizer=..., loss=..., metrics=[...]) 를 실행하세요.",
                                      "run model.compile(optimizer=..., loss=..., metrics=[...]).")))
    else:
        loss = getattr(model, "loss", None)
        name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", str(loss)))
        if "sparse" not in str(name):
            problems.append(_problem("sparse_categorical_crossentropy", str(name),
                                     pick("레이블이 0~9 정수이므로 sparse_ 가 붙은 손실을 씁니다.",
                                          "labels are integers 0-9, so use the sparse_ loss.")))
    return _report(not problems, title, problems)


def keras_history(history) -> bool:
    """Check that fit() ran and the loss went down."""
    title = pick("학습 확인", "Training")
    if not _defined(history, "history", title):
        return False
    losses = list(getattr(history, "history", {}).get("loss", []))
    problems = []
    if not losses:
        problems.append(_problem(pick("1 epoch 이상 학습한 기록", "a record of at least 1 epoch"),
                                 pick("기록 없음", "no record"),
                                 pick("history = model.fit(x_train, y_train, epochs=5) 처럼 fit 결과를 저장하세요.",
                                      "store the result: history = model.fit(x_train, y_train, epochs=5).")))
    elif any(not math.isfinite(v) for v in losses):
        problems.append(_problem(pick("유한한 손실값", "finite loss values"), str(losses),
                                 pick("손실이 nan/inf 입니다. 입력을 255로 나눴는지, 손실 함수를 확인하세요.",
                                      "the loss is nan/inf: check the input scaling and the loss.")))
    elif len(losses) > 1 and losses[-1] >= losses[0]:
        problems.append(_problem(pick("줄어드는 손실", "a falling loss"), f"{losses[0]:.3f} → {losses[-1]:.3f}",
                                 pick("손실 함수와 마지막 층의 activation이 맞는지 확인하세요.",
                                      "check the loss and the last layer's activation.")))
    return _report(not problems, title, problems)
