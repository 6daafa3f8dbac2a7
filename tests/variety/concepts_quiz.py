"""concepts_quiz answered the ways Korean students type.

Every paper answers all 42 questions.  Letters and item numbers are read off the student's own paper (the
per-student shuffle of the public quiz file, `dlcourse.quiz.option_order`), as a student reads the screen.
A full-marks paper types every answer right in its own style; a one-flagged paper types one answer wrong
(or partly right) and the rest in the plain style.
"""
from __future__ import annotations

import json
import unicodedata

import yaml

from . import REPO

QUIZ = "concepts_quiz"
BANK = yaml.safe_load((REPO / "source" / QUIZ / "quiz_bank.yaml").read_text(encoding="utf-8"))
QUESTIONS = {q["id"]: q for q in BANK["questions"]}
PUBLIC = {q["id"]: q for q in json.loads((REPO / "public" / "dlcourse" / "data" / "quiz" / f"{QUIZ}.json")
                                         .read_text(encoding="utf-8"))["questions"]}
FULL = {qid: float(q["points"]) for qid, q in QUESTIONS.items()}
LETTERS = "ABCDEFGHIJ"


class Paper:
    """What one student sees: which letter shows which option, which number which item."""

    def __init__(self, student: str):
        from dlcourse.quiz import option_order
        self.student, self._order = student, option_order

    def _pos(self, qid, what, entry_id):
        entries = PUBLIC[qid][what]
        order = (self._order(QUIZ, self.student, qid, len(entries), what) if BANK.get("shuffle", True)
                 else list(range(len(entries))))
        return order.index([e["id"] for e in entries].index(entry_id))

    def letter(self, qid, option_id):
        return LETTERS[self._pos(qid, "options", option_id)]

    def number(self, qid, item_id):
        return self._pos(qid, "items", item_id) + 1


def _fw(text: str) -> str:
    """Full-width forms of ASCII letters, digits and commas (what a Korean IME in full-width mode types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ── typing styles: kind -> (paper, qid, right answer in bank terms) -> the literal after quiz.answer("qNN", ...)
def _letters(p, qid, ids):
    return sorted(p.letter(qid, i) for i in ids)


PLAIN = {
    "single": lambda p, qid, a: repr(p.letter(qid, a)),
    "multiple": lambda p, qid, a: repr(", ".join(_letters(p, qid, a))),
    "truefalse": lambda p, qid, a: repr("O" if a else "X"),
    "matching": lambda p, qid, a: "{" + ", ".join(f"{p.number(qid, item)}: {cat!r}" for item, cat in
                                                  sorted(a.items(), key=lambda kv: p.number(qid, kv[0]))) + "}",
    "short": lambda p, qid, a: repr(a[0]),
    "numeric": lambda p, qid, a: repr(str(a)),
    "line": lambda p, qid, a: repr(str(a)),
}


def _kind(q):
    if q["type"] == "code":
        return "single" if q.get("options") else "line"
    return q["type"]


def paper(student: str, style: dict | None = None, over: dict | None = None, answers: dict | None = None) -> dict:
    """Answer cells for one student: `style` replaces PLAIN per kind, `over` gives a qid's literal (or a
    function of the Paper), `answers` replaces a right answer in bank terms (typed in the paper's style)."""
    p = Paper(student)
    style = {**PLAIN, **(style or {})}
    cells = {}
    for qid, q in QUESTIONS.items():
        if over and qid in over:
            lit = over[qid](p) if callable(over[qid]) else over[qid]
        else:
            ans = (answers or {}).get(qid, q["answer"])
            lit = style[_kind(q)](p, qid, ans)
        cells[f"answer_{qid}"] = f'quiz.answer("{qid}", {lit})'
    return cells


def case(name, origin, style=None, over=None, answers=None, expected=None, why=None):
    student = f"vq_{name}"
    return {"name": student, "origin": origin, "answers": paper(student, style, over, answers),
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


def _cycle(*forms):
    """A style that uses the given forms in turn, question after question (a student is not consistent)."""
    state = {"i": 0}

    def pick():
        state["i"] += 1
        return forms[(state["i"] - 1) % len(forms)]
    return pick


_tf_symbols = _cycle(("○", "×"), ("⭕", "❌"), ("◯", "✕"))
_tf_words = _cycle(("네", "아니요"), ("예", "아니오"), ("맞아요", "틀려요"), ("맞습니다", "아닙니다"))
_single_particles = _cycle("{}입니다", "정답: {}", "답은 {}", "{}번", "{} 입니다.")


def _ko_and(letters):
    """'A와 C', 'A, B와 D' (와/과 by the last letter's sound does not matter to students typing letters)."""
    return letters[0] if len(letters) == 1 else ", ".join(letters[:-1]) + "와 " + letters[-1]


_KO_CAT = {
    "q09": {"IMG": "이미지 인식", "NLP": "자연어 처리", "SPEECH": "음성 인식", "DRIVE": "자율주행"},
    "q12": {"ML": "머신러닝", "DL": "딥러닝"},
    "q21": {"TF": "텐서플로우", "PT": "파이토치", "FA": "fastai", "HF": "허깅페이스"},
}


CASES = [
    # ── correct but different: full marks ────────────────────────────────────
    case("fullwidth",
         "full-width IME input: 'Ｂ', 'Ａ，Ｂ，Ｄ', 'Ｏ'/'Ｘ', '７８４' (Korean IME full-width mode)",
         style={"single": lambda p, qid, a: repr(_fw(p.letter(qid, a))),
                "multiple": lambda p, qid, a: repr(_fw(",".join(_letters(p, qid, a)))),
                "truefalse": lambda p, qid, a: repr(_fw("O" if a else "X")),
                "numeric": lambda p, qid, a: repr(_fw(str(a))),
                "line": lambda p, qid, a: repr(_fw(str(a)))}),
    case("particles_and_counters",
         "answers typed as sentences: 'B입니다', '정답: B', 'B번', 'A, B와 D', '784개', '100,480개', '8번 줄', "
         "'4에폭', '5번째 줄' (Korean chat/exam habits)",
         style={"single": lambda p, qid, a: repr(_single_particles().format(p.letter(qid, a))),
                "multiple": lambda p, qid, a: repr(_ko_and(_letters(p, qid, a)))},
         over={"q33": repr("8번 줄"), "q34": repr("100,480개"), "q35": repr("784개"), "q36": repr("5번째 줄"),
               "q39": repr("4에폭"), "q42": repr("1입니다")}),
    case("separators",
         "multiple choice without or with odd separators: 'ABD', 'A·B·D', 'A/B/D', 'A B D'; lower-case 'b'; "
         "'o'/'x'",
         style={"single": lambda p, qid, a: repr(p.letter(qid, a).lower()),
                "multiple": (lambda seps: lambda p, qid, a: repr(seps().join(_letters(p, qid, a))))(
                    _cycle("", "·", "/", " ")),
                "truefalse": lambda p, qid, a: repr("o" if a else "x")}),
    case("ox_symbols",
         "O/X typed as symbols '○'/'×', '⭕'/'❌', '◯'/'✕'; single choice as '(B)'; multiple as a list ['A', 'C']",
         style={"truefalse": lambda p, qid, a: repr(_tf_symbols()[0 if a else 1]),
                "single": lambda p, qid, a: repr(f"({p.letter(qid, a)})"),
                "multiple": lambda p, qid, a: repr(_letters(p, qid, a))}),
    case("ox_words",
         "O/X answered in words: '네'/'아니요', '예'/'아니오', '맞아요'/'틀려요', '맞습니다'/'아닙니다'",
         style={"truefalse": lambda p, qid, a: repr(_tf_words()[0 if a else 1])}),
    case("python_values",
         "plain Python values: True/False, ints 784 / 100480 / 8, 1.0, matching keys as strings {'1': 'ML'}",
         style={"truefalse": lambda p, qid, a: repr(bool(a)),
                "numeric": lambda p, qid, a: repr(a if isinstance(a, int) else float(a)),
                "line": lambda p, qid, a: repr(int(a)),
                "matching": lambda p, qid, a: repr({str(p.number(qid, i)): c for i, c in a.items()})},
         over={"q42": "1.0"}),
    case("glosses",
         "short answers with a parenthesised gloss as in the course's own explanations: '은닉층(hidden layer)', "
         "'GPU(그래픽 처리 장치)', '메타(Meta, 옛 페이스북)', 'pipeline 함수'",
         over={"q04": repr("은닉층(hidden layer)"), "q16": repr("GPU(그래픽 처리 장치)"),
               "q24": repr("메타(Meta, 옛 페이스북)"), "q31": repr("pipeline 함수")},
         why="each is the bank's answer plus the gloss the explanation itself uses"),
    case("korean_category_names",
         "matching answered with the Korean category names shown on the paper ('머신러닝', '이미지 인식') and "
         "Korean spellings of the frameworks ('텐서플로우', '파이토치', '허깅페이스')",
         style={"matching": lambda p, qid, a: "{" + ", ".join(
             f"{p.number(qid, item)}: {_KO_CAT[qid][cat]!r}" for item, cat in a.items()) + "}"},
         why="the Korean transliterations are how the lesson is spoken; a TA accepts them (the bank may list them "
             "as synonyms)"),
    case("english_lowercase",
         "English lower-case everywhere: 'hidden layers', 'gpu', 'facebook', 'transformers.pipeline()', matching "
         "ids 'img', 'ml', 'tf'",
         style={"matching": lambda p, qid, a: "{" + ", ".join(
             f"{p.number(qid, item)}: {cat.lower()!r}" for item, cat in a.items()) + "}",
                "single": lambda p, qid, a: repr(p.letter(qid, a).lower())},
         over={"q04": repr("hidden layers"), "q16": repr("gpu"), "q24": repr("facebook"),
               "q31": repr("transformers.pipeline()")}),
    case("spacing_synonyms",
         "short answers with spacing/synonym variants: '은닉 계층', '그래픽카드(GPU)', 'Meta (구 Facebook)', "
         "'pipeline()'; numbers with spaces ' 784 '",
         over={"q04": repr("은닉 계층"), "q16": repr("그래픽카드(GPU)"), "q24": repr("Meta (구 Facebook)"),
               "q35": repr(" 784 ")},
         why="'은닉 계층' is the same term as 은닉층 (계층 = 층); '그래픽카드(GPU)' names the device with its "
             "abbreviation"),

    # ── subtly wrong: exactly one question flagged ───────────────────────────
    case("w_params_without_bias",
         "q34 answered 784 x 128 = 100352, forgetting the 128 biases (the classic slip)",
         over={"q34": repr("100352")}, expected={"q34": 0}),
    case("w_fine_tune_epochs",
         "q39 answered '3에폭' (fine_tune(3) read as 3 epochs in total)",
         over={"q39": repr("3에폭")}, expected={"q39": 0}),
    case("w_all_ml_is_dl",
         "q02 answered '○' (thinks all machine learning is deep learning), typed as the Korean circle",
         over={"q02": repr("○")}, expected={"q02": 0}),
    case("w_feedforward_loops",
         "q11 answered '네' (thinks a feed-forward network loops back)",
         over={"q11": repr("네")}, expected={"q11": 0}),
    case("w_features_partial",
         "q05 (net_correct, key a,b,d) answered with only the first two right options",
         answers={"q05": ["a", "b"]}, expected={"q05": 4 / 3},
         why="net_correct: (2 right - 0 wrong) / 3 of 2 points"),
    case("w_tf_strengths_extra",
         "q23 (per_option, key a,b) with the Meta option c added",
         answers={"q23": ["a", "b", "c"]}, expected={"q23": 1.5},
         why="per_option: a, b, d decided right = 3/4 of 2 points"),
    case("w_cpu",
         "q16 answered 'CPU'",
         over={"q16": repr("CPU")}, expected={"q16": 0}),
    case("w_google_made_pytorch",
         "q24 answered '구글'",
         over={"q24": repr("구글")}, expected={"q24": 0}),
    case("w_explainable_dl",
         "q12 with 'explainable' sorted under DL (one of six items wrong)",
         answers={"q12": {**QUESTIONS["q12"]["answer"], "explainable": "DL"}}, expected={"q12": 2.5},
         why="per_item: 5/6 of 3 points"),
    case("w_compile_line",
         "q33 answered '7번 줄' (the line where compile starts, not the loss line)",
         over={"q33": repr("7번 줄")}, expected={"q33": 0}),
    case("w_flatten_28",
         "q35 answered '28' (one side of the image)",
         over={"q35": repr("28")}, expected={"q35": 0}),
]
