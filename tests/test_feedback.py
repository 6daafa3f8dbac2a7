"""Feedback HTML: points and messages, nothing from the grader zone."""
import re

import nbformat
import numpy as np

from graders.release import check_release

HIDDEN_MARKERS = ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "_export", "dlcourse import export", "import export as",
                  "dlcourse import artifacts as",
                  "keras_training(", "torch_loop_probe(", "BEGIN SOLUTION"]


def _feedback_files(cfg, assignment="keras_mnist"):
    return sorted((cfg.root / "feedback").glob(f"*/{assignment}/*.html"))


def test_feedback_written_for_every_graded_student(graded_class):
    assert graded_class["feedback"].returncode == 0, graded_class["feedback"].stdout
    for assignment, graded in graded_class["all_checks"].items():      # the class and the variety cases
        names = {p.parts[-3] for p in _feedback_files(graded_class["cfg"], assignment)}
        assert names == set(graded), assignment


def test_feedback_has_no_hidden_text(graded_class):
    cfg = graded_class["cfg"]
    # the hidden labels: a long digit string from them must not appear either
    with np.load(cfg.secret_dir / "mnist_hidden.npz") as d:
        labels = "".join(map(str, d["y"][:40]))
    for path in _feedback_files(cfg) + _feedback_files(cfg, "pytorch_mnist"):
        html = path.read_text()
        for marker in HIDDEN_MARKERS:
            assert marker not in html, f"{marker!r} leaked into {path}"
        assert labels not in html
        assert (cfg.secret_dir.as_posix()) not in html


def test_feedback_shows_points_and_korean_messages(graded_class):
    cfg = graded_class["cfg"]
    html = (cfg.root / "feedback/wrong_loss/keras_mnist/keras_mnist.html").read_text()
    assert "sparse_categorical_crossentropy" in html
    assert "힌트" in html and "기대" in html
    assert re.search(r"5(\.0)?\s*/\s*12", html), "total score shown"
    # no traceback from the hidden cells: the only errors shown are the student's own cells
    nb = nbformat.read(cfg.root / "autograded/wrong_loss/keras_mnist/keras_mnist.ipynb", 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            assert all(o["output_type"] == "stream" for o in cell.get("outputs", []))


def test_release_has_no_solutions_or_hidden_code(graded_class):
    cfg = graded_class["cfg"]
    assert check_release(cfg.root / "release") == []
    text = (cfg.root / "release/keras_mnist/keras_mnist.ipynb").read_text()
    assert "raise NotImplementedError()" in text
    assert "sparse_categorical_crossentropy'," not in text.split("## (b)")[1].split("check.keras_compile")[0]


def test_committed_release_matches_the_source(graded_class):
    """release/ is what students get: it must be the release of the current source/."""
    import nbformat
    from conftest import REPO

    for assignment in graded_class["checks"]:
        fresh = nbformat.read(graded_class["cfg"].root / f"release/{assignment}/{assignment}.ipynb", 4)
        committed = nbformat.read(REPO / f"release/{assignment}/{assignment}.ipynb", 4)
        assert [c.source for c in committed.cells] == [c.source for c in fresh.cells], \
            f"release/{assignment} is out of date: run `make release` and commit it"


def test_feedback_folder_holds_only_what_the_student_should_get(graded_class):
    cfg = graded_class["cfg"]
    for folder in (cfg.root / "feedback").glob("*/*"):
        names = {p.name for p in folder.iterdir()}
        assert not names & {".autograde.log", ".graded.json"}, f"grader files in {folder}: {names}"
        assert not any(n.endswith(".checks.json") for n in names), folder


def test_feedback_reads_on_a_phone(graded_class, browser):
    """A student opens the feedback on a phone: no sideways scrolling, readable text, the
    Korean messages and the quiz explanations, nothing fetched from the internet."""
    from conftest import screenshot

    cfg = graded_class["cfg"]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="ko-KR")
    page = ctx.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        for student, assignment, expect in [("wrong_units", "keras_mnist", ["기대", "실제", "힌트"]),
                                             ("partial_credit", "concepts_quiz", ["해설", "🟡"])]:
            path = cfg.root / "feedback" / student / assignment / f"{assignment}.html"
            page.goto(path.as_uri())
            assert page.locator("meta[name=viewport]").count() == 1
            width, inner, font = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth,"
                " parseFloat(getComputedStyle(document.body).fontSize)]")
            assert width <= inner, f"{path.name}: page is {width}px wide on a {inner}px screen"
            assert font >= 15, f"{path.name}: body text {font}px"
            text = page.inner_text("body")
            for word in expect:
                assert word in text, f"{word!r} missing from the feedback of {student}/{assignment}"
            for marker in HIDDEN_MARKERS:
                assert marker not in text
            page.locator(f"text={expect[0]}").first.scroll_into_view_if_needed()
            screenshot(page, f"feedback_phone_{assignment}")
        outside = [u for u in requested if not u.startswith(("file:", "data:"))]
        assert not outside, f"the feedback page fetched {outside}"
    finally:
        ctx.close()
