"""Self-check helpers shared by every exercise: the report students see, and a reported accuracy.

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.  The checks of one exercise live in ``dlcourse.exercises.<assignment>.check``.
"""
from __future__ import annotations

from ._lang import pick


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
