"""Concept quiz: bank schema, scoring rules, coverage, variants, and no key in anything students get."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import REPO, make_course
from graders.checks.quiz import normalize_text, score_matching, score_multiple, score_numeric, score_short
from graders.config import ConfigError
from graders.course import load_config
from graders.exercises.concepts_quiz import students as klass
from graders.quiz import BankError, bank_path, load_bank
from graders.exercises.concepts_quiz.concepts import CONCEPTS as SEED_CONCEPTS
from graders.quiz.coverage import coverage, markdown, type_counts, uncovered
from graders.quiz.render import leaks, notebook, public_data, QUIZ_DATA_DIR

BANK = load_bank(bank_path(REPO, "concepts_quiz"))
MINIMAL = {
    "quiz": "mini", "title": {"ko": "작은 퀴즈"},
    "questions": [{
        "id": "q01", "type": "single", "concepts": ["dl_ann_branch"], "points": 1,
        "text": {"ko": "딥러닝은?"}, "explanation": {"ko": "해설"},
        "options": [{"id": "a", "ko": "가"}, {"id": "b", "ko": "나"}], "answer": "a",
    }],
}


def _bank_with(tmp_path: Path, change) -> Path:
    data = json.loads(json.dumps(MINIMAL))
    change(data["questions"][0], data)
    path = tmp_path / "quiz_bank.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


# ── schema: which question, which field, what is wrong ──────────────────────
@pytest.mark.parametrize("change,field,words", [
    (lambda q, d: q.pop("answer"), "answer", "missing"),
    (lambda q, d: q.update(type="essay"), "type", "not a question type"),
    (lambda q, d: q.update(answer="z"), "answer", "is not an option id"),
    # the concepts a quiz's questions may name are listed in its folder (graders/exercises/<quiz>/concepts.py)
    (lambda q, d: q.update(concepts=["quantum"]) or d.update(quiz="concepts_quiz"), "concepts", "not a seed concept"),
    (lambda q, d: q.update(points=0), "points", "less than or equal to the minimum"),
    (lambda q, d: q.update(explanation="해설"), "explanation", "is not of type 'object'"),
    (lambda q, d: q.update(colour="red"), None, "colour"),
    (lambda q, d: d["questions"].append(dict(q)), "id", "already used by question #1"),
    (lambda q, d: q.update(type="multiple", answer=["a"], rule="half",
                           options=q["options"] + [{"id": "c", "ko": "다"}]), "rule", "is not one of"),
    (lambda q, d: q.update(type="matching", rule="per_item", items=[{"id": "x", "ko": "엑스"}, {"id": "y", "ko": "와이"}],
                           categories=[{"id": "ML", "ko": "머신러닝"}, {"id": "DL", "ko": "딥러닝"}],
                           answer={"x": "ML"}, options=None) or q.pop("options"), "answer", "the items are"),
    (lambda q, d: q.update(type="code", code="a = 1\nb = 2\n", answer=7) or q.pop("options"), "answer",
     "not a line number of the code (1–2)"),
    (lambda q, d: q.update(type="numeric", answer=3) or q.pop("options"), "tolerance", "missing"),
])
def test_schema_errors_name_question_field_and_problem(tmp_path, change, field, words):
    path = _bank_with(tmp_path, change)
    with pytest.raises(BankError) as err:
        load_bank(path)
    text = str(err.value)
    assert "question 'q01'" in text, text
    if field:
        assert f"field '{field}'" in text, text
    assert words in text, text
    assert "Fix:" in text


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "quiz_bank.yaml"
    path.write_text("quiz: mini\ntitle: {ko: 퀴즈\nquestions: []\n")
    with pytest.raises(BankError, match=r"line \d+: not valid YAML"):
        load_bank(path)


def test_a_broken_bank_stops_every_command(tmp_path):
    root = make_course(tmp_path / "course")
    bank = bank_path(root, "concepts_quiz")
    bank.write_text(bank.read_text().replace("answer: a\n", "answer: e\n", 1))
    with pytest.raises(ConfigError, match=r"question 'q01' \(#1\), field 'answer': 'e' is not an option id"):
        load_config(root / "course_config.py")


def test_committed_bank_is_valid_and_large_enough():
    assert BANK.quiz == "concepts_quiz"
    assert len(BANK.questions) >= 30
    counts = type_counts(BANK)
    assert all(n >= 1 for n in counts.values()), counts
    rules = {q["rule"] for q in BANK.questions if q["type"] == "multiple"}
    assert {"net_correct", "per_option"} <= rules


# ── coverage: no seed concept without a question ────────────────────────────
def test_every_seed_concept_has_a_question():
    assert uncovered(BANK) == []
    table = coverage(BANK)
    assert set(table) == set(SEED_CONCEPTS)
    # the six rows of the ML-vs-DL table are all in the matching question that sorts them
    q12 = BANK.question("q12")
    assert {c for c in q12["concepts"] if c.startswith("table_")} == {c for c in SEED_CONCEPTS if c.startswith("table_")}


def test_coverage_table_in_the_docs_is_current():
    doc = (REPO / "docs/quiz_coverage.md").read_text()
    assert markdown(BANK) in doc, "docs/quiz_coverage.md is out of date: run `python -m graders quiz coverage`"


def test_uncovered_concept_is_reported():
    first_only = BANK.__class__(**{**BANK.__dict__, "questions": BANK.questions[:3]})
    assert "hf_pipeline" in uncovered(first_only)


# ── scoring rules ───────────────────────────────────────────────────────────
def test_multiple_choice_net_correct():
    key, ids = {"a", "b", "d"}, list("abcde")
    assert score_multiple({"a", "b", "d"}, key, ids, "net_correct") == 1
    assert score_multiple({"a", "b", "c"}, key, ids, "net_correct") == pytest.approx(2 / 3 - 1 / 2)
    assert score_multiple({"a"}, key, ids, "net_correct") == pytest.approx(1 / 3)
    assert score_multiple({"c", "e", "a"}, key, ids, "net_correct") == 0      # never below zero
    assert score_multiple(set(ids), key, ids, "net_correct") == 0             # ticking everything: nothing known


def test_multiple_choice_per_option():
    key, ids = {"a", "b", "c"}, list("abcde")
    assert score_multiple({"a", "b", "d"}, key, ids, "per_option") == pytest.approx(3 / 5)
    assert score_multiple(set(), key, ids, "per_option") == pytest.approx(2 / 5)
    assert score_multiple(set(ids), key, ids, "per_option") == 0              # more than half the wrong ones
    assert score_multiple({"a", "b", "c", "d"}, key, ids, "per_option") == pytest.approx(4 / 5)   # half: counted
    assert score_multiple({"a", "b", "c"}, key, ids, "all_or_nothing") == 1
    assert score_multiple({"a", "b"}, key, ids, "all_or_nothing") == 0


def test_matching_per_item_and_all_or_nothing():
    key = {"x": "ML", "y": "DL", "z": "DL"}
    assert score_matching({"x": "ML", "y": "ML", "z": "DL"}, key, "per_item") == pytest.approx(2 / 3)
    assert score_matching({"x": "ML", "y": "ML", "z": "DL"}, key, "all_or_nothing") == 0
    assert score_matching(dict(key), key, "all_or_nothing") == 1


def test_short_text_is_normalised():
    accepted = ["은닉층", "hidden layer"]
    for typed in ("은닉층", " 은닉 층 ", "Hidden Layer", "HIDDEN-LAYER", "ｈｉｄｄｅｎ layer"):
        assert score_short(typed, accepted) == 1, typed
    assert score_short("출력층", accepted) == 0
    assert normalize_text("Back-Propagation!") == "backpropagation"


def test_numeric_tolerance():
    assert score_numeric(0.999, 1, 0.01) == 1
    assert score_numeric(1.02, 1, 0.01) == 0
    assert score_numeric(100480, 100480, 0) == 1
    assert score_numeric(100481, 100480, 0) == 0


def test_format_validation_speaks_korean():
    from dlcourse.quiz import parse

    single = {"type": "single", "options": [{}] * 4}
    assert parse(single, "b")[0] == "B"
    assert "선택지는 A–D 중 하나입니다" in parse(single, "E")[1]
    assert "아직 답이 없습니다" in parse(single, "")[1]
    multi = {"type": "multiple", "options": [{}] * 5}
    assert parse(multi, "c, a")[0] == ["A", "C"]
    assert "쉼표" in parse(multi, "A, Z")[1]
    tf = {"type": "truefalse"}
    assert parse(tf, "o")[0] is True and parse(tf, "X")[0] is False and parse(tf, False)[0] is False
    assert "O(맞다) 또는 X(틀리다)" in parse(tf, "아마도")[1]
    match = {"type": "matching", "items": [{}] * 3,
             "categories": [{"id": "ML", "ko": "머신러닝"}, {"id": "DL", "ko": "딥러닝"}]}
    assert parse(match, {1: "ml", 2: "딥러닝", "3": "DL"})[0] == {"1": "ML", "2": "DL", "3": "DL"}
    assert "[2, 3] 번 항목의 답이 없습니다" in parse(match, {1: "ML"})[1]
    assert "숫자로 적으세요" in parse({"type": "numeric"}, "십만사백팔십")[1]   # a long all-Hangul number: in digits
    assert parse({"type": "numeric"}, "칠백")[0] == 700                        # a Sino-Korean numeral is read
    code = {"type": "code", "code": "a\nb\nc\n"}
    assert parse(code, 2)[0] == 2
    assert "1–3 사이의 줄 번호" in parse(code, 9)[1]


# ── variants ────────────────────────────────────────────────────────────────
def test_two_students_see_different_papers():
    from dlcourse.quiz import option_order

    choice = [q for q in BANK.questions if q.get("options")]
    differ = sum(option_order(BANK.quiz, "ref", q["id"], len(q["options"])) !=
                 option_order(BANK.quiz, "twin", q["id"], len(q["options"])) for q in choice)
    assert differ >= len(choice) * 0.6, (differ, len(choice))
    # the same student always gets the same paper
    q = choice[0]
    assert option_order(BANK.quiz, "ref", q["id"], 4) == option_order(BANK.quiz, "ref", q["id"], 4)


# ── rendering and what reaches students ─────────────────────────────────────
def test_committed_quiz_files_are_rendered_from_the_bank():
    committed = json.loads((QUIZ_DATA_DIR / "concepts_quiz.json").read_text())
    assert committed == json.loads(json.dumps(public_data(BANK), ensure_ascii=False))
    import nbformat
    source = nbformat.read(REPO / "source/concepts_quiz/concepts_quiz.ipynb", 4)
    assert [c.source for c in source.cells] == [c.source for c in notebook(BANK).cells]


def _student_files() -> list[Path]:
    return [p for p in (REPO / "release").rglob("*") if p.is_file()] + \
        [p for p in (REPO / "public").rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def test_no_key_or_explanation_anywhere_students_get():
    files = {p: p.read_text(errors="replace") for p in _student_files()}
    assert not [p for p in files if p.name.endswith((".yaml", ".yml"))]
    for q in BANK.questions:
        for text in q["explanation"].values():
            hits = [p.name for p, t in files.items() if text[:40] in t]
            assert not hits, f"explanation of {q['id']} in {hits}"
    quiz_files = [p for p in files if "concepts_quiz" in p.name]
    assert len(quiz_files) >= 2       # the notebook and the question file are there, and checked
    for p in quiz_files:
        text = files[p]
        assert '"answer"' not in text and '"rule"' not in text and '"explanation"' not in text, p
        # no hashes of keys either: no long hex strings (nbgrader's own cell checksums aside)
        text = re.sub(r'"checksum": "[0-9a-f]+"', "", text)
        assert not re.search(r"\b[0-9a-f]{32,}\b", text), p
    assert leaks(BANK, REPO / "release") == [] and leaks(BANK, QUIZ_DATA_DIR) == []


def test_leak_checker_catches_a_leak(tmp_path):
    (tmp_path / "x.ipynb").write_text(f"... {BANK.questions[5]['explanation']['ko']} ...")
    (tmp_path / "keys.json").write_text(json.dumps({"q01": {"answer": "a"}}))
    (tmp_path / "quiz_bank.yaml").write_text("quiz: x")
    found = leaks(BANK, tmp_path)
    assert any("explanation of q06" in f for f in found)
    assert any("answer-key fields" in f for f in found)
    assert any("bank file" in f for f in found)


def test_neutral_option_order_does_not_give_the_key_away():
    """In the public file the right option is not always in the same place."""
    public = public_data(BANK)
    positions = []
    for q, pq in zip(BANK.questions, public["questions"]):
        if q["type"] == "single":
            positions.append([o["id"] for o in pq["options"]].index(q["answer"]))
    assert len(set(positions)) >= 3, positions


# ── end to end, through the farm (shared fixture) ───────────────────────────
def test_each_question_is_its_own_graded_item(graded_class):
    rows = [r for r in graded_class["scores"] if r["assignment"] == "concepts_quiz" and r["student"] == "ref"]
    assert sorted(r["cell"] for r in rows) == sorted(f"grade_{q['id']}" for q in BANK.questions)
    assert sum(r["score"] for r in rows) == pytest.approx(sum(float(q["points"]) for q in BANK.questions))


def test_variants_differ_and_both_are_graded_right(graded_class):
    cfg = graded_class["cfg"]
    typed = {}
    for student in ("ref", "twin"):
        import nbformat
        nb = nbformat.read(cfg.root / f"submitted/{student}/concepts_quiz/concepts_quiz.ipynb", 4)
        typed[student] = [c.source for c in nb.cells if c.source.startswith("quiz.answer(")]
    differ = sum(a != b for a, b in zip(typed["ref"], typed["twin"]))
    assert differ >= 15, "the two papers should ask for different letters"
    for student in ("ref", "twin"):
        checks = graded_class["checks"]["concepts_quiz"][student]
        assert {n: r["score"] for n, r in checks.items()} == pytest.approx(klass.EXPECTED["ref"]), student


def test_quiz_feedback_shows_explanations_and_no_hidden_code(graded_class):
    cfg = graded_class["cfg"]
    html = (cfg.root / "feedback/partial_credit/concepts_quiz/concepts_quiz.html").read_text()
    assert "해설" in html and BANK.question("q05")["explanation"]["ko"][:30] in html
    assert "_export" not in html and "BEGIN HIDDEN" not in html
    slips = graded_class["checks"]["concepts_quiz"]["format_slips"]
    assert "선택지는 A–" in slips["q01"]["found"]
    assert slips["q10"]["passed"]          # "(b)" style is accepted


def test_format_is_checked_at_once_in_the_notebook(graded_class):
    """The answer cells answer in Korean as soon as they run: ✅ for a valid format, ⚠️ with what to type."""
    import nbformat

    root = graded_class["cfg"].root

    def outputs(student):
        nb = nbformat.read(root / f"autograded/{student}/concepts_quiz/concepts_quiz.ipynb", 4)
        return {c.source.split('"')[1]: "".join(o.get("text", "") for o in c.outputs)
                for c in nb.cells if c.source.startswith("quiz.answer(")}, nb

    ref, nb = outputs("ref")
    assert len(ref) == len(BANK.questions) and all(t.startswith("✅") for t in ref.values()), ref
    progress = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert f"{len(BANK.questions)}/{len(BANK.questions)}" in progress
    slips, _ = outputs("format_slips")
    assert "선택지는 A–D 중 하나입니다" in slips["q01"]
    assert "O(맞다) 또는 X(틀리다)" in slips["q02"]
    assert "숫자로 적으세요" in slips["q34"]
    assert slips["q10"].startswith("✅")
