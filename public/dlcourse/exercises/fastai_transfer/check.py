"""Self-checks of the fastai_transfer exercise (DataLoaders, Learner).

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.  The report helpers come from ``dlcourse.selfcheck``.
"""
from __future__ import annotations

from dlcourse._lang import pick
from dlcourse.selfcheck import _defined, _problem, _report

_DIGIT_VOCAB = ["eight", "five", "nine", "seven", "six"]


def fastai_dls(dls) -> bool:
    """DataLoaders: the five digit names as classes, 32×32 RGB batches."""
    title = pick("DataLoaders 확인", "DataLoaders")
    if not _defined(dls, "dls", title):
        return False
    problems = []
    from dlcourse.exercises.fastai_transfer.export import same_classes

    vocab = [str(v) for v in dls.vocab]
    if not same_classes(vocab, _DIGIT_VOCAB):     # by meaning: 'Seven' or ' seven ' is the class seven
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
