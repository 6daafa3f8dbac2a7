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
from dataclasses import dataclass
from pathlib import Path

from . import korean
from ._lang import lang, pick

DATA_DIR = Path(__file__).resolve().parent / "data" / "quiz"
LETTERS = "ABCDEFGHIJ"


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
# Students type answers the way they write on paper: "정답은 b입니다", "A랑 D", "784개", "여덟 번째 줄", "아님",
# "역전파(backpropagation)", "Google" (the option's own text).  Korean is read by morphology
# (`dlcourse.korean`, kiwipiepy): particles, endings, the copula and hedges frame an answer and are
# dropped; a negation, "또는", a second letter, number or verdict change it and are refused with a
# message that says what was understood and what to type.  The grader calls the same `read`, so the
# format check in the notebook and the grade agree.
#
# The API:  read(question, raw, order=None) -> Answer(value, problem, warning)
#   value    what is scored; None when nothing could be read (0 points, `problem` says why)
#   warning  read, but not all of it or not surely as meant: a matching answer with an unreadable item
#            (value holds the items that were read; the others score 0), a short answer with several
#            terms or a gloss that may not be the same answer.  Shown with ⚠️ in the notebook and in
#            the feedback when points are lost.
# parse(question, raw, order=None) -> (value, problem): the same as a pair: (value, None) when read
# without doubt, (None, why) when not read, and (partial dict, warning) for a partly read matching answer.
# `order`: the indexes of question["options"] in the order this student sees them (letter A first),
# needed to read an option's own text ("Google") as its letter; without it the listed order is used.
MAX_TEXT = 400          # a typed answer longer than this is not read at all (characters)
MAX_SHORT = 80          # short answers: a word or a short phrase
MAX_NODES = 200         # a list or dict answer: at most this many pieces ...
MAX_DEPTH = 4           # ... nested at most this deep
MAX_INT_BITS = 256      # larger integers are not answers
SHOW = 40               # at most this much of a typed answer is quoted back in a message (never a channel)

TRUE_WORDS = korean.TRUE_SIGNS          # O/X read without Kiwi; every other form is read by its stem
FALSE_WORDS = korean.FALSE_SIGNS
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u00ad"), None)
_QUOTES = "\"'`“”‘’「」『』"
_HANGUL = korean.HANGUL
# a number without Hangul: "784", "1,000", "5 epochs", "line 8", "10%" (Hangul answers: korean.read_number)
_NUMBER = re.compile(
    r"(?:(?:answer|about|approx|total)(?:is|:)?)*"
    r"(?:line|l)?"
    r"(?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?|[-+]?\.\d+(?:e[-+]?\d+)?)"
    r"(?P<pct>%|percent|pct)?"
    r"(?:epochs|epoch|pixels|pixel|px|parameters|parameter|params|param|lines|line|times|dimensions)?[.!]?")
# matching: "1: ML, 2: DL", "1-ML 2-DL", "1번 ML", "1→ML"
# ("->" and "=>" are two characters of the class: no alternative that could match the same text twice)
_PAIR = re.compile(r"(?P<n>\d+)\s*(?:번째|번)?(?:(?:은|는|이|가)(?=[\s:=]))?\s*[:=\-→>)\].]*\s*(?P<cat>.*\S)?\s*")


@dataclass
class Answer:
    value: object = None
    problem: str | None = None
    warning: str | None = None


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


def parse(question: dict, raw, order: list[int] | None = None) -> tuple[object | None, str | None]:
    """Turn a typed answer into its plain form: (value, None) when read without doubt, (None, why) when
    it is not read, (partial dict, warning) when a matching answer is read in part (see `read`).

    Choice answers come back as letters (as the student saw them); the grader maps letters to options.
    The message says in the student's language what to type.  Whatever is typed, this returns (it
    never raises) and quotes at most `SHOW` characters.
    """
    got = read(question, raw, order)
    if got.value is None:
        return None, got.problem
    if isinstance(got.value, dict) and got.warning:
        return got.value, got.warning
    return got.value, None


def read(question: dict, raw, order: list[int] | None = None) -> Answer:
    """The typed answer read: `Answer(value, problem, warning)` (see the notes above `MAX_TEXT`)."""
    kind = question["type"]
    problem = _too_big(raw)
    if problem:
        return Answer(None, problem + " " + format_hint(question))
    if raw is None or (isinstance(raw, str) and not _clean(raw)):
        return Answer(None, pick("아직 답이 없습니다.", "No answer yet.") + " " + format_hint(question))
    got = f" ({pick('입력', 'got')}: {brief(raw)})"
    if kind == "single" or (kind == "code" and question.get("options")):
        return _parse_choice(question, raw, got, order, several=False)
    if kind == "multiple":
        return _parse_choice(question, raw, got, order, several=True)
    if kind == "truefalse":
        return _parse_truefalse(raw, got)
    if kind == "matching":
        return _parse_matching(question, raw, got)
    if kind == "short":
        return _parse_short(raw, got)
    if kind == "numeric" or kind == "code":
        return _parse_number(question, raw, got)
    return Answer(None, f"unknown question type {kind!r}")


# ── choices ─────────────────────────────────────────────────────────────────
def _seen(pieces) -> str:
    return brief(" ".join(str(p) for p in pieces))


def _choice_problem(r: korean.Reading, n: int) -> str:
    last = LETTERS[n - 1]
    if r.why == "numbers":
        return pick(f" 번호 대신 화면에 보이는 선택지 글자(A–{last})로 적으세요.",
                    f" Use the option letters you see (A–{last}), not numbers.")
    if r.why == "or":
        return pick(" '또는'은 어느 쪽인지 알 수 없습니다.", " 'or' does not say which one.")
    if r.why == "negation":
        return pick(f" 부정하는 말({_seen(r.seen)})이 있어 어느 선택지인지 정할 수 없습니다. 고른 글자만 적으세요.",
                    f" A negation ({_seen(r.seen)}) leaves the choice open: type only the letters you choose.")
    if r.why == "dash":
        return pick(f" {_seen(r.seen)}는 범위인지 두 글자인지 알 수 없습니다. 범위는 'A~C', 여러 개는 'A, C'로 적으세요.",
                    f" {_seen(r.seen)} may be a range or two letters: type 'A~C' for a range, 'A, C' for two.")
    if r.why == "looks_like":
        said = brief(r.extra["said"])
        return pick(f" {said}는 {r.seen} 선택지를 말하는 것 같습니다. 그렇다면 '{r.seen}'로 적으세요.",
                    f" {said} looks like option {r.seen}; if so, type '{r.seen}'.")
    if r.why == "contradiction":
        letter, said = r.seen
        return pick(f" 글자 {letter}와 설명 {brief(said)}({r.extra['named']} 선택지의 내용)가 서로 다릅니다. 글자 하나만 적으세요.",
                    f" The letter {letter} and the text {brief(said)} (option {r.extra['named']}) disagree: "
                    f"type one letter.")
    if r.why == "count":
        said, letters = r.seen
        return pick(f" {said}개라고 했지만 글자는 {letters}개입니다.", f" You say {said} but list {letters} letters.")
    if r.why == "unread" and r.seen:
        return pick(f" 읽지 못한 부분: {_seen(r.seen)}.", f" Could not read: {_seen(r.seen)}.")
    if r.why == "no_letter":
        return pick(" 선택지 글자가 없습니다: 고른 글자를 적으세요.", " No option letter: type the letters you choose.")
    return ""


def _parse_choice(question, raw, got, order, several: bool) -> Answer:
    n = len(question["options"])
    if several:
        head = pick(f"A–{LETTERS[n - 1]} 중 맞는 것을 모두 쉼표로 구분해 적으세요 (예: 'A, C').",
                    f"List every right option among A–{LETTERS[n - 1]}, separated by commas (e.g. 'A, C').")
        if isinstance(raw, (list, tuple, set)):
            if not all(isinstance(p, str) for p in raw):
                return Answer(None, head + got)
            raw = ", ".join(sorted(raw) if isinstance(raw, set) else raw)
    else:
        head = pick(f"선택지는 A–{LETTERS[n - 1]} 중 하나입니다.", f"Choose one of A–{LETTERS[n - 1]}.")
    if not isinstance(raw, str):
        return Answer(None, head + got)
    order = order if order is not None and sorted(order) == list(range(n)) else list(range(n))
    shown = [question["options"][j] for j in order]
    options = shown if all(isinstance(o, dict) and (o.get("ko") or o.get("en")) for o in shown) else None
    r = korean.read_choice(_clean(raw), n, options, several)
    if r.value is None:
        if r.why == "or" and several:
            return Answer(None, pick("'또는'은 어느 쪽인지 알 수 없습니다. 맞는 것을 모두 쉼표로 구분해 적으세요 (예: 'A, C').",
                                     "'or' is ambiguous: list every right option, separated by commas (e.g. 'A, C').")
                          + got)
        return Answer(None, head + _choice_problem(r, n) + got)
    letters = r.value
    if not several:
        if len(set(letters)) > 1:
            return Answer(None, head + pick(f" 하나만 고르세요: {', '.join(sorted(set(letters)))} 를 함께 읽었습니다.",
                                            f" Choose only one: read {', '.join(sorted(set(letters)))} together.") + got)
        return Answer(letters[0])
    if len(set(letters)) != len(letters):
        return Answer(None, pick("같은 선택지를 두 번 적었습니다.", "The same option is listed twice.") + got)
    return Answer(sorted(letters))


# ── O / X ───────────────────────────────────────────────────────────────────
def _parse_truefalse(raw, got) -> Answer:
    want = pick("O(맞다) 또는 X(틀리다)로 답하세요.", "Answer O (true) or X (false).")
    if isinstance(raw, bool):
        return Answer(raw)
    if isinstance(raw, (int, float)) or (isinstance(raw, str) and _clean(raw) in ("0", "1")):
        return Answer(None, want + pick(" 0과 1은 O·X와 헷갈리므로 받지 않습니다.", " 0 and 1 are not read (0 looks like O).") + got)
    if not isinstance(raw, str):
        return Answer(None, want + got)
    text = _clean(raw)
    quick = re.sub(r"[\s.!?~" + _QUOTES + "]+", "", text.casefold())
    if quick in TRUE_WORDS or quick in FALSE_WORDS:            # "O", "x", "○", "yes": no Kiwi
        return Answer(quick in TRUE_WORDS)
    r = korean.read_verdict(text)
    if r.value is None:
        if r.why == "both":
            return Answer(None, want + pick(" O와 X를 함께 적었습니다.", " Both O and X are there.") + got)
        if r.why == "negation":
            return Answer(None, want + pick(f" 부정하는 말({_seen(r.seen)})이 있어 O인지 X인지 정할 수 없습니다.",
                                            f" A negation ({_seen(r.seen)}) leaves it open.") + got)
        return Answer(None, want + got)
    return Answer(r.value)


# ── matching ────────────────────────────────────────────────────────────────
def _category_labels(question: dict) -> dict[str, str]:
    labels = {}
    for cat in question["categories"]:
        names = [cat["id"], cat["ko"], cat.get("en") or cat["ko"], *cat.get("accept", [])]
        labels.update({_label(name): cat["id"] for name in names})
    return labels


def _label(text: str) -> str:
    return re.sub(r"[\W_]+", "", _clean(str(text)).casefold())


def _category(labels: dict, value) -> str | None:
    """The category a typed value names: 'DL', '딥러닝입니다', 'DL(딥러닝)'; None when it names none, or
    two ('ML/DL', 'ML(딥러닝)': a contradiction is never guessed)."""
    if not isinstance(value, str):
        return None
    text = _clean(value)
    if _label(text) in labels:
        return labels[_label(text)]
    main, gloss = short_parts(text)
    if len(main) != 1:
        return None
    named = set()
    for part in main + gloss:
        hits = {labels[f] for f in short_forms(part) if f in labels}
        if len(hits) != 1:
            return None
        named |= hits
    return named.pop() if len(named) == 1 else None


def _item_number(key) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    match = re.fullmatch(r"(\d{1,3})\s*(?:번째|번)?\s*[.)]?", _clean(str(key)))
    return int(match.group(1)) if match else None


def _parse_matching(question, raw, got) -> Answer:
    """Every item must be answered (a missing item: nothing is read, the message names it).  A value that
    names no category, or two, costs that item only: the other items are read and scored."""
    items, cats = question["items"], question["categories"]
    labels = _category_labels(question)
    names = ", ".join(repr(c["id"]) for c in cats)
    want = pick(f"1–{len(items)} 번 항목마다 {names} 중 하나를 적은 딕셔너리로 답하세요 "
                f"(예: {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).",
                f"Answer with a dict giving each item 1–{len(items)} one of {names} "
                f"(e.g. {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).")
    pairs = _matching_pairs(raw, len(items))
    if pairs is None:
        return Answer(None, want + got)
    out, unread = {}, {}
    for key, value in pairs:
        number = _item_number(key)
        if number is None or not 1 <= number <= len(items):
            return Answer(None, want + f" ({pick('알 수 없는 항목 번호', 'unknown item number')}: {brief(key, 10)})")
        if number in out or number in unread:
            return Answer(None, pick(f"{number} 번 항목을 두 번 적었습니다.", f"Item {number} is answered twice.") + " " + want)
        cat = _category(labels, value)
        if cat is None:
            unread[number] = value
        else:
            out[number] = cat
    missing = [i for i in range(1, len(items) + 1) if i not in out and i not in unread]
    if missing:
        return Answer(None, pick(f"{missing} 번 항목의 답이 없습니다.", f"Items {missing} have no answer.") + " " + want)
    if not out:
        return Answer(None, want + got)
    value = {str(k): out[k] for k in sorted(out)}
    if unread:
        shown = ", ".join(f"{k}: {brief(v, 16)}" for k, v in sorted(unread.items())[:4])
        return Answer(value, None, pick(
            f"{sorted(unread)} 번 항목은 읽지 못해 0점입니다 ({shown}); 나머지 항목은 채점합니다. "
            f"분류는 {names} 중 하나만 적으세요.",
            f"Items {sorted(unread)} could not be read and score 0 ({shown}); the other items are graded. "
            f"Give each item one of {names}."))
    return Answer(value)


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
    for split in (r"\s*[,;\n、·]\s*", r"[\s,;、·]+"):
        names = [p.strip(_QUOTES + " ") for p in re.split(split, text) if p.strip(_QUOTES + " ")]
        if len(names) == n:
            return list(enumerate(names, 1))
    return None


# ── short answers ───────────────────────────────────────────────────────────
def _parse_short(raw, got) -> Answer:
    """A word or a short phrase, reduced to its term(s) by morphology.  What is left must be a term:
    'GPU를 씁니다' (a sentence) or '은닉층이 아니다' (a negation) is not read.  Several terms ('GPU/CPU',
    '은닉층과 출력층') or a gloss in the same script ('Meta (옛 Facebook)') are read with a warning: the
    grader takes them only when every term names the answer."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return Answer(None, pick("단어나 짧은 구를 따옴표 안에 적으세요.", "Type a word or a short phrase in quotes.") + got)
    text = _clean(str(raw))
    if len(text) > MAX_SHORT:
        return Answer(None, pick(f"답이 너무 깁니다. 단어나 짧은 구({MAX_SHORT}자 이내)로 적으세요.",
                                 f"Too long: answer with a word or a short phrase ({MAX_SHORT} characters at most)."))
    if not any(ch.isalnum() for ch in text):
        return Answer(None, pick("글자가 없습니다. 단어나 짧은 구로 적으세요.", "No letters: type a word or a short phrase.") + got)
    main, gloss = short_parts(text)
    if not main:
        return Answer(None, pick("글자가 없습니다. 단어나 짧은 구로 적으세요.", "No letters: type a word or a short phrase.") + got)
    terms = [korean.reduce_term(p) for p in main]
    if len(main) == 1 and terms[0].clause and korean.sentence_term(text):
        # a short sentence around one term ("GPU를 씁니다", "메타에서 만들었어요"): the term is scored, and the
        # student is told at once what was taken and how to write it
        term = korean.sentence_term(text)
        return Answer(term, None, pick(
            f"문장에서 용어 {_prefix(term)}만 읽어 채점합니다. 다른 뜻이었다면 용어만 적으세요 (예: {_prefix(term)!r}).",
            f"Only the term {_prefix(term)} is read from the sentence and graded; if you meant something else, "
            f"type only the term."))
    if any(t.clause for t in terms):
        kept = [korean.noun_part(p) for p in main]
        example = " / ".join(k for k in kept if k) or "…"
        return Answer(None, pick(f"단답형은 용어(명사)만 적으세요. 문장이나 부정문은 채점할 수 없습니다"
                                 f" (읽은 용어: {_prefix(example, SHOW)}).",
                                 f"Type only the term (a noun): a sentence or a negation cannot be graded"
                                 f" (term read: {_prefix(example, SHOW)}).") + got)
    if len(main) > 1:
        return Answer(text, None, pick(
            f"용어가 {len(main)}개입니다 ({_prefix(' / '.join(main))}). 모두 같은 답을 가리킬 때만 정답이므로, 답은 하나만 적으세요.",
            f"There are {len(main)} terms ({_prefix(' / '.join(main))}); it is right only if all name the same "
            f"answer: give one answer."))
    doubtful = [g for g in gloss if korean.gloss_doubtful(main[0], g)]
    if doubtful:
        return Answer(text, None, pick(
            f"괄호 안의 말({_prefix(doubtful[0])})이 같은 답의 다른 표기(한국어↔영어)가 아니면 0점입니다. "
            f"확실하지 않으면 괄호를 지우세요.",
            f"The bracketed {_prefix(doubtful[0])} scores 0 unless it is another spelling of the same answer: "
            f"if unsure, drop the brackets."))
    return Answer(text)


# ── numbers ─────────────────────────────────────────────────────────────────
def number_form(question: dict) -> str:
    """How a numeric answer is written: 'number' (default), 'fraction' (0.1 = 10%) or 'percent' (10 = 10%)."""
    return question.get("form", "number")


def _number_problem(r: korean.Reading) -> str:
    if r.why == "two_numbers":
        return pick(" 숫자를 하나만 적으세요.", " Type one number only.")
    if r.why == "spell_digits":
        return pick(f" {r.seen:,}(으)로 읽을 수 있지만, 한글로 쓴 이 수는 숫자로 적으세요 (예: {r.seen}).",
                    f" This reads as {r.seen:,}: type it in digits (e.g. {r.seen}).")
    if r.why == "negation":
        return pick(f" 부정하는 말({_seen(r.seen)})이 있습니다.", f" There is a negation ({_seen(r.seen)}).")
    if r.why == "bound":
        return pick(f" {_seen(r.seen)}처럼 범위를 말하지 말고 수 하나를 적으세요.",
                    f" Give one number, not a bound ({_seen(r.seen)}).")
    if r.why == "comma":
        return pick(" 쉼표는 천 단위 구분에만 씁니다 (예: 100,480). 소수점은 '.'으로 적으세요.",
                    " Commas only group thousands (e.g. 100,480); use '.' for decimals.")
    if r.why == "unread" and r.seen:
        return pick(f" 읽지 못한 부분: {_seen(r.seen)}.", f" Could not read: {_seen(r.seen)}.")
    return ""


def _parse_number(question, raw, got) -> Answer:
    kind = question["type"]
    if kind == "code":
        n_lines = len(question["code"].splitlines())
        want = pick(f"1–{n_lines} 사이의 줄 번호(숫자)를 적으세요.", f"Type a line number between 1 and {n_lines}.")
    else:
        want = pick("숫자로 적으세요 (예: 784 또는 0.5).", "Type a number (e.g. 784 or 0.5).")
    form = number_form(question)
    percent = False
    if isinstance(raw, bool):
        return Answer(None, want + got)
    if isinstance(raw, numbers.Real):
        try:
            value = float(raw)
        except (OverflowError, ValueError, TypeError):
            return Answer(None, pick("수가 너무 큽니다.", "The number is too large.") + " " + want)
    elif isinstance(raw, str):
        text = _clean(raw).casefold().strip(_QUOTES + " ")
        if _HANGUL.search(text):
            r = korean.read_number(text, line=kind == "code")
            if r.value is None:
                return Answer(None, want + _number_problem(r) + got)
            value, percent = float(r.value), r.extra.get("percent", False)
        else:
            if re.search(r"\d[\s]+[-+]?[\d.,]", text):
                return Answer(None, want + pick(" 숫자를 하나만 적으세요.", " Type one number only.") + got)
            match = _NUMBER.fullmatch(re.sub(r"\s+", "", text))
            if not match:
                extra = ""
                if re.search(r"\d\s*\(", text):
                    r = korean.read_number(text, line=kind == "code")        # "784 (28x28)": the working
                    if r.value is not None:
                        value, percent = float(r.value), r.extra.get("percent", False)
                        extra = None
                    else:
                        extra = _number_problem(r)
                elif "=" in text and re.fullmatch(r"[\d\s.,*/+\-×x÷·=]+", text) and \
                        _NUMBER.fullmatch(text.rsplit("=", 1)[1].strip()):
                    worked = korean._arithmetic(text)                       # "28x28=784": working, then the number
                    if worked is not None:
                        value, extra = worked, None
                    else:
                        extra = pick(" 숫자를 하나만 적으세요.", " Type one number only.")
                elif re.search(r"\d,\d", text):
                    extra = pick(" 쉼표는 천 단위 구분에만 씁니다 (예: 100,480). 소수점은 '.'으로 적으세요.",
                                 " Commas only group thousands (e.g. 100,480); use '.' for decimals.")
                if extra is not None:
                    return Answer(None, want + extra + got)
            if match:
                value = float(match.group("num").replace(",", ""))
                percent = bool(match.group("pct"))
    else:
        return Answer(None, want + got)
    if math.isnan(value):
        return Answer(None, want + got)
    if not math.isfinite(value):
        return Answer(None, pick("수가 너무 큽니다.", "The number is too large.") + " " + want)
    if kind == "code":
        n_lines = len(question["code"].splitlines())
        if percent or value != int(value) or not 1 <= value <= n_lines:
            return Answer(None, pick(f"1–{n_lines} 사이의 줄 번호를 적으세요.", f"Type a line number 1–{n_lines}.") + got)
        return Answer(int(value))
    if percent and form != "percent":
        value = value / 100
    if form == "fraction" and not percent and not 0 <= value <= 1:
        return Answer(None, pick(f"이 문항은 0과 1 사이의 비율로 답합니다 (예: 0.1 또는 10%). {value:g}%를 뜻했다면 "
                                 f"'{value:g}%'로 적으세요.",
                                 f"This question asks for a fraction between 0 and 1 (e.g. 0.1 or 10%). If you mean "
                                 f"{value:g}%, type '{value:g}%'.") + got)
    return Answer(value)


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
    "pipeline()" → (["pipeline"], []); "정답: GPU입니다" → (["GPU"], []); "은닉층과 출력층" → (["은닉층", "출력층"], []).
    Each term has its frame dropped by morphology (particles, endings, the copula, plural 들, hedges).
    """
    t = _clean(text).strip(_QUOTES + " ")
    t = re.sub(r"^(?:정답|답|answer)\s*(?:은|는|:|\s)\s*:?\s*", "", t, flags=re.I) or t
    t = re.sub(r"\(\s*\)", "", t).strip(_QUOTES + " ")
    bracket = r"[(\[]([^()\[\]]*)[)\]]"
    gloss = re.findall(bracket, t)
    main = re.sub(bracket, " ", t).strip()
    split = r"\s*(?:/|,|;|、|\bor\b|또는|혹은|아니면)\s*"

    def terms(piece: str) -> list[str]:
        out = []
        for p in re.split(split, piece):
            p = p.strip(_QUOTES + " .")
            for q in (korean.split_terms(p) if p else []):
                kept = korean.reduce_term(q).text.strip(_QUOTES + " .") if _HANGUL.search(q) else q
                if kept:
                    out.append(kept)
        return out

    main_parts = terms(main)
    gloss_parts = [p for g in gloss for p in terms(g)]
    if not main_parts:
        return gloss_parts, []
    return main_parts, gloss_parts


def short_forms(part: str) -> set[str]:
    """The spellings of one term that are compared with the accepted answers: as typed, and with its
    particles, endings and copula dropped by morphology ("은닉층이요", "transformers의 pipeline")."""
    return korean.reduce_term(_clean(part)).forms | ({_label(part)} - {""})


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
        got = read(q, raw, self._order(q, "options") if q.get("options") else None)
        value, problem = got.value, got.problem
        self.answers[qid] = _storable(raw)
        if value is None:
            print(f"⚠️ {qid}: {problem}")
            self._offer_widget(qid)
            return
        shown = describe(q, value)
        if got.warning:         # read, but not all of it or not surely as meant: said at once, and how to fix it
            print(pick(f"⚠️ {qid}: 답을 {shown!r}(으)로 읽어 저장했습니다 (입력: {brief(raw)}). {got.warning}",
                       f"⚠️ {qid}: read as {shown!r} and saved (typed: {brief(raw)}). {got.warning}"))
            self._offer_widget(qid)
            return
        typed = raw.strip() if isinstance(raw, str) else raw
        if str(typed) == shown:
            print(pick(f"✅ {qid}: 답 {shown!r} 을(를) 저장했습니다 (형식 확인만 했고, 채점은 제출 후에 합니다).",
                       f"✅ {qid}: saved {shown!r} (format checked only; grading happens after you submit)."))
        else:
            print(pick(f"✅ {qid}: 답을 {shown!r}(으)로 읽어 저장했습니다 (입력: {brief(raw)}). "
                       f"형식 확인만 했고, 채점은 제출 후에 합니다.",
                       f"✅ {qid}: read as {shown!r} and saved (typed: {brief(raw)}). "
                       f"Format checked only; grading happens after you submit."))
        self._offer_widget(qid)

    def _offer_widget(self, qid: str) -> None:
        """In JupyterLab: buttons under the answer cell; a click records the answer and writes it into
        the cell (dlcourse.quiz_widgets).  Typing works the same with or without them."""
        try:
            from .quiz_widgets import offer
        except Exception:  # noqa: BLE001 — no ipywidgets/anywidget: typing only
            return
        offer(self, qid)

    def progress(self) -> None:
        done = [qid for qid, q in self.questions.items()
                if parse(q, self.answers.get(qid), self._order(q, "options") if q.get("options") else None)[1] is None]
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
