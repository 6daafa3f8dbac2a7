"""Question banks: the YAML file staff write, its schema, and the checks beyond the schema.

A bank lives next to its quiz in ``source/<quiz>/quiz_bank.yaml`` (instructor side;
the release step never copies it).  Every problem is reported with the question,
the field and what to fix, e.g.::

    quiz_bank.yaml: question 'q07' (#7), field 'answer': 'e' is not an option id (a, b, c, d).
    Fix: give the id of the right option.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml
from dlcourse.quiz import _label      # the notebook reads category names with the same rule

from ..config import ConfigError

BANK_FILE = "quiz_bank.yaml"
TYPES = ("single", "multiple", "truefalse", "matching", "short", "numeric", "code")
RULES = {
    "multiple": ("net_correct", "per_option", "all_or_nothing"),
    "matching": ("per_item", "all_or_nothing"),
}


class BankError(ConfigError):
    """The question bank cannot be used as it is."""


_TEXT = {"type": "object", "required": ["ko"], "additionalProperties": False,
         "properties": {"ko": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}
_ENTRY = {"type": "object", "required": ["id", "ko"], "additionalProperties": False,
          "properties": {"id": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"},
                         "ko": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}
_CATEGORY = {"type": "object", "required": ["id", "ko"], "additionalProperties": False,
             "properties": {**_ENTRY["properties"],
                            "accept": {"type": "array", "items": {"type": "string", "minLength": 1}}}}
FORMS = ("number", "fraction", "percent")
_COMMON = {
    "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,31}$"},
    "type": {"enum": list(TYPES)},
    "concepts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "points": {"type": "number", "exclusiveMinimum": 0},
    "text": _TEXT,
    "explanation": _TEXT,
}
_BY_TYPE = {
    "single": {"options": {"type": "array", "items": _ENTRY, "minItems": 2, "maxItems": 8},
               "answer": {"type": "string"}},
    "multiple": {"options": {"type": "array", "items": _ENTRY, "minItems": 3, "maxItems": 8},
                 "answer": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
                 "rule": {"enum": list(RULES["multiple"])}},
    "truefalse": {"answer": {"type": "boolean"}},
    "matching": {"items": {"type": "array", "items": _ENTRY, "minItems": 2, "maxItems": 10},
                 "categories": {"type": "array", "items": _CATEGORY, "minItems": 2, "maxItems": 5},
                 "answer": {"type": "object", "additionalProperties": {"type": "string"}},
                 "rule": {"enum": list(RULES["matching"])}},
    "short": {"answer": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
              "reject": {"type": "array", "items": {"type": "string", "minLength": 1}}},
    "numeric": {"answer": {"type": "number"}, "tolerance": {"type": "number", "minimum": 0},
                "form": {"enum": list(FORMS)}},
    "code": {"code": {"type": "string", "minLength": 1},
             "options": {"type": "array", "items": _ENTRY, "minItems": 2, "maxItems": 8},
             "answer": {"type": ["string", "integer", "array"]}},
}
_REQUIRED = {
    "single": ["options", "answer"], "multiple": ["options", "answer", "rule"], "truefalse": ["answer"],
    "matching": ["items", "categories", "answer", "rule"], "short": ["answer"],
    "numeric": ["answer", "tolerance"], "code": ["code", "answer"],
}
_FIX = {
    "id": "a short lower-case id such as 'q07' (letters, digits, '_')",
    "type": f"one of {', '.join(TYPES)}",
    "concepts": "a list of seed concepts, see graders/exercises/<quiz>/concepts.py",
    "points": "a number > 0",
    "text": "a mapping with 'ko' (and optionally 'en') text",
    "explanation": "a mapping with 'ko' (and optionally 'en') text shown in feedback",
    "options": "a list of {id, ko, en} entries",
    "items": "a list of {id, ko, en} entries",
    "categories": "a list of {id, ko, en} entries",
    "rule": "the partial-credit rule",
    "tolerance": "a number >= 0 (absolute)",
    "code": "the code snippet students read",
    "reject": "a list of known wrong answers (never accepted, even in brackets)",
    "form": "'number' (default), 'fraction' (answer 0.1, '10%' also read as 0.1) or 'percent' (answer 10 for 10%)",
}
_TOP = {"type": "object", "required": ["quiz", "title", "questions"], "additionalProperties": False,
        "properties": {"quiz": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}, "title": _TEXT,
                       "intro": _TEXT, "shuffle": {"type": "boolean"},
                       "questions": {"type": "array", "minItems": 1, "items": {"type": "object"}}}}


@dataclass(frozen=True)
class Bank:
    path: Path
    quiz: str
    title: dict
    intro: dict
    shuffle: bool
    questions: tuple

    def question(self, qid: str) -> dict:
        return next(q for q in self.questions if q["id"] == qid)

    @property
    def points(self) -> dict:
        return {q["id"]: float(q["points"]) for q in self.questions}


def _where(path: Path, qid: str | None, index: int | None, field: str | None) -> str:
    head = path.name
    if index is not None:
        head += f": question {qid!r} (#{index + 1})" if qid else f": question #{index + 1}"
    if field:
        head += f", field {field!r}"
    return head


def _fail(path, qid, index, field, problem, fix) -> None:
    raise BankError(f"{_where(path, qid, index, field)}: {problem}. Fix: {fix}")


def _schema_error(path, qid, index, err: jsonschema.ValidationError, base: str = "") -> None:
    parts = [str(p) for p in err.absolute_path]
    field = ".".join(([base] if base else []) + parts) or None
    top = parts[0] if parts else (err.validator_value[0] if err.validator == "required" else None)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        field = ".".join(([base] if base else []) + parts + [missing])
        _fail(path, qid, index, field, "missing", _FIX.get(missing, "add it"))
    if err.validator == "additionalProperties":
        _fail(path, qid, index, field, err.message, "remove the field or check its spelling")
    _fail(path, qid, index, field, err.message, _FIX.get(top, "see the bank format in the README"))


def load_bank(path: str | Path) -> Bank:
    path = Path(path)
    if not path.is_file():
        raise BankError(f"{path}: file not found. Fix: write the quiz bank there (see the README, 'Quizzes')")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BankError(f"{path.name}{where}: not valid YAML ({getattr(exc, 'problem', exc)}). "
                        "Fix: check the indentation and quotes on that line") from None
    if not isinstance(raw, dict):
        raise BankError(f"{path.name}: the file should be a mapping with quiz, title and questions")
    for err in sorted(jsonschema.Draft202012Validator(_TOP).iter_errors(raw), key=lambda e: list(e.path)):
        if list(err.absolute_path)[:1] == ["questions"] and len(err.absolute_path) > 1:
            continue
        _schema_error(path, None, None, err)

    concepts = concepts_of(raw["quiz"])
    seen_ids: dict[str, int] = {}
    questions = []
    for index, q in enumerate(raw["questions"]):
        qid = q.get("id") if isinstance(q.get("id"), str) else None
        kind = q.get("type")
        if kind not in TYPES:
            _fail(path, qid, index, "type", f"{kind!r} is not a question type", _FIX["type"])
        schema = {"type": "object", "additionalProperties": False,
                  "required": ["id", "type", "concepts", "points", "text", "explanation", *_REQUIRED[kind]],
                  "properties": {**_COMMON, **_BY_TYPE[kind]}}
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(q), key=lambda e: list(e.path))
        if errors:
            _schema_error(path, qid, index, errors[0])
        if qid in seen_ids:
            _fail(path, qid, index, "id", f"the id is already used by question #{seen_ids[qid] + 1}",
                  "give every question its own id")
        seen_ids[qid] = index
        _check_meaning(path, q, index, concepts)
        questions.append(q)
    return Bank(path=path, quiz=raw["quiz"], title=raw["title"], intro=raw.get("intro", {"ko": ""}),
                shuffle=raw.get("shuffle", True), questions=tuple(questions))


def concepts_of(quiz: str) -> dict[str, str]:
    """The lesson's concepts a quiz's questions are tagged with: CONCEPTS in the quiz's own folder
    (graders/exercises/<quiz>/concepts.py); empty where it has none (any tag is then accepted)."""
    import importlib

    from .. import exercises

    if quiz not in exercises.names() or not (exercises.HERE / quiz / "concepts.py").is_file():
        return {}
    return dict(importlib.import_module(f"{exercises.__name__}.{quiz}.concepts").CONCEPTS)


def _check_meaning(path: Path, q: dict, index: int, concepts: dict) -> None:
    """What a schema cannot say: keys that name real options, known concepts, sane numbers."""
    qid, kind = q["id"], q["type"]
    for concept in q["concepts"]:
        if concepts and concept not in concepts:
            _fail(path, qid, index, "concepts", f"{concept!r} is not a seed concept",
                  f"use one of the ids in graders/exercises/{path.parent.name}/concepts.py ({len(concepts)} concepts)")
    for listing in ("options", "items", "categories"):
        ids = [e["id"] for e in q.get(listing, [])]
        if len(set(ids)) != len(ids):
            _fail(path, qid, index, listing, "two entries share an id", "give each entry its own id")
    options = [o["id"] for o in q.get("options", [])]
    answer = q["answer"]
    if kind == "single" or (kind == "code" and q.get("options")):
        if not isinstance(answer, str) or answer not in options:
            _fail(path, qid, index, "answer", f"{answer!r} is not an option id ({', '.join(options)})",
                  "give the id of the right option")
    elif kind == "code":
        n_lines = len(q["code"].splitlines())
        lines = answer if isinstance(answer, list) else [answer]
        if not lines or not all(isinstance(l, int) and not isinstance(l, bool) and 1 <= l <= n_lines for l in lines):
            _fail(path, qid, index, "answer", f"{answer!r} is not a line number of the code (1–{n_lines})",
                  "give the line number (or a list of line numbers) that answers the question, or add options")
    elif kind == "multiple":
        wrong = [a for a in answer if a not in options]
        if wrong:
            _fail(path, qid, index, "answer", f"{wrong} are not option ids ({', '.join(options)})",
                  "list the ids of every right option")
    elif kind == "matching":
        items = {i["id"] for i in q["items"]}
        cats = {c["id"] for c in q["categories"]}
        if set(answer) != items:
            _fail(path, qid, index, "answer", f"the key covers {sorted(answer)} but the items are {sorted(items)}",
                  "give every item exactly one category")
        bad = {k: v for k, v in answer.items() if v not in cats}
        if bad:
            _fail(path, qid, index, "answer", f"{bad} name unknown categories ({', '.join(sorted(cats))})",
                  "use the category ids")
        seen: dict[str, str] = {}
        for cat in q["categories"]:
            for name in {cat["id"], cat["ko"], cat.get("en", cat["ko"]), *cat.get("accept", [])}:
                label = _label(name)
                if not label:
                    _fail(path, qid, index, "categories", f"{name!r} has no letters or digits",
                          "give every category name and accepted spelling some letters")
                if seen.get(label, cat["id"]) != cat["id"]:
                    _fail(path, qid, index, "categories",
                          f"{name!r} of {cat['id']!r} reads the same as a name of {seen[label]!r}",
                          "give each category names and accepted spellings of its own")
                seen[label] = cat["id"]
    elif kind == "short":
        from ..checks.quiz import normalize_text

        accepted = {normalize_text(a) for a in answer}
        if "" in accepted:
            _fail(path, qid, index, "answer", "an accepted answer has no letters or digits", "remove it")
        clash = [r for r in q.get("reject", []) if normalize_text(r) in accepted]
        if clash:
            _fail(path, qid, index, "reject", f"{clash} are also accepted answers", "keep a spelling in one list only")
    elif kind == "numeric":
        words = " ".join(q["text"].values())
        if "form" not in q and re.search(r"%|퍼센트|백분율|percent|비율|fraction", words, re.I):
            _fail(path, qid, index, "form", "the question speaks of a percentage or a fraction but says not which "
                  "form the answer takes", "add form: fraction (answer 0.1) or form: percent (answer 10)")
        if q.get("form") == "fraction" and not 0 <= answer <= 1:
            _fail(path, qid, index, "answer", f"{answer!r} is not a fraction between 0 and 1",
                  "give the answer as a fraction (0.1 for 10%) or use form: percent")
