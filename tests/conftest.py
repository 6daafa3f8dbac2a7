"""Shared fixtures: a throw-away course root graded through the real pipeline.

The course root is a temporary folder with its own course_config.py, source/,
nbgrader_config.py and gradebook; the built assets of the checkout are reused.
The whole simulated class (plus two test-only students) is released, submitted,
autograded in the sandbox and given feedback once per test session, through
`python -m graders` as staff would run it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders.config import load_config  # noqa: E402


def run_cli(args, root: Path, check=True, env=None, timeout=1200):
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "graders", "--config", str(root / "course_config.py"), *args],
                          cwd=root, capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"graders {args} exited {proc.returncode}\nSTDOUT:\n{proc.stdout[-4000:]}\n"
                             f"STDERR:\n{proc.stderr[-4000:]}")
    return proc


def make_course(root: Path, extra_config: str = "") -> Path:
    """A course root in `root` that shares the checkout's source/ and built assets."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "source", root / "source", dirs_exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    cache = load_config(REPO / "course_config.py").cache_dir
    text = (REPO / "course_config.py").read_text()
    text += f"\nDATA = {{**DATA, 'cache_dir': {str(cache)!r}}}\n" + extra_config
    (root / "course_config.py").write_text(text)
    return root


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    return load_config(root / "course_config.py")


def _extra_students(cfg):
    """Test-only students: stderr noise in every answer, and a file that is not JSON."""
    from graders import demo
    from graders.demo import keras_mnist as k

    noisy = {cell: "import sys; print('경고: stderr 출력', file=sys.stderr)\n" + code
             for cell, code in k.REFERENCE.items()}
    demo.submit(cfg, "keras_mnist", who={"stderr_noise": noisy})
    bad = cfg.root / "submitted" / "broken_json" / "keras_mnist"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "keras_mnist.ipynb").write_text('{"cells": [ {"cell_type": "code", "source": "x = 1"')
    (bad / "timestamp.txt").write_text("2026-11-24 10:00:00.000000 UTC")


@pytest.fixture(scope="session")
def graded_class(course):
    """For every exercise: release → simulated class submits → autograde (sandboxed) → feedback."""
    from graders import demo

    autograde, students, checks = {}, {}, {}
    for assignment in demo.CLASSES:
        run_cli(["release", assignment], course.root)
        students[assignment] = demo.submit(course, assignment)
        if assignment == "keras_mnist":
            _extra_students(course)
        if assignment == "concepts_quiz":   # a second all-right student on a differently shuffled paper
            from graders.demo import concepts_quiz as q
            demo.submit(course, assignment, who={"twin": q.answers_for("twin", q.REFERENCE)})
        autograde[assignment] = run_cli(["autograde", assignment, "--quiet"], course.root, check=False)
        checks[assignment] = demo.check_results(course, assignment)
    feedback = run_cli(["feedback"], course.root, check=False)
    scores = run_cli(["scores", "--json"], course.root)
    return {
        "cfg": course,
        "students": students,
        "autograde": autograde,
        "feedback": feedback,
        "scores": json.loads(scores.stdout),
        "checks": checks,
    }


def assert_points(got: dict, expected: dict) -> None:
    """Exact points per check; a (low, high) pair allows a partial-credit range."""
    assert set(got) == set(expected), (got, expected)
    for check, want in expected.items():
        if isinstance(want, tuple):
            assert want[0] <= got[check] <= want[1], (check, got[check], want)
        else:
            assert got[check] == pytest.approx(want), (check, got[check], want)
