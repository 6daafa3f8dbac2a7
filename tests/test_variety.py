"""Variety suite (issue 12 §5): submissions written from public code, graded through the real farm.

Every case in tests/variety/ is submitted as its own student into the session's graded course (conftest:
beside the simulated class), the five assignments are autograded in ONE batch, and each case must get exactly
the points a fair TA gives
(written down before the grader was run; see tests/variety/__init__.py).  When a wrong verdict is found in
the wild, add the submission here.
"""
from __future__ import annotations

from collections import Counter

import pytest

from conftest import assert_points
import variety

CASES = variety.all_cases()
ASSIGNMENTS = list(variety.MODULES)


@pytest.fixture(scope="session")
def variety_graded(graded_class):
    """The variety cases are graded in the session's one batch, beside the simulated class (conftest)."""
    return {"cfg": graded_class["cfg"], "proc": graded_class["batch"], "seconds": graded_class["seconds"],
            "checks": graded_class["variety"]}


def test_suite_is_big_enough():
    """At least 40 full-marks and 25 one-check-flagged cases over all five assignments, with real variety."""
    counts = Counter(variety.outcome(a, c) for a, c in CASES)
    per = Counter(a for a, _ in CASES)
    assert counts["full"] >= 40, counts
    assert counts["one"] >= 25, counts
    assert set(per) == set(ASSIGNMENTS), per
    assert per["keras_mnist"] >= 10 and per["pytorch_mnist"] >= 10, per
    names = [c["name"] for _, c in CASES]
    assert len(names) == len(set(names)), "student names must be unique"
    for a, c in CASES:
        assert c["origin"].strip(), c["name"]
        assert set(c["expected"]) == set(variety.max_points(a)), (c["name"], "expected must name every check")


def test_every_case_is_graded(variety_graded):
    """No submission is dropped (a scorer error must never make nbgrader skip a notebook)."""
    missing = [(a, c["name"]) for a, c in CASES if c["name"] not in variety_graded["checks"][a]]
    proc = variety_graded["proc"]
    if missing:
        pytest.fail(f"not graded: {missing}\nSTDOUT: {proc.stdout[-3000:]}\nSTDERR: {proc.stderr[-3000:]}", pytrace=False)


@pytest.mark.parametrize("assignment,case", CASES, ids=[c["name"] for _, c in CASES])
def test_variety_case_gets_fair_points(variety_graded, assignment, case):
    got_checks = variety_graded["checks"][assignment].get(case["name"])
    where = f"{assignment}/{case['name']} — origin: {case['origin']}"
    if case.get("why"):
        where += f" — why: {case['why']}"
    if got_checks is None:
        pytest.fail(f"{where}: not graded at all (no checks recorded)", pytrace=False)
    got = {name: r["score"] for name, r in got_checks.items()}
    try:
        assert_points(got, case["expected"])
    except AssertionError as exc:
        wrong = {k: {"got": got.get(k), "expected": v} for k, v in case["expected"].items()
                 if k not in got or (got[k] != pytest.approx(v) if not isinstance(v, tuple)
                                     else not v[0] <= got[k] <= v[1])}
        notes = {k: (got_checks[k].get("found"), got_checks[k].get("note")) for k in wrong if k in got_checks}
        pytest.fail(f"{where}\n  wrong checks: {wrong}\n  grader said: {notes}\n  ({exc})", pytrace=False)
