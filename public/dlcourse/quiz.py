"""Concept quizzes in the notebook: show each question, take the answer, check its format.

This is the student-zone half of a quiz.  It knows the questions and options
(``data/quiz/<quiz>.json``, written by the release step) but never the answer
keys: those stay with the grader.  Option order (and the order of matching items)
is shuffled per student; :func:`option_order` is the one rule both the notebook
and the grader use, so the grader maps each letter back to the option it named.

In a notebook::

    quiz = Quiz("concepts_quiz")      # finds your student id (JupyterHub user)
    quiz.show("q01")                  # the question, with options A, B, C, ...
    quiz.answer("q01", "B")           # checks the format at once and keeps the answer
"""
from __future__ import annotations

import getpass
import hashlib
import json
import math
import numbers
import os
import random
import re
import unicodedata
from pathlib import Path

from ._lang import lang, pick

DATA_DIR = Path(__file__).resolve().parent / "data" / "quiz"
LETTERS = "ABCDEFGHIJ"
TRUE_WORDS = {"o", "true", "t", "참", "맞다", "맞음", "예", "yes", "y"}
FALSE_WORDS = {"x", "false", "f", "거짓", "틀리다", "틀림", "아니오", "no", "n"}


# ── the shared rule: per-student order ──────────────────────────────────────
def option_order(quiz: str, student: str, qid: str, n: int, what: str = "options") -> list[int]:
    """Indexes of the public options in the order this student sees them (deterministic)."""
    digest = hashlib.sha256(f"{quiz}\x1f{student}\x1f{qid}\x1f{what}".encode()).digest()
    order = list(range(n))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order


def student_id() -> str | None:
    """Who is taking the quiz: set by the grader, by JupyterHub, or by the student."""
    for var in ("DLCOURSE_STUDENT", "JUPYTERHUB_USER", "NB_USER"):
        if os.environ.get(var):
            return os.environ[var]
    return None


# ── reading what the student typed (shared with the grader) ─────────────────
# Students type answers the way they write on paper: "정답은 b입니다", "A와 C", "784개", "○", "아니요",
# "역전파(backpropagation)".  Everything below reads those forms, and refuses what could mean two
# things (two letters for one choice, "A 또는 C", O and X together, "3 4", "1,5") with a message
# that says what to type.  The grader calls the same `parse`, so the format check in the notebook
# and the grade agree.
MAX_TEXT = 400          # a typed answer longer than this is not read at all (characters)
MAX_SHORT = 80          # short answers: a word or a short phrase
MAX_NODES = 200         # a list or dict answer: at most this many pieces ...
MAX_DEPTH = 4           # ... nested at most this deep
MAX_INT_BITS = 256      # larger integers are not answers
SHOW = 40               # at most this much of a typed answer is quoted back in a message (never a channel)

TRUE_WORDS = {
    "o", "○", "◯", "⭕", "〇", "o표", "동그라미", "✔", "✓", "☑", "✅", "🙆",
    "네", "예", "응", "맞아요", "맞아", "맞음", "맞다", "맞습니다", "맞는다", "맞는말", "맞는말입니다",
    "옳다", "옳음", "옳아요", "옳습니다", "참", "true", "t", "yes", "y", "correct", "right",
}
FALSE_WORDS = {
    "x", "×", "✕", "✖", "✗", "✘", "❌", "❎", "🙅", "x표", "가위표", "엑스",
    "아니요", "아니오", "아뇨", "아니", "아니다", "아닙니다", "틀려요", "틀려", "틀림", "틀리다", "틀렸다",
    "틀립니다", "틀린다", "틀린말", "틀린말입니다", "그르다", "거짓", "false", "f", "no", "n", "wrong", "incorrect",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u00ad"), None)
_QUOTES = "\"'`“”‘’「」『』"
_COPULA = r"(?:입니다|입니당|이에요|이예요|예요|에요|이요|요|임|이다|(?:이)?라고\s*(?:합니다|해요|한다|부릅니다|불러요|부른다))"
# choice answers: what may stand around the letters ("정답은 B번입니다", "A와 C", "answer: b")
_CHOICE_PUNCT = set(",;/&+.:()[]{}<>!?·・‧•、" + _QUOTES)
# Words that may stand around the letters.  Checked by `_is_filler` in time linear in the word's
# length: as one regular expression `(?:이|다|이다|…)+` this list backtracked exponentially on a word
# made of overlapping pieces ("이다이다…뷁": ×2 per piece, 80 characters ≈ a day of CPU).
_CHOICE_FILLER = frozenset((
    "정답", "답", "보기", "선택지", "선택", "번째", "번", "은", "는", "이", "가", "을", "를", "와", "과", "랑", "이랑",
    "하고", "그리고", "및", "입니다", "입니당", "이에요", "예요", "에요", "이요", "요", "임", "이다", "다", "제",
    "저는", "저의", "나는", "내", "고름", "골라요", "고릅니다", "골랐습니다", "모두", "전부", "둘다", "셋다", "것"))
_FILLER_LONGEST = max(map(len, _CHOICE_FILLER))
_LATIN_FILLER = {"ANSWER", "ANS", "IS", "THE", "AND", "OPTION", "OPTIONS", "CHOICE", "CHOICES", "MY"}
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]+")
# numbers: "784개", "5 epochs", "4에폭", "8번 줄", "line 8", "1,000", "10%", "약 1"
_NUMBER = re.compile(
    r"(?:(?:정답|답|약|대략|총|모두|전부|합계|합|answer|about|approx|total)(?:은|는|이|:)?)*"
    r"(?:line|l|줄|행|라인)?"
    r"(?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?|[-+]?\.\d+(?:e[-+]?\d+)?)"
    r"(?P<pct>%|퍼센트|프로|percent|pct)?"
    r"(?:개|번째|번|회|줄|행|라인|에폭|에포크|epochs|epoch|차원|층|장|픽셀|pixels|pixel|px|parameters|parameter|"
    r"params|param|파라미터|가중치|값|lines|line|의)*"
    r"(?:입니다|입니당|이에요|예요|에요|이요|요|임|이다)?[.!]?")
# matching: "1: ML, 2: DL", "1-ML 2-DL", "1번 ML", "1→ML"
# ("->" and "=>" are two characters of the class: no alternative that could match the same text twice)
_PAIR = re.compile(r"(?P<n>\d+)\s*(?:번째|번)?\s*[:=\-→>)\].]*\s*(?P<cat>.*\S)?\s*")


def _clean(text: str) -> str:
    """Width, compatibility forms and invisible characters do not matter: 'Ａ' == 'A', '，' == ','."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).replace("\u2212", "-").strip()


def brief(raw, limit: int = SHOW) -> str:
    """What was typed, quoted for a message: never more than about `limit` characters."""
    if isinstance(raw, str):
        return repr(raw[:limit]) + (f"…({len(raw):,}{pick('자', ' characters')})" if len(raw) > limit else "")
    if isinstance(raw, bool) or raw is None or isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, int):
        if raw.bit_length() > MAX_INT_BITS:
            return pick(f"<{raw.bit_length():,}비트짜리 정수>", f"<a {raw.bit_length():,}-bit integer>")
        return repr(raw)
    if isinstance(raw, (list, tuple, dict, set)) and _too_big(raw) is None:
        text = repr(raw)
        return text if len(text) <= limit else text[:limit] + "…"
    return f"<{type(raw).__name__}>"


def _too_big(raw) -> str | None:
    """Why `raw` is too large or too deep to be an answer (None when it is fine); never recursive."""
    stack, nodes, chars = [(raw, 0)], 0, 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            return pick("답이 너무 크거나 깊게 중첩되어 있습니다.", "The answer is too large or nested too deeply.")
        if isinstance(value, str):
            chars += len(value)
            if chars > MAX_TEXT:
                return pick(f"답이 너무 깁니다 ({MAX_TEXT}자 이내로 적으세요).",
                            f"The answer is too long (at most {MAX_TEXT} characters).")
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            return pick("수가 너무 큽니다.", "The number is too large.")
        elif isinstance(value, dict):
            stack += [(k, depth + 1) for k in value.keys()] + [(v, depth + 1) for v in value.values()]
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack += [(v, depth + 1) for v in value]
    return None


def parse(question: dict, raw) -> tuple[object | None, str | None]:
    """Turn a typed answer into its plain form; (value, None) or (None, why it is not valid).

    Choice answers come back as letters (as the student saw them); the grader maps
    letters to options.  The message says in the student's language what to type.
    Whatever is typed, this returns (it never raises) and quotes at most `SHOW` characters.
    """
    kind = question["type"]
    problem = _too_big(raw)
    if problem:
        return None, problem + " " + format_hint(question)
    if raw is None or (isinstance(raw, str) and not _clean(raw)):
        return None, pick("아직 답이 없습니다.", "No answer yet.") + " " + format_hint(question)
    got = f" ({pick('입력', 'got')}: {brief(raw)})"
    if kind == "single" or (kind == "code" and question.get("options")):
        return _parse_single(question, raw, got)
    if kind == "multiple":
        return _parse_multiple(question, raw, got)
    if kind == "truefalse":
        return _parse_truefalse(raw, got)
    if kind == "matching":
        return _parse_matching(question, raw, got)
    if kind == "short":
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            return None, pick("단어나 짧은 구를 따옴표 안에 적으세요.", "Type a word or a short phrase in quotes.") + got
        text = _clean(str(raw))
        if len(text) > MAX_SHORT:
            return None, pick(f"답이 너무 깁니다. 단어나 짧은 구({MAX_SHORT}자 이내)로 적으세요.",
                              f"Too long: answer with a word or a short phrase ({MAX_SHORT} characters at most).")
        if not any(ch.isalnum() for ch in text):
            return None, pick("글자가 없습니다. 단어나 짧은 구로 적으세요.", "No letters: type a word or a short phrase.") + got
        return text, None
    if kind == "numeric" or kind == "code":
        return _parse_number(question, raw, got)
    return None, f"unknown question type {kind!r}"


def _choice_letters(text: str, n: int) -> tuple[list[str], list[str]]:
    """The option letters named in a typed choice answer, and the pieces that are neither letter nor filler."""
    letters, unknown = [], []
    for tok in re.findall(r"[A-Za-z]+|[\uac00-\ud7a3\u3131-\u318e]+|\d+|\S", text):
        if tok in _CHOICE_PUNCT:
            continue
        up = tok.upper()
        if tok.isascii() and tok.isalpha():
            if up in _LATIN_FILLER:
                continue
            if all(ch in LETTERS[:n] for ch in up):
                letters.extend(up)
                continue
        elif _HANGUL.fullmatch(tok) and _is_filler(tok):
            continue
        unknown.append(tok)
    return letters, unknown


def _is_filler(word: str) -> bool:
    """Whether `word` is a run of filler words ("정답은", "번입니다"): word break by dynamic programming,
    at most len(word) × the longest filler steps, whatever the word."""
    if len(word) > MAX_TEXT:
        return False
    ends = [True] + [False] * len(word)          # ends[i]: word[:i] is a run of fillers
    for i in range(1, len(word) + 1):
        ends[i] = any(ends[j] and word[j:i] in _CHOICE_FILLER for j in range(max(0, i - _FILLER_LONGEST), i))
    return ends[-1]


def _choice_problem(unknown: list[str], n: int) -> str:
    if unknown and all(t.isdigit() for t in unknown):
        return pick(f" 번호 대신 화면에 보이는 선택지 글자(A–{LETTERS[n - 1]})로 적으세요.",
                    f" Use the option letters you see (A–{LETTERS[n - 1]}), not numbers.")
    if unknown:
        shown = brief(" ".join(unknown))
        return pick(f" 읽지 못한 부분: {shown}.", f" Could not read: {shown}.")
    return ""


def _parse_single(question, raw, got):
    n = len(question["options"])
    head = pick(f"선택지는 A–{LETTERS[n - 1]} 중 하나입니다.", f"Choose one of A–{LETTERS[n - 1]}.")
    if not isinstance(raw, str):
        return None, head + got
    letters, unknown = _choice_letters(_clean(raw), n)
    if unknown or not letters:
        return None, head + _choice_problem(unknown, n) + got
    if len(set(letters)) > 1:
        return None, head + pick(f" 하나만 고르세요: {', '.join(sorted(set(letters)))} 를 함께 읽었습니다.",
                                 f" Choose only one: read {', '.join(sorted(set(letters)))} together.") + got
    return letters[0], None


def _parse_multiple(question, raw, got):
    n = len(question["options"])
    head = pick(f"A–{LETTERS[n - 1]} 중 맞는 것을 모두 쉼표로 구분해 적으세요 (예: 'A, C').",
                f"List every right option among A–{LETTERS[n - 1]}, separated by commas (e.g. 'A, C').")
    if isinstance(raw, (list, tuple, set)):
        if not all(isinstance(p, str) for p in raw):
            return None, head + got
        raw = ", ".join(sorted(raw) if isinstance(raw, set) else raw)
    if not isinstance(raw, str):
        return None, head + got
    letters, unknown = _choice_letters(_clean(raw), n)
    if unknown or not letters:
        if any(t in ("또는", "혹은", "아니면", "OR", "or") for t in unknown):
            return None, pick("'또는'은 어느 쪽인지 알 수 없습니다. 맞는 것을 모두 쉼표로 구분해 적으세요 (예: 'A, C').",
                              "'or' is ambiguous: list every right option, separated by commas (e.g. 'A, C').") + got
        return None, head + _choice_problem(unknown, n) + got
    if len(set(letters)) != len(letters):
        return None, pick("같은 선택지를 두 번 적었습니다.", "The same option is listed twice.") + got
    return sorted(letters), None


def _tf_word(part: str) -> bool | None:
    word = re.sub(r"[\s.!?~" + _QUOTES + "]+", "", part.casefold())
    word = re.sub(r"^(?:정답|답)(?:은|는|이)?:?", "", word) or word
    for form in (word, re.sub(_COPULA + "$", "", word)):
        if form in TRUE_WORDS:
            return True
        if form in FALSE_WORDS:
            return False
    return None


def _parse_truefalse(raw, got):
    want = pick("O(맞다) 또는 X(틀리다)로 답하세요.", "Answer O (true) or X (false).")
    if isinstance(raw, bool):
        return raw, None
    if isinstance(raw, (int, float)) or (isinstance(raw, str) and _clean(raw) in ("0", "1")):
        return None, want + pick(" 0과 1은 O·X와 헷갈리므로 받지 않습니다.", " 0 and 1 are not read (0 looks like O).") + got
    if not isinstance(raw, str):
        return None, want + got
    parts = [p for p in re.split(r"[()\[\],/:]", _clean(raw)) if p.strip()]
    verdicts = [_tf_word(p) for p in parts]
    if len(verdicts) > 1 and _tf_word("".join(parts)) is not None:     # e.g. "정답: O" split at the colon
        verdicts = [_tf_word("".join(parts))]
    if not verdicts or None in verdicts:
        return None, want + got
    if len(set(verdicts)) > 1:
        return None, want + pick(" O와 X를 함께 적었습니다.", " Both O and X are there.") + got
    return verdicts[0], None


def _category_labels(question: dict) -> dict[str, str]:
    labels = {}
    for cat in question["categories"]:
        names = [cat["id"], cat["ko"], cat.get("en") or cat["ko"], *cat.get("accept", [])]
        labels.update({_label(name): cat["id"] for name in names})
    return labels


def _label(text: str) -> str:
    return re.sub(r"[\W_]+", "", _clean(str(text)).casefold())


def _category(labels: dict, value) -> str | None:
    if not isinstance(value, str):
        return None
    text = _clean(value)
    for form in (text, re.sub(_COPULA + r"\s*[.!]?$", "", text)):
        if _label(form) in labels:
            return labels[_label(form)]
    return None


def _item_number(key) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    match = re.fullmatch(r"(\d{1,3})\s*(?:번째|번)?\s*[.)]?", _clean(str(key)))
    return int(match.group(1)) if match else None


def _parse_matching(question, raw, got):
    items, cats = question["items"], question["categories"]
    labels = _category_labels(question)
    names = ", ".join(repr(c["id"]) for c in cats)
    want = pick(f"1–{len(items)} 번 항목마다 {names} 중 하나를 적은 딕셔너리로 답하세요 "
                f"(예: {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).",
                f"Answer with a dict giving each item 1–{len(items)} one of {names} "
                f"(e.g. {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).")
    pairs = _matching_pairs(raw, len(items))
    if pairs is None:
        return None, want + got
    out = {}
    for key, value in pairs:
        number = _item_number(key)
        if number is None:
            return None, want + f" ({pick('알 수 없는 항목 번호', 'unknown item number')}: {brief(key)})"
        cat = _category(labels, value)
        if not 1 <= number <= len(items) or cat is None:
            return None, want + f" ({brief(key, 10)}: {brief(value)})"
        if number in out:
            return None, pick(f"{number} 번 항목을 두 번 적었습니다.", f"Item {number} is answered twice.") + " " + want
        out[number] = cat
    missing = [i for i in range(1, len(items) + 1) if i not in out]
    if missing:
        return None, pick(f"{missing} 번 항목의 답이 없습니다.", f"Items {missing} have no answer.") + " " + want
    return {str(k): out[k] for k in sorted(out)}, None


def _matching_pairs(raw, n: int) -> list | None:
    """(item key, category text) pairs from a dict, a list in item order, or a typed string."""
    if isinstance(raw, dict):
        return list(raw.items())
    if isinstance(raw, (list, tuple)):
        return list(enumerate(raw, 1)) if len(raw) == n else None
    if not isinstance(raw, str):
        return None
    text = _clean(raw).strip("{}[]() ")
    pieces = [p for p in re.split(r"\s*[,;\n/、]\s*|\s+(?=\d)", text) if p.strip()]
    pairs = [_PAIR.fullmatch(p) for p in pieces]
    if pieces and all(pairs) and all(m.group("cat") for m in pairs):
        return [(m.group("n"), m.group("cat").strip(_QUOTES + " ")) for m in pairs]
    if any(pairs):
        return None
    # the categories in item order: "ML, DL, DL, ML" or "ML DL DL ML"
    for split in (r"\s*[,;\n/、·]\s*", r"[\s,;/、·]+"):
        names = [p.strip(_QUOTES + " ") for p in re.split(split, text) if p.strip(_QUOTES + " ")]
        if len(names) == n:
            return list(enumerate(names, 1))
    return None


def number_form(question: dict) -> str:
    """How a numeric answer is written: 'number' (default), 'fraction' (0.1 = 10%) or 'percent' (10 = 10%)."""
    return question.get("form", "number")


def _parse_number(question, raw, got):
    kind = question["type"]
    if kind == "code":
        n_lines = len(question["code"].splitlines())
        want = pick(f"1–{n_lines} 사이의 줄 번호(숫자)를 적으세요.", f"Type a line number between 1 and {n_lines}.")
    else:
        want = pick("숫자로 적으세요 (예: 784 또는 0.5).", "Type a number (e.g. 784 or 0.5).")
    form = number_form(question)
    percent = False
    if isinstance(raw, bool):
        return None, want + got
    if isinstance(raw, numbers.Real):
        try:
            value = float(raw)
        except (OverflowError, ValueError, TypeError):
            return None, pick("수가 너무 큽니다.", "The number is too large.") + " " + want
    elif isinstance(raw, str):
        text = _clean(raw).casefold()
        if re.search(r"\d[\s]+[-+]?[\d.,]", text):
            return None, want + pick(" 숫자를 하나만 적으세요.", " Type one number only.") + got
        match = _NUMBER.fullmatch(re.sub(r"\s+", "", text.strip(_QUOTES)))
        if not match:
            extra = ""
            if re.search(r"\d,\d", text):
                extra = pick(" 쉼표는 천 단위 구분에만 씁니다 (예: 100,480). 소수점은 '.'으로 적으세요.",
                             " Commas only group thousands (e.g. 100,480); use '.' for decimals.")
            return None, want + extra + got
        value = float(match.group("num").replace(",", ""))
        percent = bool(match.group("pct"))
    else:
        return None, want + got
    if math.isnan(value):
        return None, want + got
    if not math.isfinite(value):
        return None, pick("수가 너무 큽니다.", "The number is too large.") + " " + want
    if kind == "code":
        n_lines = len(question["code"].splitlines())
        if percent or value != int(value) or not 1 <= value <= n_lines:
            return None, pick(f"1–{n_lines} 사이의 줄 번호를 적으세요.", f"Type a line number 1–{n_lines}.") + got
        return int(value), None
    if percent and form != "percent":
        value = value / 100
    if form == "fraction" and not percent and not 0 <= value <= 1:
        return None, pick(f"이 문항은 0과 1 사이의 비율로 답합니다 (예: 0.1 또는 10%). {value:g}%를 뜻했다면 "
                          f"'{value:g}%'로 적으세요.",
                          f"This question asks for a fraction between 0 and 1 (e.g. 0.1 or 10%). If you mean "
                          f"{value:g}%, type '{value:g}%'.") + got
    return value, None


def describe(question: dict, value) -> str:
    """A parsed answer as the student would read it back ("B", "A, C", "O (맞다)", "10%", "1→ML, 2→DL")."""
    if isinstance(value, bool):
        return "O" + pick(" (맞다)", " (true)") if value else "X" + pick(" (틀리다)", " (false)")
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}→{c}" for k, c in value.items())
    if isinstance(value, float):
        form = number_form(question)
        if form == "percent":
            return f"{value:g}%"
        if form == "fraction":
            return f"{value:g} (= {value * 100:g}%)"
        return f"{value:g}"
    if question.get("type") == "short" and isinstance(value, str):
        main, gloss = short_parts(value)
        shown = _prefix(" / ".join(main))
        room = SHOW - len(shown)                 # the student's own text: SHOW characters in all
        if gloss:
            inside = _prefix(" / ".join(gloss), max(room, 0)) if room > 0 else "…"
            shown += pick(f" (괄호 안: {inside})", f" (in brackets: {inside})")
        return shown
    return str(value)


def _prefix(text: str, limit: int = SHOW) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def short_parts(text: str) -> tuple[list[str], list[str]]:
    """A short answer's terms: the main ones (all must be right) and glosses in brackets (one right is enough).

    "역전파(backpropagation)" → (["역전파"], ["backpropagation"]); "Meta/Facebook" → (["Meta", "Facebook"], []);
    "pipeline()" → (["pipeline"], []); "정답: GPU입니다" → (["GPU"], []).
    """
    t = _clean(text).strip(_QUOTES + " ")
    t = re.sub(r"^(?:정답|답|answer)\s*(?:은|는|:|\s)\s*:?\s*", "", t, flags=re.I) or t
    t = re.sub(r"\(\s*\)", "", t).strip(_QUOTES + " ")
    bracket = r"[(\[]([^()\[\]]*)[)\]]"
    gloss = re.findall(bracket, t)
    main = re.sub(bracket, " ", t)
    main = re.sub(r"\s+" + _COPULA + r"\s*[.!]?$", "", main.strip())       # "역전파(backprop)입니다"
    split = r"\s*(?:/|,|;|、|\bor\b|또는|혹은|아니면)\s*"
    main_parts = [p.strip(_QUOTES + " .") for p in re.split(split, main) if p.strip(_QUOTES + " .")]
    gloss_parts = [p.strip(_QUOTES + " .") for g in gloss for p in re.split(split, g) if p.strip(_QUOTES + " .")]
    if not main_parts:
        return gloss_parts, []
    return main_parts, gloss_parts


def short_forms(part: str) -> set[str]:
    """The spellings of one term that are compared with the accepted answers (copula and particles dropped)."""
    forms = {part, re.sub(_COPULA + r"\s*$", "", part)}
    return {re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", f).casefold()) for f in forms} - {""}


def format_hint(question: dict) -> str:
    kind = question["type"]
    if kind == "single" or (kind == "code" and question.get("options")):
        return pick('선택지 글자 하나를 따옴표 안에 적으세요 (예: "B"; "b", "(B)", "B번", "정답은 B"도 됩니다).',
                    'Type one option letter in quotes (e.g. "B"; "b" or "(B)" work too).')
    if kind == "multiple":
        return pick('맞는 선택지를 모두 쉼표로 구분해 적으세요 (예: "A, C"; "AC", "A와 C"도 됩니다).',
                    'List every right option (e.g. "A, C"; "AC" works too).')
    if kind == "truefalse":
        return pick('"O" 또는 "X"를 적으세요 (○/×, 네/아니요, 참/거짓도 됩니다).',
                    'Type "O" or "X" (true/false and yes/no work too).')
    if kind == "matching":
        return pick('항목 번호마다 분류를 적은 딕셔너리로 답하세요 (예: {1: "ML", 2: "DL"}; "1: ML, 2: DL"도 됩니다).',
                    'Answer with a dict: item number -> category (e.g. {1: "ML", 2: "DL"}; "1: ML, 2: DL" works too).')
    if kind == "short":
        return pick("단어나 짧은 구로 적으세요 (한국어 또는 영어; 예: \"역전파\" 또는 \"역전파(backpropagation)\").",
                    "Type a word or a short phrase (Korean or English).")
    if kind == "numeric":
        form = number_form(question)
        if form == "fraction":
            return pick("0과 1 사이의 비율로 적으세요 (예: 0.1; \"10%\"도 0.1로 읽습니다).",
                        "Type a fraction between 0 and 1 (e.g. 0.1; \"10%\" is read as 0.1).")
        if form == "percent":
            return pick("퍼센트 값으로 적으세요 (예: 10 또는 \"10%\"; 0.1은 0.1%로 읽습니다).",
                        "Type a percentage (e.g. 10 or \"10%\"; 0.1 is read as 0.1%).")
        return pick("숫자를 적으세요 (예: 784; \"784개\", \"1,000\"처럼 단위나 쉼표를 붙여도 됩니다).",
                    "Type a number (e.g. 784; units and thousands commas such as \"1,000\" are fine).")
    return pick("줄 번호(숫자)를 적으세요 (예: 3 또는 \"3번 줄\").", "Type a line number (e.g. 3 or \"line 3\").")


# ── the notebook object ─────────────────────────────────────────────────────
class Quiz:
    def __init__(self, name: str, student: str | None = None):
        path = DATA_DIR / f"{name}.json"
        if not path.is_file():
            raise FileNotFoundError(pick(f"퀴즈 '{name}'를 찾을 수 없습니다. 노트북 첫 셀을 고치지 마세요.",
                                         f"Quiz '{name}' not found; do not edit the notebook's first cell."))
        self.data = json.loads(path.read_text(encoding="utf-8"))
        self.name = name
        self.questions = {q["id"]: q for q in self.data["questions"]}
        self.answers: dict[str, object] = {}
        self.student = student or student_id()
        if self.student:
            print(pick(f"시험지: {self.student} (문항 {len(self.questions)}개, 총 {self.data['total_points']:g}점)",
                       f"Paper of {self.student} ({len(self.questions)} questions, {self.data['total_points']:g} points)"))
        else:
            self.student = getpass.getuser()
            print(pick(f"학생 ID를 찾지 못해 '{self.student}'(으)로 선택지 순서를 정했습니다. JupyterHub에서 풀면 "
                       f"자동으로 정해집니다. 직접 정하려면: quiz = Quiz({name!r}, student='내 아이디')",
                       f"No student id found; options are ordered for '{self.student}'. On JupyterHub this is "
                       f"automatic. To set it: quiz = Quiz({name!r}, student='my-id')"))

    # what the student sees
    def _order(self, q: dict, what: str) -> list[int]:
        n = len(q[what])
        if not self.data.get("shuffle", True):
            return list(range(n))
        return option_order(self.name, self.student, q["id"], n, what)

    def _text(self, entry: dict) -> str:
        return entry.get(lang()) or entry["ko"]

    def render(self, qid: str) -> str:
        q = self._question(qid)
        lines = [f"**{qid}** ({q['points']:g}{pick('점', ' pt')}) — {self._text(q['text'])}"]
        if q["type"] == "code":
            numbered = "\n".join(f"{i:>2} | {line}" for i, line in enumerate(q["code"].splitlines(), 1))
            lines.append(f"```python\n{numbered}\n```")
        if q.get("options"):
            order = self._order(q, "options")
            lines += [f"- **{LETTERS[i]}**. {self._text(q['options'][j])}" for i, j in enumerate(order)]
        if q["type"] == "matching":
            order = self._order(q, "items")
            cats = " / ".join(f"`{c['id']}` = {self._text(c)}" for c in q["categories"])
            lines.append(pick("분류: ", "Categories: ") + cats)
            lines += [f"{i}. {self._text(q['items'][j])}" for i, j in enumerate(order, 1)]
        if q["type"] == "truefalse":
            lines.append(pick("`O` (맞다) / `X` (틀리다)", "`O` (true) / `X` (false)"))
        lines.append(f"_{format_hint(q)}_")
        return "\n\n".join(lines)

    def show(self, qid: str) -> None:
        text = self.render(qid)
        try:
            from IPython.display import Markdown, display
            display(Markdown(text))
        except ImportError:  # plain Python
            print(text)

    # what the student types
    def answer(self, qid: str, raw) -> None:
        q = self._question(qid)
        value, problem = parse(q, raw)
        self.answers[qid] = _storable(raw)
        if problem:
            print(f"⚠️ {qid}: {problem}")
            return
        shown = describe(q, value)
        typed = raw.strip() if isinstance(raw, str) else raw
        if str(typed) == shown:
            print(pick(f"✅ {qid}: 답 {shown!r} 을(를) 저장했습니다 (형식 확인만 했고, 채점은 제출 후에 합니다).",
                       f"✅ {qid}: saved {shown!r} (format checked only; grading happens after you submit)."))
        else:
            print(pick(f"✅ {qid}: 답을 {shown!r}(으)로 읽어 저장했습니다 (입력: {brief(raw)}). "
                       f"형식 확인만 했고, 채점은 제출 후에 합니다.",
                       f"✅ {qid}: read as {shown!r} and saved (typed: {brief(raw)}). "
                       f"Format checked only; grading happens after you submit."))

    def progress(self) -> None:
        done = [qid for qid in self.questions if parse(self.questions[qid], self.answers.get(qid))[1] is None]
        todo = [qid for qid in self.questions if qid not in done]
        print(pick(f"형식이 맞는 답: {len(done)}/{len(self.questions)}", f"Answers in a valid format: "
                   f"{len(done)}/{len(self.questions)}") + (pick(" — 남은 문항: ", " — still to do: ") + ", ".join(todo)
                                                           if todo else " 🎉"))

    def _question(self, qid: str) -> dict:
        if qid not in self.questions:
            raise KeyError(pick(f"문항 '{qid}'는 이 퀴즈에 없습니다.", f"No question '{qid}' in this quiz."))
        return self.questions[qid]


def _storable(raw):
    """What is kept for the grader: the answer as typed, or a short note when it is far too large to be one."""
    if _too_big(raw) is None:
        return raw
    return f"<{pick('너무 큰 답', 'answer too large')}: {brief(raw, 60)}>"
