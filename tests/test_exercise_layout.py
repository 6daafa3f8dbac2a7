"""One exercise is one folder (graders/exercises/<name>/ + public/dlcourse/exercises/<name>/).

- nothing else in graders/ names an exercise (a scan of the source, with a negative control);
- the configuration is read without importing what imports it, and graders/ has no import circle;
- every exercise folder is complete, and the course's assignments are exactly the folders' ones;
- `python -m graders new-exercise NAME` writes a skeleton that releases and grades its `ref` to full
  marks, in a copy of the code and the course in a temporary folder (nothing is written in the checkout).
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders import exercises

REPO = Path(__file__).resolve().parent.parent
GRADERS = REPO / "graders"


# ── nothing outside the folders names an exercise ──────────────────────────
def _naming(root: Path, names: list[str], skip: tuple[str, ...]) -> list[str]:
    """'path:line: name' for every line of a text file under root (but `skip`) that names an exercise."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    hits = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or "__pycache__" in rel or any(rel.startswith(s) for s in skip):
            continue
        if path.suffix not in (".py", ".j2", ".html", ".css", ".js", ".json", ".yaml", ".txt", ".md"):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = pattern.search(line)
            if m:
                hits.append(f"{rel}:{number}: {m.group(1)}")
    return hits


def test_nothing_in_graders_outside_the_exercise_folders_names_an_exercise():
    names = exercises.names()
    assert len(names) >= 5, names
    assert _naming(GRADERS, names, skip=("exercises/",)) == []


def test_the_scan_finds_a_name_where_one_is_written(tmp_path):
    """Negative control: the same scan over a copy of graders/ with one exercise name added to the farm."""
    copy = tmp_path / "graders"
    shutil.copytree(GRADERS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    name = exercises.names()[0]
    with (copy / "farm" / "score.py").open("a") as fh:
        fh.write(f"\nSPECIAL = {name!r}\n")
    hits = _naming(copy, exercises.names(), skip=("exercises/",))
    assert len(hits) == 1 and hits[0].startswith("farm/score.py:") and hits[0].endswith(name), hits


# ── no import circles ───────────────────────────────────────────────────────
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path, lazy: bool) -> set[str]:
    """Modules of the package that `path` imports: when it is imported (module level), or also inside
    its functions (`lazy`)."""
    me = _module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()
    tree = ast.parse(path.read_text())
    for node in (ast.walk(tree) if lazy else tree.body):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}
    top = root.name
    return {m for m in out if m == top or m.startswith(top + ".")}


def _cycles(root: Path, lazy: bool = False) -> list[list[str]]:
    modules = {_module_name(p, root): p for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for t in _imports(path, root, lazy):
            # importing a.b.c imports the packages a and a.b first
            parts = t.split(".")
            targets |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules)
        graph[name] = targets - {name}
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package importing its own submodules (graders.checks -> graders.checks.base -> graders.checks)
    # is how Python packages are built, not a circle between steps
    return [c for c in found if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]


def _step(module: str) -> str:
    return ".".join(module.split(".")[:2])      # graders.farm.execute -> graders.farm


def test_graders_has_no_import_circle():
    assert _cycles(GRADERS) == []
    # imports inside functions too: no circle between two steps (config, exercises, checks, farm, …).
    # Inside the farm, the local kernel runner hands a notebook to a Dask worker (remote.py), which runs
    # it with the same runner: that pair is one step calling itself on another machine.
    across = [c for c in _cycles(GRADERS, lazy=True) if len({_step(m) for m in c}) > 1]
    assert across == []


@pytest.mark.parametrize("lazy", [False, True])
def test_the_circle_check_finds_a_circle(tmp_path, lazy):
    """Negative control: the configuration importing the exercises again (at import, or inside a
    function as it once did) is found."""
    copy = tmp_path / "graders"
    shutil.copytree(GRADERS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    text = (copy / "config.py").read_text()
    line = "def _scorers():\n    from .demo import CLASSES\n" if lazy else "from .demo import CLASSES\n"
    (copy / "config.py").write_text(text.replace("from pathlib import Path\n", f"from pathlib import Path\n\n{line}", 1))
    assert _cycles(copy) == [] if lazy else _cycles(copy)
    cycles = _cycles(copy, lazy=lazy)
    assert any("graders.config" in c and "graders.demo" in c for c in cycles), cycles


def test_the_configuration_is_read_without_importing_scorers_or_exercises():
    code = ("import sys; from graders.config import read_config; cfg = read_config(); "
            "print(sorted(m for m in sys.modules if m.startswith(('graders.exercises', 'graders.checks', "
            "'graders.quiz', 'graders.farm'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


# ── every exercise folder is complete ──────────────────────────────────────
@pytest.mark.parametrize("name", exercises.names())
def test_every_exercise_folder_is_complete(name):
    from graders.course import load_config

    cfg = load_config(REPO / "course_config.py")
    assert exercises.kind(name) in ("exercise", "quiz")
    students = exercises.students(name)
    assert students is not None and {"REFERENCE", "MISTAKES", "EXPECTED"} <= set(vars(students))
    assert set(students.EXPECTED) == {"ref", *students.MISTAKES}
    if exercises.kind(name) == "exercise":
        scorer = exercises.scorer(name)
        assert scorer.assignment == name and scorer.notebook == name
        assert (REPO / "public" / "dlcourse" / "exercises" / name / "export.py").is_file()
        assert cfg.scorer(name) is scorer
    assert name in cfg.assignments
    assert (REPO / "source" / name).is_dir()


def test_the_course_configures_exactly_the_exercise_folders():
    from graders.course import load_config

    assert set(load_config(REPO / "course_config.py").assignments) == set(exercises.names())


def test_an_assignment_without_a_folder_is_a_clear_config_error(tmp_path):
    from conftest import make_course
    from graders.config import ConfigError
    from graders.course import load_config

    root = make_course(tmp_path / "c", "ASSIGNMENTS['gan_faces'] = {'title': 'GAN', 'points': {}}\n")
    with pytest.raises(ConfigError) as err:
        load_config(root / "course_config.py")
    text = str(err.value)
    assert "ASSIGNMENTS['gan_faces']" in text and "no scorer exists" in text and "new-exercise gan_faces" in text


# ── new-exercise ────────────────────────────────────────────────────────────
def _python(tree: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "DLCOURSE_CONFIG": str(tree / "course_config.py")}
    return subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def new_course(tmp_path_factory):
    """A copy of the code and the course (in a temp folder) with a new exercise made by new-exercise."""
    from graders.demo import copy_course

    tree = tmp_path_factory.mktemp("authoring")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(GRADERS, tree / "graders", ignore=ignore)
    shutil.copytree(REPO / "public", tree / "public", ignore=ignore)
    copy_course(tree)
    made = _python(tree, "-m", "graders", "new-exercise", "relu_intro", "--title", "ReLU 만들기")
    assert made.returncode == 0, made.stderr
    entry = made.stdout.split("Add this to", 1)[1].split(":\n\n", 1)[1].split("Next:", 1)[0]
    with (tree / "course_config.py").open("a") as fh:
        fh.write("\n" + entry)
    return tree, made


def test_new_exercise_writes_the_four_places(new_course):
    tree, made = new_course
    for rel in ("graders/exercises/relu_intro/scorer.py", "graders/exercises/relu_intro/students.py",
                "graders/exercises/relu_intro/messages.py", "public/dlcourse/exercises/relu_intro/check.py",
                "public/dlcourse/exercises/relu_intro/export.py", "source/relu_intro/relu_intro.ipynb"):
        assert (tree / rel).is_file(), rel
    assert "ASSIGNMENTS['relu_intro']" in made.stdout
    assert not (REPO / "graders" / "exercises" / "relu_intro").exists()      # the checkout is untouched


def test_new_exercise_refuses_to_overwrite_or_a_bad_name(new_course):
    tree, _ = new_course
    again = _python(tree, "-m", "graders", "new-exercise", "relu_intro")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = _python(tree, "-m", "graders", "new-exercise", "../escape")
    assert bad.returncode == 2 and "not a usable exercise name" in bad.stderr
    assert not (tree.parent / "escape").exists()
    quoted = _python(tree, "-m", "graders", "new-exercise", "title_probe", "--title", 'ReLU """ 만들기')
    assert quoted.returncode == 2 and "--title" in quoted.stderr
    assert not (tree / "graders" / "exercises" / "title_probe").exists()


def test_the_new_exercise_releases_and_grades_its_class_as_written(new_course):
    tree, _ = new_course
    release = _python(tree, "-m", "graders", "release", "relu_intro")
    assert release.returncode == 0, release.stdout + release.stderr
    released = (tree / "release" / "relu_intro" / "relu_intro.ipynb").read_text()
    assert "max(0.0, x)" not in released and "_export" not in released     # no solution, no hidden test
    submit = _python(tree, "-c", "from graders import demo; from graders.course import load_config; "
                                 "print(demo.submit(load_config(), 'relu_intro'))")
    assert submit.returncode == 0, submit.stderr
    graded = _python(tree, "-m", "graders", "autograde", "relu_intro", "--quiet", "--workers", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    got = _python(tree, "-c", "import json; from graders import demo; from graders.course import load_config; "
                              "r = demo.check_results(load_config(), 'relu_intro'); "
                              "print(json.dumps({s: {c: v['score'] for c, v in cs.items()} for s, cs in r.items()}))")
    assert got.returncode == 0, got.stderr
    scores = json.loads(got.stdout.strip().splitlines()[-1])
    # what a fair TA gives, as the skeleton's students.py says (written before the grader ran)
    assert scores == {"ref": {"relu": 2}, "written_otherwise": {"relu": 2}, "identity": {"relu": 0},
                      "unfinished": {"relu": 0}}, scores
