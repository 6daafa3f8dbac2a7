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


# ── issue 23 §3: more everyday Korean typing (names vq2_*) ─────────────────────────────────────────────
def case2(name, origin, style=None, over=None, answers=None, expected=None, why=None):
    student = f"vq2_{name}"
    return {"name": student, "origin": origin, "answers": paper(student, style, over, answers),
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


def _opt_text(qid, option_id):
    """The option's own Korean text, as printed on the paper (students copy it instead of the letter)."""
    return next(o["ko"] for o in QUESTIONS[qid]["options"] if o["id"] == option_id)


def _run_or_rang(letters):
    """'A~C' when the letters follow each other on the paper (three or more), else 'A랑 C랑 D'."""
    idx = [LETTERS.index(x) for x in letters]
    if len(letters) >= 3 and idx == list(range(idx[0], idx[0] + len(idx))):
        return f"{letters[0]}~{letters[-1]}"
    return "랑 ".join(letters)


_KO_COUNT = {1: "하나", 2: "둘 다", 3: "세 개 다", 4: "네 개 다", 5: "다섯 개 다"}
_tf_polite = _cycle(("그렇습니다", "그렇지 않습니다"), ("맞는 설명입니다", "틀린 설명입니다"))
_tf_casual = _cycle(("오", "엑스"), ("맞음", "아님"), ("O요", "X요"))
_tf_hedge = _cycle(("맞는 것 같아요", "아닌 것 같아요"), ("O 같아요", "X 같아요"))
_single_hedge = _cycle("{} 같아요", "{}인 것 같습니다", "아마 {}?", "{}일걸요", "{} 아닐까요?")
_single_sentence = _cycle("{}번이요", "정답은 {}번입니다", "{}가 답", "답: {}", "저는 {}를 골랐습니다")
_KO_GLOSS = {"ML": "머신러닝", "DL": "딥러닝", "IMG": "이미지 인식", "NLP": "자연어 처리", "SPEECH": "음성 인식",
             "DRIVE": "자율주행", "TF": "텐서플로", "PT": "파이토치", "FA": "패스트AI", "HF": "허깅페이스"}


def _matching_string(p, qid, a):
    """'1번은 ML, 2번은 DL, ...' typed as one string, items in paper order."""
    pairs = sorted((p.number(qid, item), cat) for item, cat in a.items())
    return repr(", ".join(f"{n}번은 {cat}" for n, cat in pairs))


CASES += [
    # ── correct but different: full marks ────────────────────────────────
    case2("polite_sentences",
          "O/X answered as polite exam sentences '그렇습니다'/'그렇지 않습니다', '맞는 설명입니다'/'틀린 설명입니다' "
          "(how 혼자 공부하는 머신러닝+딥러닝's 확인 문제 and Korean 자격증 explanations phrase a judgement)",
          style={"truefalse": lambda p, qid, a: repr(_tf_polite()[0 if a else 1])}),
    case2("casual_ox",
          "O/X in chat style: '오'/'엑스' (the letters read aloud), '맞음'/'아님', 'O요'/'X요' (KakaoTalk / 오픈채팅 "
          "study-group answers)",
          style={"truefalse": lambda p, qid, a: repr(_tf_casual()[0 if a else 1])}),
    case2("number_words",
          "Korean number words and counters: '여덟 번째 줄', '다섯째 줄', '네 에폭', '10만 480', '칠백팔십사', "
          "'하나' (read-aloud style of 밑바닥부터 시작하는 딥러닝 study notes)",
          over={"q33": repr("여덟 번째 줄"), "q36": repr("다섯째 줄"), "q39": repr("네 에폭"), "q34": repr("10만 480"),
                "q35": repr("칠백팔십사"), "q42": repr("하나")},
          why="each is the key in words: 여덟=8, 다섯째=5th, 네 에폭=4 epochs (네 is the determiner of 넷, not 'yes'), "
              "10만 480=100480, 칠백팔십사=784, 하나=1"),
    case2("numbers_with_working",
          "numeric answers with the working shown, as in 밑바닥부터 시작하는 딥러닝 ch. 3 notes: '784 (28x28)', "
          "'100480 (784*128+128)', '4 (1+3)', '1 (softmax라서 합이 1)', '8 (loss 줄)', '5번 줄 (criterion)'",
          over={"q35": repr("784 (28x28)"), "q34": repr("100480 (784*128+128)"), "q39": repr("4 (1+3)"),
                "q42": repr("1 (softmax라서 합이 1)"), "q33": repr("8 (loss 줄)"), "q36": repr("5번 줄 (criterion)")},
          why="the first number is the answer; what follows in brackets is its derivation"),
    case2("ranges_and_rang",
          "multiple choice as ranges 'A~C' where the right options follow each other on the paper, else joined "
          "with the colloquial '랑' ('A랑 D') (Korean chat: 'A~C 다 맞아요', 'A랑 D')",
          style={"multiple": lambda p, qid, a: repr(_run_or_rang(_letters(p, qid, a)))}),
    case2("quantifiers",
          "letters followed by a Korean quantifier: 'A, C 둘 다', 'A, B, D 세 개 다', 'A, B, C, D 네 개 다'",
          style={"multiple": lambda p, qid, a: repr(", ".join(_letters(p, qid, a)) + " " + _KO_COUNT[len(a)])},
          why="'네 개 다' = 'all four' (네 as the counter of 넷); the quantifier only repeats the count of the letters"),
    case2("option_text",
          "single choice answered with the option's own text copied from the paper instead of its letter "
          "('Google', '자연어 처리 (텍스트 분류, 번역, 요약 등)'), and q07/q08 with the option texts joined by commas",
          style={"single": lambda p, qid, a: repr(_opt_text(qid, a))},
          over={"q08": repr("이미지 인식, 자연어 처리, 음성 인식, 자율주행"),
                "q07": repr("고양이 사진, 고객센터 통화 녹음, 쇼핑몰 상품 리뷰 글")},
          why="the text names exactly one option of the paper (letters are shuffled, the text is not)"),
    case2("hedges",
          "answers with hedges: 'D 같아요', 'B인 것 같습니다', '아마 C?', 'A일걸요', 'B 아닐까요?', O/X as "
          "'맞는 것 같아요'/'아닌 것 같아요', multiple as 'A, C 같아요'",
          style={"single": lambda p, qid, a: repr(_single_hedge().format(p.letter(qid, a))),
                 "truefalse": lambda p, qid, a: repr(_tf_hedge()[0 if a else 1]),
                 "multiple": lambda p, qid, a: repr(", ".join(_letters(p, qid, a)) + " 같아요")},
          why="a hedge names one answer; 'B 아닐까요?' is 'isn't it B?', i.e. B, not a negation"),
    case2("glossed_matching",
          "matching values with a Korean gloss in brackets: 'DL(딥러닝)', 'ML(머신러닝)', 'IMG(이미지 인식)', "
          "'TF(텐서플로)', 'FA(패스트AI)' (the course slides' own 'ML(머신러닝)' notation)",
          style={"matching": lambda p, qid, a: "{" + ", ".join(
              f"{p.number(qid, item)}: {cat + '(' + _KO_GLOSS[cat] + ')'!r}" for item, cat in
              sorted(a.items(), key=lambda kv: p.number(qid, kv[0]))) + "}"}),
    case2("matching_one_string",
          "matching typed as one string with topic particles: '1번은 ML, 2번은 DL, 3번은 DL, ...' (the notebook's "
          "'1: ML, 2: DL, ...' form in Korean)",
          style={"matching": _matching_string}),
    case2("short_with_endings",
          "short answers with particles and endings: '은닉층들', 'GPU를 씁니다', '메타에서 만들었어요', "
          "'pipeline 함수를 쓰면 돼요'",
          over={"q04": repr("은닉층들"), "q16": repr("GPU를 씁니다"), "q24": repr("메타에서 만들었어요"),
                "q31": repr("pipeline 함수를 쓰면 돼요")},
          why="each sentence names the key (은닉층 + plural 들, GPU + object particle 를, 메타 + 에서)"),
    case2("single_sentences",
          "single choice as sentences: 'C번이요', '정답은 C번입니다', 'C가 답', '답: C', '저는 C를 골랐습니다'",
          style={"single": lambda p, qid, a: repr(_single_sentence().format(p.letter(qid, a)))}),
    case2("line_words",
          "code-line answers as '8행', 'line 5' and q42 as '1이 됩니다'; q39 as '총 4 에폭'",
          over={"q33": repr("8행"), "q36": repr("line 5"), "q42": repr("1이 됩니다"), "q39": repr("총 4 에폭")}),

    # ── wrong in exactly one place ───────────────────────────────────────
    case2("w_contradictory_gloss",
          "q12 with one item typed 'ML(딥러닝)' (code and gloss disagree), the other five right in 'DL(딥러닝)' style",
          style={"matching": lambda p, qid, a: "{" + ", ".join(
              f"{p.number(qid, item)}: "
              f"{('ML(딥러닝)' if (qid, item) == ('q12', 'auto_features') else cat + '(' + _KO_GLOSS[cat] + ')')!r}"
              for item, cat in sorted(a.items(), key=lambda kv: p.number(qid, kv[0]))) + "}"},
          expected={"q12": 2.5},
          why="'ML(딥러닝)' names both categories: that item cannot be read and gets 0 (1 of 6 items: 5/6 of 3)"),
    case2("w_two_letter_hedge",
          "q15 (single) answered 'A나 B 같아요' (two options named)",
          over={"q15": lambda p: repr(f"{p.letter('q15', 'a')}나 {p.letter('q15', 'b')} 같아요")},
          expected={"q15": 0},
          why="the notebook accepts one letter only for a single-choice question"),
    case2("w_three_epochs_words",
          "q39 answered '세 에폭' (fine_tune(3) read as three epochs, in words)",
          over={"q39": repr("세 에폭")}, expected={"q39": 0}),
    case2("w_working_without_bias",
          "q34 with working that forgets the biases: '100352 (784x128)'",
          over={"q34": repr("100352 (784x128)")}, expected={"q34": 0}),
    case2("w_negated_yes",
          "q06 (true) answered '맞지 않아요' (= not right), the rest plain",
          over={"q06": repr("맞지 않아요")}, expected={"q06": 0},
          why="'맞지 않아요' is a negation ('it is not right'): the student says X"),
    case2("w_casual_x",
          "q26 (true) answered '엑스' (the letter X read aloud)",
          over={"q26": repr("엑스")}, expected={"q26": 0}),
    case2("w_two_of_three",
          "q28 (net_correct, key a,b,c) answered with two right options as 'A랑 B 둘 다'",
          over={"q28": lambda p: repr("랑 ".join(_letters(p, "q28", ["a", "b"])) + " 둘 다")},
          expected={"q28": 4 / 3},
          why="net_correct: (2 right - 0 wrong) / 3 of 2 points"),
    case2("w_output_layers",
          "q04 answered '출력층이요'",
          over={"q04": repr("출력층이요")}, expected={"q04": 0}),
    case2("w_range_one_extra",
          "q07 (per_option, key a,b,c of five) answered with the data-table option d added, typed as a range when "
          "the letters follow each other, else with '랑'",
          over={"q07": lambda p: repr(_run_or_rang(_letters(p, "q07", ["a", "b", "c", "d"])))},
          expected={"q07": 1.6},
          why="per_option: a, b, c, e decided right = 4/5 of 2 points"),
]
