"""Typed Korean answers whose intended answer is known: a warning at entry is the only way to lose points.

Each row is (question, what the student typed, what they meant, typed the plain way).  For each row, on
two students' papers (letters differ per paper):

  points(typed) == points(meant)   or   the notebook printed ⚠️ when the answer was typed,
  and never points(typed) > points(meant).

So an answer that will not get its points as typed is warned at once (with what was read and how to
write it), and nothing typed is worth more than what was meant.  `test_negative_control_*` shows the
check catches a silent loss.  The reader's accuracy on the table (right / warned / wrong) is printed
by `python tests/test_quiz_korean.py`.

Rows were written from what a student means, before running them; `{a}`, `{b}`, … is the letter this
student sees for option a, b, … (right options of the bank: see source/concepts_quiz/quiz_bank.yaml).
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest

from conftest import REPO
from dlcourse import korean
from dlcourse.quiz import Quiz, read
from graders.checks.base import Context
from graders.checks.quiz import _Variant, public_question, quiz_question
from graders.quiz import bank_path, load_bank

BANK = load_bank(bank_path(REPO, "concepts_quiz"))
STUDENTS = ("kim", "lee")

Q09 = {"face_unlock": "IMG", "translator": "NLP", "dictation": "SPEECH", "self_driving": "DRIVE"}
Q12 = {"small_data": "ML", "auto_features": "DL", "needs_gpu": "DL", "explainable": "ML", "tabular": "ML",
       "long_training": "DL"}
Q21 = {"by_google": "TF", "by_meta": "PT", "on_pytorch": "FA", "one_line_nlp": "HF", "mlops_edge": "TF",
       "research": "PT"}


def pairs(mapping: dict, spell: dict | None = None, slip: tuple | None = None):
    """A matching answer as a dict on the student's paper; `spell` writes a category its own way,
    `slip` = (item id, typed value) replaces one item's value."""
    def make(v):
        out = {}
        for item, cat in mapping.items():
            out[v.number(item)] = (spell or {}).get(cat, cat)
        if slip:
            out[v.number(slip[0])] = slip[1]
        return dict(sorted(out.items()))
    return make


# (question, typed, meant)
ROWS = [
    # ── one choice: particles, endings, hedges, the option's own text ──
    *[("q01", t, "{a}") for t in (
        "{a}", "{a_}", "정답은 {a}입니다", "{a}번", "{a}번이요", "{a}번이 정답입니다", "{a}예요", "{a} 같아요", "아마 {a}",
        "아마도 {a}", "{a}인 것 같아요", "{a}일 거예요", "{a}라고 생각합니다", "답: {a}", "({a})", "{a}.", "{a}?",
        "정답 {a}", "{a} 입니다", "제 답은 {a}입니다", "{a}를 고릅니다", "{a}요")],
    *[("q01", t, "{b}") for t in ("{b} 같아요", "정답은 {b}번", "아마 {b}")],
    ("q22", "Google", "{a}"), ("q22", "google", "{a}"), ("q22", "구글", "{a}"), ("q22", "Meta", "{b}"),
    ("q22", "{a}. Google", "{a}"), ("q22", "{a} (Google)", "{a}"),
    ("q29", "자연어 처리", "{a}"), ("q29", "자연어 처리 (텍스트 분류, 번역, 요약 등)", "{a}"), ("q29", "{a} - 자연어 처리", "{a}"),
    ("q15", "{a} - 병렬 처리", "{a}"), ("q15", "병렬 처리", "{a}"), ("q15", "{b} - 병렬 처리", "{a}"),
    ("q41", "0.9998", "{c}"),
    ("q37", "{a}번 같아요", "{a}"), ("q01", "{a} 아닐까요?", "{a}"), ("q01", "{a}일걸요", "{a}"),
    ("q07", "고양이 사진, 고객센터 통화 녹음, 쇼핑몰 상품 리뷰 글", "{a}, {b}, {c}"),
    # ── several choices: conjunctions, ranges, counts, hedges ──
    *[("q05", t, "{a}, {b}, {d}") for t in (
        "{a}랑 {b}랑 {d}", "{a}, {b}, {d} 모두", "{a}, {b}, {d} 세 개 다", "{a}와 {b}와 {d}", "{a}, {b} 그리고 {d}",
        "{a}·{b}·{d}", "정답은 {a}, {b}, {d}입니다", "{a} {b} {d}", "아마 {a}, {b}, {d}", "{a}, {b}, {d}요",
        "{a}, {b}, {d} 같아요", "{a}, {b}, {d} 전부", "{a}번, {b}번, {d}번")],
    *[("q23", t, "{a}, {b}") for t in ("{a}, {b} 둘 다", "{a}랑 {b}", "{a}하고 {b}", "{a} 및 {b}", "{a}와 {b} 둘 다요")],
    ("q23", "둘 다", "{a}, {b}"), ("q23", "{a}, {b} 셋 다", "{a}, {b}"),
    *[(qid, rng, meant) for qid in ("q05", "q07", "q28") for rng, meant in (
        ("A~C", "A, B, C"), ("B~E", "B, C, D, E"), ("A~B", "A, B"), ("C~E", "C, D, E"), ("A ~ C", "A, B, C"))],
    ("q08", "이미지 인식, 자연어 처리, 음성 인식, 자율주행", "{a}, {b}, {c}, {d}"),
    ("q28", "{a}, {b}, {c} 모두 맞아요", "{a}, {b}, {c}"),
    # ── O / X: colloquial and polite forms ──
    *[("q06", t, "O") for t in (
        "O", "o", "오", "네", "예", "응", "맞아요", "맞습니다", "맞음", "맞다", "그렇습니다", "그래요", "맞는 설명입니다",
        "맞는 말", "옳은 설명", "옳습니다", "참", "참입니다", "O (맞다)", "정답: O", "예 맞아요", "동그라미", "맞는 설명",
        "⭕", "○", "O입니다", "네 맞습니다", "true")],
    *[("q02", t, "X") for t in (
        "X", "x", "엑스", "아님", "아닙니다", "아니다", "아니요", "아뇨", "틀린 설명", "틀린 말입니다", "틀려요", "틀렸습니다",
        "틀림", "거짓", "거짓입니다", "X표", "아니요 틀려요", "가위표", "그릅니다", "X (틀리다)", "❌", "엑스요", "false")],
    # one negation of one verdict is its opposite; a negated question is not guessed
    ("q02", "안 맞아요", "X"), ("q02", "맞지 않다", "X"), ("q06", "틀리지 않다", "O"), ("q02", "참이 아니다", "X"),
    ("q11", "그렇지 않습니다", "X"), ("q06", "맞지 않나요?", "O"), ("q06", "맞는 것 같아요", "O"), ("q02", "아닌 것 같아요", "X"),
    # ── numbers: Korean number words, ordinals, counters, working ──
    *[("q35", t, "784") for t in (
        "784개", "784 (28x28)", "784 (28×28)", "784 픽셀", "칠백팔십사", "칠백팔십사 개", "784개입니다", "약 784",
        "784차원", "정답은 784", "784 (28*28)", "784요", "784개요", "28x28=784", "784 (픽셀 수)", "칠백 팔십 사")],
    *[("q34", t, "100480") for t in (
        "10만 480", "100,480개", "100480 (784×128+128)", "10만480개", "100480개입니다", "십만사백팔십", "100,480 (784*128 + 128)",
        "10만 480개요")],
    *[("q39", t, "4") for t in ("네 에폭", "4에폭", "4 에폭", "4번", "총 4에폭", "네 번", "4 에포크입니다", "사", "넷",
                                "4회", "모두 4에폭")],
    ("q39", "세 에폭", "3"), ("q39", "3에폭", "3"),
    *[("q33", t, "8") for t in ("여덟 번째 줄", "8번째 줄", "여덟째 줄", "8행", "여덟", "여덟 번째", "8번 줄입니다", "8줄",
                                "여덟 줄")],
    *[("q36", t, "5") for t in ("다섯째", "다섯 번째 줄", "5번 줄", "다섯째 줄", "5번째", "오 번째 줄")],
    *[("q42", t, "1") for t in ("1입니다", "하나", "1 (100%)", "1.0", "1이요", "일", "1이 됩니다", "1 (softmax라서 합이 1)")],
    ("q39", "4 (1+3)", "4"), ("q33", "8 (loss 줄)", "8"), ("q36", "5번 줄 (criterion)", "5"),
    # ── short answers: particles, endings, plural, copula, glosses, sentences ──
    *[("q04", t, "은닉층") for t in (
        "은닉층들", "은닉층이요", "은닉층입니다", "은닉층이라고 합니다", "은닉층이라고 부릅니다", "은닉층 같아요", "아마 은닉층",
        "은닉층(hidden layer)", "hidden layers", "정답은 은닉층", "은닉층일 거예요", "숨은층", "숨은 층", "은닉층을 말합니다",
        "은닉층들입니다", "히든 레이어요", "은닉 계층입니다")],
    *[("q16", t, "GPU") for t in (
        "GPU를 씁니다", "GPU입니다", "GPU요", "GPU를 사용", "gpu", "GPU(그래픽 처리 장치)", "그래픽카드(GPU)", "GPU 같아요",
        "GPU를 사용합니다", "지피유", "GPU들", "GPU라고 해요")],
    *[("q24", t, "Meta") for t in (
        "메타입니다", "페이스북이요", "Meta (옛 Facebook)", "메타(Meta)", "Meta/Facebook", "페이스북이 만들었습니다", "메타요",
        "페이스북(Facebook)", "메타 플랫폼스입니다", "Meta입니다")],
    *[("q31", t, "pipeline") for t in (
        "transformers의 pipeline", "pipeline 함수", "pipeline()", "pipeline 함수입니다", "파이프라인 함수요",
        "pipeline을 씁니다", "pipeline이요", "파이프라인입니다", "pipeline()을 호출합니다")],
    # ── matching: names with particles and glosses; one slip costs one item ──
    ("q09", pairs(Q09, {"IMG": "이미지 인식", "NLP": "자연어 처리", "SPEECH": "음성 인식", "DRIVE": "자율주행"}), pairs(Q09)),
    ("q09", pairs(Q09, {"IMG": "이미지 인식입니다", "NLP": "자연어 처리요", "SPEECH": "음성이요", "DRIVE": "자율 주행"}),
     pairs(Q09)),
    ("q09", pairs(Q09, slip=("translator", "IMG(음성)")), pairs(Q09)),
    ("q09", lambda v: ", ".join(f"{v.number(i)}번은 {c}" for i, c in sorted(Q09.items(), key=lambda kv: v.number(kv[0]))),
     pairs(Q09)),
    ("q09", pairs(Q09, slip=("dictation", "음성 또는 자연어")), pairs(Q09)),
    ("q12", pairs(Q12, {"ML": "ML(머신러닝)", "DL": "DL(딥러닝)"}), pairs(Q12)),
    ("q12", pairs(Q12, {"ML": "머신러닝이요", "DL": "딥러닝입니다"}), pairs(Q12)),
    ("q12", pairs(Q12, slip=("needs_gpu", "ML(딥러닝)")), pairs(Q12)),
    ("q12", pairs(Q12, slip=("explainable", "DL(딥러닝)")), pairs({**Q12, "explainable": "DL"})),
    ("q21", pairs(Q21, {"TF": "텐서플로우", "PT": "파이토치요", "FA": "fastai입니다", "HF": "허깅페이스"}), pairs(Q21)),
    ("q21", pairs(Q21, slip=("research", "파이토치 아니면 텐서플로")), pairs(Q21)),
]


def _fill(student: str, qid: str, template):
    q = BANK.question(qid)
    v = _Variant(BANK.quiz, BANK.shuffle, student, q)
    if callable(template):
        return template(v)
    if not q.get("options"):
        return template
    letters = {o["id"]: v.letter(o["id"]) for o in q["options"]}
    return template.format(**letters, **{f"{k}_": l.lower() for k, l in letters.items()})


def points(tmp: Path, student: str, qid: str, raw) -> float:
    """What the grader gives `raw` on this student's paper (the real check, from the exported JSON)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / f"quiz_{qid}.json").write_text(json.dumps({"qid": qid, "answered": True, "raw": raw}, ensure_ascii=False))
    ctx = Context(artifacts=tmp, thresholds={}, lang="ko", student=student)
    q = BANK.question(qid)
    return quiz_question(BANK.quiz, q).run(ctx, float(q["points"])).score


def warned(quiz: Quiz, qid: str, raw) -> tuple[bool, str]:
    """Whether the notebook printed ⚠️ when `raw` was typed, and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        quiz.answer(qid, raw)
    text = out.getvalue()
    return text.startswith("⚠️"), text


def judge(tmp: Path) -> list[dict]:
    """Every row on every paper: typed and meant points, and whether the notebook warned."""
    out = []
    for student in STUDENTS:
        with contextlib.redirect_stdout(io.StringIO()):
            quiz = Quiz("concepts_quiz", student=student)
        for i, (qid, typed, meant) in enumerate(ROWS):
            raw, plain = _fill(student, qid, typed), _fill(student, qid, meant)
            got = points(tmp / f"{student}_{i}_t", student, qid, raw)
            want = points(tmp / f"{student}_{i}_m", student, qid, plain)
            warn, said = warned(quiz, qid, raw)
            verdict = ("wrong" if got > want + 1e-9 else "warned" if warn else "right" if abs(got - want) < 1e-9
                       else "wrong")
            out.append({"student": student, "qid": qid, "typed": raw, "meant": plain, "got": got, "want": want,
                        "warned": warn, "said": said.strip(), "verdict": verdict})
    return out


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    return judge(tmp_path_factory.mktemp("korean"))


def test_the_meant_answers_are_right_where_the_key_says_so(judged):
    """The table itself: what was meant scores as the bank's key says (a row is not right by accident:
    most meant answers are the key, a few are wrong on purpose and score less)."""
    full = [r for r in judged if r["want"] == float(BANK.question(r["qid"])["points"])]
    assert len(full) >= 0.9 * len(judged), [(r["qid"], r["meant"]) for r in judged if r not in full][:10]
    wrong_on_purpose = {(r["qid"], str(r["meant"])) for r in judged if r not in full}
    assert {qid for qid, _ in wrong_on_purpose} <= {"q01", "q05", "q07", "q12", "q22", "q28", "q39", "q41"}, wrong_on_purpose


def test_points_are_lost_only_with_a_warning(judged):
    silent = [r for r in judged if r["verdict"] == "wrong"]
    assert not silent, "\n".join(f"{r['qid']} {r['typed']!r} (meant {r['meant']!r}): {r['got']} of {r['want']}, "
                                 f"no warning: {r['said'][:120]}" for r in silent)


def test_nothing_typed_is_worth_more_than_what_was_meant(judged):
    assert all(r["got"] <= r["want"] + 1e-9 for r in judged)


def test_the_reader_reads_most_of_the_table(judged):
    """Most forms are read as meant, without a warning (the reader's accuracy; see the report)."""
    right = sum(r["verdict"] == "right" for r in judged)
    assert right >= 0.8 * len(judged), summary(judged)


def test_a_warning_says_what_was_read_and_how_to_write_it(judged):
    for r in judged:
        if r["warned"]:
            assert len(r["said"]) < 700, r["said"]
            assert any(w in r["said"] for w in ("적으세요", "쓰세요", "고르세요", "답하세요", "읽지 못", "0점")), r["said"]


def test_negative_control_a_silent_loss_is_caught(tmp_path, monkeypatch):
    """Without the term check (the old reader: any short text was saved with ✅), 'GPU를 씁니다' is saved
    silently and scores 0: the check above reports it."""
    real = korean.reduce_term

    def lenient(text):
        term = real(text)
        term.clause = False
        return term

    monkeypatch.setattr(korean, "reduce_term", lenient)
    global ROWS
    saved = ROWS
    try:
        ROWS = [("q16", "GPU를 씁니다", "GPU")]
        got = judge(tmp_path)
    finally:
        ROWS = saved
    assert {r["verdict"] for r in got} == {"wrong"}, got


def test_one_unreadable_item_costs_that_item_and_is_named(tmp_path):
    q = BANK.question("q12")
    v = _Variant(BANK.quiz, BANK.shuffle, "kim", q)
    raw = pairs(Q12, slip=("needs_gpu", "ML(딥러닝)"))(v)
    answer = read(public_question(q), raw)
    assert answer.value is not None and str(v.number("needs_gpu")) not in answer.value
    assert str([v.number("needs_gpu")]) in answer.warning
    got = points(tmp_path, "kim", "q12", raw)
    assert got == pytest.approx(float(q["points"]) * 5 / 6)
    ctx = Context(artifacts=tmp_path, thresholds={}, lang="ko", student="kim")
    result = quiz_question(BANK.quiz, q).run(ctx, float(q["points"]))
    assert "⚠️" in (result.hint or "") and str([v.number("needs_gpu")]) in result.hint


def test_the_fast_path_does_not_load_kiwi():
    """A plain letter, number or O/X (and anything without Hangul) is read without the analyser."""
    import subprocess
    import sys
    code = ("from dlcourse import quiz, korean\n"
            "s = {'type': 'single', 'options': [{}] * 4}\n"
            "assert quiz.parse(s, 'B') == ('B', None)\n"
            "assert quiz.parse({'type': 'numeric'}, '784')[0] == 784.0\n"
            "assert quiz.parse({'type': 'truefalse'}, 'O')[0] is True\n"
            "assert quiz.parse({'type': 'truefalse'}, '○')[0] is True\n"
            "assert quiz.parse({'type': 'multiple', 'options': [{}] * 5}, 'A, C')[0] == ['A', 'C']\n"
            "assert quiz.parse({'type': 'short'}, 'hidden layer')[0] == 'hidden layer'\n"
            "assert not korean.loaded()\n"
            "quiz.parse({'type': 'truefalse'}, '맞는 설명입니다')\n"
            "assert korean.loaded() and korean.LOAD_SECONDS > 0\n")
    env = {"PYTHONPATH": f"{REPO / 'public'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_reading_time_is_bounded_on_long_korean_answers(monkeypatch):
    """At most MAX_TEXT characters reach the analyser, whatever the answer (speed is for `make bench`, not a test)."""
    from dlcourse.quiz import MAX_TEXT
    seen = []
    real = korean._tokens
    monkeypatch.setattr(korean, "_tokens", lambda text: seen.append(len(text)) or real(text))
    questions = [public_question(q) for q in BANK.questions]
    for text in ("이다" * MAX_TEXT, "은닉층" * (MAX_TEXT // 3), "여덟 번째 " * (MAX_TEXT // 6),
                 "A랑 " * (MAX_TEXT // 3), "맞지 않다 " * (MAX_TEXT // 6), "십만" * (MAX_TEXT // 2)):
        for q in questions:
            read(q, text)
    assert seen and max(seen) <= MAX_TEXT, max(seen, default=None)


def summary(judged: list[dict]) -> str:
    counts = {k: sum(r["verdict"] == k for r in judged) for k in ("right", "warned", "wrong")}
    kept = sum(r["warned"] and r["got"] >= r["want"] - 1e-9 for r in judged)
    return (f"{len(judged)} typed answers ({len(ROWS)} rows × {len(STUDENTS)} papers): right {counts['right']}, "
            f"warned {counts['warned']} (of which {kept} still got their points), wrong {counts['wrong']}")


if __name__ == "__main__":          # the accuracy report: python tests/test_quiz_korean.py
    import sys
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows = judge(Path(tmp))
        print(summary(rows), f"in {time.perf_counter() - start:.1f} s; Kiwi loaded in {korean.LOAD_SECONDS:.2f} s")
        for r in rows:
            if r["verdict"] != "right" and (len(sys.argv) < 2 or r["student"] == sys.argv[1]):
                print(f"  {r['verdict']:6} {r['student']} {r['qid']} {r['typed']!r} meant {r['meant']!r}: "
                      f"{r['got']:g}/{r['want']:g} | {r['said'][:150]}")
