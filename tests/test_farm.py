"""The grading farm at scale: parallel grader processes, PostgreSQL, resume after kill -9, Dask, GPU.

The session's graded course (conftest `graded_class`) was graded in one batch by three grader processes
into a real PostgreSQL server, with a broken file and a notebook that hangs among the Keras class.  Here
parts of it go through the farm again in other ways (serial, resumed, on a Dask cluster), and every way must
give the grades the class is expected to get.  kill -9 of the runner and of grader processes: test_farm_kills.py.
"""
from __future__ import annotations

import json

import pytest

from conftest import assert_class_graded, assert_points, class_points, cold_course, make_course, run_cli
from graders import demo
from graders.course import load_config
from graders.exercises.keras_mnist import students as keras


@pytest.fixture(scope="module")
def farm(graded_class):
    cfg = graded_class["cfg"]
    assert cfg.db_url.startswith("postgresql://")
    return cfg


def test_parallel_workers_grade_into_postgresql(farm, graded_class):
    proc = graded_class["batch"]
    assert int(proc.args[proc.args.index("--workers") + 1]) > 1          # graded by parallel grader processes
    # the broken file and the hanging notebook are reported; everybody else is graded
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken_json" in proc.stdout and "not a valid notebook" in proc.stdout
    assert_class_graded(farm, "keras_mnist", keras)
    hangs = class_points(farm, "keras_mnist")["hangs"]
    assert hangs["trained"] == 0 and hangs["layers"] == 3          # the honest parts keep their points
    summary = json.loads((farm.root / "autograded/hangs/keras_mnist/keras_mnist.checks.json").read_text())
    assert summary["run"]["kernel_dead"] or summary["run"]["notebook_timed_out"] or \
        "Timeout" in (farm.root / "autograded/hangs/keras_mnist/keras_mnist.ipynb").read_text()


def test_serial_cold_grades_equal_parallel_warm_grades(farm):
    """Three Keras students graded again by one grader process with warm parents off (a cold sandbox for each
    kernel and each scoring job) get exactly the points the parallel batch gave them on the warm path."""
    students = ("ref", "wrong_loss", "missing_softmax")
    parallel = class_points(farm, "keras_mnist")
    for s in students:
        run = json.loads((farm.root / f"autograded/{s}/keras_mnist/keras_mnist.checks.json").read_text())["run"]
        assert run["warm"] is True and run["measure_paths"] == ["warm"], run        # the batch ran warm
    with cold_course(farm):
        only = [a for s in students for a in ("--student", s)]
        proc = run_cli(["autograde", "keras_mnist", "--force", "--quiet", *only], farm.root)
    assert "graded 3/3" in proc.stdout
    serial = class_points(farm, "keras_mnist")
    for s in students:
        run = json.loads((farm.root / f"autograded/{s}/keras_mnist/keras_mnist.checks.json").read_text())["run"]
        assert not run.get("warm") and run["measure_paths"] == ["cold"], run         # this time cold
        assert serial[s] == parallel[s], (s, serial[s], parallel[s])


def _graded_at(cfg, assignment) -> dict:
    return {p.parent.parent.name: json.loads(p.read_text())["graded_at"]
            for p in (cfg.root / "autograded").glob(f"*/{assignment}/.graded.json")}


def test_rerun_skips_what_is_graded_and_unchanged(farm):
    before = _graded_at(farm, "keras_mnist")
    proc = run_cli(["autograde", "keras_mnist", "--workers", "2", "--quiet"], farm.root, check=False)
    assert f"{len(before)} unchanged since their last grading, skipped" in proc.stdout, proc.stdout
    # the submissions that failed (broken file) are tried again; the graded ones are not touched
    assert _graded_at(farm, "keras_mnist") == before
    assert_class_graded(farm, "keras_mnist", keras)
    # a new upload is graded again even without --force
    folder = farm.root / "submitted/not_trained/keras_mnist"
    demo.submit(farm, "keras_mnist", who={"not_trained": {**keras.REFERENCE}})
    proc = run_cli(["autograde", "keras_mnist", "--quiet", "--student", "not_trained", "--student", "ref"], farm.root)
    assert "1 unchanged" in proc.stdout
    assert sum(class_points(farm, "keras_mnist")["not_trained"].values()) == 12
    demo.submit(farm, "keras_mnist", who={"not_trained": demo.students("keras_mnist")["not_trained"]})
    run_cli(["autograde", "keras_mnist", "--quiet", "--student", "not_trained"], farm.root)
    assert folder.is_dir()


def test_dask_cluster_runs_the_kernels(farm, dask_cluster):
    students = ["ref", "wrong_units", "not_trained", "unfinished"]
    args = ["autograde", "keras_mnist", "--scheduler", dask_cluster["address"], "--force", "--quiet"]
    for s in students:
        args += ["--student", s]
    proc = run_cli(args, farm.root)
    assert "graded 4/4" in proc.stdout
    got = class_points(farm, "keras_mnist")
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
            grades[(device, assignment)] = class_points(cfg, assignment)["ref"]
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
