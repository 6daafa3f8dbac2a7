"""The grading farm at scale: parallel grader processes, PostgreSQL, resume after kill -9, Dask, GPU.

The session's graded course (conftest `graded_class`) was graded in one batch by three grader processes
into a real PostgreSQL server, with a broken file and a notebook that hangs among the Keras class.  Here
parts of it go through the farm again in other ways (serial, resumed, after kill -9 of the runner and of
grader processes, on a Dask cluster), and every way must give the grades the class is expected to get.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, assert_points, make_course, run_cli
from graders import demo
from graders.course import load_config
from graders.exercises.concepts_quiz import students as quiz
from graders.exercises.keras_mnist import students as keras

# the quiz class that the kill tests regrade (the session course holds the variety cases too)
QUIZ_CLASS = sorted(quiz.EXPECTED)


@pytest.fixture(scope="module")
def farm(graded_class):
    cfg = graded_class["cfg"]
    assert cfg.db_url.startswith("postgresql://")
    assert not cfg.sandbox.prestart      # the grader-death test finds the student on a kernel's command line
    return cfg


def _only(students):
    return [a for s in students for a in ("--student", s)]


def _checks(cfg, assignment):
    return {s: {n: r["score"] for n, r in c.items()} for s, c in demo.check_results(cfg, assignment).items()}


def _gradebook_rows(cfg, assignment):
    rows = json.loads(run_cli(["scores", "--json", "--assignment", assignment], cfg.root).stdout)
    return rows


def _assert_class(cfg, assignment, klass):
    got = _checks(cfg, assignment)
    for student, expected in klass.EXPECTED.items():
        assert_points(got[student], expected)
    # the gradebook holds every graded cell of every student exactly once
    rows = _gradebook_rows(cfg, assignment)
    keys = [(r["student"], r["notebook"], r["cell"]) for r in rows]
    assert len(keys) == len(set(keys)), "a grade is recorded twice"
    n_cells = len({r["cell"] for r in rows})
    for student in klass.EXPECTED:
        mine = [r for r in rows if r["student"] == student]
        assert len(mine) == n_cells, (student, len(mine), n_cells)
        assert all(r["auto_score"] is not None for r in mine), student
        low = sum(v[0] if isinstance(v, tuple) else v for v in klass.EXPECTED[student].values())
        high = sum(v[1] if isinstance(v, tuple) else v for v in klass.EXPECTED[student].values())
        assert low - 1e-9 <= sum(r["score"] for r in mine) <= high + 1e-9, student


def test_parallel_workers_grade_into_postgresql(farm, graded_class):
    proc = graded_class["batch"]
    assert int(proc.args[proc.args.index("--workers") + 1]) > 1          # graded by parallel grader processes
    # the broken file and the hanging notebook are reported; everybody else is graded
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken_json" in proc.stdout and "not a valid notebook" in proc.stdout
    _assert_class(farm, "keras_mnist", keras)
    hangs = _checks(farm, "keras_mnist")["hangs"]
    assert hangs["trained"] == 0 and hangs["layers"] == 3          # the honest parts keep their points
    summary = json.loads((farm.root / "autograded/hangs/keras_mnist/keras_mnist.checks.json").read_text())
    assert summary["run"]["kernel_dead"] or summary["run"]["notebook_timed_out"] or \
        "Timeout" in (farm.root / "autograded/hangs/keras_mnist/keras_mnist.ipynb").read_text()


def test_parallel_grades_equal_serial_grades(farm):
    parallel = _checks(farm, "keras_mnist")
    proc = run_cli(["autograde", "keras_mnist", "--force", "--quiet", "--student", "ref", "--student", "wrong_loss",
                    "--student", "missing_softmax"], farm.root)
    assert "graded 3/3" in proc.stdout
    serial = _checks(farm, "keras_mnist")
    for student in ("ref", "wrong_loss", "missing_softmax"):
        assert serial[student] == parallel[student]


def _graded_at(cfg, assignment) -> dict:
    return {p.parent.parent.name: json.loads(p.read_text())["graded_at"]
            for p in (cfg.root / "autograded").glob(f"*/{assignment}/.graded.json")}


def test_rerun_skips_what_is_graded_and_unchanged(farm):
    before = _graded_at(farm, "keras_mnist")
    proc = run_cli(["autograde", "keras_mnist", "--workers", "2", "--quiet"], farm.root, check=False)
    assert f"{len(before)} unchanged since their last grading, skipped" in proc.stdout, proc.stdout
    # the submissions that failed (broken file) are tried again; the graded ones are not touched
    assert _graded_at(farm, "keras_mnist") == before
    _assert_class(farm, "keras_mnist", keras)
    # a new upload is graded again even without --force
    folder = farm.root / "submitted/not_trained/keras_mnist"
    demo.submit(farm, "keras_mnist", who={"not_trained": {**keras.REFERENCE}})
    proc = run_cli(["autograde", "keras_mnist", "--quiet", "--student", "not_trained", "--student", "ref"], farm.root)
    assert "1 unchanged" in proc.stdout
    assert sum(_checks(farm, "keras_mnist")["not_trained"].values()) == 12
    demo.submit(farm, "keras_mnist", who={"not_trained": demo.students("keras_mnist")["not_trained"]})
    run_cli(["autograde", "keras_mnist", "--quiet", "--student", "not_trained"], farm.root)
    assert folder.is_dir()


def _our_processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if marker in l and "ps -eo" not in l]


def _start_batch(cfg, assignment, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(cfg.root / "tmp")}
    (cfg.root / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "graders", "--config", str(cfg.root / "course_config.py"),
                             "autograde", assignment, "--quiet", *extra], cwd=cfg.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _quiz_ledgers(cfg) -> list[Path]:
    return [p for s in QUIZ_CLASS if (p := cfg.root / f"autograded/{s}/concepts_quiz/.graded.json").exists()]


def test_kill_9_of_the_runner_then_rerun_keeps_every_grade_once(farm):
    for ledger in _quiz_ledgers(farm):
        ledger.unlink()
    proc = _start_batch(farm, "concepts_quiz", "--workers", "2", "--force", *_only(QUIZ_CLASS))
    deadline = time.time() + 240
    while not _quiz_ledgers(farm):
        assert time.time() < deadline and proc.poll() is None, "the batch made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(3)
    # the grader processes and their sandboxed kernels died with the runner
    assert _our_processes(str(farm.root / "tmp")) == []
    done_before = len(_quiz_ledgers(farm))
    assert done_before < len(QUIZ_CLASS), "the kill came too late to test anything"
    proc = run_cli(["autograde", "concepts_quiz", "--workers", "2", "--quiet", *_only(QUIZ_CLASS)], farm.root)
    assert f"{done_before} unchanged" in proc.stdout, proc.stdout
    assert f"graded {len(QUIZ_CLASS)}/{len(QUIZ_CLASS)}" in proc.stdout, proc.stdout
    _assert_class(farm, "concepts_quiz", quiz)


def _grader_processes(runner_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(runner_pid)], capture_output=True, text=True).stdout.split()
    # grader processes run `spawn_main`; the resource tracker does not.  A process listed may be gone
    # by the time it is read (one just killed, reaped by the runner meanwhile): it is no grader now
    found = []
    for p in out:
        try:
            cmdline = Path(f"/proc/{p}/cmdline").read_text(errors="ignore")
        except OSError:
            continue
        if "spawn_main" in cmdline:
            found.append(int(p))
    return found


def _descendants(pid: int, depth: int = 6) -> list[int]:
    out, level = [], [pid]
    for _ in range(depth):
        level = [int(c) for p in level
                 for c in subprocess.run(["pgrep", "-P", str(p)], capture_output=True, text=True).stdout.split()]
        out += level
    return out


def _student_in_kernel(pid: int) -> str | None:
    """The student whose notebook a grader process runs now: DLCOURSE_STUDENT on its bwrap child's command line
    (a cold sandbox), or in the environment of the kernel its warm parent forked (farm/warm)."""
    for child in _descendants(pid):
        try:
            args = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"bwrap") for a in args[:8]):
            for i, a in enumerate(args[:-2]):
                if a == b"--setenv" and args[i + 1] == b"DLCOURSE_STUDENT":
                    return args[i + 2].decode()
        for var in env:
            if var.startswith(b"DLCOURSE_STUDENT="):
                return var.split(b"=", 1)[1].decode()
    return None


@contextlib.contextmanager
def _cold(cfg):
    """The farm's course graded with SANDBOX['warm_parents'] off while the block runs (the test picks the
    grader process to kill by the student on its bwrap kernel's command line, which a warm kernel has not;
    a warm parent's death is tested in test_warm.py)."""
    path = cfg.root / "course_config.py"
    text = path.read_text()
    path.write_text(text + "\nSANDBOX = {**SANDBOX, 'warm_parents': False}\n")
    try:
        yield
    finally:
        path.write_text(text)


def test_three_grader_deaths_charge_only_what_each_held(farm):
    """kill -9 of grader processes that each hold a different submission: each of those (and only those) is
    charged one attempt and graded again; the rest of the batch is not charged and is graded once."""
    with _cold(farm):
        _three_grader_deaths(farm)


def _three_grader_deaths(farm):
    n = len(QUIZ_CLASS)
    proc = _start_batch(farm, "concepts_quiz", "--workers", "2", "--force", *_only(QUIZ_CLASS))
    deadline = time.time() + 900                         # a guard against a batch that never starts, not a timing
    killed = {}                                          # student -> when its grader process was killed
    while len(killed) < 3:
        assert time.time() < deadline and proc.poll() is None, f"killed only {killed} before the batch ended"
        for pid in _grader_processes(proc.pid):
            student = _student_in_kernel(pid)
            if student and student not in killed:
                os.kill(pid, signal.SIGKILL)
                killed[student] = time.time()
                break
        time.sleep(0.05)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    died = [l for l in output.splitlines() if "a grader process died" in l]
    assert len(died) == 3, output                       # three deaths, three submissions charged
    for student, when in killed.items():
        line = next((l for l in died if f"while grading concepts_quiz/{student};" in l), None)
        assert line and "exit -9" in line and "graded again (attempt 2 of 3)" in line, (student, died)
        ledger = json.loads((farm.root / f"autograded/{student}/concepts_quiz/.graded.json").read_text())
        assert ledger["graded_at"] > when, f"{student} was in flight when its process died but was not regraded"
    assert f"graded {n}/{n}" in output, output
    _assert_class(farm, "concepts_quiz", quiz)


def test_dask_cluster_runs_the_kernels(farm, dask_cluster):
    students = ["ref", "wrong_units", "not_trained", "unfinished"]
    args = ["autograde", "keras_mnist", "--scheduler", dask_cluster["address"], "--force", "--quiet"]
    for s in students:
        args += ["--student", s]
    proc = run_cli(args, farm.root)
    assert "graded 4/4" in proc.stdout
    got = _checks(farm, "keras_mnist")
    for s in students:
        assert_points(got[s], keras.EXPECTED[s])
    used = set()
    for s in students:
        run = json.loads((farm.root / f"autograded/{s}/keras_mnist/keras_mnist.checks.json").read_text())["run"]
        assert run["sandboxed"] is True
        used.add(run["worker"])
    assert used <= set(dask_cluster["workers"]) and len(used) == 2, (used, dask_cluster["workers"])


def test_dask_without_grading_slots_is_a_clear_error(farm, dask_cluster):
    from conftest import free_port
    proc = run_cli(["autograde", "keras_mnist", "--scheduler", f"tcp://127.0.0.1:{free_port()}", "--quiet"],
                   farm.root, check=False)
    assert proc.returncode == 2 and "cannot reach the Dask scheduler" in proc.stderr


def _cuda() -> str | None:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA device on this machine (torch.cuda.is_available() is False)"
    return None


@pytest.mark.skipif(_cuda() is not None, reason=f"GPU test: {_cuda()}")
def test_reference_grades_are_the_same_on_gpu_and_cpu(tmp_path):
    grades = {}
    for device in ("cpu", "cuda"):
        root = make_course(tmp_path / device, f"DEVICE = {device!r}\n")
        cfg = load_config(root / "course_config.py")
        for assignment in ("keras_mnist", "pytorch_mnist"):
            run_cli(["release", assignment], root)
            demo.submit(cfg, assignment, who={"ref": demo.students(assignment)["ref"]})
            run_cli(["autograde", assignment, "--quiet"], root)
            grades[(device, assignment)] = _checks(cfg, assignment)["ref"]
    for assignment in ("keras_mnist", "pytorch_mnist"):
        assert grades[("cuda", assignment)] == grades[("cpu", assignment)]


def test_a_kernel_is_started_ahead_only_when_a_submission_follows():
    """The runner tells each grader process what comes next; after the last one no kernel is started
    ahead (it would only cost a kernel start and the imports, and the process's exit would wait for it)."""
    from graders.farm import execute
    saved = dict(execute._NEXT)
    try:
        assert execute._next_may_be("keras_mnist")                 # plain nbgrader: nothing said, as before
        execute.expect_next("keras_mnist")
        assert execute._next_may_be("keras_mnist") and not execute._next_may_be("concepts_quiz")
        execute.expect_next(None)
        assert not execute._next_may_be("keras_mnist")
    finally:
        execute._NEXT.update(saved)
