"""Simulated class for the concept quiz.

Answers are written in the bank's terms (option ids, item ids) and typed into the
notebook the way each student sees the paper: letters and item numbers come from
that student's own shuffle, as a real student would read them off the screen.
`Raw(...)` is typed exactly as given (format slips).

EXPECTED is worked out by hand from the partial-credit rules (see README, "Quizzes"),
not by the scorer, so the tests hold the scorer to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ...checks.quiz import _Variant
from ...config import COURSE_ROOT
from ...quiz import bank_path, load_bank

QUIZ = "concepts_quiz"


@dataclass(frozen=True)
class Raw:
    code: str           # typed as is


# everything right, with some of the spellings the normaliser accepts
REFERENCE = {
    "q01": "a", "q02": False, "q03": "a", "q04": " Hidden Layer", "q05": ["a", "b", "d"], "q06": True,
    "q07": ["a", "b", "c"], "q08": ["a", "b", "c", "d"],
    "q09": {"face_unlock": "IMG", "translator": "NLP", "dictation": "SPEECH", "self_driving": "DRIVE"},
    "q10": "a", "q11": False,
    "q12": {"small_data": "ML", "auto_features": "DL", "needs_gpu": "DL", "explainable": "ML", "tabular": "ML",
            "long_training": "DL"},
    "q13": "a", "q14": True, "q15": "a", "q16": "gpu", "q17": "a", "q18": True, "q19": "a", "q20": "a",
    "q21": {"by_google": "TF", "by_meta": "PT", "on_pytorch": "FA", "one_line_nlp": "HF", "mlops_edge": "TF",
            "research": "PT"},
    "q22": "a", "q23": ["a", "b"], "q24": "페이스북", "q25": "a", "q26": True, "q27": "a", "q28": ["a", "b", "c"],
    "q29": "a", "q30": True, "q31": "pipeline()", "q32": "a", "q33": 8, "q34": 100480, "q35": Raw('"784"'),
    "q36": 5, "q37": "a", "q38": "a", "q39": 4, "q40": "a", "q41": "a", "q42": 0.999,
}

MISTAKES = {
    # partly right multiple-choice and matching answers: both partial-credit rules at work
    "partial_credit": {
        "q05": ["a", "b", "c"],                  # net_correct, key a,b,d of 5: 2/3 right - 1/2 wrong = 1/6
        "q07": ["a", "b", "d"],                  # per_option, key a,b,c of 5: a,b,e decided right = 3/5
        "q08": ["a", "b", "c"],                  # net_correct, key a–d: 3/4
        "q23": ["a"],                            # per_option, key a,b of 4: a,c,d decided right = 3/4
        "q28": ["a", "b", "c", "d"],             # net_correct, key a,b,c of 5: 3/3 right - 1/2 wrong = 1/2
        "q09": {**REFERENCE["q09"], "translator": "SPEECH", "dictation": "NLP"},        # 2/4 items
        "q12": {**REFERENCE["q12"], "explainable": "DL", "tabular": "DL"},             # 4/6 items
        "q21": {**REFERENCE["q21"], "by_google": "PT", "by_meta": "TF"},               # 4/6 items
    },
    # mixes up who made which framework
    "frameworks_mixed": {
        "q22": "b", "q24": "Google", "q27": "b",
        "q21": {**REFERENCE["q21"], "by_google": "PT", "by_meta": "TF", "mlops_edge": "PT", "research": "TF"},
    },
    # answers that are not in the asked format get no points, with the format message
    "format_slips": {
        "q01": Raw('"가"'),                       # not a letter
        "q02": Raw('"아마도"'),                    # not O/X
        "q05": Raw('"A, Z"'),                     # Z is no option
        "q12": Raw('{1: "ML"}'),                  # items 2–6 missing
        "q33": Raw('"여덟"'),                      # not a line number
        "q34": Raw('"십만사백팔십"'),               # not a number
        "q10": "lowercase-in-parens",             # "(b)": accepted, and right
    },
    # nothing answered
    "unfinished": None,
}


def _full(bank) -> dict:
    return {q["id"]: float(q["points"]) for q in bank.questions}


@lru_cache(maxsize=None)
def _bank():
    return load_bank(bank_path(COURSE_ROOT, QUIZ))


def _expected() -> dict:
    bank = _bank()
    full = _full(bank)
    return {
        "ref": full,
        "partial_credit": {**full, "q05": 1 / 3, "q07": 1.2, "q08": 1.5, "q23": 1.5, "q28": 1.0,
                           "q09": 1.0, "q12": 2.0, "q21": 2.0},
        "frameworks_mixed": {**full, "q22": 0, "q24": 0, "q27": 0, "q21": 1.0},
        "format_slips": {**full, "q01": 0, "q02": 0, "q05": 0, "q12": 0, "q33": 0, "q34": 0},
        "unfinished": {qid: 0 for qid in full},
    }


EXPECTED = _expected()


def typed(bank, student: str, qid: str, answer) -> str:
    """The literal this student types for `answer` (bank terms) on their own paper."""
    if isinstance(answer, Raw):
        return answer.code
    q = bank.question(qid)
    v = _Variant(bank.quiz, bank.shuffle, student, q)
    kind = q["type"]
    if answer == "lowercase-in-parens":
        return repr(f"({v.letter(bank.question(qid)['answer']).lower()})")
    if kind == "single" or (kind == "code" and q.get("options")):
        return repr(v.letter(answer))
    if kind == "multiple":
        return repr(", ".join(sorted(v.letter(a) for a in answer)))
    if kind == "truefalse":
        return repr("O" if answer else "x")
    if kind == "matching":
        return "{" + ", ".join(f"{v.number(item)}: {cat!r}" for item, cat in
                               sorted(answer.items(), key=lambda kv: v.number(kv[0]))) + "}"
    return repr(answer)


def answers_for(student: str, answers: dict | None) -> dict | None:
    """Cell key (`answer_<qid>`) -> the answer cell's code, for `student`'s paper."""
    if answers is None:
        return None
    bank = _bank()
    return {f"answer_{qid}": f'quiz.answer("{qid}", {typed(bank, student, qid, a)})' for qid, a in answers.items()}
