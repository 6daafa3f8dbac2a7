"""Submission intake: nbgrader exchange round trip, LMS downloads, late penalties and extensions.

Students in the exchange test run plain `nbgrader fetch_assignment` / `nbgrader submit` as their own
OS users: nbgrader names a submission after the user of the process (pwd, not $USER), so each
student command runs in a bubblewrap user namespace with its own uid and an /etc/passwd that names
it; the fourth student is the shared 'jovyan' user of a Docker-based hub with $JUPYTERHUB_USER.
Each student sees, as the exchange's inbound, only their own inbound/<student>/ (staff make these
with `exchange inbound`), as the documented hub mounts it; tests/test_attacks_intake.py tries the rest.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, make_course, run_cli
from graders.config import ConfigError
from graders.course import load_config

QUIZ = "concepts_quiz"
KST = dt.timezone(dt.timedelta(hours=9))
DUE = dt.datetime(2026, 12, 20, 23, 59, tzinfo=KST)          # ASSIGNMENTS['concepts_quiz']['due']
NBGRADER = str(REPO / ".venv" / "bin" / "nbgrader")


def _utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc)


@pytest.fixture(scope="module")
def quiz_course():
    """A course with the quiz released, its own exchange folder, a late policy and one extension."""
    base = Path(tempfile.mkdtemp(prefix="dlcourse-intake-"))
    base.chmod(0o755)          # students (other users) must be able to reach the exchange inside
    extra = (f"EXCHANGE_DIR = {str(base / 'exchange')!r}\n"
             "LATE_POLICY = {'penalty_per_day': 0.1, 'max_days_late': 3, 'grace_minutes': 10}\n"
             f"EXTENSIONS = {{'ext01': {{'{QUIZ}': '2026-12-23 23:59:00+09:00'}}}}\n")
    root = make_course(base / "course", extra)
    run_cli(["release", QUIZ], root)
    yield load_config(root / "course_config.py")
    shutil.rmtree(base, ignore_errors=True)


# ── nbgrader exchange ───────────────────────────────────────────────────────
class Students:
    """Run plain nbgrader as separate OS users (bubblewrap user namespaces), each in their own folder."""

    def __init__(self, base: Path, cfg, users: dict[str, int]):
        self.base, self.users, self.cfg = base, users, cfg
        passwd = ["root:x:0:0:root:/root:/bin/bash"] + [f"{u}:x:{uid}:{uid}::/home/{u}:/bin/sh"
                                                        for u, uid in users.items()]
        (base / "passwd").write_text("\n".join(passwd) + "\n")
        (base / "group").write_text("root:x:0:\n" + "".join(f"{u}:x:{uid}:\n" for u, uid in users.items()))
        from graders.intake.exchange import student_nbgrader_config
        self.config = base / "student_nbgrader_config.py"
        self.config.write_text(student_nbgrader_config(cfg))

    def home(self, student: str) -> Path:
        path = self.base / "homes" / student
        if not path.exists():
            path.mkdir(parents=True)
            shutil.copy(self.config, path / "nbgrader_config.py")
        return path

    def start(self, student: str, *args, os_user: str | None = None):
        user = os_user or student
        home = self.home(student)
        uid = str(self.users[user])
        env = {"PATH": "/usr/bin:/bin", "USER": user, "LOGNAME": user, "HOME": str(home)}
        if os_user:
            env["JUPYTERHUB_USER"] = student
        inbound = self.cfg.exchange_dir / self.cfg.course_id / "inbound"
        cmd = ["bwrap", "--unshare-user", "--uid", uid, "--gid", uid, "--bind", "/", "/", "--dev", "/dev",
               "--bind", str(inbound / student), str(inbound),          # the student's own inbound folder only
               "--proc", "/proc", "--ro-bind", str(self.base / "passwd"), "/etc/passwd",
               "--ro-bind", str(self.base / "group"), "/etc/group", "--chdir", str(home), NBGRADER, *args]
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run_all(self, jobs):
        procs = [(who, self.start(who, *args, os_user=os_user)) for who, args, os_user in jobs]
        for who, proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{who}: {out[-3000:]}"


def _answer(home: Path, student: str, marker: str) -> None:
    """The student's edit: answers typed into the fetched notebook, plus a marker to recognise the version."""
    from graders import demo
    from graders.exercises.concepts_quiz import students as q
    path = home / QUIZ / f"{QUIZ}.ipynb"
    nb = demo.fill(nbformat.read(path, as_version=4), q.answers_for(student, q.REFERENCE))
    nb.cells.append(nbformat.v4.new_markdown_cell(marker))
    nbformat.write(nb, path)


def _inbound(cfg, student: str) -> list[str]:
    inbound = cfg.exchange_dir / cfg.course_id / "inbound" / student
    return sorted(p.name.rsplit("+", 3)[2] for p in inbound.iterdir() if p.name.startswith(f"{student}+{QUIZ}+"))


def _seen_after_claim(stamp: str, claimed: str) -> bool:
    """timestamp.txt holds when the exchange saw the submission (its ctime): at or just after nbgrader's name."""
    from nbgrader.utils import parse_utc
    delta = (parse_utc(stamp) - parse_utc(claimed)).total_seconds()
    return 0 <= delta < 120


def test_exchange_round_trip(quiz_course, tmp_path):
    cfg = quiz_course
    proc = run_cli(["exchange", "release", QUIZ], cfg.root)
    outbound = cfg.exchange_dir / cfg.course_id / "outbound" / QUIZ / f"{QUIZ}.ipynb"
    assert outbound.read_bytes() == (cfg.root / "release" / QUIZ / f"{QUIZ}.ipynb").read_bytes()
    assert "cannot" not in proc.stdout and "없습니다" not in proc.stdout, proc.stdout   # students can get in
    modes = {name: oct(os.stat(cfg.exchange_dir / cfg.course_id / name).st_mode & 0o7777)
             for name in ("outbound", "inbound")}
    assert oct(os.stat(cfg.exchange_dir).st_mode & 0o777) == "0o777"
    assert modes == {"outbound": "0o755", "inbound": "0o2733"}       # inbound: write-only for students

    base = Path(tempfile.mkdtemp(prefix="students-", dir=cfg.exchange_dir.parent))
    st = Students(base, cfg, {"kim01": 2101, "lee02": 2102, "jovyan": 1000})
    hub_user = {"choi04": "jovyan"}           # a Docker-based hub: every student is the OS user 'jovyan'
    everyone = ["kim01", "lee02", "choi04"]
    proc = run_cli(["exchange", "inbound", *[a for s in everyone for a in ("--student", s)]], cfg.root)
    assert "3" in proc.stdout and all((cfg.exchange_dir / cfg.course_id / "inbound" / s).is_dir() for s in everyone)
    st.run_all([(s, ["fetch_assignment", QUIZ], hub_user.get(s)) for s in everyone])
    for s in everyone:
        _answer(st.home(s), s, f"{s} v1")
    st.run_all([(s, ["submit", QUIZ], hub_user.get(s)) for s in everyone])
    assert [len(_inbound(cfg, s)) for s in everyone] == [1, 1, 1]

    proc = run_cli(["exchange", "collect", QUIZ], cfg.root)
    assert "3명의 제출 (3건) → 새로 3명, 갱신 0명" in proc.stdout, proc.stdout
    assert all(f"+ {s}:" in proc.stdout for s in everyone)
    for s in everyone:
        folder = cfg.root / "submitted" / s / QUIZ
        assert _seen_after_claim((folder / "timestamp.txt").read_text().strip(), _inbound(cfg, s)[-1]), s
        assert nbformat.read(folder / f"{QUIZ}.ipynb", as_version=4).cells[-1].source == f"{s} v1"

    # lee02 changes an answer and submits again: the next collect takes the newest, and only that one
    _answer(st.home("lee02"), "lee02", "lee02 v2")
    st.run_all([("lee02", ["submit", QUIZ], None)])
    from graders.intake.exchange import collect_from_exchange
    got = collect_from_exchange(cfg, QUIZ)
    assert (got.submissions, got.new, got.updated, got.unchanged) == (4, [], ["lee02"], ["choi04", "kim01"])
    folder = cfg.root / "submitted" / "lee02" / QUIZ
    stamps = _inbound(cfg, "lee02")
    assert len(stamps) == 2 and _seen_after_claim((folder / "timestamp.txt").read_text().strip(), stamps[-1])
    assert nbformat.read(folder / f"{QUIZ}.ipynb", as_version=4).cells[-1].source == "lee02 v2"


def test_student_config_has_course_and_exchange_and_nothing_secret(quiz_course, tmp_path, capsys):
    from graders.intake.exchange import student_nbgrader_config
    text = student_nbgrader_config(quiz_course)
    assert f"c.CourseDirectory.course_id = {quiz_course.course_id!r}" in text
    assert f"c.Exchange.root = {str(quiz_course.exchange_dir)!r}" in text
    for secret in ("db_url", "gradebook", "source", "secret", "graders", str(quiz_course.root)):
        assert secret not in text.split("c = get_config()")[1], secret
    from traitlets.config import Config
    c = Config()
    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: c})    # what traitlets does
    assert c.CourseDirectory.course_id == quiz_course.course_id and c.Exchange.root == str(quiz_course.exchange_dir)
    out = tmp_path / "cfg.py"
    proc = run_cli(["exchange", "student-config", "--out", str(out)], quiz_course.root)
    assert out.read_text() == text and str(out) in proc.stdout
    from graders.cli import main
    assert main(["--config", str(quiz_course.path), "exchange", "student-config"]) == 0
    assert capsys.readouterr().out == text


def test_exchange_folder_problems_are_clear(tmp_path):
    from graders.intake import IntakeError
    from graders.intake.exchange import collect_from_exchange, release_to_exchange, student_access_problems

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    root = make_course(tmp_path / "c", f"EXCHANGE_DIR = {str(blocker / 'exchange')!r}\nLANGUAGE = 'en'\n")
    (root / "release" / QUIZ).mkdir(parents=True)
    cfg = load_config(root / "course_config.py")
    with pytest.raises(IntakeError) as info:
        release_to_exchange(cfg, QUIZ)
    assert "cannot create the exchange folder" in str(info.value) and "EXCHANGE_DIR" in str(info.value)
    with pytest.raises(IntakeError) as info:
        collect_from_exchange(cfg, QUIZ)
    assert "exchange release concepts_quiz" in str(info.value)

    # run as root, nbgrader's own checks (os.access) pass everywhere: the course checks the mode bits
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    locked.chmod(0o700)
    root = make_course(tmp_path / "d", f"EXCHANGE_DIR = {str(locked / 'exchange')!r}\nLANGUAGE = 'en'\n")
    cfg = load_config(root / "course_config.py")
    from graders.intake.exchange import ensure_root
    ensure_root(cfg)
    problems = student_access_problems(cfg)
    assert any(str(locked) in p and "chmod o+x" in p for p in problems), problems
    assert oct(os.stat(cfg.exchange_dir).st_mode & 0o777) == "0o777"


# ── LMS downloads ───────────────────────────────────────────────────────────
def _notebook(marker: str, metadata: dict | None = None) -> bytes:
    nb = nbformat.read(REPO / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(marker))
    nb.metadata.update(metadata or {})
    return nbformat.writes(nb).encode()


def _zip(path: Path, entries: list[tuple[str, bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _stamp(cfg, student) -> str:
    return (cfg.root / "submitted" / student / QUIZ / "timestamp.txt").read_text()


def _marker(cfg, student) -> str:
    return nbformat.read(cfg.root / "submitted" / student / QUIZ / f"{QUIZ}.ipynb", as_version=4).cells[-1].source


@pytest.fixture(scope="module")
def lms_course(tmp_path_factory):
    """A course whose gradebook has a roster; each test below uses its own students."""
    from nbgrader.api import Gradebook
    root = make_course(tmp_path_factory.mktemp("lms") / "course", "LANGUAGE = 'en'\n")
    cfg = load_config(root / "course_config.py")
    with Gradebook(cfg.db_url) as gb:
        for s in ("kim01", "lee02", "park03", "han05", "oh06", "yun07", "seo08"):
            gb.update_or_create_student(s)
    return cfg


def test_lms_zip_import(lms_course, tmp_path):
    cfg = lms_course
    t = (2026, 12, 20, 20, 0, 0)
    download = _zip(tmp_path / "download.zip", [
        # the student's own file claims a time: it must not count
        ("quiz-downloads/kim01_concepts_quiz.ipynb", _notebook("kim01", {"submitted_at": "2026-12-01 09:00"}), t),
        ("quiz-downloads/lee02_concepts_quiz.ipynb", _notebook("lee02 first"), (2026, 12, 20, 21, 0, 0)),
        ("quiz-downloads/lee02_concepts_quiz (1).ipynb", _notebook("lee02 second"), (2026, 12, 20, 23, 0, 0)),
        ("quiz-downloads/퀴즈 최종본.ipynb", _notebook("nobody"), t),                     # no student id
        ("quiz-downloads/zzz99_concepts_quiz.ipynb", _notebook("stranger"), t),          # not on the roster
        ("quiz-downloads/park03_notes.txt", b"my notes", t),                              # not a notebook
        ("quiz-downloads/han05_concepts_quiz.ipynb", b'{"cells": [', t),                  # broken notebook
        ("quiz-downloads/submissions.csv", "student,submitted_at\nkim01,2026-12-20 22:30:00+09:00\n".encode(), t),
        ("__MACOSX/quiz-downloads/._kim01_concepts_quiz.ipynb", b"\0", t),
    ])
    proc = run_cli(["import-lms", str(download), "--assignment", QUIZ], cfg.root, check=False)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr          # errors reported, the rest imported
    assert "2 imported (2 new, 0 updated)" in out and "4 errors" in out, out
    # times from the LMS: the manifest for kim01, the zip entry (Asia/Seoul) for lee02
    assert _stamp(cfg, "kim01") == "2026-12-20 13:30:00.000000 UTC"
    assert _stamp(cfg, "lee02") == "2026-12-20 14:00:00.000000 UTC"
    assert _marker(cfg, "kim01") == "kim01" and _marker(cfg, "lee02") == "lee02 second"
    assert "took the one with the newest LMS time" in out and "lee02_concepts_quiz.ipynb (2026-12-20 21:00" in out
    errors = {line.split(": ", 1)[0].strip("✗ ").strip(): line for line in out.splitlines() if "✗" in line}
    assert "no student id" in errors["quiz-downloads/퀴즈 최종본.ipynb"] and "filename_pattern" in out
    assert "not on the gradebook's roster" in errors["quiz-downloads/zzz99_concepts_quiz.ipynb"]
    assert "not a notebook" in errors["quiz-downloads/park03_notes.txt"]
    assert "not a valid notebook" in errors["quiz-downloads/han05_concepts_quiz.ipynb"]
    assert "students missing from" in out and "lee02" in out            # their time came from the zip
    assert not (cfg.root / "submitted" / "zzz99").exists() and not (cfg.root / "submitted" / "han05").exists()

    # idempotent: the same download again changes nothing
    from graders.intake.lms import import_lms
    before = {p: p.stat().st_mtime_ns for p in (cfg.root / "submitted").rglob("*") if p.is_file()}
    again = import_lms(cfg, download, QUIZ)
    assert (again.count("new"), again.count("updated"), again.count("unchanged"), len(again.errors)) == (0, 0, 2, 4)
    assert before == {p: p.stat().st_mtime_ns for p in (cfg.root / "submitted").rglob("*") if p.is_file()}


def test_lms_newer_upload_replaces_older_is_kept_and_folders_work(lms_course, tmp_path):
    from graders.intake.lms import import_lms
    cfg = lms_course
    first = _zip(tmp_path / "a.zip", [("oh06_concepts_quiz.ipynb", _notebook("oh06 a"), (2026, 12, 20, 20, 0, 0)),
                                      ("yun07_concepts_quiz.ipynb", _notebook("yun07 a"), (2026, 12, 20, 20, 0, 0))])
    report = import_lms(cfg, first, QUIZ)
    assert report.count("new") == 2 and not report.errors
    (cfg.root / "submitted" / "oh06" / QUIZ / "extra.txt").write_text("collected earlier; must stay")
    later = _zip(tmp_path / "b.zip", [("oh06_concepts_quiz.ipynb", _notebook("oh06 b"), (2026, 12, 21, 9, 0, 0)),
                                      ("yun07_concepts_quiz.ipynb", _notebook("yun07 old"), (2026, 12, 19, 9, 0, 0))])
    report = import_lms(cfg, later, QUIZ)
    assert [r.status for r in sorted(report.results, key=lambda r: r.student)] == ["updated", "kept"]
    assert _marker(cfg, "oh06") == "oh06 b" and _stamp(cfg, "oh06") == "2026-12-21 00:00:00.000000 UTC"
    assert _marker(cfg, "yun07") == "yun07 a" and _stamp(cfg, "yun07") == "2026-12-20 11:00:00.000000 UTC"
    assert (cfg.root / "submitted" / "oh06" / QUIZ / "extra.txt").exists()
    assert "newer submission" in "\n".join(report.lines("en"))

    # a folder per student; times are the files' modification times
    folder = tmp_path / "unpacked"
    (folder / "seo08").mkdir(parents=True)
    nb = folder / "seo08" / "Untitled.ipynb"
    nb.write_bytes(_notebook("seo08"))
    when = dt.datetime(2026, 12, 20, 10, 0, 0, tzinfo=dt.timezone.utc)
    os.utime(nb, (when.timestamp(), when.timestamp()))
    report = import_lms(cfg, folder, QUIZ)
    assert [(r.student, r.status, r.time_source) for r in report.results] == [("seo08", "new", "mtime")]
    assert _stamp(cfg, "seo08") == "2026-12-20 10:00:00.000000 UTC" and _marker(cfg, "seo08") == "seo08"


def test_lms_without_roster_accepts_any_id_and_bad_downloads_are_clear(tmp_path):
    from graders.intake import IntakeError
    from graders.intake.lms import import_lms
    cfg = load_config(make_course(tmp_path / "c", "LANGUAGE = 'en'\n") / "course_config.py")
    z = _zip(tmp_path / "d.zip", [("zzz99_quiz.ipynb", _notebook("z"), (2026, 12, 20, 20, 0, 0))])
    assert [r.student for r in import_lms(cfg, z, QUIZ).results] == ["zzz99"]
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(IntakeError, match="not a readable zip"):
        import_lms(cfg, tmp_path / "not.zip", QUIZ)
    bad = _zip(tmp_path / "m.zip", [("submissions.csv", b"who,when\nkim01,x\n", (2026, 12, 20, 20, 0, 0))])
    with pytest.raises(IntakeError, match="header"):
        import_lms(cfg, bad, QUIZ)
    row = _zip(tmp_path / "r.zip", [("kim01_quiz.ipynb", _notebook("k"), (2026, 12, 20, 20, 0, 0)),
                                    ("submissions.csv", b"student,submitted_at\nkim01,yesterday\n", (2026, 1, 1, 0, 0, 0))])
    report = import_lms(cfg, row, QUIZ)
    assert not report.results and len(report.errors) == 2 and "yesterday" in report.errors[0][1]


# ── late penalties and extensions through the real autograde ────────────────
def test_late_penalty_and_extension_in_gradebook_and_feedback(quiz_course):
    from nbgrader.api import Gradebook
    from graders import demo
    from graders.exercises.concepts_quiz import students as q

    cfg = quiz_course
    hours = {"late2": 36, "ext01": 36}          # 36 h after the due date; ext01 has 3 more days
    for who, h in hours.items():
        demo.submit(cfg, QUIZ, who={who: q.answers_for(who, q.REFERENCE)}, when=_utc(DUE + dt.timedelta(hours=h)))
    run_cli(["autograde", QUIZ, "--quiet", "--student", "late2", "--student", "ext01"], cfg.root)
    # graded one after the other: the second ran in a kernel started while the first was scored
    started_ahead = sorted(json.loads((cfg.root / f"autograded/{s}/{QUIZ}/{QUIZ}.checks.json").read_text())
                           ["run"]["prestarted"] for s in hours)
    assert started_ahead == [False, True], started_ahead
    with Gradebook(cfg.db_url) as gb:
        got = {}
        for s in hours:
            sub = gb.find_submission(QUIZ, s)
            nb = gb.find_submission_notebook(QUIZ, QUIZ, s)
            got[s] = (nb.score, nb.late_submission_penalty, sub.total_seconds_late, sub.extension)
    full = 52.0
    assert got["late2"] == (full, pytest.approx(full * 0.2), 36 * 3600, None)    # day 2 started → 20 %
    assert got["ext01"] == (full, None, 0, dt.timedelta(days=3))                 # extended by 3 days: on time

    from graders.farm.autograde import nbgrader_api
    api = nbgrader_api(cfg)
    for s in hours:
        assert api.generate_feedback(QUIZ, s, force=True)["success"]
    html = {s: (cfg.root / "feedback" / s / QUIZ / f"{QUIZ}.html").read_text() for s in hours}
    assert "늦은 제출 감점: <strong>−10.4점</strong>" in html["late2"] and "2일째 늦은 제출" in html["late2"]
    assert "Late submission penalty (Score: -10.4)" in html["late2"]          # nbgrader's own line
    assert "연장된 마감" in html["ext01"] and "2026-12-23 23:59 (UTC+09:00)" in html["ext01"]
    assert "기한 안에 제출" in html["ext01"] and "늦은 제출 감점" not in html["ext01"]


def test_penalty_rule():
    from graders.intake.late import CourseLatePenalty, days_late, penalty_fraction
    assert days_late(0) == 0 and days_late(60) == 1 and days_late(86400) == 1 and days_late(86401) == 2
    assert days_late(9 * 60, grace_minutes=10) == 0 and days_late(11 * 60, grace_minutes=10) == 1
    assert penalty_fraction(3, 0.1, 3) == pytest.approx(0.3) and penalty_fraction(4, 0.1, 3) == 1.0
    assert penalty_fraction(12, 0.1, None) == 1.0 and penalty_fraction(2, 0.0, 3) == 0.0
    plugin = CourseLatePenalty(penalty_per_day=0.25, max_days_late=None)
    assert plugin.late_submission_penalty("s", 8.0, 2 * 86400 - 1) == 4.0
    assert CourseLatePenalty(penalty_per_day=0.0).late_submission_penalty("s", 8.0, 5 * 86400) is None   # only marked
    policy = CourseLatePenalty(penalty_per_day=0.1, max_days_late=3, grace_minutes=10)
    assert policy.late_submission_penalty("s", 8.0, 5 * 60) is None                  # in the grace period
    assert policy.late_submission_penalty("s", 8.0, 4 * 86400 + 1) == 8.0            # past max_days_late: 0 points


def test_changed_deadline_terms_regrade(tmp_path):
    from graders.farm.ledger import fingerprint
    a = load_config(make_course(tmp_path / "a") / "course_config.py")
    b = load_config(make_course(tmp_path / "b", f"EXTENSIONS = {{'kim01': {{'{QUIZ}': '2026-12-22 23:59:00+09:00'}}}}\n")
                    / "course_config.py")
    for cfg in (a, b):
        demo_dir = cfg.root / "submitted" / "kim01" / QUIZ
        demo_dir.mkdir(parents=True)
        (demo_dir / "timestamp.txt").write_text("2026-12-21 00:00:00.000000 UTC")
    assert fingerprint(a, QUIZ, "kim01") != fingerprint(b, QUIZ, "kim01")
    assert fingerprint(a, QUIZ, "lee02") == fingerprint(b, QUIZ, "lee02")


# ── config errors ───────────────────────────────────────────────────────────
BAD = [
    ("LATE_POLICY = {'penalty_per_day': 1.5}\n", "LATE_POLICY['penalty_per_day']", "fraction from 0 to 1"),
    ("LATE_POLICY = {'penalty_per_day': '10%'}\n", "LATE_POLICY['penalty_per_day']", "fraction"),
    ("LATE_POLICY = {'max_days_late': -1}\n", "LATE_POLICY['max_days_late']", "whole number of days"),
    ("LATE_POLICY = {'penalty_per_day': 0.1, 'max_late': 3}\n", "LATE_POLICY['max_late']", "max_days_late"),
    ("LATE_POLICY = 0.1\n", "LATE_POLICY", "a dict like"),
    ("EXTENSIONS = {'kim01': {'keras_mnst': '2026-12-06 23:59:00+09:00'}}\n", "EXTENSIONS['kim01']['keras_mnst']",
     "keras_mnist"),
    ("EXTENSIONS = {'kim01': {'keras_mnist': '12/06/2026'}}\n", "EXTENSIONS['kim01']['keras_mnist']", "UTC offset"),
    ("EXTENSIONS = {'kim01': {'keras_mnist': '2026-12-06 23:59:00'}}\n", "EXTENSIONS['kim01']['keras_mnist']",
     "UTC offset"),
    ("EXTENSIONS = {'kim01': {'keras_mnist': '2026-12-01 23:59:00+09:00'}}\n", "EXTENSIONS['kim01']['keras_mnist']",
     "later date"),
    ("EXTENSIONS = {'kim01': '2026-12-06'}\n", "EXTENSIONS['kim01']", "assignment -> new due date"),
    ("ASSIGNMENTS['keras_mnist']['due'] = None\nEXTENSIONS = {'kim01': {'keras_mnist': '2026-12-06 23:59:00+09:00'}}\n",
     "EXTENSIONS['kim01']['keras_mnist']", "ASSIGNMENTS['keras_mnist']['due']"),
    ("LMS = {'filename_pattern': r'^(?P<id>\\w+)_'}\n", "LMS['filename_pattern']", "(?P<student>...)"),
    ("LMS = {'filename_pattern': '(['}\n", "LMS['filename_pattern']", "regular expression"),
    ("LMS = {'timezone': 'Mars/Olympus'}\n", "LMS['timezone']", "Asia/Seoul"),
    ("LMS = {'manifest': 'a/b.csv'}\n", "LMS['manifest']", "plain file name"),
    ("LMS = {'pattern': 'x'}\n", "LMS['pattern']", "filename_pattern"),
    ("LATE_POLICYS = {}\n", "LATE_POLICYS: unknown setting", "LATE_POLICY"),
]


@pytest.mark.parametrize("extra,setting,fix", BAD)
def test_bad_intake_settings_name_the_setting_and_fix(tmp_path, extra, setting, fix):
    root = make_course(tmp_path / "c", extra_config=extra)
    with pytest.raises(ConfigError) as info:
        load_config(root / "course_config.py")
    text = str(info.value)
    assert setting in text and "Fix:" in text and fix in text.split("Fix:")[1], text


def test_shipped_intake_settings():
    cfg = load_config(REPO / "course_config.py")
    assert cfg.late_policy.penalty_per_day == 0.1 and cfg.late_policy.max_days_late == 3
    assert cfg.extensions == {} and cfg.lms.manifest == "submissions.csv"
    import re
    pattern = re.compile(cfg.lms.filename_pattern)
    assert pattern.match("kim01_concepts_quiz").group("student") == "kim01"
    assert pattern.match("kim01").group("student") == "kim01"
