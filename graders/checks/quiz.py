"""Quiz scoring: map an answer typed in the student's variant back to the bank, score it.

Answer keys never leave the grader zone.  The notebook only exports what the
student typed (letters as they saw them); here the letters are mapped back with
the same per-student order the notebook used (`dlcourse.quiz.option_order`, for the
student id nbgrader gives, not one the kernel reports), then scored with the
question's partial-credit rule.

Partial-credit rules (fraction of the question's points):
  multiple  net_correct    max(0, (right chosen - wrong chosen) / number of right options)
            per_option     share of options decided correctly (chosen or left out)
            all_or_nothing the exact set
  matching  per_item       share of items put in the right category
            all_or_nothing every item right

Answers are read the way students type them (`dlcourse.quiz.parse`: "정답은 b입니다", "A와 C", "784개",
"아니요", "역전파(backpropagation)"); short answers also accept the bank's synonyms and refuse its
`reject` list.  One question's artifact, however malformed (a huge string, a deep structure, a
number with hundreds of digits), costs that question only: the check returns 0 with a message and
the other questions are scored as usual.
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

from dlcourse._lang import forced
from dlcourse.quiz import LETTERS, brief, describe, format_hint, option_order, parse, short_forms, short_parts

from .base import ArtifactProblem, Check, CheckResult, Context, problem_result

log = logging.getLogger("graders.quiz")

CANNOT_JUDGE = {
    "ko": "채점기가 이 문항의 답을 판단하지 못해 0점으로 처리했습니다 ({why}). 다른 문항은 그대로 채점했고, "
          "이 문제는 채점 기록에 남겨 조교가 볼 수 있습니다.",
    "en": "the grader could not judge this answer and gave it 0 ({why}); the other questions were graded as usual, "
          "and this one is in the grading log for the TAs.",
}


# ── the public (key-free) view of a question ────────────────────────────────
def neutral_order(qid: str, entries: list[dict]) -> list[dict]:
    """Entries in an order that does not depend on which one is right (stable per question)."""
    return sorted(entries, key=lambda e: hashlib.sha256(f"{qid}\x1f{e['id']}".encode()).hexdigest())


def public_question(q: dict) -> dict:
    """What the notebook may know: no key, no rule, no explanation, no concept."""
    out = {"id": q["id"], "type": q["type"], "points": float(q["points"]), "text": q["text"]}
    for listing in ("options", "items"):
        if q.get(listing):
            out[listing] = neutral_order(q["id"], q[listing])
    if q.get("categories"):
        out["categories"] = q["categories"]          # categories keep the bank's order (e.g. ML, DL)
    if q.get("code"):
        out["code"] = q["code"]
    if q.get("form"):
        out["form"] = q["form"]                      # how a number is written (0.1 or 10%): not a key
    return out


# ── scoring rules (pure functions, fractions in [0, 1]) ─────────────────────
def score_multiple(chosen: set, key: set, all_ids: list, rule: str) -> float:
    if rule == "all_or_nothing":
        return float(chosen == key)
    if rule == "net_correct":
        return max(0.0, (len(chosen & key) - len(chosen - key)) / len(key))
    if rule == "per_option":
        return sum((o in chosen) == (o in key) for o in all_ids) / len(all_ids)
    raise ValueError(f"unknown rule {rule!r}")


def score_matching(chosen: dict, key: dict, rule: str) -> float:
    right = sum(chosen.get(item) == cat for item, cat in key.items())
    if rule == "all_or_nothing":
        return float(right == len(key))
    if rule == "per_item":
        return right / len(key)
    raise ValueError(f"unknown rule {rule!r}")


def normalize_text(text: str) -> str:
    """Case, width, spaces and punctuation do not matter: 'Back-Propagation ' == 'backpropagation'."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\W_]+", "", text)


def score_short(text: str, accepted: list[str], reject: list[str] = ()) -> float:
    """A short answer against the bank's accepted spellings (and synonyms) and its known wrong answers.

    The main term(s) must all be accepted ("Meta/Facebook"); a bracketed gloss may stand in for a main
    term spelled another way ("백프롭(backpropagation)"), unless some term is a listed wrong answer
    ("출력층(은닉층)" with 출력층 in `reject`).  Copulas and particles are dropped ("GPU입니다").
    """
    ok = {normalize_text(a) for a in accepted} - {""}
    bad = {normalize_text(r) for r in reject} - {""}
    main, gloss = short_parts(str(text))
    if not main:
        return 0.0
    if any(short_forms(part) & bad for part in main + gloss):
        return 0.0
    if all(short_forms(part) & ok for part in main):
        return 1.0
    if len(main) == 1 and any(short_forms(part) & ok for part in gloss):
        return 1.0
    return 0.0


def score_numeric(value: float, answer: float, tolerance: float) -> float:
    return float(abs(value - answer) <= tolerance + 1e-9 * max(1.0, abs(answer)))


# ── one check per question ──────────────────────────────────────────────────
class _Variant:
    """The student's view of one question: letters ↔ option ids, numbers ↔ item ids."""

    def __init__(self, quiz: str, shuffle: bool, student: str, q: dict):
        self.q = q
        self.options = neutral_order(q["id"], q.get("options", []))
        self.items = neutral_order(q["id"], q.get("items", []))
        n_opt, n_item = len(self.options), len(self.items)
        self.opt_order = option_order(quiz, student, q["id"], n_opt, "options") if shuffle else list(range(n_opt))
        self.item_order = option_order(quiz, student, q["id"], n_item, "items") if shuffle else list(range(n_item))

    def option_id(self, letter: str) -> str:
        return self.options[self.opt_order[LETTERS.index(letter)]]["id"]

    def letter(self, option_id: str) -> str:
        public_index = next(i for i, o in enumerate(self.options) if o["id"] == option_id)
        return LETTERS[self.opt_order.index(public_index)]

    def item_id(self, number: int) -> str:
        return self.items[self.item_order[number - 1]]["id"]

    def number(self, item_id: str) -> int:
        public_index = next(i for i, o in enumerate(self.items) if o["id"] == item_id)
        return self.item_order.index(public_index) + 1

    def option_text(self, option_id: str, lang: str) -> str:
        entry = next(o for o in self.options if o["id"] == option_id)
        return entry.get(lang) or entry["ko"]


def _text(entry: dict, lang: str) -> str:
    return entry.get(lang) or entry["ko"]


def _expected(q: dict, v: _Variant, lang: str) -> str:
    """The right answer as this student would type it on their own paper."""
    kind, key = q["type"], q["answer"]
    if kind == "single" or (kind == "code" and q.get("options")):
        return f"{v.letter(key)}. {v.option_text(key, lang)}"
    if kind == "multiple":
        return ", ".join(sorted(v.letter(k) for k in key))
    if kind == "truefalse":
        return "O" if key else "X"
    if kind == "matching":
        return ", ".join(f"{v.number(item)}→{cat}" for item, cat in sorted(key.items(), key=lambda kv: v.number(kv[0])))
    if kind == "short":
        return " / ".join(key[:3])
    if kind == "numeric":
        return describe(q, float(key)) + (f" (±{q['tolerance']:g})" if q["tolerance"] else "")
    lines = key if isinstance(key, list) else [key]
    return " / ".join(f"line {n}" if lang == "en" else f"{n}번 줄" for n in lines)


def _fraction(q: dict, v: _Variant, value) -> float:
    """Share of the points a parsed answer earns under the question's rule."""
    kind, key = q["type"], q["answer"]
    if kind == "single" or (kind == "code" and q.get("options")):
        return float(v.option_id(value) == key)
    if kind == "multiple":
        return score_multiple({v.option_id(letter) for letter in value}, set(key), [o["id"] for o in v.options],
                              q["rule"])
    if kind == "truefalse":
        return float(value is key)
    if kind == "matching":
        return score_matching({v.item_id(int(n)): cat for n, cat in value.items()}, key, q["rule"])
    if kind == "short":
        return score_short(value, key, q.get("reject", []))
    if kind == "numeric":
        return score_numeric(value, key, q["tolerance"])
    return float(value in (key if isinstance(key, list) else [key]))


def quiz_question(quiz: str, q: dict, shuffle: bool = True) -> Check:
    """The check of one question; its name is the question id."""
    qid = q["id"]

    def judge(ctx: Context, points: float, note: str) -> CheckResult:
        lang = ctx.lang
        try:
            data = ctx.json(f"quiz_{qid}")
        except RecursionError:
            raise ArtifactProblem("bad", f"quiz_{qid}.json: nested too deeply") from None
        raw = data.get("raw")
        v = _Variant(quiz, shuffle, ctx.student, q)
        with forced(lang):
            value, problem = parse(public_question(q), raw)
            expected = _expected(q, v, lang)
            if problem:
                return CheckResult(qid, 0.0, points, expected=expected, found=_cut(problem), note=note,
                                   hint=format_hint(public_question(q)))
            found = _show(q, value)
            typed = raw.strip() if isinstance(raw, str) else raw
            if str(typed) != found:
                found += f" ({'입력' if lang == 'ko' else 'typed'}: {brief(raw)})"
        score = points * min(1.0, max(0.0, float(_fraction(q, v, value))))
        return CheckResult(qid, score, points, expected=expected, found=_cut(found), note=note)

    def run(ctx: Context, points: float) -> CheckResult:
        lang = ctx.lang
        note = ("해설: " if lang == "ko" else "Explanation: ") + _text(q["explanation"], lang)
        try:
            return judge(ctx, points, note)
        except ArtifactProblem as problem:          # missing / student error / bad file: the usual messages
            result = problem_result(qid, points, problem, lang, "quiz")
            result.found = _cut(result.found)
            return result
        except Exception as exc:                    # a grader error costs this question only, never more
            log.exception("quiz %s: could not judge question %s of %s", quiz, qid, ctx.student)
            why = _cut(f"{type(exc).__name__}", 80)
            return CheckResult(qid, 0.0, points, found=CANNOT_JUDGE["en" if lang == "en" else "ko"].format(why=why),
                               note=note)

    return Check(qid, run, var="quiz")


def format_hint_in(q: dict, lang: str) -> str:
    with forced(lang):
        return format_hint(public_question(q))


def _show(q: dict, value) -> str:
    """The parsed answer as the student reads it back ("B", "A, C", "O (맞다)", "1→ML, 2→DL", "784")."""
    return describe(q, value)


def _cut(text: str, limit: int = 300) -> str:
    """Student bytes in a message: a few hundred characters at most."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"
