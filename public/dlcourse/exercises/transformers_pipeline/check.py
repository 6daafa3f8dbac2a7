"""Self-checks of the transformers_pipeline exercise (pipeline, labels, ratio, confidence filter).

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.  The report helpers come from ``dlcourse.selfcheck``.
"""
from __future__ import annotations

from dlcourse._lang import pick
from dlcourse.selfcheck import _defined, _problem, _report

_LABELS = ("POSITIVE", "NEGATIVE")


def sentiment_classifier(classifier) -> bool:
    """The pipeline returns one {'label', 'score'} dict per input review."""
    title = pick("감정 분석 파이프라인 확인", "Sentiment pipeline")
    if not _defined(classifier, "classifier", title):
        return False
    from dlcourse.datasets import reviews

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
    from dlcourse.datasets import reviews

    data = reviews.examples()
    from dlcourse.exercises.transformers_pipeline.export import form, LIST_FORMS

    try:
        got = predict_labels([d["text"] for d in data])
    except Exception as exc:
        got = f"{type(exc).__name__}: {exc}"
    problems = []
    if form(got) == "iterator":      # a generator / map: read once, no len() — not the list asked for
        problems.append(_problem(pick(f"레이블 문자열 {len(data)}개의 리스트", f"a list of {len(data)} label strings"),
                                 pick(f"{type(got).__name__} (한 번 읽으면 비는 반복자, 리스트가 아님)",
                                      f"{type(got).__name__} (an iterator, read once, not a list)"),
                                 pick("대괄호로 [r['label'] for r in results] 처럼 만들거나 list(...) 로 감싸세요.",
                                      "use brackets, [r['label'] for r in results], or wrap it in list(...).")))
    elif (form(got) not in LIST_FORMS or len(got) != len(data)
          or not all(isinstance(g, str) and g in _LABELS for g in got)):
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
    from dlcourse.datasets import reviews

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
