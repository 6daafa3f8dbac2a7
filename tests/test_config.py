"""A broken course_config.py stops every command with a message that says what to fix."""
import subprocess
import sys

import pytest

from conftest import REPO, make_course, run_cli
from graders.config import ConfigError
from graders.course import load_config

BROKEN = [
    ("x = 1 / 0\n", "ZeroDivisionError"),
    ("SANDBOX = {**SANDBOX, 'memory_gb': 'lots'}\n", "SANDBOX['memory_gb']"),
    ("SANBOX = {}\n", "SANBOX: unknown setting"),
    ("LANGUAGE = 'fr'\n", "LANGUAGE"),
    ("DEVICE = 'tpu'\n", "DEVICE"),
    ("ASSIGNMENTS['keras_mnist']['points']['layerz'] = 3\n", "layerz"),
    ("ASSIGNMENTS['keras_mnist']['thresholds']['accuracy_floor'] = 0.95\n", "accuracy_floor < accuracy_target"),
    ("DATA = {**DATA, 'split': {'train': 4000, 'test': 1000, 'hidden': 1000}}\n", "5,000"),
    ("def broken(:\n", "SyntaxError"),
]


@pytest.mark.parametrize("extra,needle", BROKEN)
def test_load_config_names_the_problem(tmp_path, extra, needle):
    root = make_course(tmp_path / "c", extra_config=extra)
    with pytest.raises(ConfigError) as info:
        load_config(root / "course_config.py")
    assert needle in str(info.value)
    assert "Fix" in str(info.value)


@pytest.mark.parametrize("extra,needle", BROKEN[:3])
def test_cli_and_plain_nbgrader_stop(tmp_path, extra, needle):
    root = make_course(tmp_path / "c", extra_config=extra)
    proc = run_cli(["scores"], root, check=False)
    assert proc.returncode == 2 and needle in proc.stderr
    nbgrader = subprocess.run([str(REPO / ".venv/bin/nbgrader"), "db", "student", "list"], cwd=root,
                              capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert nbgrader.returncode == 2, nbgrader.stdout + nbgrader.stderr
    assert needle in nbgrader.stderr and "[course config]" in nbgrader.stderr


def test_the_shipped_config_is_valid():
    cfg = load_config(REPO / "course_config.py")
    assert cfg.language == "ko" and "keras_mnist" in cfg.assignments
    assert cfg.assignment("keras_mnist").total_points == 12
