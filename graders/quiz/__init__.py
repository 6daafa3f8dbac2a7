"""Concept quizzes: a YAML bank (grader zone) → rendered notebook → graded like any exercise.

bank.py      the bank format, its schema and the checks beyond it
render.py    key-free question file + quiz notebook for the release
coverage.py  concept → questions table
The scoring itself is in the shared check library (graders/checks/quiz.py); the concepts a
quiz's questions must cover live in the quiz's own folder (graders/exercises/<quiz>/concepts.py).
"""
from __future__ import annotations

from pathlib import Path

from ..checks import GradedCell, Scorer, quiz_question
from .bank import BANK_FILE, Bank, BankError, load_bank  # noqa: F401


def bank_path(root: Path, quiz: str) -> Path:
    return Path(root) / "source" / quiz / BANK_FILE


def quiz_scorer(bank: Bank) -> Scorer:
    """One graded cell per question (`grade_<id>`), scored by the question's own rule."""
    return Scorer(
        assignment=bank.quiz,
        notebook=bank.quiz,
        cells=[GradedCell(f"grade_{q['id']}", answer_id=f"answer_{q['id']}",
                          checks=[quiz_question(bank.quiz, q, shuffle=bank.shuffle)])
               for q in bank.questions],
    )
