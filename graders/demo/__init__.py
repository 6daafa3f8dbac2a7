"""`make demo`: a simulated class is released, submits, is autograded and gets feedback.

The students are built from the *released* notebook (as a real student starts),
with answers typed into the blanks.  Who makes which mistake is in each exercise's
folder (graders/exercises/<name>/students.py).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import nbformat

from ..config import CourseConfig
from ..farm.score import CHECKS_SUFFIX
from .. import exercises

# assignment -> its simulated class (graders/exercises/<assignment>/students.py), for every exercise that has one
CLASSES = {name: exercises.students(name) for name in exercises.names() if exercises.students(name) is not None}

_QUIZ_ANSWER = re.compile(r'^\s*quiz\.answer\(\s*["\'](\w+)["\']')


def copy_course(root: Path, extra_config: str = "") -> Path:
    """A throw-away course root sharing this checkout's source/ and built assets (tests, bench)."""
    from ..config import COURSE_ROOT
    from ..course import load_config

    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(COURSE_ROOT / "source", root / "source", dirs_exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    cache = load_config(COURSE_ROOT / "course_config.py").cache_dir
    text = (COURSE_ROOT / "course_config.py").read_text()
    text += f"\nDATA = {{**DATA, 'cache_dir': {str(cache)!r}}}\n" + extra_config
    (root / "course_config.py").write_text(text)
    return root


def students(assignment: str) -> dict[str, dict | None]:
    """student -> answers by cell key (None: hands in the notebook as released)."""
    mod = CLASSES[assignment]
    out = {"ref": dict(mod.REFERENCE)}
    for name, answers in mod.MISTAKES.items():
        out[name] = None if answers is None else {**mod.REFERENCE, **answers}
    if hasattr(mod, "answers_for"):          # a quiz: what each student types depends on their paper
        out = {name: mod.answers_for(name, answers) for name, answers in out.items()}
    return out


def cell_key(cell) -> str | None:
    """An answer cell's key: its nbgrader grade_id, or `answer_<qid>` for a quiz answer cell."""
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    if gid:
        return gid
    m = _QUIZ_ANSWER.match(cell.source) if cell.cell_type == "code" else None
    return f"answer_{m.group(1)}" if m else None


def fill(release_nb, answers: dict | None):
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    if answers is None:
        return nb
    for cell in nb.cells:
        gid = cell_key(cell)
        if gid in answers and "nbgrader" not in cell.metadata:
            cell.source = answers[gid]          # a quiz answer cell: the student retypes the line
        elif gid in answers:
            stub_lines = [l for l in cell.source.splitlines()
                          if not (l.startswith("# 여기에 코드를 작성하세요") or l.startswith("# YOUR CODE HERE")
                                  or l.strip() == "raise NotImplementedError()")]
            # the answer goes where the stub was; lines the notebook gave around it stay
            rest = "\n".join(stub_lines).strip("\n")
            cell.source = answers[gid] + ("\n" + rest if rest else "")
    return nb


def submit(cfg: CourseConfig, assignment: str, who: dict[str, dict | None] | None = None,
           when: dt.datetime | None = None) -> list[str]:
    """Write submitted/<student>/<assignment>/ for each simulated student."""
    mod_students = who or students(assignment)
    if when is None:
        # the simulated class hands in on time: now, or an hour before the due date once it has passed
        from ..intake.deadlines import due_date
        when = dt.datetime.now(dt.timezone.utc)
        due = due_date(cfg, "", assignment)
        if due is not None and when > due:
            when = due - dt.timedelta(hours=1)
    names = []
    for nb_name in cfg.assignment(assignment).notebooks:
        release_nb = nbformat.read(cfg.root / "release" / assignment / f"{nb_name}.ipynb", as_version=4)
        for student, answers in mod_students.items():
            folder = cfg.root / "submitted" / student / assignment
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            nbformat.write(fill(release_nb, answers), folder / f"{nb_name}.ipynb")
            (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
            names.append(student)
    return sorted(set(names))


def check_results(cfg: CourseConfig, assignment: str) -> dict[str, dict[str, dict]]:
    """student -> check -> result, read from autograded/*/<assignment>/*.checks.json."""
    out = {}
    for path in sorted((cfg.root / "autograded").glob(f"*/{assignment}/*{CHECKS_SUFFIX}")):
        data = json.loads(path.read_text())
        checks = out.setdefault(data["student"], {})
        for results in data["cells"].values():
            for r in results:
                checks[r["check"]] = r
    return out


def summary_table(cfg: CourseConfig, assignment: str, only: list[str] | None = None):
    from rich.table import Table

    results = check_results(cfg, assignment)
    a = cfg.assignment(assignment)
    groups = {c: [c] for c in a.points}
    if a.kind == "quiz":                       # one column per question type, not per question
        from ..quiz import bank_path, load_bank
        groups = {}
        for q in load_bank(bank_path(cfg.root, assignment)).questions:
            groups.setdefault(q["type"], []).append(q["id"])
    table = Table(title=f"{assignment}: student × check", show_lines=False)
    table.add_column("student", style="bold")
    for name, members in groups.items():
        label = name if len(members) == 1 else f"{name}/{sum(a.points[m] for m in members):g}"
        table.add_column(label, justify="right")
    table.add_column(f"total/{a.total_points:g}", justify="right", style="bold")
    for student in sorted(results, key=lambda s: (s != "ref", s)):
        if only and student not in only:
            continue
        row = results[student]
        cells = []
        for members in groups.values():
            got = [row[m] for m in members if m in row]
            if not got:
                cells.append("-")
                continue
            score, full = sum(r["score"] for r in got), sum(r["max_score"] for r in got)
            color = "green" if score >= full - 1e-9 else ("yellow" if score > 0 else "red")
            cells.append(f"[{color}]{score:.3g}[/{color}]")
        total = sum(r["score"] for r in row.values())
        table.add_row(student, *cells, f"{total:.4g}")
    return table
