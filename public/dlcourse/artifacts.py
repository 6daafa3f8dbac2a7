"""Write plain-data artifacts for the grader: the helpers every exercise's export shares.

Everything written here is data — JSON and .npz arrays, never pickles — into
``$DLCOURSE_ARTIFACTS`` (default ``./.artifacts``).  The grader reads these files
outside the student's kernel and decides the grade there; a failure here is
recorded as an ``error`` entry instead of raising, so a broken answer shows up as
a clear message rather than a traceback from a hidden cell.

What one exercise writes lives with that exercise (``dlcourse.exercises.<assignment>.export``);
this module holds what is not about one exercise: the artifact folder, plain-data conversion,
the guarded write, a reported value and a quiz answer (quizzes are generic, like ``dlcourse.quiz``).
"""
from __future__ import annotations

import json
import math
import os
import traceback
from pathlib import Path

import numpy as np


def artifacts_dir() -> Path:
    d = Path(os.environ.get("DLCOURSE_ARTIFACTS", ".artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _plain(value):
    """Convert to JSON-safe plain data (numbers, strings, lists, dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else str(f)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return _plain(value.item())
    return str(value)


def write_json(name: str, payload) -> Path:
    path = artifacts_dir() / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_plain(payload), ensure_ascii=False))
    tmp.replace(path)
    return path


def _guarded(name: str, fn, *args):
    try:
        payload = fn(*args)
    except Exception as exc:  # recorded for the grader, not raised in the notebook
        payload = {"error": f"{type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc(limit=3)[-2000:]}
    try:
        write_json(name, payload)
    except Exception as exc:  # a value the export could not write as JSON (a huge int, a cycle)
        write_json(name, {"error": f"could not record the result: {type(exc).__name__}: {str(exc)[:200]}"})
    return None


def _missing(what: str):
    return {"missing": what}


def _numbers(values, limit: int = 10_000):
    """Losses as plain floats: tensors, numpy scalars, None (→ None); anything else → None."""
    out = []
    try:
        items = list(values)[:limit]
    except TypeError:
        return None
    for v in items:
        try:
            if hasattr(v, "item"):
                v = v.item()
            out.append(float(v) if v is not None else None)
        except Exception:
            out.append(None)
    return out


def value(name: str, obj) -> None:
    """A single reported value (e.g. the student's test accuracy)."""
    _guarded(f"value_{name}", lambda v: _missing(name) if v is None else {"value": _plain(v)}, obj)


# ── Quizzes ─────────────────────────────────────────────────────────────────
def _quiz_answer(quiz, qid: str):
    if quiz is None or not hasattr(quiz, "answers"):
        return _missing("quiz")
    answers = quiz.answers if isinstance(quiz.answers, dict) else {}
    return {"qid": qid, "answered": qid in answers, "raw": answers.get(qid),
            "student_seen": str(getattr(quiz, "student", ""))}


def quiz_answer(quiz, qid: str) -> None:
    """The answer as typed (letters as the student saw them); the grader maps and scores it."""
    _guarded(f"quiz_{qid}", _quiz_answer, quiz, qid)
