"""End to end: each simulated class graded through the real pipeline gets exactly its points."""
import json

import nbformat
import pytest

from conftest import EXTRA_STUDENTS, assert_points
from graders.demo import CLASSES
from graders.exercises.keras_mnist import students as klass

STUDENTS = sorted(klass.EXPECTED)
CASES = [(a, s) for a, mod in CLASSES.items() for s in sorted(mod.EXPECTED)]


def test_batch_goes_on_past_a_broken_notebook(graded_class):
    proc = graded_class["autograde"]["keras_mnist"]
    # the broken file is reported with a clear, per-submission message ...
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken_json" in proc.stdout
    assert "is not a valid notebook" in proc.stdout and "resubmit" in proc.stdout
    # ... and every other submission is graded
    assert set(graded_class["checks"]["keras_mnist"]) == set(STUDENTS) | EXTRA_STUDENTS["keras_mnist"]


@pytest.mark.parametrize("assignment,student", CASES)
def test_each_student_gets_exactly_the_expected_points(graded_class, assignment, student):
    checks = graded_class["checks"][assignment][student]
    assert_points({name: r["score"] for name, r in checks.items()}, CLASSES[assignment].EXPECTED[student])


@pytest.mark.parametrize("assignment", [a for a in CLASSES if a != "keras_mnist"])
def test_other_batches_grade_every_student(graded_class, assignment):
    # one batch grades every exercise: the only submission it reports is the keras file that is not JSON
    out = graded_class["autograde"][assignment].stdout
    failed = [l for l in out.splitlines() if "✗" in l]
    assert failed and all("broken_json" in l for l in failed), out[-3000:]
    assert f"{assignment}: graded" in out, out[-3000:]
    extra = EXTRA_STUDENTS.get(assignment, set())     # test-only students (conftest)
    assert set(graded_class["checks"][assignment]) == set(CLASSES[assignment].EXPECTED) | extra


def test_reference_gets_full_marks_in_the_gradebook(graded_class):
    rows = [r for r in graded_class["scores"] if r["student"] == "ref" and r["assignment"] == "keras_mnist"]
    assert {r["cell"] for r in rows} == {"check_model", "check_compile", "check_training", "check_evaluate"}
    assert sum(r["score"] for r in rows) == sum(r["max_score"] for r in rows) == 12


def test_scores_json_has_one_object_per_graded_cell(graded_class):
    rows = graded_class["scores"]
    assert isinstance(rows, list) and rows
    for r in rows:
        assert {"student", "assignment", "notebook", "cell", "score", "max_score"} <= set(r)
    for assignment, by_student in graded_class["all_checks"].items():      # the class and the variety cases
        mine = [r for r in rows if r["assignment"] == assignment]
        assert {r["student"] for r in mine} == set(by_student)    # broken_json has no grades
        n_cells = len({r["cell"] for r in mine})
        assert len(mine) == n_cells * len(by_student)
        # gradebook totals agree with the check results of each student
        for student, checks in by_student.items():
            total = sum(r["score"] for r in mine if r["student"] == student)
            assert total == pytest.approx(sum(c["score"] for c in checks.values()))


def test_stderr_costs_nothing(graded_class):
    scores = {n: r["score"] for n, r in graded_class["checks"]["keras_mnist"]["stderr_noise"].items()}
    assert scores == klass.EXPECTED["ref"]
    nb = nbformat.read(graded_class["cfg"].root / "autograded/stderr_noise/keras_mnist/keras_mnist.ipynb", 4)
    stderr = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert stderr, "the student wrote to stderr; the executed notebook should show it"


def test_failing_checks_say_expected_found_and_hint_in_korean(graded_class):
    checks = graded_class["checks"]["keras_mnist"]
    loss = checks["wrong_loss"]["loss"]
    assert loss["expected"] == "sparse_categorical_crossentropy"
    assert loss["found"] == "categorical_crossentropy"
    assert "정수" in loss["hint"]
    layers = checks["missing_softmax"]["layers"]
    assert "softmax" in layers["expected"] and "linear" in layers["found"]
    # the student's own error is named where it explains a lost point
    trained = checks["syntax_error"]["trained"]
    assert "SyntaxError" in (trained["note"] or "")


def test_graded_cells_show_messages_not_hidden_code(graded_class):
    root = graded_class["cfg"].root
    nb = nbformat.read(root / "autograded/wrong_units/keras_mnist/keras_mnist.ipynb", 4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_model"][0]
    text = "".join(o.get("text", "") for o in graded.outputs)
    assert "layers (0/3점)" in text and "힌트" in text
    assert all(o["output_type"] == "stream" for o in graded.outputs)


def test_hidden_accuracy_is_measured_by_the_grader(graded_class):
    acc = graded_class["checks"]["keras_mnist"]["ref"]["hidden_accuracy"]
    assert "1000개" in acc["found"]
    value = float(acc["found"].split("정확도 ")[1].split("%")[0]) / 100
    assert 0.85 <= value <= 1.0
    # a forged `test_acc` cannot buy the evaluate points: it must match the grader's own measurement
    assert graded_class["checks"]["keras_mnist"]["cell_raises"]["evaluated"]["score"] == 0


def test_self_checks_run_in_the_released_notebook(graded_class):
    root = graded_class["cfg"].root

    def selfcheck_text(student, cell_id):
        nb = nbformat.read(root / f"autograded/{student}/keras_mnist/keras_mnist.ipynb", 4)
        cell = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell_id][0]
        return "".join(o.get("text", "") for o in cell.outputs)

    assert "✅" in selfcheck_text("ref", "model_selfcheck")
    assert "✅" in selfcheck_text("ref", "train_selfcheck")
    bad = selfcheck_text("wrong_units", "model_selfcheck")
    assert "❌" in bad and "기대한 것" in bad and "힌트" in bad
    assert "❌" in selfcheck_text("wrong_loss", "compile_selfcheck")
    assert "❌" in selfcheck_text("not_trained", "train_selfcheck")
    # released notebook carries the self-check cells, not the solutions
    release = nbformat.read(root / "release/keras_mnist/keras_mnist.ipynb", 4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in release.cells}
    assert by_id["model_selfcheck"].endswith("check.keras_model(model)")
    assert "raise NotImplementedError()" in by_id["model_def"] and "Dense(128" not in by_id["model_def"]


def test_plain_nbgrader_grades_the_same_way(graded_class, tmp_path):
    """`nbgrader autograde` in the course root uses the course's sandbox and scorers too."""
    import csv
    import json
    import subprocess

    from conftest import REPO

    cfg = graded_class["cfg"]
    checks_file = cfg.root / "autograded/not_trained/keras_mnist/keras_mnist.checks.json"
    checks_file.unlink()
    env = {"PYTHONPATH": str(REPO), "PATH": f"{REPO / '.venv/bin'}:/usr/bin:/bin"}
    proc = subprocess.run(["nbgrader", "autograde", "keras_mnist", "--student", "not_trained", "--force"],
                          cwd=cfg.root, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(checks_file.read_text())
    assert data["run"]["sandboxed"] is True
    scores = {r["check"]: r["score"] for rs in data["cells"].values() for r in rs}
    assert scores == klass.EXPECTED["not_trained"]
    # nbgrader's own export sees the grades
    out = tmp_path / "grades.csv"
    proc = subprocess.run(["nbgrader", "export", "--to", str(out)], cwd=cfg.root, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["student_id"]: r for r in csv.DictReader(out.open()) if r["assignment"] == "keras_mnist"}
    assert float(rows["ref"]["score"]) == 12.0 and float(rows["ref"]["max_score"]) == 12.0
    assert float(rows["not_trained"]["score"]) == sum(klass.EXPECTED["not_trained"].values())


def _cell_text(root, student, assignment, cell_id):
    nb = nbformat.read(root / f"autograded/{student}/{assignment}/{assignment}.ipynb", 4)
    cell = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell_id][0]
    return "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("assignment", [a for a in CLASSES if a != "concepts_quiz"])   # quiz: test_quiz.py
def test_reference_passes_every_self_check(graded_class, assignment):
    root = graded_class["cfg"].root
    nb = nbformat.read(root / f"autograded/ref/{assignment}/{assignment}.ipynb", 4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
           if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_selfcheck")]
    assert ids, "the notebook has self-check cells"
    for cell_id in ids:
        text = _cell_text(root, "ref", assignment, cell_id)
        assert "✅" in text and "❌" not in text, (cell_id, text)


@pytest.mark.parametrize("assignment,student,cell_id", [
    ("pytorch_mnist", "missing_zero_grad", "loop_selfcheck"),
    ("pytorch_mnist", "softmax_before_ce", "model_selfcheck"),
    ("fastai_transfer", "wrong_classes", "learner_selfcheck"),
    ("fastai_transfer", "no_metric", "learner_selfcheck"),
    ("transformers_pipeline", "returns_scores", "labels_selfcheck"),
    ("transformers_pipeline", "threshold_reversed", "confident_selfcheck"),
])
def test_self_checks_catch_the_mistake(graded_class, assignment, student, cell_id):
    text = _cell_text(graded_class["cfg"].root, student, assignment, cell_id)
    assert "❌" in text and "힌트" in text, text
