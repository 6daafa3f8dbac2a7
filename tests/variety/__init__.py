"""Variety suite (issue 12, section 5): submissions written from public code, not from our reference.

One module per assignment.  Each module has CASES: a list of dicts with
    name      the simulated student (unique over the whole suite)
    origin    the public pattern the submission follows (tutorial, docs page, textbook, typical typing)
    answers   answer cell id -> code typed into that blank (quiz: `answer_<qid>` -> the whole answer line)
    expected  check -> exact points a fair TA gives (a (low, high) pair allows a range)
and optionally `why`: the reasoning where the expected points are debatable.

The expected points were written from the notebooks' instructions and a fair TA's judgement BEFORE the
grader was run on them; they are not adjusted to what any grader version answers.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for p in (REPO, REPO / "public"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from . import concepts_quiz, fastai_transfer, keras_mnist, pytorch_mnist, transformers_pipeline  # noqa: E402

MODULES = {"keras_mnist": keras_mnist, "pytorch_mnist": pytorch_mnist, "fastai_transfer": fastai_transfer,
           "transformers_pipeline": transformers_pipeline, "concepts_quiz": concepts_quiz}


def all_cases() -> list[tuple[str, dict]]:
    return [(a, case) for a, mod in MODULES.items() for case in mod.CASES]


def max_points(assignment: str) -> dict[str, float]:
    """Check -> its points: from course_config.py, or the quiz bank for a quiz."""
    return dict(MODULES[assignment].FULL)


def outcome(assignment: str, case: dict) -> str:
    """'full' (every check at its max), 'one' (exactly one check below its max) or 'other'."""
    full = max_points(assignment)
    low = [c for c, want in case["expected"].items()
           if (want[1] if isinstance(want, tuple) else want) < full[c] - 1e-9]
    return "full" if not low else ("one" if len(low) == 1 else "other")
