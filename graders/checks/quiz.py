"""Quiz scoring: map an answer typed in the student's variant back to the bank, score it.

Answer keys never leave the grader zone.  The notebook only exports what the
student typed (letters as they saw them); here the letters are mapped back with
the same per-student order the notebook used (`dlcourse.quiz.option_order`, for the
student id nbgrader gives, not one the kernel reports), then scored with the
question's partial-credit rule.

Partial-credit rules (fraction of the question's points):
  multiple  net_correct    max(0, right chosen / right options - wrong chosen / wrong options)
            per_option     share of options decided correctly (chosen or left out), but 0 when more
                           than half of the wrong options are chosen
            all_or_nothing the exact set
  matching  per_item       share of items put in the right category
            all_or_nothing every item right
Ticking every option is worth 0 under every rule: it says nothing about which options are right
(the old net_correct, over right options only, paid 1/3 to 1/2 of a question for it).

A short answer is right when every term in it names the answer: "GPU(TPU)" or "TPU(GPU)" hedges
between two answers and scores 0 like "GPU/TPU" always did.  A bracketed gloss must be an accepted
spelling, or an accepted spelling with a short Korean qualifier ("Meta (옛 Facebook)").

Answers are read the way students type them (`dlcourse.quiz.read`, Korean by morphology in
`dlcourse.korean`: "정답은 b입니다", "A랑 D", "A~C", "784개", "여덟 번째 줄", "아님", the option's own text,
"역전파(backpropagation)"), on the student's own paper; short answers also accept the bank's synonyms and
refuse its `reject` list.  A matching answer with an unreadable item is scored on the items that were
read (the unreadable one scores 0 and the feedback names it, as the notebook did at once).  One question's artifact, however malformed (a huge string, a deep structure, a
number with hundreds of digits), costs that question only: the check returns 0 with a message and
the other questions are scored as usual.
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

from dlcourse import korean
from dlcourse._lang import forced
from dlcourse.quiz import LETTERS, brief, describe, format_hint, option_order, read, short_forms, short_parts

from .base import ArtifactProblem, Check, CheckResult, Context, problem_result

log = logging.getLogger("graders.quiz")

CANNOT_JUDGE = {
    "ko": "채점기가 이 문항의 답을 판단하지 못해 0점으로 처리했습니다 ({why}). 다른 문항은 그대로 채점했고, "
          "이 문제는 채점 기록에 남겨 조교가 볼 수 있습니다.",
    "en": "the grader could not judge this answer and gave it 0 ({why}); the other questions were graded as usual, "
          "and this one is in the grading log for the TAs.",
}

# a short answer with several terms that is not right: says so without saying which term is right
HEDGED = {
    "ko": "답에 낱말이 여러 개 있어 정답으로 보지 않았습니다. 답은 하나만 적으세요. 괄호 안에는 같은 답의 "
          "다른 표기(한국어 또는 영어)만 적을 수 있습니다 (예: \"역전파(backpropagation)\").",
    "en": "The answer holds several terms, so it is not taken as the right one. Give one answer; brackets may "
          "only hold another spelling of the same answer (e.g. \"backpropagation (역전파)\").",
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
    wrong = set(all_ids) - key
    wrong_share = len(chosen & wrong) / len(wrong) if wrong else 0.0
    if rule == "net_correct":
        # right share minus wrong share: any choice made without knowing the key (all, none, at random)
        # is worth 0 on average before the floor at 0
        return max(0.0, len(chosen & key) / len(key) - wrong_share)
    if rule == "per_option":
        if wrong_share > 0.5:
            return 0.0
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

    Every main term must be accepted ("Meta/Facebook"); so must every bracketed gloss, which may also
    be an accepted spelling with a short Korean qualifier ("Meta (옛 Facebook)").  A term that is not
    an accepted spelling may be a second candidate answer ("GPU(TPU)", "TPU(GPU)"): the grader cannot
    tell a hedge from an unlisted synonym, so the answer is not right (the bank lists synonyms).
    A listed wrong answer anywhere scores 0 ("출력층(은닉층)").  Copulas and particles are dropped.
    """
    ok = {normalize_text(a) for a in accepted} - {""}
    bad = {normalize_text(r) for r in reject} - {""}
    main, gloss = short_parts(str(text))
    if not main:
        return 0.0
    if any(short_forms(part) & bad for part in main + gloss):
        return 0.0
    if not all(short_forms(part) & ok for part in main):
        return 0.0
    return float(all(_gloss_names(part, ok, bad) for part in gloss))


QUALIFIER = 2           # Hangul syllables a gloss may add to an accepted spelling ("옛", "예전", "현재")


def _gloss_names(part: str, ok: set, bad: set) -> bool:
    """Whether a bracketed gloss names the same answer: an accepted spelling, or one with a short
    Korean qualifier around it and nothing else (no other term, no listed wrong answer)."""
    forms = short_forms(part)
    if forms & ok:
        return True
    for form in forms:
        if any(b in form for b in bad):
            return False
        for spelling in ok:
            if len(spelling) >= 2 and spelling in form:
                rest = form.replace(spelling, "", 1)
                if len(rest) <= QUALIFIER and all("\uac00" <= ch <= "\ud7a3" for ch in rest):
                    return True
    return False


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


def _load_reader() -> None:
    """Load the Korean analyser now, outside any check's CPU budget (a few seconds, once per process)."""
    try:
        korean.kiwi()
    except Exception:                # noqa: BLE001 — without it a Hangul answer costs its question only
        log.exception("quiz: the Korean analyser (kiwipiepy) could not be loaded")


def quiz_question(quiz: str, q: dict, shuffle: bool = True) -> Check:
    """The check of one question; its name is the question id."""
    qid = q["id"]
    _load_reader()

    def judge(ctx: Context, points: float, note: str) -> CheckResult:
        lang = ctx.lang
        try:
            data = ctx.json(f"quiz_{qid}")
        except RecursionError:
            raise ArtifactProblem("bad", f"quiz_{qid}.json: nested too deeply") from None
        raw = data.get("raw")
        v = _Variant(quiz, shuffle, ctx.student, q)
        with forced(lang):
            # the same reading as the notebook's, on this student's paper (`order`: which option is A, B, ...)
            answer = read(public_question(q), raw, order=v.opt_order)
            value = answer.value
            expected = _expected(q, v, lang)
            if value is None:
                return CheckResult(qid, 0.0, points, expected=expected, found=_cut(answer.problem), note=note,
                                   hint=format_hint(public_question(q)))
            found = _show(q, value)             # what was understood: the student's text only as a short prefix
            typed = raw.strip() if isinstance(raw, str) else raw
            if str(typed) != found and q["type"] != "short":
                found += f" ({'입력' if lang == 'ko' else 'typed'}: {brief(raw)})"
        score = points * min(1.0, max(0.0, float(_fraction(q, v, value))))
        hints = []
        if q["type"] == "short" and score == 0 and sum(map(len, short_parts(value))) > 1:
            hints.append(HEDGED["en" if lang == "en" else "ko"])
        elif answer.warning and score < points:
            # what the notebook said at once (⚠️): a matching item not read, a short answer in doubt
            hints.append("⚠️ " + answer.warning)
        return CheckResult(qid, score, points, expected=expected, found=_cut(found), note=note,
                           hint=" ".join(hints) or None)

    def run(ctx: Context, points: float) -> CheckResult:
        lang = ctx.lang
        note = ("해설: " if lang == "ko" else "Explanation: ") + _text(q["explanation"], lang)
        try:
            return judge(ctx, points, note)
        except ArtifactProblem as problem:          # missing / student error / bad file: the usual messages
            problem = ArtifactProblem(problem.kind, brief(problem.detail))     # a short prefix, never a channel
            result = problem_result(qid, points, problem, lang, "quiz")
            result.found = _cut(result.found)
            return result
        except Exception as exc:                    # a grader error costs this question only, never more
            log.exception("quiz %s: could not judge question %s of %s", quiz, qid, ctx.student)
            why = _cut(f"{type(exc).__name__}", 80)
            return CheckResult(qid, 0.0, points, found=CANNOT_JUDGE["en" if lang == "en" else "ko"].format(why=why),
                               note=note)

    # the expected answer and the explanation would let a blank submission be resubmitted right:
    # shown after the due date unless the config says otherwise
    return Check(qid, run, var="quiz", visibility="answer_after_due")


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
