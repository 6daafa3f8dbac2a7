"""Grade on submit (`python -m graders watch`): the service as students and staff meet it.

Students submit with nbgrader's own exchange classes (graders/watch/simulate.py: a private view of
the exchange as a hub mounts it) or through JupyterLab in headless Chromium; the service grades
through the real farm (sandboxed kernels) and releases feedback through nbgrader's feedback
exchange; students fetch it with nbgrader's Fetch Feedback.  The quiz is the assignment here (it
grades in seconds); its visibility is set so that one question opens after the due date and one
is for staff only.  Times that decide visibility come from the service's clock, given by the test.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, load_config, make_course, run_cli

QUIZ = "concepts_quiz"
DUE = "2099-12-20 23:59:00+09:00"
AFTER_DUE = dt.datetime(2099, 12, 21, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))
OPENS_LATER, STAFF_ONLY = "q12", "q16"


def _config(exchange: Path, **watch) -> str:
    settings = {"workers": 1, "poll_seconds": 0.5, "max_per_hour": None, "stop_grace_s": 30, **watch}
    return (f"EXCHANGE_DIR = {str(exchange)!r}\n"
            f"ASSIGNMENTS[{QUIZ!r}]['due'] = {DUE!r}\n"
            f"ASSIGNMENTS[{QUIZ!r}]['visibility'] = {{{OPENS_LATER!r}: 'after_due', {STAFF_ONLY!r}: 'hidden'}}\n"
            f"WATCH = {settings!r}\n"
            "SANDBOX = {**SANDBOX, 'memory_gb': 6, 'prestart': False}\n")


@pytest.fixture
def quiz_course(tmp_path):
    """A course whose quiz is released into a fresh exchange (a factory: WATCH settings as keywords)."""
    def make(**watch):
        exchange = tmp_path / "exchange"
        root = make_course(tmp_path / "course", _config(exchange, **watch))
        run_cli(["release", QUIZ], root)
        run_cli(["exchange", "release", QUIZ], root)
        return load_config(root / "course_config.py")
    return make


def _answers(student: str, mistakes: str | None = None) -> dict:
    from graders.exercises.concepts_quiz import students as quiz_class
    answers = dict(quiz_class.REFERENCE)
    if mistakes:
        answers.update(quiz_class.MISTAKES[mistakes])
    return quiz_class.answers_for(student, answers)


def _notebook(cfg, student: str, mistakes: str | None = None):
    from graders.demo import fill
    nb = nbformat.read(cfg.root / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    return {QUIZ: fill(nb, _answers(student, mistakes))}


def _student(cfg, name: str, tmp: Path):
    from graders.watch.simulate import SimStudent
    return SimStudent(cfg, name, tmp / "homes" / name)


def _drain(cfg, clock=None, log=None):
    """Run the service until nothing is left to do (in this process: its grader processes are real)."""
    from graders.watch.service import Service
    lines = []
    kw = {"clock": clock} if clock else {}
    status = Service(cfg, drain=True, log=lines.append, **kw).run()
    assert status == 0, "\n".join(lines)
    return lines


def _rows(cfg):
    from graders.watch.queue import Queue
    q = Queue(cfg.db_url)
    try:
        return q.rows()
    finally:
        q.close()


def _text(path: Path) -> str:
    from bs4 import BeautifulSoup
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def _quiz_points(cfg) -> dict:
    return dict(cfg.assignment(QUIZ).points)


def _total(text: str):
    m = re.search(rf"{QUIZ} \(Score: ([\d.]+) / ([\d.]+)\)", text)
    assert m, text[:500]
    return float(m.group(1)), float(m.group(2))


def _gradebook_total(cfg, student: str) -> float:
    from graders import gradebook
    return sum(r["score"] for r in gradebook.scores(cfg.db_url, assignment=QUIZ, student=student))


# ── newest wins; feedback as VISIBILITY allows, and again after the due date ──
def test_newest_submission_wins_and_feedback_opens_after_the_due_date(quiz_course, tmp_path):
    cfg = quiz_course()
    kim, lee = _student(cfg, "kim", tmp_path), _student(cfg, "lee", tmp_path)
    # kim hands in a paper with mistakes, then the right one before the service sees either; lee once
    first = kim.submit(QUIZ, _notebook(cfg, "kim", "frameworks_mixed"))
    time.sleep(1.1)                                   # nbgrader's timestamps: a newer one is later
    kim.submit(QUIZ, _notebook(cfg, "kim"))
    lee.submit(QUIZ, _notebook(cfg, "lee", "frameworks_mixed"))
    _drain(cfg)

    rows = {(r["student"], r["entry"].split("/")[-1] == first.name): r for r in _rows(cfg)}
    assert rows[("kim", True)]["state"] == "superseded" and rows[("kim", True)]["graded"] == 0
    assert rows[("kim", False)]["state"] == "done" and rows[("kim", False)]["graded"] == 1
    assert rows[("lee", False)]["state"] == "done"
    points = _quiz_points(cfg)
    full = sum(points.values())
    assert _gradebook_total(cfg, "kim") == pytest.approx(full)       # the newest (right) paper was graded
    assert _gradebook_total(cfg, "lee") < full                       # control: lee's mistakes cost points

    # Fetch Feedback: the visible checks, q12 only as "graded, opens after the due date", q16 not at all
    pages = kim.fetch_feedback(QUIZ)
    assert len(pages) == 1, pages                                    # only the graded (newest) submission
    text = _text(pages[0])
    # points of every visible question; their expected answers and explanations wait for the due date
    assert "q13 (" in text and "해설:" not in text and "🔒 정답과 해설은 마감" in text
    assert f"⏳ {OPENS_LATER}" in text and "마감" in text
    assert f"{OPENS_LATER} (" not in text                            # no points or message of q12 yet
    assert f"{STAFF_ONLY} (" not in text and "⏳ " + STAFF_ONLY not in text
    shown, shown_max = _total(text)
    assert shown_max == pytest.approx(full - points[OPENS_LATER] - points[STAFF_ONLY])
    assert shown == pytest.approx(shown_max)
    # the student's view of `scores` follows the same rule; the gradebook keeps everything
    seen = json.loads(run_cli(["scores", "--student", "kim", "--as-student", "--json"], cfg.root).stdout)
    by_check = {r["check"]: r for r in seen}
    assert STAFF_ONLY not in by_check and by_check[OPENS_LATER]["score"] is None
    assert by_check["q13"]["score"] == points["q13"]

    # after the due date: the feedback is made again (not the grading) and shows q12, never q16
    lines = _drain(cfg, clock=lambda: AFTER_DUE)
    assert any(l.startswith("↻ concepts_quiz/kim") for l in lines), lines
    assert all(r["graded"] <= 1 for r in _rows(cfg))
    text = _text(kim.fetch_feedback(QUIZ)[0])
    assert f"{OPENS_LATER} (" in text and f"⏳ {OPENS_LATER}" not in text
    assert f"{STAFF_ONLY} (" not in text
    assert "해설:" in text and "🔒" not in text                     # the answers opened with it
    assert _total(text) == pytest.approx((full - points[STAFF_ONLY],) * 2)

    # staff see the queue on the dashboard
    from bs4 import BeautifulSoup

    from graders.dashboard.report import build_html
    page = BeautifulSoup(build_html(cfg), "html.parser")
    assert page.select_one("#watch-done")["data-value"] == "2"
    assert page.select_one("#watch-superseded")["data-value"] == "1"
    assert float(page.select_one("#watch-p50")["data-value"]) > 0


# ── the rate limit, and round robin around a held student ───────────────────
def test_rate_limit_holds_the_third_grading_of_an_hour_and_says_why(quiz_course, tmp_path):
    cfg = quiz_course(max_per_hour=2)
    kim, lee = _student(cfg, "kim", tmp_path), _student(cfg, "lee", tmp_path)
    for _ in range(2):
        kim.submit(QUIZ, _notebook(cfg, "kim", "frameworks_mixed"))
        _drain(cfg)
    third = kim.submit(QUIZ, _notebook(cfg, "kim"))
    lee.submit(QUIZ, _notebook(cfg, "lee"))
    lines = _drain(cfg)
    rows = _rows(cfg)
    held = [r for r in rows if r["entry"].endswith(third.name)][0]
    assert held["state"] == "waiting" and held["waiting_for"] == "rate_limit", held
    assert [r["state"] for r in rows if r["student"] == "lee"] == ["done"]     # lee is not held up by kim
    assert any(l.startswith("⏸ concepts_quiz/kim") for l in lines), lines
    # kim's Fetch Feedback of the third submission says why it waits, and until when
    pages = kim.fetch_feedback(QUIZ)
    notice = [p for p in pages if "채점 대기 중" in p.read_text(encoding="utf-8")]
    assert len(notice) == 1 and "1시간에 최대 2번" in _text(notice[0]), pages
    assert _gradebook_total(cfg, "kim") < sum(_quiz_points(cfg).values())      # still the older grade

    # an hour after the first grading the third is graded, on its own submission time
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=61)
    _drain(cfg, clock=lambda: later)
    held = [r for r in _rows(cfg) if r["entry"].endswith(third.name)][0]
    assert held["state"] == "done" and held["graded"] == 1
    assert _gradebook_total(cfg, "kim") == pytest.approx(sum(_quiz_points(cfg).values()))
    assert "채점 대기 중" not in kim.fetch_feedback(QUIZ)[-1].read_text(encoding="utf-8")


# ── kill -9 mid-grade, restart: nothing lost, nothing graded twice ──────────
def _watch_proc(cfg, *args, log: Path):
    return subprocess.Popen([sys.executable, "-m", "graders", "--config", str(cfg.path), "watch", *args],
                            cwd=cfg.root, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _cmdline(pid: int) -> str:
    """A process's command line; '' when it ended meanwhile."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s" + (f"\n{log.read_text()[-3000:]}" if log else ""))


def test_kill_9_mid_grade_then_restart_grades_each_submission_once(quiz_course, tmp_path):
    cfg = quiz_course()
    people = ["kim", "lee", "park"]
    for name in people:
        _student(cfg, name, tmp_path).submit(QUIZ, _notebook(cfg, name))
    log = tmp_path / "watch1.log"
    proc = _watch_proc(cfg, log=log)
    try:
        grading = _wait_for(lambda: [r for r in _rows(cfg) if r["state"] == "grading"], 300,
                            "no submission was being graded", log)
        family = _children(proc.pid) | {c for p in _children(proc.pid) for c in _children(p)}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    killed_id = grading[0]["id"]
    # the grader processes (and their kernels) die with the service: nothing grades on unseen
    _wait_for(lambda: not any(_alive(p) for p in family), 60, f"processes {family} outlived the service")
    assert {r["id"]: r["state"] for r in _rows(cfg)}[killed_id] == "grading"      # as the kill left it

    restart = run_cli(["watch", "--drain"], cfg.root)          # the lock died with the killed service
    rows = _rows(cfg)
    assert sorted(r["student"] for r in rows) == people                          # one row each, none lost
    assert all(r["state"] == "done" and r["graded"] == 1 for r in rows), rows     # each graded to the end once
    assert {r["id"]: r["attempts"] for r in rows}[killed_id] == 2
    full = sum(_quiz_points(cfg).values())
    for name in people:
        assert _gradebook_total(cfg, name) == pytest.approx(full)
        text = _text(_student(cfg, name, tmp_path).fetch_feedback(QUIZ)[0])
        assert "q13" in text
    assert "queue: waiting 0 · grading 0 · done 3" in restart.stdout, restart.stdout


# ── one service per course; SIGTERM stops it cleanly ─────────────────────────
def test_a_second_service_refuses_to_run_and_sigterm_stops_the_first(quiz_course, tmp_path):
    cfg = quiz_course()
    log = tmp_path / "watch1.log"
    first = _watch_proc(cfg, log=log)
    try:
        _wait_for(lambda: "watching" in log.read_text(), 180, "the first service did not start", log)
        second = run_cli(["watch", "--drain"], cfg.root, check=False)
        assert second.returncode == 3, second.stdout + second.stderr
        assert "already running" in second.stderr and f"pid {first.pid}" in second.stderr, second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 0, log.read_text()[-3000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert "stopped" in log.read_text()
    # control: with the first one gone, a service runs
    again = run_cli(["watch", "--drain"], cfg.root, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    from graders.watch.queue import Queue
    q = Queue(cfg.db_url)
    try:
        assert q.service_row(cfg.course_id)["stopped_at"] is not None
    finally:
        q.close()


# ── a student in JupyterLab (headless Chromium): submit, then Fetch Feedback ─
def test_student_submits_in_jupyterlab_and_fetches_feedback_before_and_after_the_due_date(quiz_course, tmp_path,
                                                                                             page):
    from conftest import screenshot
    from test_lab import _open_nbgrader_panel, _start_lab, _stop, _wait_ready

    cfg = quiz_course()
    student = "kim"
    lab, base, token = _start_lab(cfg.root, "--student", student, log=tmp_path / "lab.log")
    try:
        _wait_ready(lab, base, token, tmp_path / "lab.log")
        _open_nbgrader_panel(page, base, token, "Assignment List")
        released = page.wait_for_selector(f"#released_assignments_list .list_item:has-text('{QUIZ}')")
        released.query_selector("button:has-text('Fetch')").click()
        page.wait_for_selector(f"#fetched_assignments_list .list_item:has-text('{QUIZ}')")
        fetched = cfg.root / ".lab" / student / QUIZ / f"{QUIZ}.ipynb"
        nbformat.write(_notebook(cfg, student)[QUIZ], fetched)        # the student's answers, saved
        page.click("#fetched_assignments_list button:has-text('Submit')")
        submitted = page.wait_for_selector(f"#submitted_assignments_list .list_item:has-text('{QUIZ}')")
        assert "UTC" in submitted.inner_text()

        _drain(cfg)                                            # the service grades it and releases feedback

        def fetch_feedback() -> str:
            page.click("#refresh_assignments_list")
            page.wait_for_selector("#submitted_assignments_list :text('feedback available to fetch')", timeout=60_000)
            page.click("#submitted_assignments_list button:has-text('Fetch Feedback')")
            page.wait_for_selector("#submitted_assignments_list :text('view feedback')", timeout=60_000)
            pages = sorted((cfg.root / ".lab" / student / QUIZ / "feedback").glob("*/*.html"))
            assert len(pages) == 1, pages
            viewer = page.context.new_page()
            try:
                viewer.goto(pages[0].as_uri())
                screenshot(viewer, f"watch_feedback_{len(seen)}")
                return viewer.inner_text("body")
            finally:
                viewer.close()

        seen: list[str] = []
        seen.append(fetch_feedback())
        before = seen[0]
        points = _quiz_points(cfg)
        assert "q13 (" in before and "해설:" not in before and "🔒 정답과 해설은 마감" in before
        assert f"⏳ {OPENS_LATER}" in before and f"{OPENS_LATER} (" not in before
        assert f"{STAFF_ONLY} (" not in before

        _drain(cfg, clock=lambda: AFTER_DUE)                   # the due date passed: feedback made again
        seen.append(fetch_feedback())
        after = seen[1]
        assert f"{OPENS_LATER} (" in after and f"⏳ {OPENS_LATER}" not in after
        assert f"{STAFF_ONLY} (" not in after
        assert "해설:" in after and "🔒" not in after                 # expected answers and explanations too
        full = sum(points.values())
        assert _total(after) == pytest.approx((full - points[STAFF_ONLY],) * 2)
    finally:
        _stop(lab)


# ── the rules alone (no kernels) ────────────────────────────────────────────
T0 = dt.datetime(2026, 12, 4, 14, 0)          # naive UTC, like the queue's times


def _queue(tmp_path):
    from graders.watch.queue import Queue
    return Queue(f"sqlite:///{tmp_path / 'q.db'}")


def test_queue_round_robin_serves_the_student_served_longest_ago_first(tmp_path):
    q = _queue(tmp_path)
    try:
        # kim handed in three assignments first; lee and park one each, later
        for i, a in enumerate(["keras_mnist", "pytorch_mnist", "concepts_quiz"]):
            q.notice(a, "kim", "exchange", f"kim/{a}", T0 + dt.timedelta(seconds=i), T0)
        q.notice("keras_mnist", "lee", "exchange", "lee/k", T0 + dt.timedelta(seconds=10), T0)
        q.notice("keras_mnist", "park", "exchange", "park/k", T0 + dt.timedelta(seconds=20), T0)
        order = []
        for step in range(5):
            job = q.next_job(T0 + dt.timedelta(minutes=step), None, set())
            order.append(job.student)
            q.finish(job.id, True, T0 + dt.timedelta(minutes=step, seconds=30))
        assert order == ["kim", "lee", "park", "kim", "kim"]
        assert q.next_job(T0 + dt.timedelta(minutes=9), None, set()) is None
    finally:
        q.close()


def test_queue_newest_wins_and_one_grading_per_student_assignment_at_once(tmp_path):
    q = _queue(tmp_path)
    try:
        assert q.notice("a1", "kim", "exchange", "e1", T0, T0) == "waiting"
        job = q.next_job(T0, None, set())                              # e1 is being graded …
        assert q.notice("a1", "kim", "exchange", "e2", T0 + dt.timedelta(seconds=5), T0) == "waiting"
        # … so e2 waits for it (never two gradings of one student's assignment at once)
        assert q.next_job(T0, None, {("a1", "kim")}) is None
        assert q.notice("a1", "kim", "exchange", "e3", T0 + dt.timedelta(seconds=9), T0) == "waiting"
        # an older entry seen late is recorded, never graded
        assert q.notice("a1", "kim", "exchange", "e0", T0 - dt.timedelta(seconds=9), T0) == "superseded"
        assert q.notice("a1", "kim", "exchange", "e3", T0 + dt.timedelta(seconds=9), T0) is None   # once only
        q.finish(job.id, True, T0)
        nxt = q.next_job(T0, None, set())
        assert nxt.entry == "e3"
        states = {r["entry"]: r["state"] for r in q.rows()}
        assert states == {"e1": "done", "e2": "superseded", "e3": "grading", "e0": "superseded"}
    finally:
        q.close()


def test_queue_recover_after_a_crash_and_give_up_after_three_deaths(tmp_path):
    q = _queue(tmp_path)
    try:
        q.notice("a1", "kim", "exchange", "e1", T0, T0)
        for attempt in range(1, 4):
            job = q.next_job(T0, None, set())
            assert job.attempts == attempt
            failed = q.recover(T0)                                     # the service died mid-grade
        assert [j.entry for j in failed] == ["e1"]
        assert q.rows()[0]["state"] == "failed" and "3 times" in q.rows()[0]["error"]
        # a clean stop (SIGTERM) does not count as an attempt
        q.notice("a1", "lee", "exchange", "l1", T0, T0)
        job = q.next_job(T0, None, set())
        q.release(job.id)
        assert [r["attempts"] for r in q.rows() if r["student"] == "lee"] == [0]
    finally:
        q.close()


def test_rate_limit_counts_gradings_started_in_the_last_hour(tmp_path):
    q = _queue(tmp_path)
    try:
        for i in range(3):
            q.notice("a1", "kim", "exchange", f"e{i}", T0 + dt.timedelta(minutes=i), T0)
            job = q.next_job(T0 + dt.timedelta(minutes=i), 2, set())
            if i < 2:
                assert job is not None
                q.finish(job.id, True, T0 + dt.timedelta(minutes=i, seconds=20))
            else:
                assert job is None                                     # the third in the hour waits
        row = q.rows()[-1]
        assert row["waiting_for"] == "rate_limit" and row["not_before"] == T0 + dt.timedelta(hours=1)
        assert q.next_job(T0 + dt.timedelta(minutes=59), 2, set()) is None
        assert q.next_job(T0 + dt.timedelta(hours=1, seconds=1), 2, set()).entry == "e2"
        # control: without a limit it would have gone at once
        q.notice("a1", "lee", "exchange", "l0", T0, T0)
        assert q.next_job(T0, None, set()).student == "lee"
    finally:
        q.close()


def test_visibility_follows_each_students_own_due_date(tmp_path):
    from graders.visibility import FULL, NONE, RAN, shown
    root = make_course(tmp_path / "course", f"ASSIGNMENTS['keras_mnist']['due'] = '2030-01-10 23:59:00+09:00'\n"
                                            "EXTENSIONS = {'late1': {'keras_mnist': '2030-01-12 23:59:00+09:00'}}\n"
                                            "ASSIGNMENTS['keras_mnist']['visibility'] = {'loss': 'hidden'}\n")
    cfg = load_config(root / "course_config.py")
    kst = dt.timezone(dt.timedelta(hours=9))
    before, between, after = (dt.datetime(2030, 1, d, 12, 0, tzinfo=kst) for d in (9, 11, 13))
    assert shown(cfg, "keras_mnist", "kim", "hidden_accuracy", before) == RAN          # the default policy
    assert shown(cfg, "keras_mnist", "kim", "hidden_accuracy", between) == FULL
    assert shown(cfg, "keras_mnist", "late1", "hidden_accuracy", between) == RAN       # extension: still closed
    assert shown(cfg, "keras_mnist", "late1", "hidden_accuracy", after) == FULL
    assert shown(cfg, "keras_mnist", "kim", "layers", before) == FULL
    assert shown(cfg, "keras_mnist", "kim", "loss", after) == NONE


@pytest.mark.parametrize("extra, setting", [
    ("VISIBILITY = {'hidden_acuracy': 'after_due'}\n", "VISIBILITY['hidden_acuracy']"),
    ("VISIBILITY = {'hidden_accuracy': 'later'}\n", "VISIBILITY['hidden_accuracy']"),
    ("ASSIGNMENTS['keras_mnist']['visibility'] = {'q12': 'hidden'}\n", "ASSIGNMENTS['keras_mnist']['visibility']['q12']"),
    ("WATCH = {'worker': 2}\n", "WATCH['worker']"),
    ("WATCH = {'max_per_hour': 0}\n", "WATCH['max_per_hour']"),
    ("WATCH = {'scheduler': 'gpu-box'}\n", "WATCH['scheduler']"),
])
def test_a_wrong_visibility_or_watch_setting_stops_with_its_name(tmp_path, extra, setting):
    from graders.config import ConfigError
    root = make_course(tmp_path / "course", extra)
    with pytest.raises(ConfigError) as err:
        load_config(root / "course_config.py")
    assert setting in str(err.value) and "Fix:" in str(err.value)


def test_the_rate_limit_notice_escapes_what_it_shows():
    from graders.watch.notices import rate_limit_page
    page = rate_limit_page("ko", "<script>alert(1)</script>", "nb", "2026-12-04 14:00", "15:00", 6)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    import html
    assert "script-src 'none'" in html.unescape(page)


# ── hostile inbound entries never stop the service ──────────────────────────
def test_hostile_inbound_entries_are_refused_and_the_class_is_still_graded(quiz_course, tmp_path):
    cfg = quiz_course()
    kim, lee = _student(cfg, "kim", tmp_path), _student(cfg, "lee", tmp_path)
    lee.submit(QUIZ, _notebook(cfg, "lee"))
    real = kim.submit(QUIZ, _notebook(cfg, "kim"))
    mine = Path(os.path.realpath(real.parent))                # the real inbound/kim/ behind kim's view
    stamp = "2026-12-02 10:00:00.000000 UTC"
    # in kim's own inbound folder: names and files no nbgrader submit makes, each "complete" (a secret)
    weird = [os.fsencode(str(mine)) + b"/kim+" + QUIZ.encode() + b"+" + stamp.encode() + b"+\xff\xfe",  # not UTF-8
             os.fsencode(str(mine / f"kim+{QUIZ}+{stamp}+line\nbreak"))]                               # a newline
    for name in weird:
        os.mkdir(name)
        with open(name + b"/submission_secret.txt", "w") as fh:
            fh.write("ab" * 64)
    os.mkfifo(mine / f"kim+{QUIZ}+{stamp}+fifo")                                                        # not a folder
    (mine / f"kim+{QUIZ}+{stamp}+link").symlink_to(cfg.root)                                            # the course root
    (mine / f"lee+{QUIZ}+{stamp}+other").mkdir()                                                        # another's name
    time.sleep(1.1)
    sneaky = mine / f"kim+{QUIZ}+2026-12-02 10:00:01.000000 UTC+files"                                  # newest of kim's
    sneaky.mkdir()
    (sneaky / f"{QUIZ}.ipynb").symlink_to(cfg.root / "course_config.py")                                # a link inside
    (sneaky / "submission_secret.txt").write_text("cd" * 64)
    lines = _drain(cfg)
    text = "\n".join(lines)
    assert text.count("not a name nbgrader makes") == 2, text
    assert "inbound kim/" in text                                       # the FIFO, the link, lee's name: said
    rows = _rows(cfg)
    assert [r["state"] for r in rows if r["student"] == "lee"] == ["done"]          # the class is graded
    assert _gradebook_total(cfg, "lee") == pytest.approx(sum(_quiz_points(cfg).values()))
    # kim's newest entry (a link for a notebook) is collected without the link: newest wins, and its
    # grading reports the missing notebook; kim's earlier real one was superseded, not lost
    kim_rows = {r["entry"].split("/")[-1]: r for r in rows if r["student"] == "kim"}
    assert set(kim_rows) == {real.name, sneaky.name}, kim_rows
    assert kim_rows[real.name]["state"] == "superseded"
    assert kim_rows[sneaky.name]["state"] == "failed" and "missing" in kim_rows[sneaky.name]["error"]
    assert not (cfg.root / "submitted" / "kim" / QUIZ / f"{QUIZ}.ipynb").exists()


# ── an LMS drop folder ──────────────────────────────────────────────────────
def test_an_lms_download_dropped_in_the_folder_is_imported_once_and_graded(quiz_course, tmp_path):
    import zipfile
    drop = tmp_path / "lms-drop"
    cfg = quiz_course(lms_drop=str(drop))
    (drop / QUIZ).mkdir(parents=True)
    download = drop / QUIZ / "week3.zip"
    when = (2026, 12, 1, 20, 15, 0)                            # the LMS's upload time (LMS['timezone'])
    with zipfile.ZipFile(download, "w") as zf:
        for student, mistakes in (("kim01", None), ("lee02", "frameworks_mixed")):
            zf.writestr(zipfile.ZipInfo(f"{student}_{QUIZ}.ipynb", date_time=when),
                        nbformat.writes(_notebook(cfg, student, mistakes)[QUIZ]))
    past = time.time() - 60                                    # the download finished a minute ago
    os.utime(download, (past, past))
    lines = _drain(cfg)
    rows = _rows(cfg)
    assert sorted((r["student"], r["source"], r["state"]) for r in rows) == [
        ("kim01", "lms", "done"), ("lee02", "lms", "done")], rows
    assert rows[0]["submitted_at"] == dt.datetime(2026, 12, 1, 11, 15)          # 20:15 KST, as naive UTC
    full = sum(_quiz_points(cfg).values())
    assert _gradebook_total(cfg, "kim01") == pytest.approx(full)
    assert _gradebook_total(cfg, "lee02") < full                       # control: lee02's mistakes cost points
    # no exchange slot for an LMS upload: the feedback is written for staff to return
    assert (cfg.root / "feedback" / "kim01" / QUIZ / f"{QUIZ}.html").is_file()
    assert any("feedback written (no exchange slot)" in l for l in lines), lines
    # the same download is not imported again; a new one is
    _drain(cfg)
    assert len(_rows(cfg)) == 2


# ── a grader process that dies is replaced; its submission is graded again ──
def test_a_grader_process_killed_mid_grade_is_replaced_and_the_submission_regraded(quiz_course, tmp_path):
    cfg = quiz_course()
    _student(cfg, "kim", tmp_path).submit(QUIZ, _notebook(cfg, "kim"))
    log = tmp_path / "watch.log"
    proc = _watch_proc(cfg, "--drain", log=log)
    try:
        _wait_for(lambda: [r for r in _rows(cfg) if r["state"] == "grading"], 300, "nothing was graded", log)
        graders = [p for p in _children(proc.pid)
                   if "spawn_main" in _cmdline(p) and "resource_tracker" not in _cmdline(p)]
        assert graders, _children(proc.pid)
        os.kill(graders[0], signal.SIGKILL)
        assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert "a grader process died while grading concepts_quiz/kim (attempt 1); it is graded again" in text, text
    row = _rows(cfg)[0]
    assert row["state"] == "done" and row["graded"] == 1 and row["attempts"] == 2, row
