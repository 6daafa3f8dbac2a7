"""What a student may see of each check, and when (VISIBILITY / ASSIGNMENTS[a]['visibility']).

Four policies per check, decided here and nowhere else:

  visible           points and message at once
  answer_after_due  points, what was found and the hint at once; what the message would give away — the
                    expected answer and the explanation — after the student's due date (extension
                    included).  The default of a check that declares its message reveals the key (every
                    quiz question), so a blank submission's feedback is no answer sheet
  after_due         before the student's due date only that the check ran; after it, all
  hidden            staff only: formgrader, the dashboard and the gradebook have it, the student never does

An `after_due` or `answer_after_due` check of an assignment without a due date is shown: there is no
date to wait for.
The gradebook always keeps every check; only what students read (feedback, `scores --as-student`,
the service's notices) goes through `view`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

from .config import CourseConfig

FULL, RAN, NONE = "full", "ran", "none"      # what the student is shown of one check
POINTS = "points"                            # points, found and hint; no expected answer, no explanation
WAITS = ("after_due", "answer_after_due")    # policies that show more once the due date has passed


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(when: dt.datetime | None) -> dt.datetime | None:
    """A datetime as an aware UTC one (nbgrader's naive datetimes are UTC)."""
    if when is None:
        return None
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def policy(cfg: CourseConfig, assignment: str, check: str) -> str:
    return cfg.assignment(assignment).visibility.get(check) or cfg.visibility.get(check) or "visible"


def results_time(cfg: CourseConfig, assignment: str, student: str) -> dt.datetime | None:
    """When this student's `after_due` results open: their own due date (extension included)."""
    from .intake.deadlines import due_date
    return aware(due_date(cfg, student, assignment))


def shown(cfg: CourseConfig, assignment: str, student: str, check: str, now: dt.datetime | None = None) -> str:
    """FULL, POINTS, RAN or NONE for one check of one student's submission, at `now` (default: the clock)."""
    rule = policy(cfg, assignment, check)
    if rule == "visible":
        return FULL
    if rule == "hidden":
        return NONE
    opens = results_time(cfg, assignment, student)
    if opens is None or aware(now or utc_now()) >= opens:
        return FULL
    return POINTS if rule == "answer_after_due" else RAN


def withholds(cfg: CourseConfig, assignment: str, student: str, now: dt.datetime | None = None) -> bool:
    """Whether any check of the assignment is not shown in full to this student now."""
    checks = cfg.scorer(assignment).check_names()
    return any(shown(cfg, assignment, student, c, now) != FULL for c in checks)


def phase(cfg: CourseConfig, assignment: str, student: str, now: dt.datetime | None = None) -> str:
    """A word for what the student's feedback shows now: it must be made again when this changes."""
    if not any(policy(cfg, assignment, c) in WAITS for c in cfg.scorer(assignment).check_names()):
        return "final"
    opens = results_time(cfg, assignment, student)
    return "final" if opens is None or aware(now or utc_now()) >= opens else "before_due"


@dataclass
class ShownCheck:
    name: str
    state: str                  # FULL | POINTS | RAN
    score: float | None         # None when withheld
    max_score: float | None


def student_rows(cfg: CourseConfig, rows: list[dict], now: dt.datetime | None = None) -> list[dict]:
    """Per-check rows (gradebook.check_rows) as the student may see them: hidden ones left out,
    withheld ones without score (rows carry no message: an answer withheld still shows its points)."""
    out = []
    for r in rows:
        state = shown(cfg, r["assignment"], r["student"], r["check"], now)
        if state == NONE:
            continue
        row = dict(r)
        if state == RAN:
            row.update(score=None, max_score=None, passed=None, withheld=True)
        elif state == POINTS:
            row.update(answer_withheld=True)
        out.append(row)
    return out


# ── the feedback page (GenerateFeedback, after GetGrades) ───────────────────
NOTICES = {
    "withheld": {"ko": "⏳ {check}: 채점했습니다. 점수와 메시지는 마감({when}) 뒤에 피드백에서 볼 수 있습니다.",
                 "en": "⏳ {check}: graded. Its points and message show in your feedback after the due date ({when})."},
    "withheld_total": {"ko": "⏳ 마감 뒤에 공개되는 점수: {points}점 (채점은 끝났습니다; 위 점수에는 들어 있지 않습니다)",
                       "en": "⏳ Points shown after the due date: {points} (already graded; not in the score above)"},
    "answer_withheld": {"ko": "   🔒 정답과 해설은 마감({when}) 뒤에 피드백에서 볼 수 있습니다.",
                        "en": "   🔒 The expected answer and the explanation show in your feedback after the due date ({when})."},
    "no_detail": {"ko": "이 셀의 자세한 결과를 지금은 보여 줄 수 없습니다. 조교에게 문의하세요.",
                  "en": "The details of this cell cannot be shown now; please ask a TA."},
}


def _say(lang: str, key: str, **kw) -> str:
    from .messages import pick
    return pick(NOTICES, key, lang, **kw)


def _shown_time(cfg: CourseConfig, assignment: str, when: dt.datetime | None) -> str:
    if when is None:
        return "?"
    zone = cfg.assignment(assignment).due_zone
    local = when.astimezone(zone) if zone is not None else when
    return local.strftime("%Y-%m-%d %H:%M") + ("" if zone is not None else " UTC")


def _recorded_checks(cfg: CourseConfig, assignment: str, student: str, notebook: str) -> dict | None:
    """grade cell -> [CheckResult] from the graded notebook's checks.json (written by the grader), or None."""
    import json

    from .checks.base import CheckResult
    from .farm.score import CHECKS_SUFFIX
    path = cfg.root / "autograded" / student / assignment / f"{notebook}{CHECKS_SUFFIX}"
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 16 * 2**20:
            return None
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
        out = {}
        for grade_id, results in cells.items():
            out[grade_id] = [CheckResult(name=str(r["check"]), score=float(r["score"]), max_score=float(r["max_score"]),
                                         expected=r.get("expected"), found=r.get("found"), hint=r.get("hint"),
                                         note=r.get("note")) for r in results]
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _without_answer(r, lang: str, when: str) -> str:
    """A check's message without what gives the answer away (expected, explanation), and when it opens."""
    from dataclasses import replace
    return replace(r, expected=None, note=None).text(lang) + "\n" + _say(lang, "answer_withheld", when=when)


class ApplyVisibility(NbGraderPreprocessor):
    """Feedback: each graded cell shows only the checks the student may see now; the scores at the
    top and per cell count only those; a withheld check says that it ran and when it opens.

    `as_of` (ISO time, default: now) is the moment the page is made for: the grade-on-submit
    service passes its clock, so a page made again after the due date shows everything."""

    enabled = Bool(True).tag(config=True)
    config_path = Unicode("", help="course_config.py").tag(config=True)
    language = Unicode("ko").tag(config=True)
    as_of = Unicode("", help="ISO time the feedback is made for (default: now)").tag(config=True)

    def preprocess(self, nb, resources):
        from nbformat import NotebookNode
        from nbgrader import utils as nbutils

        from .course import load_config
        info = resources["nbgrader"]
        cfg = load_config(self.config_path or None)
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        try:
            scorer = cfg.scorer(assignment)
        except Exception:
            return nb, resources
        now = aware(dt.datetime.fromisoformat(self.as_of)) if self.as_of else utc_now()
        states = {c: shown(cfg, assignment, student, c, now) for c in scorer.check_names()}
        if all(s == FULL for s in states.values()):
            return nb, resources
        lang = self.language
        when = _shown_time(cfg, assignment, results_time(cfg, assignment, student))
        recorded = _recorded_checks(cfg, assignment, student, notebook)
        answer_of = {cell.grade_id: cell.answer_id for cell in scorer.cells}
        visible_score = visible_max = withheld_max = 0.0
        per_answer: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for cell in scorer.cells:
            results = (recorded or {}).get(cell.grade_id)
            lines = []
            if results is None:
                lines.append(_say(lang, "no_detail"))
            for r in results or []:
                state = states.get(r.name, NONE)
                if state in (FULL, POINTS):
                    lines.append(r.text(lang) if state == FULL else _without_answer(r, lang, when))
                    visible_score += r.score
                    visible_max += r.max_score
                elif state == RAN:
                    lines.append(_say(lang, "withheld", check=r.name, when=when))
                    withheld_max += r.max_score
            texts[cell.grade_id] = "\n".join(lines)
            per_answer.setdefault(answer_of[cell.grade_id], []).extend(lines)
            cell_score = sum(r.score for r in results or [] if states.get(r.name) in (FULL, POINTS))
            cell_max = sum(r.max_score for r in results or [] if states.get(r.name) in (FULL, POINTS))
            texts[cell.grade_id + "/score"] = (cell_score, cell_max)
        for c in nb.cells:
            meta = c.get("metadata", {}).get("nbgrader") or {}
            grade_id = meta.get("grade_id")
            if c.cell_type == "code" and nbutils.is_grade(c) and not nbutils.is_solution(c) and grade_id in texts:
                c.outputs = [NotebookNode(output_type="stream", name="stdout", text=texts[grade_id] + "\n")]
                meta["score"], meta["points"] = texts[grade_id + "/score"]
            if grade_id in per_answer and isinstance(meta.get("comment"), str):
                meta["comment"] = "\n".join(per_answer[grade_id])
        grades = resources["nbgrader"]
        penalty = float(grades.get("late_penalty") or 0.0)
        grades["score"] = max(0.0, visible_score - penalty)
        grades["max_score"] = visible_max
        if withheld_max:
            import nbformat
            note = nbformat.v4.new_markdown_cell(_say(lang, "withheld_total", points=f"{withheld_max:g}"))
            note.metadata["dlcourse"] = {"withheld_notice": True}
            nb.cells.insert(0, note)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources
