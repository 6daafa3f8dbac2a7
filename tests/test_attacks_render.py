"""Render bombs and a slow feedback (issue 22, docs/attacks.md "Render and feedback bounds").

- `q_bomb`: the quiz answered right, plus a 200 kB markdown cell of unclosed `<div>`s and an answer that
  displays 200 kB of nested `<span>`s.  An HTML sanitizer spends time that grows with tags × nesting on
  such a cell (87 s for `graders feedback` before the bound; the honest notebook 4 s).  Graded through the
  real `autograde` and `feedback`; its pages show a short notice instead of the bomb; formgrader (the
  staff `graders lab`) still answers another request while the bomb's page is asked for.
- The grade-on-submit service: a feedback that does not end (the graded notebook is a FIFO nobody writes:
  the stand-in for any feedback step that takes long) must not hold back a classmate's feedback, and is
  ended at WATCH['feedback_timeout_s'] with a short page for that student only.

No verdict here depends on the machine's speed: sizes and notices are checked, the order of events
is checked, and the two waits with a limit are hang guards far above the expected time.
"""
from __future__ import annotations

import os
import threading
import time
import urllib.request

import nbformat
import pytest

from conftest import make_course, run_cli

QUIZ = "concepts_quiz"
BOMB_MARKDOWN = "<div>" * 40_000                        # 200,000 characters, 40,000 tags nested
BOMB_OUTPUT = "\nfrom IPython.display import HTML, display\ndisplay(HTML('<span>' * 40000))\n"


@pytest.fixture(scope="module")
def bomb_course(tmp_path_factory):
    from graders.course import load_config
    from graders.demo import submit
    from graders.exercises.concepts_quiz import students as q

    root = make_course(tmp_path_factory.mktemp("render-course"))
    cfg = load_config(root / "course_config.py")
    run_cli(["release", QUIZ], root)
    bomb = q.answers_for("q_bomb", q.REFERENCE)
    bomb["answer_q01"] += BOMB_OUTPUT
    submit(cfg, QUIZ, who={"q_ref": q.answers_for("q_ref", q.REFERENCE), "q_bomb": bomb})
    path = root / "submitted" / "q_bomb" / QUIZ / f"{QUIZ}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_markdown_cell(BOMB_MARKDOWN))
    nbformat.write(nb, path)
    graded = run_cli(["autograde", QUIZ, "--quiet"], root, check=False)
    feedback = run_cli(["feedback", QUIZ], root, check=False)
    return {"cfg": cfg, "root": root, "graded": graded, "feedback": feedback}


def _scores(cfg, student):
    from graders import gradebook
    rows = gradebook.scores(cfg.db_url, assignment=QUIZ, student=student)
    return sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)


def _page(root, student):
    files = sorted((root / "feedback" / student / QUIZ).glob("*.html"))
    assert files, f"no feedback for {student}"
    return files[0].read_text(encoding="utf-8")


def test_a_div_bomb_is_graded_and_its_feedback_shows_a_notice_instead(bomb_course):
    cfg, root = bomb_course["cfg"], bomb_course["root"]
    fb = bomb_course["feedback"]
    assert fb.returncode == 0, (fb.stdout + fb.stderr)[-3000:]
    assert _scores(cfg, "q_bomb") == _scores(cfg, "q_ref") == (52, 52)      # the grade is the honest one
    page, honest = _page(root, "q_bomb"), _page(root, "q_ref")
    assert "너무 커서 여기에는 보여 주지 않습니다" in page and "200,000자" in page
    # the bomb is not in the page (without the bound: 200 kB of divs, sanitized, in the page)
    assert page.count("<div") < honest.count("<div") + 50, (page.count("<div"), honest.count("<div"))
    assert len(page) < len(honest) + 20_000
    assert "너무 커서" not in honest                                          # control: honest work shown whole


def test_formgrader_answers_another_request_while_a_bomb_page_is_asked_for(bomb_course, tmp_path):
    from nbgrader.api import Gradebook
    from test_lab import _start_lab, _stop, _wait_ready

    cfg, root = bomb_course["cfg"], bomb_course["root"]
    with Gradebook(cfg.db_url) as gb:
        bomb_id = gb.find_submission_notebook(QUIZ, QUIZ, "q_bomb").id
    lab, base, token = _start_lab(root, log=tmp_path / "staff.log")
    got: dict = {}

    def fetch(key, url):
        try:
            with urllib.request.urlopen(url, timeout=600) as r:
                got[key] = (r.status, r.read().decode("utf-8", "replace"), time.monotonic())
        except Exception as exc:                      # reported below
            got[key] = (None, repr(exc), time.monotonic())

    try:
        _wait_ready(lab, base, token, tmp_path / "staff.log")
        bombs = [threading.Thread(target=fetch, args=(f"bomb{i}", f"{base}/formgrader/submissions/{bomb_id}/?token={token}"))
                 for i in range(3)]
        for t in bombs:
            t.start()
        other = threading.Thread(target=fetch, args=("other", f"{base}/formgrader/manage_students?token={token}"))
        other.start()
        other.join(timeout=120)                     # a hang guard (the page answers in well under a second)
        assert "other" in got, "formgrader did not answer another request while the bomb page was asked for"
        for t in bombs:
            t.join(timeout=600)
        assert got["other"][0] == 200, got["other"][1][:500]
        for i in range(3):
            status, html, _ = got[f"bomb{i}"]
            assert status == 200, html[:500]
            assert "너무 커서 여기에는 보여 주지 않습니다" in html
            assert html.count("<div") < 10_000 and html.count("<span") < 10_000     # the bomb: 40,000 each
    finally:
        _stop(lab)


# ── the grade-on-submit service: one student's feedback never holds up another's ──
def test_a_feedback_that_does_not_end_holds_no_classmate_back(tmp_path):
    from test_watch import AFTER_DUE, _config, _notebook, _student

    from graders.course import load_config
    from graders.watch.service import Service

    exchange = tmp_path / "exchange"
    root = make_course(tmp_path / "course", _config(exchange, feedback_timeout_s=60, stop_grace_s=5))
    run_cli(["release", QUIZ], root)
    run_cli(["exchange", "release", QUIZ], root)
    cfg = load_config(root / "course_config.py")
    mallory, kim = _student(cfg, "mallory", tmp_path), _student(cfg, "kim", tmp_path)
    mallory.submit(QUIZ, _notebook(cfg, "mallory"))
    time.sleep(1.1)
    kim.submit(QUIZ, _notebook(cfg, "kim"))
    first: list = []
    assert Service(cfg, drain=True, log=first.append).run() == 0, first
    assert sum(1 for l in first if "feedback released" in l) == 2, first

    # after the due date both feedbacks are made again, mallory's first (her submission is older); hers
    # cannot end: the graded notebook it reads is a FIFO that nobody writes
    graded = root / "autograded" / "mallory" / QUIZ / f"{QUIZ}.ipynb"
    graded.unlink()
    os.mkfifo(graded)
    lines: list = []
    events: list = []

    def log(line):
        lines.append(line)
        if line.startswith("↻ concepts_quiz/"):
            events.append(line)

    svc = Service(cfg, drain=True, log=log, clock=lambda: AFTER_DUE)
    runner = threading.Thread(target=svc.run, daemon=True)
    runner.start()
    runner.join(timeout=400)                  # a hang guard: the deadline ends mallory's feedback at 60 s
    if runner.is_alive():
        svc.request_stop()
        runner.join(timeout=120)
    assert [e.split(":")[0] for e in events] == ["↻ concepts_quiz/kim", "↻ concepts_quiz/mallory"], "\n".join(lines)
    assert "feedback released" in events[0], events
    assert "no feedback: not made within 60 s" in events[1], events
    # kim fetches her full feedback; mallory's slot holds the short page, in Korean
    kim_page = kim.fetch_feedback(QUIZ)[-1].read_text(encoding="utf-8")
    assert "q12 (" in kim_page and "no_feedback" not in kim_page
    pages = [p.read_text(encoding="utf-8") for p in mallory.fetch_feedback(QUIZ)]
    assert any('data-dlcourse-notice="no_feedback"' in p and "피드백 페이지를" in p for p in pages), pages


def test_formgrader_renders_off_its_event_loop(bomb_course, tmp_path):
    """A page whose rendering does not end (the graded notebook is a FIFO: the stand-in for any slow
    render) holds back no other request: formgrader renders on a thread of its own
    (graders/formgrader_render.py).  Before: nbgrader renders in the server's event loop, and the whole
    staff server waited."""
    from nbgrader.api import Gradebook
    from test_lab import _start_lab, _stop, _wait_ready

    cfg, root = bomb_course["cfg"], bomb_course["root"]
    with Gradebook(cfg.db_url) as gb:
        ref_id = gb.find_submission_notebook(QUIZ, QUIZ, "q_ref").id
    graded = root / "autograded" / "q_ref" / QUIZ / f"{QUIZ}.ipynb"
    saved = graded.read_bytes()
    lab, base, token = _start_lab(root, log=tmp_path / "staff.log")
    got: dict = {}

    def fetch(key, url):
        try:
            with urllib.request.urlopen(url, timeout=600) as r:
                got[key] = (r.status, r.read().decode("utf-8", "replace"))
        except Exception as exc:
            got[key] = (None, repr(exc))

    writer = None
    try:
        _wait_ready(lab, base, token, tmp_path / "staff.log")
        graded.unlink()
        os.mkfifo(graded)
        held = threading.Thread(target=fetch, args=("held", f"{base}/formgrader/submissions/{ref_id}/?token={token}"))
        held.start()
        deadline = time.monotonic() + 120          # hang guard: formgrader opens the notebook at once
        while writer is None:
            try:                                   # succeeds only once the renderer has the FIFO open
                writer = os.open(graded, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert time.monotonic() < deadline, "formgrader never opened the notebook"
                time.sleep(0.1)
        # the render now waits for the notebook's bytes; another request must still be answered
        other = threading.Thread(target=fetch, args=("other", f"{base}/formgrader/manage_students?token={token}"))
        other.start()
        other.join(timeout=120)                    # hang guard (the page answers in well under a second)
        assert "other" in got and got["other"][0] == 200, got.get("other", "no answer while a page was rendering")
        assert "held" not in got                   # the held page was still rendering: the order is causal
        os.set_blocking(writer, True)
        os.write(writer, saved)
        os.close(writer)
        writer = None
        held.join(timeout=300)
        assert got.get("held", (None,))[0] == 200, got.get("held")
    finally:
        if writer is not None:
            os.close(writer)
        _stop(lab)
        if not graded.is_file():
            graded.unlink(missing_ok=True)
            graded.write_bytes(saved)
