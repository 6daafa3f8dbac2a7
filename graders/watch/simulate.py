"""Simulated students on a hub, for the benchmark and the tests: nbgrader's own exchange classes,
run the way a student's server runs them.

Each student gets a home folder and a private view of the exchange like the hub's mounts
(lab.py): `<course>/outbound` and `<course>/feedback` of the real exchange, and as `<course>/inbound`
only the student's own inbound/<student>/.  `submit` is nbgrader's ExchangeSubmit (secret, timestamp,
the student's cache), `fetch_feedback` its ExchangeFetchFeedback — nothing here imitates their files.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from traitlets.config import Config

from ..config import CourseConfig


class SimStudent:
    def __init__(self, cfg: CourseConfig, student: str, home: Path):
        from ..intake.exchange import course_paths, make_inbound_folders
        self.cfg, self.student, self.home = cfg, student, Path(home)
        paths = course_paths(cfg)
        own_inbound = make_inbound_folders(cfg, [student])[1][0]
        feedback = paths["course"] / "feedback"
        if not feedback.is_dir():
            feedback.mkdir(mode=0o711)
        self.view = self.home / ".exchange-view"
        course = self.view / cfg.course_id
        course.mkdir(parents=True, exist_ok=True)
        for name, target in (("outbound", paths["outbound"]), ("inbound", own_inbound), ("feedback", feedback)):
            link = course / name
            if not link.is_symlink():
                link.symlink_to(target)
        self.cache = self.home / ".nbgrader_cache"
        self.cache.mkdir(exist_ok=True)

    def _config(self, assignment: str) -> Config:
        c = Config()
        c.CourseDirectory.course_id = self.cfg.course_id
        c.CourseDirectory.assignment_id = assignment
        c.CourseDirectory.student_id = self.student
        c.Exchange.root = str(self.view)
        c.Exchange.cache = str(self.cache)
        c.Exchange.assignment_dir = str(self.home)
        c.Exchange.path_includes_course = False
        return c

    def _run(self, cls, assignment: str):
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory
        c = self._config(assignment)
        coursedir = CourseDirectory(config=c)
        app = cls(coursedir=coursedir, authenticator=Authenticator(config=c), config=c)
        return app.start()

    def write(self, assignment: str, notebooks: dict) -> None:
        """The student's working copy: notebook name -> NotebookNode."""
        folder = self.home / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, folder / f"{name}.ipynb")

    def submit(self, assignment: str, notebooks: dict | None = None) -> Path:
        """`nbgrader submit` of the working copy (written first if given); the inbound entry made."""
        from nbgrader.exchange.default import ExchangeSubmit
        if notebooks is not None:
            self.write(assignment, notebooks)
        before = set(os.listdir(self.view / self.cfg.course_id / "inbound"))
        self._run(ExchangeSubmit, assignment)
        made = sorted(set(os.listdir(self.view / self.cfg.course_id / "inbound")) - before)
        if len(made) != 1:
            raise RuntimeError(f"nbgrader submit made {made}")
        return self.view / self.cfg.course_id / "inbound" / made[0]

    def fetch_feedback(self, assignment: str) -> list[Path]:
        """`nbgrader fetch_feedback`: the feedback pages now in <home>/<assignment>/feedback/<time>/."""
        from nbgrader.exchange.default import ExchangeFetchFeedback
        self._run(ExchangeFetchFeedback, assignment)
        return sorted((self.home / assignment / "feedback").glob("*/*.html"))
