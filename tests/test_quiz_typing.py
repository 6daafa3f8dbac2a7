"""Quiz answers typed the way Korean students type them, and quiz scoring that one bad answer cannot break.

Every table row's verdict was written first, from what a fair TA would accept on a paper quiz, and
only then run.  Rows marked REFUSED are format problems: the notebook's format check says so at once
and the grader gives 0 with the same message.  Negative rows (wrong answers in an accepted form,
hedges such as "A 또는 C") must stay wrong; one negation of one verdict is its opposite ("안 맞아요" is X).
"""
from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from dlcourse.quiz import Quiz, brief, parse
from graders.checks import quiz as Q
from graders.checks.base import Context
from graders.checks.quiz import _Variant, public_question, quiz_question, score_short
from graders.exercises.concepts_quiz import students as klass
from graders.quiz import BankError, bank_path, load_bank, quiz_scorer

BANK = load_bank(bank_path(REPO, "concepts_quiz"))
REFUSED = "REFUSED"
PARTIAL = "PARTIAL"         # (PARTIAL, items read): the other items are not read, and the message says which

SINGLE = {"type": "single", "options": [{}] * 4}
MULTIPLE = {"type": "multiple", "options": [{}] * 5}
TRUEFALSE = {"type": "truefalse"}
NUMBER = {"type": "numeric"}
FRACTION = {"type": "numeric", "form": "fraction"}
PERCENT = {"type": "numeric", "form": "percent"}
CODE = {"type": "code", "code": "x = 1\n" * 10}
MATCHING = {"type": "matching", "items": [{}] * 3,
            "categories": [{"id": "ML", "ko": "머신러닝", "en": "machine learning", "accept": ["기계학습"]},
                           {"id": "DL", "ko": "딥러닝", "en": "deep learning", "accept": ["심층학습"]}]}
ML_DL_DL = {"1": "ML", "2": "DL", "3": "DL"}

# ── the format check: (question, typed, what it is read as) ─────────────────
PARSE_ROWS = [
    # one choice: letters in any width or case, brackets, 번, particles and "정답은 …입니다"
    *[(SINGLE, typed, "B") for typed in (
        "B", "b", "Ｂ", "ｂ", " B ", "(B)", "(b)", "B.", "B)", "[B]", "'B'", "Ⓑ", "B번", "B 번", "B입니다", "B예요",
        "정답: B", "정답은 B", "정답은 B입니다", "답: b", "answer: B", "The answer is B", "B번이 정답입니다", "B?")],
    # ... but one letter only, and nothing that could mean another option
    *[(SINGLE, typed, REFUSED) for typed in (
        "AB", "A, B", "A 또는 B", "A나 B", "B 아님", "B 말고 C", "not B", "가", "나", "2", "2번", "②", "E", "X표",
        "A-B", 123, ["B"], "ㅠ")],
    # several choices: every separator and particle students use
    *[(MULTIPLE, typed, ["A", "C"]) for typed in (
        "A, C", "A,C", "a,c", "AC", "ac", "CA", "A와 C", "A랑 C", "A·C", "A・C", "A 그리고 C", "A 및 C", "A and C",
        "A/C", "A;C", "A C", "A，C", "ＡＣ", "정답: A, C", "정답은 A, C입니다", "A번, C번", "A번과 C번", "(A), (C)",
        ["A", "C"], ("a", "c"))],
    (MULTIPLE, "CED", ["C", "D", "E"]),
    (MULTIPLE, "C, E, D", ["C", "D", "E"]),
    # a range with "~" and a count that agrees ("A, C 둘 다") are read; a dash between letters is not
    (MULTIPLE, "A~C", ["A", "B", "C"]), (MULTIPLE, "B~E", ["B", "C", "D", "E"]), (MULTIPLE, "A, C 둘 다", ["A", "C"]),
    *[(MULTIPLE, typed, REFUSED) for typed in (
        "A 또는 C", "A or C", "A-C", "A, F", "A, Z", "A, A", "1, 3", "A, C 아님", "AXE", ["A", 3], "C~A", "둘 다",
        "A, C 셋 다", "A나 C")],
    # O/X
    *[(TRUEFALSE, typed, True) for typed in (
        "O", "o", "Ｏ", "○", "◯", "⭕", "〇", "✔", "✔️", "✓", "네", "예", "응", "맞아요", "맞음", "맞다", "맞습니다", "참",
        "참입니다", "True", "true", "TRUE", "T", "t", "yes", "Yes", "Y", "O (맞다)", "O(맞다)", "정답: O", "O입니다", "O표",
        True)],
    *[(TRUEFALSE, typed, False) for typed in (
        "X", "x", "ｘ", "×", "✕", "✖", "❌", "✗", "아니요", "아니오", "아뇨", "틀려요", "틀림", "틀리다", "틀렸다", "거짓",
        "거짓입니다", "False", "false", "F", "f", "no", "No", "N", "X (틀리다)", "X표", "정답은 X", False)],
    *[(TRUEFALSE, typed, REFUSED) for typed in (
        "OX", "O/X", "O 또는 X", "O(틀리다)", "X (맞다)", "아마도", "맞지 않나요?", "안 틀리지 않다",
        "모르겠다", "0", "1", 0, 1, "2", "ㅇ")],
    # one negation of one verdict is its opposite
    *[(TRUEFALSE, typed, False) for typed in ("안 맞아요", "맞지 않다", "참이 아니다", "그렇지 않습니다", "맞는 말이 아니다")],
    (TRUEFALSE, "틀리지 않다", True),
    # numbers with counters, units and thousands commas
    *[(NUMBER, typed, 784.0) for typed in (
        "784", 784, 784.0, "784개", "784 개", "784개입니다", "784 pixels", "784픽셀", "784차원", "정답: 784", "약 784",
        "  784  ", "７８４")],
    (NUMBER, "1,000", 1000.0), (NUMBER, "100,480", 100480.0), (NUMBER, "100,480개", 100480.0),
    (NUMBER, "100480 parameters", 100480.0), (NUMBER, "5 epochs", 5.0), (NUMBER, "5epochs", 5.0),
    (NUMBER, "4에폭", 4.0), (NUMBER, "4 에포크", 4.0), (NUMBER, "8번", 8.0), (NUMBER, "10회", 10.0),
    (NUMBER, "1e3", 1000.0), (NUMBER, "0.5", 0.5), (NUMBER, ".5", 0.5), (NUMBER, "-3", -3.0),
    # a plain quantity with a % sign: unambiguous, 100% is 1
    (NUMBER, "100%", 1.0), (NUMBER, "50 %", 0.5),
    *[(NUMBER, typed, REFUSED) for typed in (
        "1,5", "1,00", "1,00,480", "3 4", "3 또는 4", "3~4", "3+1", "10**400", "1" + "0" * 400, "1e400", "inf", "nan",
        # a bare native numeral and an all-Hangul number of 만 or more: understood, but to be typed in digits
        "십만사백팔십", "784 아님", "784x", 10 ** 400, float("inf"), True, [784], "784 이상", "784 (28x27)")],
    # Korean number words with a counter or as Sino-Korean numerals, and a number with its working
    (NUMBER, "칠백", 700.0), (NUMBER, "백이십팔", 128.0), (NUMBER, "10만 480", 100480.0), (NUMBER, "네 에폭", 4.0),
    (NUMBER, "784 (28x28)", 784.0), (NUMBER, "여덟", 8.0), (NUMBER, "1이 됩니다", 1.0),
    # a fraction question: 0.1, or "10%" read as 0.1; a bare 10 is not a fraction
    *[(FRACTION, typed, 0.1) for typed in ("0.1", 0.1, "10%", "10 %", "10퍼센트", "10프로", "10 percent")],
    *[(FRACTION, typed, REFUSED) for typed in ("10", 10, "1.5")],
    # a percentage question: 10 or "10%"; a bare 0.1 stays 0.1 (%), strictly as the question asks
    *[(PERCENT, typed, 10.0) for typed in ("10", "10%", 10, "10 퍼센트")],
    (PERCENT, "0.1", 0.1),
    # line numbers
    *[(CODE, typed, 8) for typed in ("8", 8, "8번 줄", "8번째 줄", "8줄", "8행", "line 8", "Line 8", "L8", "8번")],
    *[(CODE, typed, 8) for typed in ("여덟 번째 줄", "여덟째 줄", "여덟 줄")],
    *[(CODE, typed, REFUSED) for typed in ("8.5", "0", "11", "8, 9", "8%", "여덟")],
    # matching: dicts with names, synonyms and particles, or the pairs typed in one string
    *[(MATCHING, typed, ML_DL_DL) for typed in (
        {1: "ML", 2: "DL", 3: "DL"}, {"1": "ml", "2": "dl", "3": "Dl"}, {1: "머신러닝", 2: "딥러닝", 3: "딥 러닝"},
        {1: "machine learning", 2: "deep learning", 3: "DL"}, {"1번": "ML", "2번": "DL", "3번": "DL"},
        {1: "ML입니다", 2: "DL이요", 3: "DL"}, {1: "기계학습", 2: "심층학습", 3: "DL"}, {1: "ＭＬ", 2: "ＤＬ", 3: "dl"},
        "1: ML, 2: DL, 3: DL", "1-ML, 2-DL, 3-DL", "1 ML 2 DL 3 DL", "1→ML 2→DL 3→DL", "1=ML;2=DL;3=DL",
        "1번 ML, 2번 DL, 3번 DL", "ML, DL, DL", "ML DL DL", ["ML", "DL", "DL"])],
    (MATCHING, {1: "DL(딥러닝)", 2: "DL", 3: "딥러닝입니다"}, {"1": "DL", "2": "DL", "3": "DL"}),
    *[(MATCHING, typed, REFUSED) for typed in (
        {1: "ML"}, {1: "ML", 2: "DL", 4: "DL"}, "1: ML, 1: DL, 3: DL", "ML, DL", "1: ML, 2: DL, 3:",
        {1: "AI", 2: "AI", 3: "AI"})],
    # one unreadable item costs that item only: the others are read, with a warning naming it
    *[(MATCHING, typed, (PARTIAL, {"2": "DL", "3": "DL"})) for typed in (
        "ML/DL, DL, DL", {1: "ML 또는 DL", 2: "DL", 3: "DL"}, {1: "ML(딥러닝)", 2: "DL", 3: "DL"})],
    (MATCHING, {1: "ML", 2: "DL", 3: "AI"}, (PARTIAL, {"1": "ML", "2": "DL"})),
    # short answers: anything with letters, up to 80 characters
    ({"type": "short"}, "  역전파(backpropagation)  ", "역전파(backpropagation)"),
    ({"type": "short"}, "ｂａｃｋｐｒｏｐ", "backprop"),
    *[({"type": "short"}, typed, REFUSED) for typed in ("?!", "x" * 81, ["역전파"], True)],
]


@pytest.mark.parametrize("question,typed,want", PARSE_ROWS, ids=[f"{q['type']}-{brief(t, 30)}" for q, t, _ in PARSE_ROWS])
def test_typed_answer_is_read(question, typed, want):
    value, problem = parse(question, typed)
    if want == REFUSED:
        assert value is None and problem, (typed, value)
        assert len(problem) < 600, problem
    elif isinstance(want, tuple) and want[0] == PARTIAL:
        missing = sorted(set(map(int, ML_DL_DL)) - set(map(int, want[1])))
        assert value == want[1] and problem and str(missing) in problem, (typed, value, problem)
    else:
        assert problem is None, problem
        assert value == want and type(value) is type(want), (typed, value)


# ── short answers: (typed, fraction) against accepted and rejected spellings ──
ACCEPTED = ["은닉층", "hidden layer", "hidden layers"]
REJECT = ["출력층", "입력층", "output layer"]
SHORT_ROWS = [
    *[(typed, 1.0) for typed in (
        "은닉층", "은닉 층", "Hidden Layer", "HIDDEN-LAYER", "ｈｉｄｄｅｎ layer", "은닉층(hidden layer)",
        "은닉층 (hidden layer)", "hidden layer(은닉층)", "hidden layers (은닉층)", "은닉층입니다", "은닉층이요",
        "은닉층이라고 합니다", "정답: 은닉층", "답은 은닉층", "'은닉층'", "은닉층/hidden layer", "은닉층, hidden layer",
        "hidden layer (예전 은닉층)")],
    *[(typed, 0.0) for typed in (
        "출력층", "출력층(hidden layer)", "은닉층(출력층)", "은닉층/출력층", "은닉층 또는 출력층", "은닉층, output layer",
        "input", "layer", "(출력층)",
        # a second term that is no accepted spelling may be a second candidate: a hedge is not the answer
        "은닉층(중간에 있는 층)", "히든(hidden layer)", "은닉층(dense layer)", "dense layer(은닉층)",
        "은닉층(완전연결층 은닉층)")],
]


# negations and sentences are not a term: refused at once with what was read (they score 0 either way)
SHORT_REFUSED = ["은닉층 아님", "은닉층이 아니다", "hidden layer 아닌가요", "답", "은닉층을 사용"]


@pytest.mark.parametrize("typed,want", SHORT_ROWS)
def test_short_answer_scoring(typed, want):
    value, problem = parse({"type": "short"}, typed)
    assert problem is None, problem
    assert score_short(value, ACCEPTED, REJECT) == want, typed


@pytest.mark.parametrize("typed", SHORT_REFUSED)
def test_a_sentence_is_not_a_short_answer(typed):
    value, problem = parse({"type": "short"}, typed)
    assert value is None and "용어" in problem, (typed, value, problem)


@pytest.mark.parametrize("typed,term", [("은닉층을 씁니다", "은닉층"), ("GPU를 사용합니다", "GPU"),
                                        ("메타에서 만들었어요", "메타"), ("pipeline 함수를 쓰면 돼요", "pipeline 함수")])
def test_a_sentence_around_one_term_is_read_with_a_warning(typed, term):
    from dlcourse.quiz import read
    answer = read({"type": "short"}, typed)
    assert answer.value == term and term in answer.warning, answer


# ── the real bank, per student paper, through the grader's check ───────────
def _ctx(tmp_path: Path, student: str, answers: dict, lang: str = "ko") -> Context:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for qid, raw in answers.items():
        if isinstance(raw, bytes):
            (tmp_path / f"quiz_{qid}.json").write_bytes(raw)
        else:
            (tmp_path / f"quiz_{qid}.json").write_text(json.dumps({"qid": qid, "answered": True, "raw": raw},
                                                                ensure_ascii=False))
    return Context(artifacts=tmp_path, thresholds={}, lang=lang, student=student)


def _typed(student: str, qid: str, template):
    """`template` with {a}, {b}, ... replaced by the letter this student sees for option a, b, ...;
    matching templates are callables of the variant."""
    q = BANK.question(qid)
    v = _Variant(BANK.quiz, BANK.shuffle, student, q)
    if callable(template):
        return template(v)
    if not isinstance(template, str) or not q.get("options"):
        return template
    letters = {o["id"]: v.letter(o["id"]) for o in q["options"]}
    return template.format(**letters, **{f"{k}_": l.lower() for k, l in letters.items()})


def _pairs(mapping: dict, fmt: str = "{n}: {cat}", sep: str = ", "):
    return lambda v: sep.join(fmt.format(n=n, cat=cat) for n, cat in
                              sorted((v.number(item), cat) for item, cat in mapping.items()))


Q09 = {"face_unlock": "이미지", "translator": "자연어 처리", "dictation": "음성", "self_driving": "자율 주행"}
Q12_KO = {"small_data": "머신러닝", "auto_features": "딥러닝", "needs_gpu": "딥러닝", "explainable": "머신러닝",
          "tabular": "머신러닝", "long_training": "딥러닝"}
Q21_KO = {"by_google": "텐서플로", "by_meta": "파이토치", "on_pytorch": "fastai", "one_line_nlp": "허깅페이스",
          "mlops_edge": "TensorFlow", "research": "PyTorch"}
BANK_ROWS = [
    # single choice (key a)
    ("q01", "{a}", 1), ("q01", "정답은 {a}입니다", 1), ("q01", "({a_})", 1), ("q01", "{a}번", 1), ("q01", "ⓐ", None),
    ("q01", "{a}{b}", 0), ("q01", "{b}", 0), ("q01", "{a} 또는 {b}", 0), ("q01", "{b}번입니다", 0),
    # multiple choice, net_correct (key a, b, d of five)
    ("q05", "{a}{b}{d}", 1), ("q05", "{a}, {b} 그리고 {d}", 1), ("q05", "{a}·{b}·{d}", 1), ("q05", "정답: {a}, {b}, {d}", 1),
    ("q05", "{a}와 {b}와 {d}", 1), ("q05", "{a}{b}{c}", 2 / 3 - 1 / 2), ("q05", "{a} 또는 {b}", 0),
    # multiple choice, per_option (key a, b of four)
    ("q23", "{a}와 {b}", 1), ("q23", "{a_}{b_}", 1), ("q23", "{a}", 3 / 4),
    # O/X (q02 false, q06 true)
    ("q02", "×", 1), ("q02", "아니요", 1), ("q02", "틀려요", 1), ("q02", "X표", 1), ("q02", "❌", 1), ("q02", "아니오", 1),
    ("q02", "○", 0), ("q02", "네", 0), ("q02", "맞아요", 0), ("q02", "안 맞아요", 1), ("q02", "틀리지 않다", 0),
    ("q02", "0", 0),
    ("q06", "⭕", 1), ("q06", "네", 1), ("q06", "맞아요", 1), ("q06", "참", 1), ("q06", "◯", 1), ("q06", "❌", 0),
    ("q06", "O(틀리다)", 0),
    # numbers
    ("q35", "784개", 1), ("q35", "784 pixels", 1), ("q35", "정답: 784", 1), ("q35", "785", 0), ("q35", "784 또는 785", 0),
    ("q34", "100,480", 1), ("q34", "100,480개", 1), ("q34", "100480 parameters", 1), ("q34", "100,352", 0),
    ("q34", "1,00,480", 0),
    ("q39", "4에폭", 1), ("q39", "4 epochs", 1), ("q39", "4번", 1), ("q39", "4회", 1), ("q39", "3", 0), ("q39", "3+1", 0),
    ("q42", "1", 1), ("q42", "100%", 1), ("q42", "0.999", 1), ("q42", "99.9%", 1), ("q42", "10%", 0),
    # line numbers (q33: line 8)
    ("q33", "8번 줄", 1), ("q33", "line 8", 1), ("q33", "8번째 줄", 1), ("q33", "7", 0),
    # matching with names, synonyms and typed pairs
    ("q09", _pairs(Q09), 1), ("q09", _pairs(Q09, "{n}번 {cat}"), 1),
    ("q12", _pairs(Q12_KO, "{n}-{cat}", " "), 1), ("q21", _pairs(Q21_KO, "{n}→{cat}"), 1),
    ("q12", _pairs({**Q12_KO, "explainable": "딥러닝"}), 5 / 6),
    # short answers: glosses, the explanation's own form, particles, synonyms; wrong ones stay wrong
    ("q04", "은닉층(hidden layer)", 1), ("q04", "은닉층이요", 1), ("q04", "hidden layer (은닉층)", 1),
    ("q04", "출력층(hidden layer)", 0), ("q04", "출력층", 0),
    ("q16", "GPU(그래픽 처리 장치)", 1), ("q16", "gpu입니다", 1), ("q16", "CPU", 0), ("q16", "GPU/CPU", 0),
    ("q24", "메타(Meta)", 1), ("q24", "Meta (옛 Facebook)", 1), ("q24", "페이스북입니다", 1), ("q24", "Meta/Facebook", 1),
    ("q24", "페북", 1), ("q24", "구글", 0), ("q24", "구글(Meta)", 0), ("q24", "Meta 또는 Google", 0),
    ("q31", "pipeline()", 1), ("q31", "pipeline 함수", 1), ("q31", "transformers.pipeline()", 1), ("q31", "`pipeline`", 1),
    ("q31", "파이프라인(pipeline)", 1), ("q31", "AutoModel", 0), ("q31", "pipeline(AutoModel)", 0),
]


@pytest.mark.parametrize("student", ["kim", "lee"])
def test_bank_questions_typed_on_each_paper(tmp_path, student):
    answers, want = {}, {}
    for i, (qid, template, fraction) in enumerate(BANK_ROWS):
        if fraction is None:        # "ⓐ" is only right on papers where option a is shown as A
            v = _Variant(BANK.quiz, BANK.shuffle, student, BANK.question(qid))
            fraction = float(v.letter("a") == "A")
        answers[i] = (qid, _typed(student, qid, template), fraction)
    wrong = []
    for i, (qid, raw, fraction) in answers.items():
        ctx = _ctx(tmp_path / f"{student}_{i}", student, {qid: raw})
        q = BANK.question(qid)
        result = quiz_question(BANK.quiz, q).run(ctx, float(q["points"]))
        if result.score != pytest.approx(fraction * float(q["points"])):
            wrong.append((qid, raw, fraction, result.score, result.found))
    assert not wrong, "\n".join(map(str, wrong))


def test_feedback_says_how_the_answer_was_read(tmp_path):
    q = BANK.question("q35")
    result = quiz_question(BANK.quiz, q).run(_ctx(tmp_path, "kim", {"q35": "784개"}), 1.0)
    assert result.passed and result.found == "784 (입력: '784개')", result.found
    q = BANK.question("q02")
    result = quiz_question(BANK.quiz, q).run(_ctx(tmp_path / "b", "kim", {"q02": "○"}), 1.0)
    assert result.score == 0 and result.found.startswith("O (맞다)") and result.expected == "X", result


def test_notebook_says_what_it_understood(capsys):
    quiz = Quiz("concepts_quiz", student="kim")
    capsys.readouterr()
    v = _Variant(BANK.quiz, BANK.shuffle, "kim", BANK.question("q05"))
    quiz.answer("q05", f"{v.letter('d')}와 {v.letter('a')}")
    out = capsys.readouterr().out
    assert out.startswith("✅ q05: 답을 ") and "읽어 저장했습니다" in out
    assert ", ".join(sorted([v.letter("a"), v.letter("d")])) in out
    quiz.answer("q35", "784개")
    assert "'784'(으)로 읽어" in capsys.readouterr().out
    quiz.answer("q01", "AB")
    assert "하나만 고르세요" in capsys.readouterr().out
    quiz.answer("q42", "10")
    assert capsys.readouterr().out.startswith("✅ q42: 답 '10' 을(를) 저장")
    quiz.answer("q02", "x" * 5_000_000)
    out = capsys.readouterr().out
    assert "너무 깁니다" in out and len(out) < 800
    assert len(quiz.answers["q02"]) < 200          # what the export would write is short too


def test_format_hint_names_the_accepted_forms():
    from dlcourse.quiz import format_hint

    assert "10%" in format_hint(FRACTION) and "0.1" in format_hint(FRACTION)
    assert "0.1%" in format_hint(PERCENT)
    assert "784개" in format_hint(NUMBER)
    assert "A와 C" in format_hint(MULTIPLE)
    assert "네/아니요" in format_hint(TRUEFALSE)


# ── one malformed answer costs one question, never the others ────────────────
def _literal(code: str):
    """The answer in `quiz.answer("q01", <literal>)`, as the kernel would evaluate it."""
    return ast.literal_eval(code.split(",", 1)[1].rsplit(")", 1)[0].strip())


def _reference(student: str) -> dict:
    """The reference answers as `student` types them on their own paper."""
    cells = klass.answers_for(student, klass.REFERENCE)
    return {qid: _literal(cells[f"answer_{qid}"]) for qid in klass.REFERENCE}


MALFORMED = {
    "q35": {"raw": 10 ** 400},                                  # a 401-digit number
    "q34": {"raw": "1" + "0" * 400},                            # the same number as text
    "q04": {"raw": "은닉층" * 7_000_000},                         # a 20 MB string
    "q01": b'{"raw": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",  # deeper than any parser recursion
    "q02": {"raw": [[[[[[[["O"]]]]]]]]},                        # nested
    "q09": {"raw": {str(i): "IMG" for i in range(5000)}},       # too many pieces
    "q24": {"raw": {"$type": "object", "__class__": "os.system"}},
    "q31": b"\xff\xfe not json",
    "q12": {"raw": {"1": ["ML"] * 3, "2": {"x": 1}}},
    "q39": {"raw": float("nan")},                               # written as NaN by a forged export
    "q42": {"raw": "1" * 5000},
    "q16": {"error": "x" * 100_000},
    "q33": {"raw": -(10 ** 300)},
}


def test_malformed_answers_cost_only_their_question(tmp_path):
    answers = _reference("kim")
    ctx = _ctx(tmp_path, "kim", answers)
    for qid, payload in MALFORMED.items():
        data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        (tmp_path / f"quiz_{qid}.json").write_bytes(data)
    results = quiz_scorer(BANK).score(ctx, BANK.points)
    by_q = {r.name: r for cell in results.values() for r in cell}
    assert set(by_q) == {q["id"] for q in BANK.questions}
    for qid, r in by_q.items():
        if qid in MALFORMED:
            assert r.score == 0, (qid, r)
            assert r.found, (qid, r)
            assert len(r.text("ko")) < 1500, (qid, len(r.text("ko")))
        else:
            assert r.passed, (qid, r)


def test_a_grader_bug_in_one_question_is_that_question_only(tmp_path, monkeypatch, caplog):
    ctx = _ctx(tmp_path, "kim", _reference("kim"))
    real = Q._fraction

    def broken(q, v, value):
        if q["id"] == "q07":
            raise ZeroDivisionError("bug")
        return real(q, v, value)

    monkeypatch.setattr(Q, "_fraction", broken)
    results = quiz_scorer(BANK).score(ctx, BANK.points)
    by_q = {r.name: r for cell in results.values() for r in cell}
    assert by_q["q07"].score == 0 and "채점기가 이 문항의 답을 판단하지 못해" in by_q["q07"].found
    assert "ZeroDivisionError" in by_q["q07"].found
    assert all(r.passed for qid, r in by_q.items() if qid != "q07")
    assert "q07" in caplog.text


# ── the demo class keeps its points (nothing in its slips became acceptable) ─
@pytest.mark.parametrize("student", sorted(klass.EXPECTED))
def test_demo_class_points_unchanged(tmp_path, student):
    from graders.demo import students

    cells = students("concepts_quiz")[student]
    typed = {qid: None for qid in klass.REFERENCE} if cells is None else \
        {cell.removeprefix("answer_"): _literal(code) for cell, code in cells.items()}
    results = quiz_scorer(BANK).score(_ctx(tmp_path, student, typed), BANK.points)
    got = {r.name: r.score for cell in results.values() for r in cell}
    assert got == pytest.approx(klass.EXPECTED[student])


# ── the bank: synonyms, known wrong answers and number forms are checked ────
MINIMAL = {"quiz": "mini", "title": {"ko": "작은 퀴즈"}, "questions": []}


def _load(tmp_path, question: dict):
    base = {"id": "q01", "concepts": ["dl_ann_branch"], "points": 1, "text": {"ko": "문제"}, "explanation": {"ko": "해설"}}
    path = tmp_path / "quiz_bank.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, "questions": [{**base, **question}]}, allow_unicode=True))
    return load_bank(path)


@pytest.mark.parametrize("question,field,words", [
    ({"type": "short", "answer": ["GPU"], "reject": ["gpu"]}, "reject", "also accepted"),
    ({"type": "short", "answer": ["GPU", "!!"]}, "answer", "no letters"),
    ({"type": "numeric", "answer": 10, "tolerance": 0, "text": {"ko": "정확도는 몇 %인가요?"}}, "form", "percentage"),
    ({"type": "numeric", "answer": 10, "tolerance": 0, "form": "fraction"}, "answer", "not a fraction"),
    ({"type": "numeric", "answer": 1, "tolerance": 0, "form": "ratio"}, "form", "is not one of"),
    ({"type": "matching", "rule": "per_item", "items": [{"id": "x", "ko": "엑스"}, {"id": "y", "ko": "와이"}],
      "categories": [{"id": "ML", "ko": "머신러닝", "accept": ["딥러닝"]}, {"id": "DL", "ko": "딥러닝"}],
      "answer": {"x": "ML", "y": "DL"}}, "categories", "reads the same"),
])
def test_bank_checks_the_new_fields(tmp_path, question, field, words):
    with pytest.raises(BankError) as err:
        _load(tmp_path, question)
    assert f"field '{field}'" in str(err.value) and words in str(err.value), str(err.value)


def test_bank_accepts_the_new_fields(tmp_path):
    bank = _load(tmp_path, {"type": "numeric", "answer": 0.1, "tolerance": 0, "form": "fraction",
                            "text": {"ko": "10개 중 1개의 비율은?"}})
    assert public_question(bank.questions[0])["form"] == "fraction"
    assert "reject" not in public_question(BANK.question("q04"))       # known wrong answers are grader-side


def test_release_text_lists_the_accepted_forms():
    from graders.quiz.render import notebook

    intro = notebook(BANK).cells[0].source
    assert "`\"A와 C\"`" in intro and "`\"784개\"`" in intro and "`\"AB\"`는 받지 않습니다" in intro
    assert textwrap.dedent(intro).count("|") > 20
