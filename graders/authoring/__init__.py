"""`python -m graders new-exercise NAME`: a working skeleton of a new exercise, in its four places.

The files are the templates in skeleton/ (grader side, public side), with ${name} and ${title} filled in.

    source/NAME/NAME.ipynb                  the instructor notebook: one blank, a self-check, one graded cell
    public/dlcourse/exercises/NAME/         the student side: check.py (self-check), export.py (what the
                                            graded cell writes for the grader)
    graders/exercises/NAME/                 the grader side: scorer.py, students.py, messages.py
    course_config.py                        the ASSIGNMENTS entry, printed to paste

The skeleton's task is small on purpose (a ReLU written by hand) so that everything around it is
real: it releases, a student's answer runs in the sandbox, the scorer judges what the function
does on inputs it did not see, and the reference gets full marks.  An instructor replaces the task
and keeps the shape; docs/adding-an-exercise.md walks through it.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

NAME = re.compile(r"^[a-z][a-z0-9_]{2,40}$")


class AuthoringError(Exception):
    """The skeleton cannot be written as asked (the message says why and what to do)."""


SKELETON = Path(__file__).resolve().parent / "skeleton"
# skeleton/<side>/<file>.tmpl -> where it goes (${name} and ${title} are filled in)
_SIDES = {"grader": "graders/exercises/{name}", "public": "public/dlcourse/exercises/{name}"}


def _files(name: str, title: str) -> dict[str, str]:
    """Relative path -> text of every Python file of the skeleton (from the templates in skeleton/)."""
    from string import Template

    out = {}
    for side, target in _SIDES.items():
        for tmpl in sorted((SKELETON / side).glob("*.tmpl")):
            text = Template(tmpl.read_text()).substitute(name=name, title=title)
            out[f"{target.format(name=name)}/{tmpl.name[:-len('.tmpl')]}"] = text
    return out


def _notebook(name: str, title: str):
    """The instructor notebook: nbgrader cells (intro, setup, blank, self-check, graded cell)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def meta(grade_id: str, *, grade=False, solution=False, locked=True, points=None):
        m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
        if points is not None:
            m["points"] = points
        return {"nbgrader": m}

    cells = [
        new_markdown_cell(f"# {title}\n\n"
                          "활성화 함수 **ReLU**는 음수를 0으로 바꾸고 0 이상은 그대로 둡니다: `relu(x) = max(0, x)`.\n"
                          "아래 빈칸에 함수를 완성하고, 스스로 확인 셀을 실행해 보세요.", metadata=meta("intro")),
        new_code_cell(f"from dlcourse.exercises.{name} import check", metadata=meta("setup")),
        new_code_cell("### BEGIN SOLUTION\ndef relu(x):\n    return max(0.0, x)\n### END SOLUTION",
                      metadata=meta("relu", solution=True, locked=False)),
        new_code_cell("# 스스로 확인: relu\ncheck.relu(globals().get(\"relu\"))", metadata=meta("relu_selfcheck")),
        new_code_cell("# 채점용 셀입니다. 지우거나 고치지 마세요 (자동 채점 때 채점 코드가 들어갑니다).\n"
                      "### BEGIN HIDDEN TESTS\n"
                      f"from dlcourse.exercises.{name} import export as _export\n"
                      "_export.relu_outputs(globals().get(\"relu\"))\n"
                      "### END HIDDEN TESTS", metadata=meta("check_relu", grade=True, points=2)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def config_entry(name: str, title: str) -> str:
    return (f"ASSIGNMENTS[{name!r}] = {{\n"
            f"    \"title\": {title!r},\n"
            f"    \"notebooks\": [{name!r}],\n"
            f"    \"due\": \"2026-12-31 23:59:00+09:00\",\n"
            f"    \"points\": {{\"relu\": 2}},\n"
            f"    \"thresholds\": {{}},\n"
            f"}}\n")


def new_exercise(name: str, code_root: Path, course_root: Path, title: str | None = None) -> list[Path]:
    """Write the skeleton: grader and student code under `code_root` (the checkout), the source notebook
    under `course_root`.  Refuses to overwrite anything; returns the files written."""
    if not NAME.match(name):
        raise AuthoringError(f"{name!r} is not a usable exercise name. Fix: 3-41 characters, lower-case letters, "
                             "digits and '_', starting with a letter (it becomes a Python package name)")
    title = title or f"{name}: ReLU 직접 만들기"
    if len(title) > 120 or any(c in title for c in ('"', "\\", "\n", "\r", "$")):
        raise AuthoringError(f"--title {title!r}: Fix: one line of at most 120 characters without quotes, "
                             "backslashes or '$' (it goes into the skeleton's Python files)")
    files = {code_root / rel: text for rel, text in _files(name, title).items()}
    notebook = course_root / "source" / name / f"{name}.ipynb"
    taken = [p for p in (code_root / "graders" / "exercises" / name, code_root / "public" / "dlcourse" / "exercises" / name,
                         notebook.parent) if p.exists()]
    if taken:
        raise AuthoringError(f"{taken[0]} already exists. Fix: choose another name, or remove it first")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    notebook.parent.mkdir(parents=True)
    nbformat.write(_notebook(name, title), notebook)
    return [*files, notebook]
