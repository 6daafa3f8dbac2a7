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
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from dlcourse._lang import forced
from dlcourse.quiz import LETTERS, format_hint, option_order, parse

from .base import Check, CheckResult, Context


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


def score_short(text: str, accepted: list[str]) -> float:
    return float(normalize_text(text) in {normalize_text(a) for a in accepted})


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
        return f"{key:g}" + (f" (±{q['tolerance']:g})" if q["tolerance"] else "")
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
        return score_short(value, key)
    if kind == "numeric":
        return score_numeric(value, key, q["tolerance"])
    return float(value in (key if isinstance(key, list) else [key]))


def quiz_question(quiz: str, q: dict, shuffle: bool = True) -> Check:
    """The check of one question; its name is the question id."""
    qid = q["id"]

    def run(ctx: Context, points: float) -> CheckResult:
        lang = ctx.lang
        note = ("해설: " if lang == "ko" else "Explanation: ") + _text(q["explanation"], lang)
        data = ctx.json(f"quiz_{qid}")
        raw = data.get("raw")
        v = _Variant(quiz, shuffle, ctx.student, q)
        with forced(lang):
            value, problem = parse(public_question(q), raw)
        expected = _expected(q, v, lang)
        if problem:
            return CheckResult(qid, 0.0, points, expected=expected, found=problem, note=note,
                               hint=format_hint_in(q, lang))
        return CheckResult(qid, points * _fraction(q, v, value), points, expected=expected, found=_show(value),
                           note=note)

    return Check(qid, run, var="quiz")


def format_hint_in(q: dict, lang: str) -> str:
    with forced(lang):
        return format_hint(public_question(q))


def _show(value) -> str:
    if isinstance(value, bool):
        return "O" if value else "X"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}→{c}" for k, c in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
