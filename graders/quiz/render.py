"""Render a bank into what students get: the key-free question file and the quiz notebook.

* ``public/dlcourse/data/quiz/<quiz>.json`` — questions and options in a neutral
  order, no key, no rule, no explanation (the notebook shows them per student).
* ``source/<quiz>/<quiz>.ipynb`` — per question: a locked cell that shows it, an
  answer cell the student edits (``quiz.answer("q01", "")``, format checked at once),
  and a graded cell whose hidden part only exports what was typed.

nbgrader's generate_assignment then makes the release from the notebook as usual.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .. import PUBLIC_DIR
from ..checks.quiz import public_question
from .bank import Bank

QUIZ_DATA_DIR = PUBLIC_DIR / "dlcourse" / "data" / "quiz"

INTRO_KO = """# {title}

{intro}

## 답하는 방법
- 맨 위 셀부터 차례로 실행하세요. 각 문항은 **문제 셀**(보기만 하세요) → **답 셀**(여기에 적기) → **채점용 셀**(그대로 두기) 순서입니다.
- 답 셀의 따옴표 안에 답을 적고 실행하면 **형식만** 바로 확인해 줍니다. 정답 여부는 제출 후 채점에서 알려 드립니다.
- **클릭해서 답해도 됩니다.** 단답형이 아닌 문항은 답 셀을 실행하면 그 아래에 고르는 칸(보기 버튼, 체크 상자, O/X, 짝 맞추기 목록, 줄 번호 목록, 숫자 칸)이 나타납니다. 고르면 답이 바로 기록되고 **답 셀의 코드도 그 답으로 바뀝니다** (예: `quiz.answer("q01", "B")`). 채점은 언제나 답 셀에 적힌 값으로 하므로, 고른 뒤에는 **저장**(Ctrl+S)하세요. 다시 열었을 때 칸이 안 보이면 그 셀을 다시 실행하면 됩니다.
- 선택지 순서는 학생마다 다릅니다. 친구의 "B"가 내 "B"와 같은 답이 아닙니다.

| 문항 유형 | 적는 법 | 이렇게 적어도 됩니다 |
|---|---|---|
| 하나 고르기 | `quiz.answer("q01", "B")` | `"b"`, `"(B)"`, `"B번"`, `"정답은 B"` — 글자는 하나만 (`"AB"`는 받지 않습니다) |
| 모두 고르기 (부분 점수) | `quiz.answer("q05", "A, C")` | `"AC"`, `"A와 C"`, `"A·C"` — `"A 또는 C"`는 받지 않습니다 |
| O/X | `quiz.answer("q09", "O")` 또는 `"X"` | `"○"`, `"×"`, `"네"`, `"아니요"`, `"참"`, `"거짓"` — `0`/`1`은 받지 않습니다 |
| 짝 맞추기 (부분 점수) | `quiz.answer("q12", {{1: "ML", 2: "DL", ...}})` | 분류 이름(`"딥러닝"`), `"1: ML, 2: DL, ..."` |
| 단답형 | `quiz.answer("q20", "역전파")` (한국어·영어 모두 됩니다) | `"역전파(backpropagation)"` |
| 숫자 | `quiz.answer("q24", 784)` | `"784개"`, `"1,000"`, `"5 epochs"`; 비율은 문제에 적힌 형식으로 (`0.1` 또는 `"10%"`) |
| 코드 읽기 | 보기 글자 또는 줄 번호 (`quiz.answer("q30", 3)`) | `"3번 줄"` |

답 셀을 실행하면 답을 **어떻게 읽었는지** 보여 줍니다. 읽은 답이 생각과 다르면 위 형식으로 고쳐 적으세요.

마지막 셀의 `quiz.progress()`로 빠진 문항이 없는지 확인한 뒤 제출하세요.
"""

INTRO_EN = """# {title}

{intro}

## How to answer
- Run the cells from the top. Each question has a **question cell** (just run it), an **answer cell** (type here) and a **grading cell** (leave it as it is).
- Type your answer and run the cell: the **format** is checked at once; whether it is right is graded after you submit.
- **You can also click.** For every question but short text, running the answer cell shows a box under it (option buttons, check boxes, O/X, one list per matching item, a line list, a number field). A click records the answer and **writes it into the answer cell** (e.g. `quiz.answer("q01", "B")`). Grading always reads what the answer cell says, so **save** (Ctrl+S) after clicking. If the box is gone when you reopen the notebook, run that cell again.
- Option order differs from student to student.

| type | how | also read |
|---|---|---|
| single choice | `quiz.answer("q01", "B")` | `"b"`, `"(B)"`, `"answer: B"` — one letter only (`"AB"` is refused) |
| multiple choice (partial credit) | `quiz.answer("q05", "A, C")` | `"AC"`, `"A and C"` — `"A or C"` is refused |
| true/false | `quiz.answer("q09", "O")` or `"X"` | `"true"`, `"false"`, `"yes"`, `"no"`, `"○"`, `"×"` — `0`/`1` are refused |
| matching (partial credit) | `quiz.answer("q12", {{1: "ML", 2: "DL", ...}})` | category names, `"1: ML, 2: DL, ..."` |
| short text | `quiz.answer("q20", "backpropagation")` | `"backpropagation (역전파)"` |
| number | `quiz.answer("q24", 784)` | `"784 pixels"`, `"1,000"`; fractions in the form the question asks (`0.1` or `"10%"`) |
| code reading | an option letter or a line number (`quiz.answer("q30", 3)`) | `"line 3"` |

Running an answer cell shows **how your answer was read**; if that is not what you meant, use the forms above.

Check with `quiz.progress()` in the last cell that nothing is missing, then submit.
"""

GRADING_CELL = {
    "ko": "# 채점용 셀입니다. 지우거나 고치지 마세요.",
    "en": "# Grading cell: do not delete or edit it.",
}


def _meta(grade_id: str, grade=False, points=None, locked=True) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _blank(q: dict) -> str:
    kind = q["type"]
    qid = q["id"]
    if kind == "matching":
        slots = ", ".join(f'{i}: ""' for i in range(1, len(q["items"]) + 1))
        return f'quiz.answer("{qid}", {{{slots}}})'
    if kind == "numeric" or (kind == "code" and not q.get("options")):
        return f'quiz.answer("{qid}", None)   # None 대신 숫자'
    return f'quiz.answer("{qid}", "")'


def public_data(bank: Bank) -> dict:
    return {"quiz": bank.quiz, "title": bank.title, "shuffle": bank.shuffle,
            "total_points": sum(float(q["points"]) for q in bank.questions),
            "questions": [public_question(q) for q in bank.questions]}


def notebook(bank: Bank, language: str = "ko"):
    text = (lambda e: e.get("en") or e["ko"]) if language == "en" else (lambda e: e["ko"])
    intro = (INTRO_EN if language == "en" else INTRO_KO).format(title=text(bank.title), intro=text(bank.intro))
    cells = [
        new_markdown_cell(intro, metadata=_meta("intro")),
        new_code_cell(f'from dlcourse.quiz import Quiz\n\nquiz = Quiz("{bank.quiz}")', metadata=_meta("setup")),
    ]
    for q in bank.questions:
        qid = q["id"]
        cells.append(new_code_cell(f'quiz.show("{qid}")', metadata=_meta(f"show_{qid}")))
        cells.append(new_code_cell(_blank(q)))
        cells.append(new_code_cell(
            f"{GRADING_CELL[language]}\n### BEGIN HIDDEN TESTS\nfrom dlcourse import artifacts as _export\n"
            f'_export.quiz_answer(globals().get("quiz"), "{qid}")\n### END HIDDEN TESTS',
            metadata=_meta(f"grade_{qid}", grade=True, points=float(q["points"]))))
    cells.append(new_code_cell("quiz.progress()", metadata=_meta("progress")))
    for i, cell in enumerate(cells):
        cell.id = f"quiz-{i:03d}"        # stable ids: rendering the same bank gives the same file
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def render(bank: Bank, source_dir: Path, language: str = "ko") -> list[Path]:
    """Write the public question file and the source notebook; return the paths that changed."""
    changed = []
    QUIZ_DATA_DIR.mkdir(parents=True, exist_ok=True)
    data_path = QUIZ_DATA_DIR / f"{bank.quiz}.json"
    data = json.dumps(public_data(bank), ensure_ascii=False, indent=1) + "\n"
    if not data_path.exists() or data_path.read_text(encoding="utf-8") != data:
        data_path.write_text(data, encoding="utf-8")
        changed.append(data_path)
    nb_path = source_dir / f"{bank.quiz}.ipynb"
    text = nbformat.writes(notebook(bank, language)) + "\n"
    if not nb_path.exists() or nb_path.read_text(encoding="utf-8") != text:
        nb_path.write_text(text, encoding="utf-8")
        changed.append(nb_path)
    return changed


def leaks(bank: Bank, folder: Path) -> list[str]:
    """Places under `folder` where a key or an explanation of the bank would reach students."""
    from ..checks.quiz import normalize_text

    found = []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    for p, text in texts.items():
        if p.name.endswith((".yaml", ".yml")):
            found.append(f"{p.name}: a bank file was released")
    for q in bank.questions:
        for lang_text in q["explanation"].values():
            for p, text in texts.items():
                if lang_text.strip() and lang_text.strip()[:60] in text:
                    found.append(f"{p.name}: explanation of {q['id']}")
        own = " ".join(_texts(public_question(q)))
        if q["type"] == "short":
            for a in q["answer"]:
                if normalize_text(a) and normalize_text(a) in normalize_text(own):
                    found.append(f"{q['id']}: its accepted answer {a!r} is in its own question text")
        if q["type"] == "numeric":
            numbers = [float(t) for t in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", own.replace(",", ""))]
            if any(abs(n - q["answer"]) <= q["tolerance"] for n in numbers):
                found.append(f"{q['id']}: its answer {q['answer']:g} is in its own question text")
    for p, text in texts.items():
        if p.suffix == ".json":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if _has_key(data, {"answer", "explanation", "rule", "tolerance"}):
                found.append(f"{p.name}: holds answer-key fields")
    return found


def _texts(entry) -> list[str]:
    """Every piece of text students see in a public question (not ids or points)."""
    if isinstance(entry, dict):
        return [t for k, v in entry.items() if k not in ("id", "type", "points") for t in _texts(v)]
    if isinstance(entry, list):
        return [t for v in entry for t in _texts(v)]
    return [entry] if isinstance(entry, str) else []


def _has_key(data, names: set) -> bool:
    if isinstance(data, dict):
        if names & set(data):
            return True
        return any(_has_key(v, names) for v in data.values())
    if isinstance(data, list):
        return any(_has_key(v, names) for v in data)
    return False
