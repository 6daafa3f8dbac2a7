"""`make demo`: a simulated class is released, submits, is autograded and gets feedback.

The students are built from the *released* notebook (as a real student starts),
with answers typed into the blanks; see keras_mnist.py for who makes which mistake.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat

from ..config import CourseConfig
from ..farm.score import CHECKS_SUFFIX
from . import fastai_transfer, keras_mnist, pytorch_mnist, transformers_pipeline

CLASSES = {"keras_mnist": keras_mnist, "pytorch_mnist": pytorch_mnist, "fastai_transfer": fastai_transfer,
           "transformers_pipeline": transformers_pipeline}


def students(assignment: str) -> dict[str, dict | None]:
    mod = CLASSES[assignment]
    out = {"ref": dict(mod.REFERENCE)}
    for name, answers in mod.MISTAKES.items():
        out[name] = None if answers is None else {**mod.REFERENCE, **answers}
    return out


def fill(release_nb, answers: dict | None):
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    if answers is None:
        return nb
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
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
    when = when or dt.datetime.now(dt.timezone.utc)
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
    check_names = list(cfg.assignment(assignment).points)
    total_max = cfg.assignment(assignment).total_points
    table = Table(title=f"{assignment}: student × check", show_lines=False)
    table.add_column("student", style="bold")
    for c in check_names:
        table.add_column(c, justify="right")
    table.add_column(f"total/{total_max:g}", justify="right", style="bold")
    for student in sorted(results, key=lambda s: (s != "ref", s)):
        if only and student not in only:
            continue
        row = results[student]
        cells = []
        for c in check_names:
            r = row.get(c)
            if r is None:
                cells.append("-")
            else:
                color = "green" if r["passed"] else ("yellow" if r["score"] > 0 else "red")
                cells.append(f"[{color}]{r['score']:g}[/{color}]")
        total = sum(r["score"] for r in row.values())
        table.add_row(student, *cells, f"{total:g}")
    return table
