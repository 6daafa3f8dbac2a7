"""JupyterLab as students and staff use it, driven in headless Chromium.

A student's JupyterLab (`python -m graders lab --student kim`, run the way a hub runs
it) shows the released quiz in Nbgrader ▸ Assignment List; the student fetches it,
answers, validates and submits through the page.  Staff collect from the exchange,
autograde, and open Nbgrader ▸ Formgrader in their own JupyterLab, where the score
equals the gradebook's and our check messages are shown with the notebook.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, free_port, make_course, run_cli, screenshot

STUDENT = "kim"


def _start_lab(root: Path, *args: str, log: Path):
    port, token = free_port(), "t" + os.urandom(8).hex()
    proc = subprocess.Popen([sys.executable, "-m", "graders", "--config", str(root / "course_config.py"), "lab",
                             "--port", str(port), "--token", token, *args],
                            cwd=root, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", token


def _wait_ready(proc, base: str, token: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lab_course(tmp_path_factory):
    exchange = Path(tempfile.mkdtemp(prefix="dlcourse-exchange-")) / "exchange"
    root = make_course(tmp_path_factory.mktemp("lab-course"), f'EXCHANGE_DIR = "{exchange}"\n')
    run_cli(["release", "concepts_quiz"], root)
    run_cli(["exchange", "release", "concepts_quiz"], root)      # staff: the student version into the exchange
    yield root, exchange
    shutil.rmtree(exchange.parent, ignore_errors=True)


def _open_nbgrader_panel(page, base: str, token: str, item: str) -> None:
    page.goto(f"{base}/lab?reset&token={token}")       # reset: not the layout of an earlier session
    # the launcher shows once the reset layout is restored; a panel opened before that would be closed
    page.wait_for_selector(".jp-LauncherCard", timeout=90_000)
    page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
    page.locator("#jp-mainmenu-nbgrader").get_by_text(item, exact=True).click()


def test_student_fetches_validates_submits_and_staff_see_our_grades_in_formgrader(lab_course, page, tmp_path):
    from graders import gradebook
    from graders.course import load_config
    from graders.exercises.concepts_quiz import students as quiz_class
    from graders.demo import fill

    root, exchange = lab_course
    cfg = load_config(root / "course_config.py")
    student_lab, s_base, s_token = _start_lab(root, "--student", STUDENT, log=tmp_path / "student.log")
    staff_lab, t_base, t_token = _start_lab(root, log=tmp_path / "staff.log")
    try:
        _wait_ready(student_lab, s_base, s_token, tmp_path / "student.log")
        # ── the student ────────────────────────────────────────────────────────
        _open_nbgrader_panel(page, s_base, s_token, "Assignment List")
        released = page.wait_for_selector("#released_assignments_list .list_item:has-text('concepts_quiz')")
        assert "dl-bootcamp" in released.inner_text()
        screenshot(page, "lab_student_assignment_list")
        released.query_selector("button:has-text('Fetch')").click()
        page.wait_for_selector("#fetched_assignments_list .list_item:has-text('concepts_quiz')")
        fetched = root / ".lab" / STUDENT / "concepts_quiz" / "concepts_quiz.ipynb"
        assert fetched.is_file(), "Fetch did not put the notebook into the student's folder"

        # the student answers (typed into the answer cells; a few questions wrong on purpose)
        answers = dict(quiz_class.REFERENCE)
        answers.update(quiz_class.MISTAKES["frameworks_mixed"])
        nb = nbformat.read(fetched, as_version=4)
        nbformat.write(fill(nb, quiz_class.answers_for(STUDENT, answers)), fetched)

        validate = page.locator("#fetched_assignments_list button:has-text('Validate')")
        for attempt in range(4):    # the list re-renders after a fetch; open its notebook list once it settled
            try:
                page.locator("#fetched_assignments_list a.assignment-notebooks-link").click(timeout=10_000)
                validate.wait_for(state="visible", timeout=5_000)
                break
            except Exception:
                if attempt == 3:
                    raise
                page.click("#refresh_assignments_list")
        validate.click()
        dialog = page.wait_for_selector(".jp-Dialog", timeout=120_000)
        assert "Success" in dialog.inner_text(), dialog.inner_text()
        page.click(".jp-Dialog button:has-text('Ok')")
        page.click("#fetched_assignments_list button:has-text('Submit')")
        submitted = page.wait_for_selector("#submitted_assignments_list .list_item:has-text('concepts_quiz')")
        assert "UTC" in submitted.inner_text()            # the exchange's own timestamp
        # the student's server saw only its own inbound/<student>/ as the exchange's inbound
        assert [p.name for p in (exchange / "dl-bootcamp" / "inbound").iterdir()] == [STUDENT]
        inbound = list((exchange / "dl-bootcamp" / "inbound" / STUDENT).iterdir())
        assert [p.name.split("+")[:2] for p in inbound] == [[STUDENT, "concepts_quiz"]], inbound

        # ── staff: collect, autograde, formgrader ───────────────────────────────
        run_cli(["exchange", "collect", "concepts_quiz"], root)
        assert (root / "submitted" / STUDENT / "concepts_quiz" / "timestamp.txt").is_file()
        run_cli(["autograde", "concepts_quiz", "--quiet"], root)
        rows = gradebook.scores(cfg.db_url, assignment="concepts_quiz", student=STUDENT)
        total, max_total = sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)
        assert 0 < total < max_total                      # the wrong answers cost points

        _wait_ready(staff_lab, t_base, t_token, tmp_path / "staff.log")
        _open_nbgrader_panel(page, t_base, t_token, "Formgrader")
        frame = page.wait_for_selector("#formgrader iframe").content_frame()
        row = frame.wait_for_selector("tr:has-text('concepts_quiz')")
        assert "released" in row.inner_text()
        screenshot(page, "lab_staff_formgrader")

        page.goto(f"{t_base}/formgrader/manage_submissions/concepts_quiz")
        row = page.wait_for_selector(f"tr:has-text('{STUDENT}')")
        assert f"{total:g} / {max_total:g}" in row.inner_text(), row.inner_text()

        page.goto(f"{t_base}/formgrader/gradebook/concepts_quiz/concepts_quiz")
        page.click("text=Submission #1")
        page.wait_for_selector("text=해설")
        body = page.inner_text("body")
        assert "❌" in body and "✅" in body               # our per-question messages, with explanations
        assert "BEGIN HIDDEN TESTS" in body               # staff (only staff) see the grading cells
    finally:
        _stop(student_lab)
        _stop(staff_lab)
    assert student_lab.poll() is not None and staff_lab.poll() is not None
