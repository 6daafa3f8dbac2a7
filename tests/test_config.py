"""A broken course_config.py stops every command with a message that says what to fix."""
import os
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


# ── the declaration (graders/config_schema.py): messages, the reference, the README table ──
MESSAGES = [   # the whole message after the file's path: the course's form, word for word
    ("LMS = {'timezone': 'Mars/Olympus'}\n", "setting LMS['timezone']: 'Mars/Olympus' is not a time zone. "
     "Fix: use a name such as 'Asia/Seoul' or an offset such as '+09:00'"),
    ("SANDBOX = {**SANDBOX, 'cpu_seconds': -1}\n", "setting SANDBOX['cpu_seconds']: got -1. Fix: a positive number"),
    ("SANDBOX = {**SANDBOX, 'memory_gb': 3}\n", "setting SANDBOX['memory_gb']: 3 GiB is too small. "
     "Fix: use at least 4: importing torch reserves about 4 GiB of address space"),
    ("GPU = [2]\n", "setting GPU: got [2] of type list. Fix: a dict such as {'kernels_per_gpu': 1}"),
    ("ASSIGNMENTS['keras_mnist']['points']['layers'] = -3\n",
     "setting ASSIGNMENTS['keras_mnist']['points']['layers']: got -3. Fix: a number >= 0"),
    ("DATA = {**DATA, 'split': {'train': 10, 'test': 1000}}\n",
     "setting DATA['split']['hidden']: missing. Fix: a positive whole number of images"),
    ("EXTENSIONS = {'kim01': {'keras_mnist': '12/06/2026'}}\n", "setting EXTENSIONS['kim01']['keras_mnist']: "
     "got '12/06/2026'. Fix: the new due date with its UTC offset, e.g. '2026-12-06 23:59:00+09:00'"),
    ("SANDBOX = {**SANDBOX, 'memroy_gb': 9}\n", "setting SANDBOX['memroy_gb']: unknown key. Fix: use one of enabled, "
     "memory_gb, cpu_seconds, cell_timeout_s, notebook_timeout_s, max_artifact_mb, threads, prestart, disk_mb, "
     "max_pids, warm_parents (did you mean memory_gb?)"),
    ("ASSIGNMENTS['keras_mnist']['treshold'] = {}\n", "setting ASSIGNMENTS['keras_mnist']['treshold']: unknown key. "
     "Fix: use one of title, notebooks, due, points, thresholds, kind, visibility (did you mean thresholds?)"),
    ("WATCH = {'workers': True}\n", "setting WATCH['workers']: got True. "
     "Fix: a whole number of grader processes, 1 or more"),
]


@pytest.mark.parametrize("extra,message", MESSAGES)
def test_schema_errors_keep_the_course_message_form(tmp_path, extra, message):
    from graders.config import read_config
    root = make_course(tmp_path / "c", extra_config=extra)
    with pytest.raises(ConfigError) as info:
        read_config(root / "course_config.py")
    assert str(info.value) == f"{(root / 'course_config.py').resolve()}: {message}"


def test_every_setting_of_the_reference_has_a_meaning():
    from graders.config_schema import CourseSettings, Section, reference, setting
    rows = reference()
    names = [row[0] for row in rows]
    assert len(names) == len(set(names)) > 40
    for expected in ("COURSE_ID", "SANDBOX['memory_gb']", "WATCH['feedback_timeout_s']", "DATA['split']['hidden']",
                     "ASSIGNMENTS[name]['thresholds']", "LATE_POLICY['grace_minutes']", "GPU['kernels_per_gpu']"):
        assert expected in names
    assert set(CourseSettings.model_fields) <= set(names)
    undescribed = [name for name, _, _, meaning in rows if not meaning.strip()]
    assert undescribed == []

    class Undescribed(Section):        # negative control: a setting declared without a meaning is found
        x: int = setting(1)
    assert reference(Undescribed, "NEW") == [("NEW['x']", "int", "`1`", "")]


def test_the_readme_settings_table_is_the_generated_one():
    from graders.config_schema import markdown
    text = (REPO / "README.md").read_text()
    start, end = "<!-- settings-table: generated by `python -m graders config --schema --markdown` -->\n", \
        "<!-- /settings-table -->"
    assert start in text and end in text
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table == markdown(), "README's settings table is stale: paste `python -m graders config --schema " \
                                "--markdown` between its markers"


def test_config_command_checks_and_prints_the_reference():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "graders", "config", "--schema", "--markdown"], cwd=REPO,
                         capture_output=True, text=True, env=env, timeout=300)
    from graders.config_schema import markdown
    assert out.returncode == 0 and out.stdout == markdown(), out.stderr
    plain = subprocess.run([sys.executable, "-m", "graders", "config", "--schema"], cwd=REPO, capture_output=True,
                           text=True, env=env, timeout=300)
    assert "SANDBOX['memory_gb']  [number (≥ 4); default 8]" in plain.stdout, plain.stdout[:2000]
    checked = subprocess.run([sys.executable, "-m", "graders", "config"], cwd=REPO, capture_output=True, text=True,
                             env=env, timeout=300)
    count = len(load_config(REPO / "course_config.py").assignments)
    assert checked.returncode == 0 and f"valid ({count} assignments)" in checked.stdout, checked.stderr
