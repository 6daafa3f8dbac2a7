"""kill -9 in the grading farm: of the runner, and of grader processes that each hold a submission.

A small course of its own (the concepts quiz class, graded into a real PostgreSQL server by two grader
processes), so these tests do not wait for the session's graded class and do not change it.  Each batch
writes its output to a file that a failure shows, and a batch a failing test leaves is killed.
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

from conftest import REPO, SESSION_LIMITS, assert_class_graded, cold_course, make_course, run_cli
from graders import demo
from graders.course import load_config
from graders.exercises.concepts_quiz import students as quiz

QUIZ_CLASS = sorted(quiz.EXPECTED)


@pytest.fixture(scope="module")
def farm(tmp_path_factory, postgres_db):
    root = make_course(tmp_path_factory.mktemp("kills"), f"DB_URL = {postgres_db('killbook')!r}\n" + SESSION_LIMITS)
    cfg = load_config(root / "course_config.py")
    assert cfg.db_url.startswith("postgresql://")
    assert not cfg.sandbox.prestart      # the grader-death test finds the student on a kernel's command line
    run_cli(["release", "concepts_quiz"], root)
    demo.submit(cfg, "concepts_quiz")
    run_cli(["autograde", "concepts_quiz", "--workers", "2", "--quiet"], root)
    assert_class_graded(cfg, "concepts_quiz", quiz)
    return cfg


def _only(students):
    return [a for s in students for a in ("--student", s)]


class _Batch:
    """`graders autograde` in the background, its output in a file; killed (with its process group) on exit."""

    def __init__(self, cfg, assignment, *extra):
        env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(cfg.root / "tmp")}
        (cfg.root / "tmp").mkdir(exist_ok=True)
        self.log = cfg.root / f"batch-{time.monotonic_ns()}.log"
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "graders", "--config", str(cfg.root / "course_config.py"),
                                      "autograde", assignment, "--quiet", *extra], cwd=cfg.root, env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.pid = self.proc.pid

    def output(self) -> str:
        self.out.flush()
        return self.log.read_text(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)
        self.out.close()


def _our_processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if marker in l and "ps -eo" not in l]


def _quiz_ledgers(cfg) -> list[Path]:
    return [p for s in QUIZ_CLASS if (p := cfg.root / f"autograded/{s}/concepts_quiz/.graded.json").exists()]


def test_kill_9_of_the_runner_then_rerun_keeps_every_grade_once(farm):
    for ledger in _quiz_ledgers(farm):
        ledger.unlink()
    with _Batch(farm, "concepts_quiz", "--workers", "2", "--force", *_only(QUIZ_CLASS)) as batch:
        deadline = time.time() + 600             # a guard against a batch that never starts, not a timing
        while not _quiz_ledgers(farm):
            assert time.time() < deadline and batch.proc.poll() is None, \
                f"the batch made no progress:\n{batch.output()[-3000:]}"
            time.sleep(0.05)
        batch.proc.send_signal(signal.SIGKILL)
        batch.proc.wait(timeout=30)
        time.sleep(3)
        # the grader processes and their sandboxed kernels died with the runner
        assert _our_processes(str(farm.root / "tmp")) == []
    done_before = len(_quiz_ledgers(farm))
    assert done_before < len(QUIZ_CLASS), "the kill came too late to test anything"
    proc = run_cli(["autograde", "concepts_quiz", "--workers", "2", "--quiet", *_only(QUIZ_CLASS)], farm.root)
    assert f"{done_before} unchanged" in proc.stdout, proc.stdout
    assert f"graded {len(QUIZ_CLASS)}/{len(QUIZ_CLASS)}" in proc.stdout, proc.stdout
    assert_class_graded(farm, "concepts_quiz", quiz)


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


def test_three_grader_deaths_charge_only_what_each_held(farm):
    """kill -9 of grader processes that each hold a different submission: each of those (and only those) is
    charged one attempt and graded again; the rest of the batch is not charged and is graded once."""
    # the victim is picked by the student on its bwrap kernel's command line, which a warm kernel has not
    # (a warm parent's death is tested in test_warm.py)
    with cold_course(farm):
        _three_grader_deaths(farm)


def _three_grader_deaths(farm):
    n = len(QUIZ_CLASS)
    with _Batch(farm, "concepts_quiz", "--workers", "2", "--force", *_only(QUIZ_CLASS)) as batch:
        deadline = time.time() + 900                     # a guard against a batch that never starts, not a timing
        killed = {}                                      # student -> when its grader process was killed
        while len(killed) < 3:
            assert time.time() < deadline and batch.proc.poll() is None, \
                f"killed only {killed} before the batch ended:\n{batch.output()[-3000:]}"
            for pid in _grader_processes(batch.pid):
                student = _student_in_kernel(pid)
                if student and student not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed[student] = time.time()
                    break
            time.sleep(0.05)
        batch.proc.wait(timeout=900)
        output = batch.output()
    assert batch.proc.returncode == 0, output
    died = [l for l in output.splitlines() if "a grader process died" in l]
    assert len(died) == 3, output                       # three deaths, three submissions charged
    for student, when in killed.items():
        line = next((l for l in died if f"while grading concepts_quiz/{student};" in l), None)
        assert line and "exit -9" in line and "graded again (attempt 2 of 3)" in line, (student, died)
        ledger = json.loads((farm.root / f"autograded/{student}/concepts_quiz/.graded.json").read_text())
        assert ledger["graded_at"] > when, f"{student} was in flight when its process died but was not regraded"
    assert f"graded {n}/{n}" in output, output
    assert_class_graded(farm, "concepts_quiz", quiz)
