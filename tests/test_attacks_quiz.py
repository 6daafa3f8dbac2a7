"""Quiz attacks of issue 22 ("A grade is earned, never taken"), graded by the real farm.

The cases (docs/attacks.md, "Quiz attacks"):
  answer sheet   a blank paper graded before the due date must not bring back the expected answers or
                 the explanations (points yes); after the student's own due date they show
  tick all       every option of every multiple-answer question ticked: worth nothing
  hedge          a short answer that lists other candidate terms next to (or instead of) the right one
  regex bomb     a choice answer built to make the reader backtrack (57 and 80 characters)
  echo           long answers: the student's own text comes back only as a short prefix
  CPU bound      a check that runs away in the grader costs that check only ("could not judge")

One throw-away course, every case a real submission in submitted/, ONE `autograde concepts_quiz`
batch, then `feedback` (now, and --as-of after the due date) and `scores --as-student`.  The unit tests
below it pin the rules themselves; each names the change it needs (its negative control).
"""
from __future__ import annotations

import html as htmllib
import json
import re
import time

import pytest

from conftest import make_course, run_cli

from dlcourse import quiz as reader
from graders import demo
from graders.checks import CheckResult, Context, GradedCell, Scorer
from graders.checks.base import Check
from graders.checks.quiz import _Variant, score_multiple, score_short
from graders.course import load_config
from graders.exercises.concepts_quiz import students as Q
from graders.farm.score import CpuBudget

QUIZ = "concepts_quiz"
DUE = "2099-12-20 23:59:00+09:00"
EXTENDED = "2100-01-20 23:59:00+09:00"
BETWEEN = "2099-12-25 00:00:00+09:00"           # after DUE, before the extension
AFTER = "2100-02-01 00:00:00+09:00"
BANK = Q._bank()
FULL = Q.EXPECTED["ref"]
MULTIPLE = [q["id"] for q in BANK.questions if q["type"] == "multiple"]
SHORT = [q["id"] for q in BANK.questions if q["type"] == "short"]
# catastrophic inputs of the old choice reader (`(?:이|다|이다|…)+`): ×2 per added "이다"
BOMB_57 = "A " + "이다" * 27 + "뷁"
BOMB_80 = "A, " + "이다" * 38 + "뷁"
MARKER = "ECHO-" + "".join(f"{i:03d}" for i in range(120))          # 365 characters, every prefix distinct


def _hedges() -> dict:
    # the right term plus another candidate, or another candidate with the right term as its "gloss"
    return {"q04": "은닉층(완전연결층)", "q16": "TPU(GPU)", "q24": "Meta(DeepMind)", "q31": "pipeline(Trainer)"}


def _glosses() -> dict:
    # honest glosses: another spelling of the same answer, or one with a short Korean qualifier
    return {"q04": "은닉층(hidden layer)", "q16": "GPU(그래픽 처리 장치)", "q24": "Meta (옛 Facebook)",
            "q31": "파이프라인(pipeline)"}


def _cases() -> dict:
    """student -> (answers in bank terms or None for a blank paper, expected points per question)."""
    everything = {qid: [o["id"] for o in BANK.question(qid)["options"]] for qid in MULTIPLE}
    bombs = {"q01": Q.Raw(repr(BOMB_80)), "q03": Q.Raw(repr(BOMB_57)), "q05": Q.Raw(repr(BOMB_80))}
    echo = {"q02": Q.Raw(repr(MARKER)), "q04": Q.Raw(repr(MARKER[:80])), "q07": Q.Raw(repr(MARKER))}
    return {
        "qa_honest": (dict(Q.REFERENCE), FULL),
        "qa_glosses": ({**Q.REFERENCE, **_glosses()}, FULL),
        "qa_blank": (None, {qid: 0 for qid in FULL}),
        "qa_blank_ext": (None, {qid: 0 for qid in FULL}),
        # a fair TA: ticking everything shows no knowledge of which options are right
        "qa_tick_all": ({**Q.REFERENCE, **everything}, {**FULL, **{qid: 0 for qid in MULTIPLE}}),
        # a fair TA: two candidate answers are not the answer
        "qa_hedge": ({**Q.REFERENCE, **_hedges()}, {**FULL, **{qid: 0 for qid in _hedges()}}),
        # not an answer in the asked format: 0 with the format message, judged (not "could not judge")
        "qa_bomb": ({**Q.REFERENCE, **bombs}, {**FULL, **{qid: 0 for qid in bombs}}),
        "qa_echo": ({**Q.REFERENCE, **echo}, {**FULL, **{qid: 0 for qid in echo}}),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("quizattacks"),
                       f"ASSIGNMENTS[{QUIZ!r}]['due'] = {DUE!r}\n"
                       f"EXTENSIONS = {{'qa_blank_ext': {{{QUIZ!r}: {EXTENDED!r}}}}}\n"
                       "SANDBOX = {**SANDBOX, 'memory_gb': 6, 'prestart': False}\n")
    cfg = load_config(root / "course_config.py")
    run_cli(["release", QUIZ], root)
    cases = _cases()
    papers = {s: Q.answers_for(s, a) for s, (a, _) in cases.items()}
    # the grader-zone path: the answer stored without the notebook's own format check, so only the
    # grader's reader sees it (q01 and q03 go through quiz.answer, the kernel's reader first)
    papers["qa_bomb"]["answer_q05"] = f'quiz.answers["q05"] = {BOMB_80!r}'
    demo.submit(cfg, QUIZ, who=papers)
    cpu = time.process_time()
    batch = run_cli(["autograde", QUIZ, "--workers", "2", "--quiet"], root, check=False, timeout=1500)
    results = demo.check_results(cfg, QUIZ)

    def feedback(*extra):
        run_cli(["feedback", QUIZ, *extra], root)
        return {s: htmllib.unescape((root / f"feedback/{s}/{QUIZ}/{QUIZ}.html").read_text(encoding="utf-8"))
                for s in cases}

    before = feedback()                                   # now: before every due date
    between = feedback("--as-of", BETWEEN)
    after = feedback("--as-of", AFTER)

    def as_student(student, as_of=None):
        # `scores --as-student` reads the clock; it has no --as-of, so it is read before the due date
        out = run_cli(["scores", "--student", student, "--as-student", "--json"], root).stdout
        return json.loads(out)

    return {"cfg": cfg, "batch": batch, "results": results, "cases": cases, "before": before,
            "between": between, "after": after, "as_student": as_student, "cpu": time.process_time() - cpu}


def _points(results: dict, student: str) -> dict:
    return {qid: r["score"] for qid, r in results[student].items()}


def test_every_case_gets_the_points_a_fair_ta_gives(graded):
    assert graded["batch"].returncode == 0, graded["batch"].stdout[-3000:] + graded["batch"].stderr[-3000:]
    for student, (_, expected) in graded["cases"].items():
        assert _points(graded["results"], student) == pytest.approx(expected), student
    tick_all = sum(graded["results"]["qa_tick_all"][q]["score"] for q in MULTIPLE)
    honest = sum(graded["results"]["qa_honest"][q]["score"] for q in MULTIPLE)
    assert (tick_all, honest) == (0, pytest.approx(sum(FULL[q] for q in MULTIPLE)))   # before: 4.53 of 10


def _explanations() -> dict:
    return {q["id"]: q["explanation"]["ko"][:30] for q in BANK.questions}


def _expected_lines(page: str) -> list[str]:
    return [line for line in page.splitlines() if line.strip().startswith("기대:")]


def test_a_blank_paper_before_the_due_date_is_no_answer_sheet(graded):
    page = graded["before"]["qa_blank"]
    leaked = [qid for qid, text in _explanations().items() if text in page]
    assert not leaked, f"explanations of {leaked} in the feedback before the due date"
    assert not _expected_lines(page), _expected_lines(page)[:3]
    assert "해설:" not in page
    # the points and the format message still show, and when the answers open
    assert "q01 (0/1점)" in page and "아직 답이 없습니다" in page
    assert page.count("🔒 정답과 해설은 마감(2099-12-20 23:59) 뒤에") >= len(BANK.questions)
    # the same for a graded paper with right and wrong answers: points yes, expected answer no
    honest = graded["before"]["qa_hedge"]
    assert "q04 (0/1점)" in honest and "q01 (1/1점)" in honest and not _expected_lines(honest)


def test_after_the_due_date_the_feedback_shows_answers_and_explanations(graded):
    page = graded["after"]["qa_blank"]
    shown = [qid for qid, text in _explanations().items() if text in page]
    assert len(shown) == len(BANK.questions), set(_explanations()) - set(shown)
    assert len(_expected_lines(page)) == len(BANK.questions) and "🔒" not in page


def test_an_extension_moves_when_the_answers_open(graded):
    assert "🔒" not in graded["between"]["qa_blank"] and "해설:" in graded["between"]["qa_blank"]
    late = graded["between"]["qa_blank_ext"]
    assert not _expected_lines(late) and "해설:" not in late
    assert "🔒 정답과 해설은 마감(2100-01-20 23:59) 뒤에" in late
    assert "해설:" in graded["after"]["qa_blank_ext"]


def test_scores_as_student_agrees_with_the_feedback(graded):
    rows = {r["check"]: r for r in graded["as_student"]("qa_hedge")}
    assert set(rows) == set(FULL)
    assert all(r.get("answer_withheld") and r["score"] is not None for r in rows.values())
    assert rows["q04"]["score"] == 0 and rows["q01"]["score"] == FULL["q01"]


def test_hedged_short_answers_get_the_hedge_message(graded):
    got = graded["results"]["qa_hedge"]
    for qid in _hedges():
        assert "낱말이 여러 개" in (got[qid]["hint"] or ""), got[qid]
        # the hint does not say which term is right
        assert BANK.question(qid)["answer"][0] not in got[qid]["hint"]


def test_a_regex_bomb_is_judged_not_timed_out(graded):
    got = graded["results"]["qa_bomb"]
    for qid in ("q01", "q03", "q05"):
        found = got[qid]["found"] or ""
        assert "읽지 못한 부분" in found and "could not judge" not in found and "CPU" not in (got[qid]["note"] or "")
        assert not got[qid].get("staff"), got[qid]


def test_the_students_text_comes_back_only_as_a_short_prefix(graded):
    got = graded["results"]["qa_echo"]
    # the longest run of the marker any message of the student carries: at most SHOW (40) characters
    for qid in ("q02", "q04", "q07"):
        text = " ".join(str(got[qid][k] or "") for k in ("expected", "found", "hint", "note"))
        runs = [m.group() for m in re.finditer(r"ECHO-[0-9]*|[0-9]{10,}", text)]
        assert runs and max(map(len, runs)) <= reader.SHOW, (qid, text)
    # in the feedback pages: only the student's own three answer cells (their source) hold the long text
    for when in ("before", "after"):
        assert graded[when]["qa_echo"].count(MARKER[:60]) == 3, when


# ── the rules, without the farm ─────────────────────────────────────────────
@pytest.mark.parametrize("rule", ["net_correct", "per_option", "all_or_nothing"])
def test_ticking_everything_is_worth_nothing_under_every_rule(rule):
    """Negative control: the rules of before this change pay 1/3–3/5 of a question for it."""
    for n in range(3, 9):
        ids = [f"o{i}" for i in range(n)]
        for k in range(1, n):
            key = set(ids[:k])
            assert score_multiple(set(ids), key, ids, rule) == 0, (rule, n, k)
            assert score_multiple(key, key, ids, rule) == 1


def test_the_bank_sheet_all_ticked_against_honest():
    def total(rule_of):
        out = 0.0
        for qid in MULTIPLE:
            q = BANK.question(qid)
            ids = [o["id"] for o in q["options"]]
            out += q["points"] * rule_of(set(ids), set(q["answer"]), ids, q["rule"])
        return out

    def old(chosen, key, ids, rule):          # the rules before issue 22
        if rule == "net_correct":
            return max(0.0, (len(chosen & key) - len(chosen - key)) / len(key))
        return sum((o in chosen) == (o in key) for o in ids) / len(ids)

    assert total(old) == pytest.approx(4.53, abs=0.01)       # the attack as reported: 4.53 of 10
    assert total(score_multiple) == 0
    honest = sum(BANK.question(q)["points"] * score_multiple(set(BANK.question(q)["answer"]), set(BANK.question(q)["answer"]),
                                                             [o["id"] for o in BANK.question(q)["options"]],
                                                             BANK.question(q)["rule"]) for q in MULTIPLE)
    assert honest == 10


@pytest.mark.parametrize("qid,typed,want", [
    *[(qid, typed, 0.0) for qid, typed in _hedges().items()],
    *[(qid, typed, 1.0) for qid, typed in _glosses().items()],
    ("q16", "GPU(TPU GPU)", 0.0), ("q16", "GPU, TPU", 0.0), ("q24", "메타(예전 페이스북)", 1.0),
    ("q24", "Meta(구글 메타)", 0.0), ("q04", "은닉층(완전연결 은닉층)", 0.0),
])
def test_a_hedged_short_answer_is_not_the_answer(qid, typed, want):
    """Negative control: before this change a gloss that was no accepted spelling was ignored when the
    main term was right, and stood in for a main term that was wrong ("TPU(GPU)")."""
    value, problem = reader.parse({"type": "short"}, typed)
    q = BANK.question(qid)
    assert problem is None and score_short(value, q["answer"], q.get("reject", [])) == want


ADVERSARIAL = [
    BOMB_57, BOMB_80, "A " + "이랑" * 190 + "뷁", "정답은 " + "이요" * 190 + "?", "A" + " " * 390 + "x",
    "1" + "->" * 190 + "\n", "1 번" + " " * 300 + "x", "784" + "개" * 300 + "x", "정답" * 190 + "1x",
    "line" * 95 + "8x", "은닉층" + " " * 300 + "입니다x", "O" + " " * 390 + "X", "1," * 190,
    "(" * 190 + ")" * 190, "A 또는 " * 50,
]


def test_the_reader_is_linear_on_inputs_built_to_backtrack():
    """Every question type reads every adversarial answer (up to the 400-character cap) within a CPU
    bound that is thousands of times what it needs.  Negative control: with the old choice filler
    `(?:…|이|다|이다|…)+` the 80-character answer needs ~2^38 steps and the check is cut by the bound."""
    budget = CpuBudget(per_check=10.0, per_submission=60.0)
    questions = [BANK.question(q["id"]) for q in BANK.questions]
    for text in ADVERSARIAL:
        def read(ctx, points, text=text):
            for q in questions:
                reader.parse(q, text)
            return CheckResult("read", points, points)
        result = budget.run(Check("read", read), Context(artifacts=None, thresholds={}), 1.0)
        assert result.score == 1.0, (text[:20], result.note)


def test_a_check_that_runs_away_costs_that_check_only():
    """The per-check CPU bound of the scoring step: an endless check says it could not judge (with a note
    for staff); the checks before and after it are judged.  Negative control: without the bound the
    endless check never returns (the batch would stop there)."""
    def endless(ctx, points):
        while True:
            pass

    def right(ctx, points):
        return CheckResult("ok", points, points)

    scorer = Scorer(QUIZ, QUIZ, [GradedCell("g1", "a1", [Check("first", right)]),
                                 GradedCell("g2", "a2", [Check("endless", endless), Check("last", right)])])
    budget = CpuBudget(per_check=0.5, per_submission=60.0)
    got = scorer.score(Context(artifacts=None, thresholds={}, student="kim"),
                       {"first": 1, "endless": 2, "last": 3}, run=budget.run)
    first, (stuck, last) = got["g1"][0], got["g2"]
    assert first.score == 1 and last.score == 3
    assert stuck.score == 0 and stuck.max_score == 2 and "CPU 0.5초" in stuck.note and "ScoringOverrun" in stuck.staff


def test_the_echo_of_a_parse_problem_is_a_short_prefix():
    """Negative control: SHOW was 120 and the unknown pieces of a choice answer were quoted whole."""
    for q in BANK.questions:
        _, problem = reader.parse(q, MARKER)
        assert problem is not None
        runs = [m.group() for m in re.finditer(r"ECHO-[0-9]*|[0-9]{10,}", problem)]
        assert max(map(len, runs), default=0) <= reader.SHOW, (q["id"], problem)


@pytest.mark.parametrize("extra, setting", [
    ("VISIBILITY = {'*': 'visible'}\n", "VISIBILITY['*']"),
    ("ASSIGNMENTS['concepts_quiz']['visibility'] = {'*': 'answers_later'}\n", "['visibility']['*']"),
])
def test_a_wrong_answer_visibility_setting_stops_with_its_name(tmp_path, extra, setting):
    from graders.config import ConfigError
    root = make_course(tmp_path / "course", extra)
    with pytest.raises(ConfigError) as err:
        load_config(root / "course_config.py")
    assert setting in str(err.value) and "Fix:" in str(err.value)


def test_quiz_answers_wait_by_default_and_staff_can_open_them(tmp_path):
    import datetime as dt

    from graders import visibility as V
    from graders.visibility import phase, shown
    before = dt.datetime(2099, 12, 1, tzinfo=dt.timezone.utc)
    root = make_course(tmp_path / "a", f"ASSIGNMENTS['concepts_quiz']['due'] = {DUE!r}\n")
    cfg = load_config(root / "course_config.py")
    assert {shown(cfg, QUIZ, "kim", q, before) for q in FULL} == {V.POINTS}          # the default
    assert shown(cfg, "keras_mnist", "kim", "layers", before) == V.FULL               # exercises: unchanged
    assert phase(cfg, QUIZ, "kim", before) == "before_due"                           # watch re-releases later
    opened = make_course(tmp_path / "b", f"ASSIGNMENTS['concepts_quiz']['due'] = {DUE!r}\n"
                                         "ASSIGNMENTS['concepts_quiz']['visibility'] = {'*': 'visible', 'q12': 'after_due'}\n")
    cfg = load_config(opened / "course_config.py")
    assert shown(cfg, QUIZ, "kim", "q01", before) == V.FULL and shown(cfg, QUIZ, "kim", "q12", before) == V.RAN
