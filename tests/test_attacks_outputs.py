"""Output and batch attacks (issue #13, docs/attacks.md "Output and batch attacks").

Real submissions graded through the real commands in one throw-away course: concepts_quiz and
transformers_pipeline in one `autograde --workers 2` batch, then `feedback` and `export --csv`.

- `q_xss`: quiz answers that display HTML with onerror, JavaScript, an SVG with script, markdown with
  a script, an error whose message is HTML, and an added markdown cell with raw HTML/script.  Opened
  in Chromium — the real formgrader page (staff, `graders lab`) and the real feedback page — no
  marker is set.
- `q_deep`: 100,000-deep nested JSON in the notebook's metadata; `q_dir`: the notebook is a folder
  (an error nothing expects).  Both are reported for that student only, with a staff log; the rest
  is graded; a rerun reports them again and does not stop.
- `t_echo`: prints the hidden reviews (`/opt/dlcourse-grading/sentiment_texts.json`) from its own
  cells and raises them in an error: neither the feedback nor the graded notebook holds them.
- `=1+2` (a student id): the CSV export does not turn it into a formula.
"""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from conftest import make_course, run_cli

MARK = "PWNED"
HIDDEN = "/opt/dlcourse-grading/sentiment_texts.json"

XSS_CODE = f"""
from IPython.display import HTML, Javascript, SVG, Markdown, display
display(HTML('<img src=x onerror="document.title=\\'{MARK}\\';window.__pwned=1"><b>html-ok</b>'))
display(Javascript('document.title="{MARK}"; window.__pwned=2'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=3"><script>window.__pwned=4</script></svg>'))
display(Markdown('md <script>window.__pwned=5</script> [x](javascript:window.__pwned=6)'))
display({{'text/html': '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>', 'text/plain': 'p'}}, raw=True)
"""
XSS_MARKDOWN = (f'<img src=x onerror="document.title=\'{MARK}\';window.__pwned=8">\n\n'
                "<script>window.__pwned=9</script>\n\n<svg><script>window.__pwned=10</script></svg>\n\n"
                "<a href=\"javascript:window.__pwned=11\">link</a> <style>body{display:none}</style>")
ECHO_CODE = f"\nprint(open({HIDDEN!r}).read())\n"
ECHO_ERROR = ("try:\n    import json as _j\n"
              f"    _t = _j.load(open({HIDDEN!r}))\nexcept OSError:\n    _t = ['no hidden texts here']\n"
              "print('\\n'.join(_t))\nprint(repr(_t))\n")
STUDENTS = ["q_ref", "q_xss", "q_deep", "q_dir", "=1+2", "t_echo"]


def _deep_notebook(path, depth=100_000):
    nb = json.loads(path.read_text())
    text = json.dumps(nb)
    deep = "[" * depth + "]" * depth
    text = text.replace('"metadata": {', '"metadata": {"deep": ' + deep + ", ", 1)
    path.write_text(text)


@pytest.fixture(scope="module")
def out_course(tmp_path_factory):
    from graders.course import load_config
    from graders.exercises.concepts_quiz import students as q
    from graders.demo import submit
    from graders.exercises.transformers_pipeline import students as t

    root = make_course(tmp_path_factory.mktemp("outputs-course"))
    cfg = load_config(root / "course_config.py")
    for a in ("concepts_quiz", "transformers_pipeline"):
        run_cli(["release", a], root)

    xss = q.answers_for("q_xss", q.REFERENCE)
    xss["answer_q01"] += "\n" + XSS_CODE
    xss["answer_q02"] += "\nraise ValueError('<img src=x onerror=\"window.__pwned=12\">')\n"
    submit(cfg, "concepts_quiz", who={"q_ref": q.answers_for("q_ref", q.REFERENCE), "q_xss": xss,
                                       "q_deep": q.answers_for("q_deep", q.REFERENCE),
                                       "q_dir": q.answers_for("q_dir", q.REFERENCE),
                                       "=1+2": q.answers_for("=1+2", q.REFERENCE)})
    path = root / "submitted" / "q_xss" / "concepts_quiz" / "concepts_quiz.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_markdown_cell(XSS_MARKDOWN))
    nbformat.write(nb, path)
    _deep_notebook(root / "submitted" / "q_deep" / "concepts_quiz" / "concepts_quiz.ipynb")
    bad = root / "submitted" / "q_dir" / "concepts_quiz" / "concepts_quiz.ipynb"
    bad.unlink()
    bad.mkdir()

    echo = dict(t.REFERENCE)
    echo["predict_labels"] = (t.REFERENCE["predict_labels"].replace(
        "    results = classifier(texts)", "    print(texts)\n    results = classifier(texts)") + ECHO_CODE)
    echo["positive_ratio"] = t.REFERENCE["positive_ratio"] + "\n" + ECHO_ERROR
    submit(cfg, "transformers_pipeline", who={"t_echo": echo})

    first = run_cli(["autograde", "concepts_quiz", "transformers_pipeline", "--workers", "2", "--quiet"], root,
                    check=False)
    again = run_cli(["autograde", "concepts_quiz", "transformers_pipeline", "--quiet"], root, check=False)
    feedback = run_cli(["feedback"], root, check=False)
    return {"cfg": cfg, "root": root, "first": first, "again": again, "feedback": feedback,
            "hidden": json.loads((cfg.grading_inputs_dir / "sentiment_texts.json").read_text())}


def _scores(cfg, assignment, student):
    from graders import gradebook
    rows = gradebook.scores(cfg.db_url, assignment=assignment, student=student)
    return sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)


def _feedback_html(root, student, assignment):
    files = sorted((root / "feedback" / student / assignment).glob("*.html"))
    assert files, f"no feedback for {student}/{assignment}"
    return files[0]


# ── one bad submission never stops the batch ───────────────────────────────
def test_deep_json_and_an_unexpected_error_are_reported_and_the_batch_goes_on(out_course):
    cfg, root = out_course["cfg"], out_course["root"]
    for run in (out_course["first"], out_course["again"]):
        text = run.stdout + run.stderr
        assert run.returncode == 1, text[-3000:]
        assert "RecursionError" not in text, text[-3000:]
        assert re.search(r"q_deep: .*nests 1000\d\d levels deep", text), text[-3000:]
        assert "q_dir: grading failed: IsADirectoryError" in text, text[-3000:]
        assert "(traceback: autograded/q_dir/concepts_quiz/.autograde.log)" in text, text[-3000:]
    log = root / "autograded" / "q_dir" / "concepts_quiz" / ".autograde.log"
    assert "Traceback (most recent call last)" in log.read_text() and "IsADirectoryError" in log.read_text()
    # everyone else graded in the same batch (and skipped, unchanged, in the rerun)
    assert _scores(cfg, "concepts_quiz", "q_ref") == (52, 52)
    assert _scores(cfg, "concepts_quiz", "=1+2") == (52, 52)
    assert _scores(cfg, "concepts_quiz", "q_xss")[0] >= 50
    assert _scores(cfg, "transformers_pipeline", "t_echo")[0] > 0
    assert "unchanged since their last grading" in out_course["again"].stdout


# ── outputs are data ────────────────────────────────────────────────────────
def test_feedback_html_carries_no_live_markup_and_a_csp(out_course):
    html = _feedback_html(out_course["root"], "q_xss", "concepts_quiz").read_text()
    assert re.search(r'<meta[^>]+http-equiv="Content-Security-Policy"', html) and "script-src 'none'" in html
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", html, re.I), "an event handler attribute survived"
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.I)   # (as text in the code: fine)
    assert "<iframe" not in html.lower() and "<svg" not in html.lower()
    assert "&lt;script&gt;" in html              # the added markdown cell is shown, as text


def test_feedback_page_in_chromium_runs_no_student_script(out_course, page):
    path = _feedback_html(out_course["root"], "q_xss", "concepts_quiz")
    page.goto(path.as_uri())
    page.wait_for_timeout(800)
    assert page.title() != MARK
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 0


def test_formgrader_page_in_chromium_runs_no_student_script(out_course, page, tmp_path):
    from nbgrader.api import Gradebook
    from test_lab import _start_lab, _stop, _wait_ready

    cfg, root = out_course["cfg"], out_course["root"]
    with Gradebook(cfg.db_url) as gb:
        sub_id = gb.find_submission_notebook("concepts_quiz", "concepts_quiz", "q_xss").id
    lab, base, token = _start_lab(root, log=tmp_path / "staff.log")
    try:
        _wait_ready(lab, base, token, tmp_path / "staff.log")
        page.goto(f"{base}/formgrader/submissions/{sub_id}/?token={token}")
        page.wait_for_selector("text=html-ok", timeout=60_000)     # the student's (sanitized) output is there
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        assert "window.__pwned=9" in body                         # the added markdown cell, shown as text
        assert page.title() != MARK
        assert page.evaluate("window.__pwned") is None
        html = page.content()
        assert not re.search(r"<(img|svg|iframe)[^>]+\son\w+\s*=", html, re.I)
    finally:
        _stop(lab)


# ── hidden data is not echoed ───────────────────────────────────────────────
def test_hidden_reviews_are_not_in_the_feedback_or_the_graded_notebook(out_course):
    from graders.farm.sanitize import HIDDEN_MARK
    root, hidden = out_course["root"], out_course["hidden"]
    html = _feedback_html(root, "t_echo", "transformers_pipeline").read_text()
    graded = (root / "autograded" / "t_echo" / "transformers_pipeline" / "transformers_pipeline.ipynb").read_text()
    nb = json.loads(graded)
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)
    assert HIDDEN_MARK in outputs, "the payload did not print (nothing was cut out)"
    for text in hidden:
        for spelling in (text, json.dumps(text)[1:-1], repr(text)[1:-1]):
            for where, blob in (("feedback", html), ("graded notebook", graded), ("outputs", outputs)):
                assert spelling[:30] not in blob, f"hidden review {text!r} in the {where}"
    # the feedback shows no output of the grading run besides our messages
    assert "채점 실행의 출력은 피드백에 싣지 않습니다" in html


# ── CSV is data ─────────────────────────────────────────────────────────────
def test_csv_export_does_not_make_a_student_id_a_formula(out_course, tmp_path):
    out = tmp_path / "grades.csv"
    run_cli(["export", "--csv", str(out)], out_course["root"])
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert any(r.startswith("'=1+2,") for r in rows), rows
    assert not any(r.startswith(("=", "+", "@", "-")) for r in rows)
