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
def parse(question: dict, raw) -> tuple[object | None, str | None]:
    """Turn a typed answer into its plain form; (value, None) or (None, why it is not valid).

    Choice answers come back as letters (as the student saw them); the grader maps
    letters to options.  The message says in the student's language what to type.
    """
    kind = question["type"]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, pick("아직 답이 없습니다.", "No answer yet.") + " " + format_hint(question)
    if kind == "single" or (kind == "code" and question.get("options")):
        n = len(question["options"])
        letter = _letter(raw)
        if letter is None or LETTERS.index(letter) >= n:
            return None, pick(f"선택지는 A–{LETTERS[n - 1]} 중 하나입니다.", f"Choose one of A–{LETTERS[n - 1]}.") \
                + f" ({pick('입력', 'got')}: {raw!r})"
        return letter, None
    if kind == "multiple":
        n = len(question["options"])
        parts = raw if isinstance(raw, (list, tuple, set)) else re.split(r"[\s,;/]+", str(raw).strip())
        letters = [_letter(p) for p in parts if str(p).strip()]
        if not letters or any(l is None or LETTERS.index(l) >= n for l in letters):
            return None, pick(f"A–{LETTERS[n - 1]} 중 맞는 것을 모두 쉼표로 구분해 적으세요 (예: 'A, C').",
                              f"List every right option among A–{LETTERS[n - 1]}, separated by commas (e.g. 'A, C').") \
                + f" ({pick('입력', 'got')}: {raw!r})"
        if len(set(letters)) != len(letters):
            return None, pick("같은 선택지를 두 번 적었습니다.", "The same option is listed twice.")
        return sorted(letters), None
    if kind == "truefalse":
        if isinstance(raw, bool):
            return raw, None
        word = _norm_word(str(raw))
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
        return None, pick("O(맞다) 또는 X(틀리다)로 답하세요.", "Answer O (true) or X (false).") \
            + f" ({pick('입력', 'got')}: {raw!r})"
    if kind == "matching":
        items, cats = question["items"], question["categories"]
        labels = {_norm_word(c["id"]): c["id"] for c in cats}
        labels.update({_norm_word(c[lang()] if c.get(lang()) else c["ko"]): c["id"] for c in cats})
        labels.update({_norm_word(c["ko"]): c["id"] for c in cats})
        names = ", ".join(repr(c["id"]) for c in cats)
        want = pick(f"1–{len(items)} 번 항목마다 {names} 중 하나를 적은 딕셔너리로 답하세요 "
                    f"(예: {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).",
                    f"Answer with a dict giving each item 1–{len(items)} one of {names} "
                    f"(e.g. {{1: {cats[0]['id']!r}, 2: {cats[-1]['id']!r}, ...}}).")
        if not isinstance(raw, dict):
            return None, want
        out = {}
        for key, value in raw.items():
            try:
                number = int(str(key).strip())
            except ValueError:
                return None, want + f" ({pick('알 수 없는 항목 번호', 'unknown item number')}: {key!r})"
            cat = labels.get(_norm_word(str(value)))
            if not 1 <= number <= len(items) or cat is None:
                return None, want + f" ({key!r}: {value!r})"
            out[number] = cat
        missing = [i for i in range(1, len(items) + 1) if i not in out]
        if missing:
            return None, pick(f"{missing} 번 항목의 답이 없습니다.", f"Items {missing} have no answer.") + " " + want
        return {str(k): out[k] for k in sorted(out)}, None
    if kind == "short":
        text = str(raw).strip()
        if len(text) > 80:
            return None, pick("답이 너무 깁니다. 단어나 짧은 구(80자 이내)로 적으세요.",
                              "Too long: answer with a word or a short phrase (80 characters at most).")
        return text, None
    if kind == "numeric" or kind == "code":
        number = _number(raw)
        if number is None:
            if kind == "code":
                n_lines = len(question["code"].splitlines())
                return None, pick(f"1–{n_lines} 사이의 줄 번호(숫자)를 적으세요.",
                                  f"Type a line number between 1 and {n_lines}.") + f" ({pick('입력', 'got')}: {raw!r})"
            return None, pick("숫자로 적으세요 (예: 784 또는 0.5).", "Type a number (e.g. 784 or 0.5).") \
                + f" ({pick('입력', 'got')}: {raw!r})"
        if kind == "code":
            n_lines = len(question["code"].splitlines())
            if number != int(number) or not 1 <= number <= n_lines:
                return None, pick(f"1–{n_lines} 사이의 줄 번호를 적으세요.", f"Type a line number 1–{n_lines}.")
            return int(number), None
        return number, None
    return None, f"unknown question type {kind!r}"


def format_hint(question: dict) -> str:
    kind = question["type"]
    if kind == "single" or (kind == "code" and question.get("options")):
        return pick(f'선택지 글자 하나를 따옴표 안에 적으세요 (예: "B").', 'Type one option letter in quotes (e.g. "B").')
    if kind == "multiple":
        return pick('맞는 선택지를 모두 쉼표로 구분해 적으세요 (예: "A, C").', 'List every right option (e.g. "A, C").')
    if kind == "truefalse":
        return pick('"O" 또는 "X"를 적으세요.', 'Type "O" or "X".')
    if kind == "matching":
        return pick("항목 번호마다 분류를 적은 딕셔너리로 답하세요.", "Answer with a dict: item number -> category.")
    if kind == "short":
        return pick("단어나 짧은 구로 적으세요 (한국어 또는 영어).", "Type a word or a short phrase (Korean or English).")
    if kind == "numeric":
        return pick("숫자를 적으세요.", "Type a number.")
    return pick("줄 번호(숫자)를 적으세요.", "Type a line number.")


def _letter(raw) -> str | None:
    text = unicodedata.normalize("NFKC", str(raw)).strip().strip("()[].)'\"").upper()
    return text if len(text) == 1 and text in LETTERS else None


def _norm_word(text: str) -> str:
    return re.sub(r"[\s.'\"()]+", "", unicodedata.normalize("NFKC", text)).casefold()


def _number(raw) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        try:
            value = float(unicodedata.normalize("NFKC", str(raw)).strip().replace(",", ""))
        except ValueError:
            return None
    return value if math.isfinite(value) else None


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
        self.answers[qid] = raw
        if problem:
            print(f"⚠️ {qid}: {problem}")
        else:
            shown = ("O" if value else "X") if isinstance(value, bool) else (
                ", ".join(value) if isinstance(value, list) else value)
            print(pick(f"✅ {qid}: 답 {shown!r} 을(를) 저장했습니다 (형식 확인만 했고, 채점은 제출 후에 합니다).",
                       f"✅ {qid}: saved {value!r} (format checked only; grading happens after you submit)."))

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
