"""Self-checks students run in their notebooks.

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.
"""
from __future__ import annotations

import math

from ._lang import pick

_EXPECTED_KERAS = [
    ("Flatten", 784, None),
    ("Dense", 128, "relu"),
    ("Dropout", 128, None),
    ("Dense", 10, "softmax"),
]


def _report(ok: bool, title: str, problems: list[str]) -> bool:
    if ok:
        print("✅ " + title + pick(": 통과했습니다.", ": passed."))
    else:
        print("❌ " + title)
        for p in problems:
            print("   - " + p)
    return ok


def _problem(expected: str, found: str, hint: str) -> str:
    return pick(f"기대한 것: {expected} / 실제: {found}\n     힌트: {hint}",
                f"expected: {expected} / found: {found}\n     hint: {hint}")


def _defined(obj, name: str, title: str) -> bool:
    if obj is None:
        return _report(False, title, [_problem(
            pick(f"변수 `{name}`", f"a variable `{name}`"), pick("정의되지 않음", "not defined"),
            pick(f"위의 빈칸 셀에서 `{name} = ...` 를 만들고 그 셀을 실행했는지 확인하세요.",
                 f"create `{name} = ...` in the cell above and run it."))])
    return True


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


def accuracy(value, at_least: float = 0.8) -> bool:
    """Check a reported accuracy (a number between 0 and 1, ideally >= at_least)."""
    title = pick("정확도 확인", "Accuracy")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _report(False, title, [_problem(pick("0~1 사이의 숫자", "a number in 0..1"), repr(value),
                                               pick("test_loss, test_acc = model.evaluate(x_test, y_test) 처럼 받으세요.",
                                                    "use test_loss, test_acc = model.evaluate(x_test, y_test)."))])
    problems = []
    if not 0 <= v <= 1:
        problems.append(_problem(pick("0~1 사이", "between 0 and 1"), f"{v}", pick("정확도는 비율입니다.", "accuracy is a ratio.")))
    elif v < at_least:
        problems.append(_problem(f">= {at_least:.2f}", f"{v:.3f}",
                                 pick("학습이 충분한지(epochs), 입력을 255로 나눴는지 확인하세요.",
                                      "train enough epochs and scale the inputs by 1/255.")))
    return _report(not problems, title, problems)


# ── PyTorch ─────────────────────────────────────────────────────────────────
def torch_model(model) -> bool:
    """Check the nn.Module of the pytorch_mnist exercise: parameter count and raw-score output."""
    title = pick("모델 구조 확인", "Model structure")
    if not _defined(model, "model", title):
        return False
    import torch

    problems = []
    n = sum(p.numel() for p in model.parameters())
    if n != 101_770:
        problems.append(_problem(pick("파라미터 101,770개 (784×128+128 + 128×10+10)", "101,770 parameters"), f"{n:,}",
                                 pick("nn.Linear(784, 128) 과 nn.Linear(128, 10) 을 확인하세요.",
                                      "check nn.Linear(784, 128) and nn.Linear(128, 10).")))
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            out = model(torch.rand(2, 1, 28, 28, device=device))
        if tuple(out.shape) != (2, 10):
            problems.append(_problem("(2, 10)", str(tuple(out.shape)),
                                     pick("마지막 층의 출력 수가 10인지 확인하세요.", "the last layer must output 10 values.")))
        elif (out >= 0).all() and torch.allclose(out.sum(dim=1), torch.ones(2, device=device), atol=1e-4):
            problems.append(_problem(pick("softmax 전의 점수(logits)", "raw scores (logits)"), pick("확률 (합이 1)", "probabilities"),
                                     pick("CrossEntropyLoss 가 softmax를 대신 해 줍니다. forward 에서 softmax를 빼세요.",
                                          "CrossEntropyLoss applies softmax itself; remove it from forward.")))
    except Exception as exc:
        problems.append(_problem(pick("(N, 1, 28, 28) 입력을 받는 forward", "a forward taking (N, 1, 28, 28)"),
                                 f"{type(exc).__name__}: {str(exc)[:120]}",
                                 pick("Flatten 뒤의 입력 크기는 28×28 = 784 입니다.", "after Flatten the size is 28×28 = 784.")))
    return _report(not problems, title, problems)


def torch_loop(train_one_epoch, loader=None) -> bool:
    """Try train_one_epoch on a small fixed batch: step per batch, zero_grad, train mode, loss falls."""
    from .export import _torch_loop_probe

    title = pick("학습 함수 확인", "Training function")
    if not _defined(train_one_epoch, "train_one_epoch", title):
        return False
    try:
        d = _torch_loop_probe(train_one_epoch, loader)
    except Exception as exc:
        return _report(False, title, [_problem(pick("오류 없이 실행", "runs without error"),
                                               f"{type(exc).__name__}: {str(exc)[:150]}",
                                               pick("함수의 인자 (model, loader, criterion, optimizer, device) 를 확인하세요.",
                                                    "check the arguments (model, loader, criterion, optimizer, device)."))])
    problems = []
    if d["steps"] != d["batches"] or not d["params_changed"]:
        problems.append(_problem(pick("배치마다 optimizer.step()", "optimizer.step() per batch"),
                                 pick(f"배치 {d['batches']}개에 step {d['steps']}번", f"{d['steps']} steps for {d['batches']} batches"),
                                 pick("loss.backward() 다음에 optimizer.step() 을 호출하세요.", "call optimizer.step() after backward.")))
    if d["grad_ratio"] is not None and abs(d["grad_ratio"] - 1) >= 0.05:
        problems.append(_problem(pick("배치마다 기울기 초기화", "gradients reset per batch"),
                                 pick(f"기울기가 {d['grad_ratio']:.1f}배로 누적됨", f"gradients accumulate ({d['grad_ratio']:.1f}×)"),
                                 pick("optimizer.zero_grad() 를 배치마다 호출하세요.", "call optimizer.zero_grad() per batch.")))
    if not d["forward_modes"] or not all(d["forward_modes"]):
        problems.append(_problem("model.train()", pick("eval 모드", "eval mode"),
                                 pick("함수 처음에 model.train() 을 호출하세요.", "call model.train() first.")))
    if loader is not None and d.get("loader_batch_size") != 64:
        problems.append(_problem("batch_size=64", str(d.get("loader_batch_size")),
                                 pick("DataLoader(..., batch_size=64, shuffle=True)", "DataLoader(..., batch_size=64, shuffle=True)")))
    return _report(not problems, title, problems)


def losses(values) -> bool:
    """Check the per-epoch losses of a training run went down."""
    title = pick("학습 확인", "Training")
    if not _defined(values, "losses", title):
        return False
    vals = [float(v) for v in values]
    if not vals:
        return _report(False, title, [_problem(pick("1 epoch 이상의 손실 기록", "losses of at least one epoch"), "[]",
                                               pick("EPOCHS 를 5로 두고 학습하세요.", "train with EPOCHS = 5."))])
    if len(vals) > 1 and vals[-1] > vals[0] * 0.99:
        return _report(False, title, [_problem(pick("줄어드는 손실", "a falling loss"), f"{vals[0]:.3f} → {vals[-1]:.3f}",
                                               pick("학습 함수가 optimizer.step() 을 호출하는지 확인하세요.",
                                                    "check that the training function calls optimizer.step()."))])
    return _report(True, title, [])


# ── Transformers pipeline ───────────────────────────────────────────────────
_LABELS = ("POSITIVE", "NEGATIVE")


def sentiment_classifier(classifier) -> bool:
    """The pipeline returns one {'label', 'score'} dict per input review."""
    title = pick("감정 분석 파이프라인 확인", "Sentiment pipeline")
    if not _defined(classifier, "classifier", title):
        return False
    from .datasets import reviews

    texts = reviews.texts()[:2]
    try:
        out = classifier(texts)
    except Exception as exc:
        return _report(False, title, [_problem(pick("리뷰 목록을 넣으면 결과 목록", "a list of results for a list of reviews"),
                                               f"{type(exc).__name__}: {str(exc)[:150]}",
                                               pick("classifier = pipeline('sentiment-analysis', model=MODEL_DIR)",
                                                    "classifier = pipeline('sentiment-analysis', model=MODEL_DIR)"))])
    ok = (isinstance(out, list) and len(out) == 2 and all(isinstance(r, dict) and r.get("label") in _LABELS
                                                           and 0 <= r.get("score", -1) <= 1 for r in out))
    return _report(ok, title, [] if ok else [_problem(
        "[{'label': 'POSITIVE', 'score': 0.98}, ...]", str(out)[:150],
        pick("작업 이름 'sentiment-analysis' 와 model=MODEL_DIR 를 확인하세요.",
             "check the task name 'sentiment-analysis' and model=MODEL_DIR."))])


def sentiment_labels(predict_labels) -> bool:
    """predict_labels(list of texts) gives one 'POSITIVE'/'NEGATIVE' string per text."""
    title = pick("레이블 함수 확인", "Label function")
    if not _defined(predict_labels, "predict_labels", title):
        return False
    from .datasets import reviews

    data = reviews.examples()
    try:
        got = predict_labels([d["text"] for d in data])
    except Exception as exc:
        got = f"{type(exc).__name__}: {exc}"
    problems = []
    if not isinstance(got, list) or len(got) != len(data) or not all(g in _LABELS for g in got):
        problems.append(_problem(pick(f"레이블 문자열 {len(data)}개의 리스트", f"a list of {len(data)} label strings"),
                                 str(got)[:150],
                                 pick("결과는 리뷰마다 딕셔너리 하나입니다: [r['label'] for r in results]",
                                      "the result has one dict per review: [r['label'] for r in results]")))
    else:
        right = sum(g == d["label"] for g, d in zip(got, data))
        if right < len(data) - 2:
            problems.append(_problem(pick("예시 리뷰 대부분 정답", "most example reviews right"), f"{right}/{len(data)}",
                                     pick("점수(score)가 아니라 label 을 돌려주세요.", "return the label, not the score.")))
    return _report(not problems, title, problems)


def positive_ratio(fn) -> bool:
    """positive_ratio(['POSITIVE', 'NEGATIVE', 'POSITIVE', 'POSITIVE']) == 0.75"""
    title = pick("긍정 비율 확인", "Positive ratio")
    if not _defined(fn, "positive_ratio", title):
        return False
    try:
        got = fn(["POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE"])
    except Exception as exc:
        got = f"{type(exc).__name__}: {exc}"
    ok = isinstance(got, (int, float)) and abs(got - 0.75) < 1e-9
    return _report(ok, title, [] if ok else [_problem("0.75", str(got),
                                                      pick("POSITIVE 개수 / 전체 개수", "number of POSITIVE / total"))])


def confident_only(fn, classifier) -> bool:
    """confident_only(texts, threshold) keeps exactly the reviews whose score is >= threshold."""
    title = pick("확신도 필터 확인", "Confidence filter")
    if not _defined(fn, "confident_only", title):
        return False
    from .datasets import reviews

    texts = reviews.texts()
    try:
        scores = [r["score"] for r in classifier(texts)]
        want = sorted(t for t, s in zip(texts, scores) if s >= 0.99)
        got = sorted(k[0] if isinstance(k, (list, tuple)) else k for k in fn(texts, 0.99))
    except Exception as exc:
        return _report(False, title, [_problem(pick("(리뷰, 레이블) 목록", "a list of (review, label)"),
                                               f"{type(exc).__name__}: {str(exc)[:150]}",
                                               pick("함수의 인자 (texts, threshold) 를 확인하세요.", "check the arguments (texts, threshold)."))])
    ok = got == want
    return _report(ok, title, [] if ok else [_problem(
        pick(f"점수 0.99 이상인 리뷰 {len(want)}개", f"{len(want)} reviews with score >= 0.99"),
        pick(f"{len(got)}개", f"{len(got)}"), pick("score >= threshold 인 것만 남기세요 (부등호 방향 확인).",
                                                   "keep score >= threshold (check the comparison)."))])


# ── fastai ──────────────────────────────────────────────────────────────────
_DIGIT_VOCAB = ["eight", "five", "nine", "seven", "six"]


def fastai_dls(dls) -> bool:
    """DataLoaders: the five digit names as classes, 32×32 RGB batches."""
    title = pick("DataLoaders 확인", "DataLoaders")
    if not _defined(dls, "dls", title):
        return False
    problems = []
    vocab = [str(v) for v in dls.vocab]
    if vocab != _DIGIT_VOCAB:
        problems.append(_problem(str(_DIGIT_VOCAB), f"{vocab[:6]}{' ...' if len(vocab) > 6 else ''} ({len(vocab)}개)",
                                 pick("정규식의 괄호 ( ) 안이 레이블입니다: r'^([a-z]+)_\\d+\\.png$'",
                                      "the group ( ) of the regex is the label: r'^([a-z]+)_\\d+\\.png$'")))
    xb, _ = dls.one_batch()
    if tuple(xb.shape[1:]) != (3, 32, 32):
        problems.append(_problem("(3, 32, 32)", str(tuple(xb.shape[1:])), "item_tfms=Resize(32)"))
    return _report(not problems, title, problems)


def fastai_learner(learn) -> bool:
    """Learner: error_rate metric and one output per class."""
    title = pick("Learner 확인", "Learner")
    if not _defined(learn, "learn", title):
        return False
    import torch

    problems = []
    names = [getattr(m, "name", "") for m in learn.metrics]
    if "error_rate" not in names:
        problems.append(_problem("metrics=error_rate", str(names) or "[]",
                                 pick("vision_learner(dls, digit_body, metrics=error_rate)", "vision_learner(dls, digit_body, metrics=error_rate)")))
    xb, _ = learn.dls.one_batch()
    with torch.no_grad():
        out = learn.model.eval()(xb)
    if out.shape[-1] != len(learn.dls.vocab):
        problems.append(_problem(pick(f"클래스 수 {len(learn.dls.vocab)}개의 출력", f"{len(learn.dls.vocab)} outputs"),
                                 str(out.shape[-1]), pick("n_out 을 따로 주지 마세요: dls 의 클래스 수를 그대로 씁니다.",
                                                          "do not pass n_out: the DataLoaders know the classes.")))
    return _report(not problems, title, problems)
